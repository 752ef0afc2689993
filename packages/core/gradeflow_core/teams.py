"""Teams of a course: staff create, rename, delete them and place students; students (when the course allows it)
form their own by invitation, until a date, up to a size; anyone leaves.

A student has at most one open membership per course (`left_at` None). Leaving or moving closes it, so who was
in a team at any moment stays known (`team_at`, `members_at`): a team submission belongs to the members of
that moment, and a member who leaves keeps what was sent while they were in. Each refusal is a closed
`TeamRefusal`, raised as `TeamRefused` with its words (gradeflow_protocol.words).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from gradeflow_protocol.enums import Role, TeamRefusal
from gradeflow_protocol.words import describe_team_refusal
from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.orm import Session

from gradeflow_core.models import (Assignment, Course, Enrollment, Submission, Team, TeamInvitation, TeamMembership,
                                   TeamSettings, User, utcnow)

MAX_NAME = 80


class TeamRefused(Exception):
    """A team action the rules do not allow; `message` says why and what to do."""

    def __init__(self, refusal: TeamRefusal, message: str) -> None:
        super().__init__(message)
        self.refusal, self.message = refusal, message


def _refuse(refusal: TeamRefusal, **words) -> TeamRefused:
    return TeamRefused(refusal, describe_team_refusal(refusal, **words))


@dataclass(frozen=True)
class Formation:
    """How a course's teams are formed (TeamSettings, or the defaults when the course has no row)."""

    students_form: bool = False
    max_size: int = 4
    form_until: datetime | None = None

    def open_at(self, now: datetime) -> bool:
        return self.students_form and (self.form_until is None or now <= self.form_until)


def formation(session: Session, course_id: int) -> Formation:
    row = session.scalar(select(TeamSettings).where(TeamSettings.course_id == course_id))
    if row is None:
        return Formation()
    return Formation(students_form=row.students_form, max_size=row.max_size, form_until=row.form_until)


def save_formation(session: Session, *, course: Course, settings: Formation) -> Formation:
    """Replace the course's team settings (max_size 1..50)."""
    if not 1 <= settings.max_size <= 50:
        raise ValueError("max_size must be between 1 and 50")
    row = session.scalar(select(TeamSettings).where(TeamSettings.course_id == course.id))
    if row is None:
        row = TeamSettings(course_id=course.id)
        session.add(row)
    row.students_form, row.max_size, row.form_until = settings.students_form, settings.max_size, settings.form_until
    session.flush()
    return settings


def _open(user_id: int, course_id: int):
    return select(TeamMembership).join(Team, Team.id == TeamMembership.team_id).where(
        TeamMembership.user_id == user_id, TeamMembership.left_at.is_(None), Team.course_id == course_id)


def current_team(session: Session, *, course_id: int, user_id: int) -> Team | None:
    """The student's team in the course now, or None."""
    row = session.scalar(_open(user_id, course_id))
    return row.team if row is not None else None


def is_team_assignment(assignment: Assignment) -> bool:
    """The published version's assignment.toml says `teams = true`."""
    version = assignment.current_version
    return bool(version is not None and version.config.get("teams"))


def team_for_upload(session: Session, *, assignment: Assignment, user: User) -> Team | None:
    """The team an upload by `user` now belongs to: their team on a team assignment, else None (alone)."""
    if not is_team_assignment(assignment):
        return None
    return current_team(session, course_id=assignment.course_id, user_id=user.id)


def current_members(session: Session, team_id: int) -> list[User]:
    return list(session.scalars(select(User).join(TeamMembership, TeamMembership.user_id == User.id).where(
        TeamMembership.team_id == team_id, TeamMembership.left_at.is_(None)).order_by(User.username)))


def _during(when) -> ColumnElement[bool]:
    return and_(TeamMembership.joined_at <= when, or_(TeamMembership.left_at.is_(None), when < TeamMembership.left_at))


def team_at(session: Session, course_id: int, user_id: int, when: datetime) -> Team | None:
    """The student's team in the course at the moment `when`, or None."""
    return session.scalar(select(Team).join(TeamMembership, TeamMembership.team_id == Team.id).where(
        Team.course_id == course_id, TeamMembership.user_id == user_id, _during(when)).limit(1))


def members_at(session: Session, team_id: int, when: datetime) -> list[int]:
    """The user ids in the team at the moment `when`."""
    return sorted(set(session.scalars(select(TeamMembership.user_id).where(TeamMembership.team_id == team_id,
                                                                          _during(when)))))


def membership_windows(session: Session, team_ids: set[int]) -> dict[int, list[TeamMembership]]:
    """team id -> every membership it had (one query for many teams; members_in answers from it)."""
    windows: dict[int, list[TeamMembership]] = {team_id: [] for team_id in team_ids}
    if team_ids:
        for row in session.scalars(select(TeamMembership).where(TeamMembership.team_id.in_(team_ids))):
            windows[row.team_id].append(row)
    return windows


def members_in(windows: list[TeamMembership], when: datetime) -> set[int]:
    """The user ids of the memberships that held at the moment `when` (as members_at, without a query)."""
    return {m.user_id for m in windows if m.joined_at <= when and (m.left_at is None or when < m.left_at)}


def sees_submission(user_id: int) -> ColumnElement[bool]:
    """SQL: the submission is the user's own, or their team's sent while they were a member."""
    member = exists().where(TeamMembership.team_id == Submission.team_id, TeamMembership.user_id == user_id,
                            _during(Submission.created_at))
    return or_(Submission.user_id == user_id, and_(Submission.team_id.is_not(None), member))


def was_member_when_sent(session: Session, *, user_id: int, submission: Submission) -> bool:
    """The user was in the submission's team when it was sent."""
    if submission.team_id is None:
        return False
    return user_id in members_at(session, submission.team_id, submission.created_at)


def teams_with_members(session: Session, course_id: int) -> list[tuple[Team, list[User]]]:
    teams = session.scalars(select(Team).where(Team.course_id == course_id).order_by(Team.name))
    return [(team, current_members(session, team.id)) for team in teams]


def pending_invitations(session: Session, *, course_id: int, user_id: int) -> list[TeamInvitation]:
    """Unanswered invitations to the user, into teams of the course."""
    return list(session.scalars(select(TeamInvitation).join(Team, Team.id == TeamInvitation.team_id).where(
        Team.course_id == course_id, TeamInvitation.invitee_id == user_id, TeamInvitation.answered_at.is_(None))
        .order_by(TeamInvitation.id)))


def _check_name(session: Session, course_id: int, name: str, *, team_id: int | None = None) -> str:
    name = " ".join(name.split())
    if not name or len(name) > MAX_NAME:
        raise _refuse(TeamRefusal.BAD_NAME)
    taken = session.scalar(select(Team.id).where(Team.course_id == course_id, func.lower(Team.name) == name.lower(),
                                                 Team.id != (team_id or 0)))
    if taken is not None:
        raise _refuse(TeamRefusal.NAME_TAKEN, name=name)
    return name


def create_team(session: Session, *, course: Course, name: str, by: User) -> Team:
    team = Team(course_id=course.id, name=_check_name(session, course.id, name), created_by=by.id)
    session.add(team)
    session.flush()
    return team


def rename_team(session: Session, *, team: Team, name: str) -> Team:
    team.name = _check_name(session, team.course_id, name, team_id=team.id)
    session.flush()
    return team


def delete_team(session: Session, *, team: Team) -> None:
    """Delete a team that never submitted (its membership history and invitations go with it)."""
    if session.scalar(select(Submission.id).where(Submission.team_id == team.id).limit(1)) is not None:
        raise _refuse(TeamRefusal.HAS_WORK, team=team.name)
    for model in (TeamMembership, TeamInvitation):
        for row in session.scalars(select(model).where(model.team_id == team.id)):
            session.delete(row)
    session.flush()
    session.delete(team)
    session.flush()


def course_student(session: Session, *, course_id: int, username: str) -> User:
    """The enrolled student with that username; NOT_IN_COURSE or NOT_A_STUDENT otherwise."""
    row = session.execute(select(User, Enrollment.role).join(Enrollment, Enrollment.user_id == User.id).where(
        User.username == username, Enrollment.course_id == course_id)).first()
    if row is None:
        raise _refuse(TeamRefusal.NOT_IN_COURSE, username=username)
    if row[1] != Role.STUDENT:
        raise _refuse(TeamRefusal.NOT_A_STUDENT, username=username)
    return row[0]


def _join(session: Session, *, team: Team, student: User, now: datetime) -> TeamMembership:
    old = session.scalar(_open(student.id, team.course_id))
    if old is not None:
        old.left_at = now
    row = TeamMembership(team_id=team.id, user_id=student.id, joined_at=now)
    session.add(row)
    session.flush()
    return row


def place_member(session: Session, *, team: Team, student: User, now: datetime | None = None) -> TeamMembership:
    """Staff put a student in a team (moved out of another one); ALREADY_IN_TEAM when already in this one."""
    course_student(session, course_id=team.course_id, username=student.username)
    old = session.scalar(_open(student.id, team.course_id))
    if old is not None and old.team_id == team.id:
        raise _refuse(TeamRefusal.ALREADY_IN_TEAM, username=student.username, yourself=False)
    return _join(session, team=team, student=student, now=now or utcnow())


def remove_member(session: Session, *, team: Team, student: User, now: datetime | None = None) -> None:
    """Close the student's membership of the team (what the team sent while they were in stays theirs)."""
    row = session.scalar(select(TeamMembership).where(TeamMembership.team_id == team.id,
                                                      TeamMembership.user_id == student.id,
                                                      TeamMembership.left_at.is_(None)))
    if row is None:
        raise _refuse(TeamRefusal.NOT_IN_TEAM, username=student.username, team=team.name, yourself=False)
    row.left_at = now or utcnow()
    session.flush()


def _may_form(session: Session, course_id: int, now: datetime) -> Formation:
    settings = formation(session, course_id)
    if not settings.students_form:
        raise _refuse(TeamRefusal.NOT_ALLOWED)
    if not settings.open_at(now):
        raise _refuse(TeamRefusal.CLOSED, until=settings.form_until)
    return settings


def _teamless_student(session: Session, *, course_id: int, user: User, yourself: bool) -> User:
    student = course_student(session, course_id=course_id, username=user.username)
    if session.scalar(_open(user.id, course_id)) is not None:
        raise _refuse(TeamRefusal.ALREADY_IN_TEAM, username=user.username, yourself=yourself)
    return student


def create_own_team(session: Session, *, course: Course, name: str, student: User,
                    now: datetime | None = None) -> Team:
    """A student starts a team and is its first member (when students may form teams)."""
    now = now or utcnow()
    _may_form(session, course.id, now)
    _teamless_student(session, course_id=course.id, user=student, yourself=True)
    team = create_team(session, course=course, name=name, by=student)
    _join(session, team=team, student=student, now=now)
    return team


def invite(session: Session, *, course: Course, inviter: User, username: str,
           now: datetime | None = None) -> TeamInvitation:
    """A member invites a classmate into their team."""
    now = now or utcnow()
    settings = _may_form(session, course.id, now)
    team = current_team(session, course_id=course.id, user_id=inviter.id)
    if team is None:
        raise _refuse(TeamRefusal.NOT_IN_TEAM)
    invitee = course_student(session, course_id=course.id, username=username)
    _teamless_student(session, course_id=course.id, user=invitee, yourself=False)
    if len(current_members(session, team.id)) >= settings.max_size:
        raise _refuse(TeamRefusal.TEAM_FULL, team=team.name, max_size=settings.max_size)
    if session.scalar(select(TeamInvitation.id).where(TeamInvitation.team_id == team.id,
                                                      TeamInvitation.invitee_id == invitee.id,
                                                      TeamInvitation.answered_at.is_(None))) is not None:
        raise _refuse(TeamRefusal.ALREADY_INVITED, username=username, team=team.name)
    row = TeamInvitation(team_id=team.id, invitee_id=invitee.id, invited_by=inviter.id, created_at=now)
    session.add(row)
    session.flush()
    return row


def answer_invitation(session: Session, *, invitation: TeamInvitation | None, user: User, accept: bool,
                      now: datetime | None = None) -> TeamInvitation:
    """The invitee accepts (joins, when the rules still allow it) or declines; answered once."""
    now = now or utcnow()
    if invitation is None or invitation.invitee_id != user.id:
        raise _refuse(TeamRefusal.NOT_FOR_YOU)
    if invitation.answered_at is not None:
        raise _refuse(TeamRefusal.ALREADY_ANSWERED)
    if accept:
        team = invitation.team
        settings = _may_form(session, team.course_id, now)
        _teamless_student(session, course_id=team.course_id, user=user, yourself=True)
        if len(current_members(session, team.id)) >= settings.max_size:
            raise _refuse(TeamRefusal.TEAM_FULL, team=team.name, max_size=settings.max_size)
        _join(session, team=team, student=user, now=now)
    invitation.answered_at, invitation.accepted = now, accept
    session.flush()
    return invitation


def leave_team(session: Session, *, course: Course, user: User, now: datetime | None = None) -> Team:
    """A student leaves their team (while students may form teams); the team stays, even empty."""
    now = now or utcnow()
    _may_form(session, course.id, now)
    row = session.scalar(_open(user.id, course.id))
    if row is None:
        raise _refuse(TeamRefusal.NOT_IN_TEAM)
    row.left_at = now
    session.flush()
    return row.team
