"""Teams: the course's settings (staff), teams and members (staff), a student's own team, invitations, leaving.

The rules are core/teams.py; a refusal (TeamRefused) becomes a JSON error with its words: 404 for a person or
an invitation the caller may not know about, 403 when the course's rules forbid it, 409 for a conflict with
what exists, 422 for a bad name.
"""
from __future__ import annotations

from fastapi import APIRouter, HTTPException, status
from gradeflow_core import access, teams
from gradeflow_core.models import Course, Team, TeamInvitation, User
from gradeflow_core.teams import Formation, TeamRefused
from gradeflow_protocol.enums import Role, TeamRefusal

from gradeflow_api.deps import (
    CurrentUser,
    MemberCourse,
    RowId,
    SessionDep,
    StaffCourse,
    granted,
)
from gradeflow_api.schemas_teams import (
    InvitationPublic,
    MemberPublic,
    TeamName,
    TeamPublic,
    TeamSettingsBody,
    Username,
)

router = APIRouter(prefix="/api/v1", tags=["teams"])
STATUS = {TeamRefusal.NOT_IN_COURSE: 404, TeamRefusal.NOT_FOR_YOU: 404, TeamRefusal.NOT_ALLOWED: 403,
          TeamRefusal.CLOSED: 403, TeamRefusal.NOT_A_STUDENT: 403, TeamRefusal.BAD_NAME: 422}  # others: 409
REFUSALS = {409: {"description": "refused: the message says why (team full, already in a team, name taken, ...)"},
            403: {"description": "not allowed now (students do not form teams, or past the date)"}}


def refused(exc: TeamRefused) -> HTTPException:
    return HTTPException(STATUS.get(exc.refusal, status.HTTP_409_CONFLICT), exc.message)


def team_public(session, team: Team) -> TeamPublic:
    members = teams.current_members(session, team.id)
    return TeamPublic(id=team.id, name=team.name, members=[MemberPublic(username=u.username, name=u.name)
                                                           for u in members])


def invitation_public(session, row: TeamInvitation) -> InvitationPublic:
    invitee, inviter = session.get(User, row.invitee_id), session.get(User, row.invited_by)
    return InvitationPublic(id=row.id, team_id=row.team_id, team=row.team.name, invitee=invitee.username,
                            invited_by=inviter.username, created_at=row.created_at, answered_at=row.answered_at,
                            accepted=row.accepted)


def _staff_team(session, user: User, team_id: int) -> Team:
    """A team of a course the caller is staff in (outsiders 404, students 403)."""
    team = session.get(Team, team_id)
    course = session.get(Course, team.course_id) if team is not None else None
    granted(access.course_access(session, user=user, course=course, need=Role.TA), missing="No such team.")
    return team


def _is_staff(session, user: User, course: Course) -> bool:
    role = access.role_in_course(session, user=user, course_id=course.id)
    return role is not None and role.is_staff


@router.get("/courses/{course}/team-settings", response_model=TeamSettingsBody,
            summary="How the course's teams are formed (staff)")
def get_settings(course: StaffCourse, session: SessionDep) -> TeamSettingsBody:
    found = teams.formation(session, course.id)
    return TeamSettingsBody(students_form=found.students_form, max_size=found.max_size, form_until=found.form_until)


@router.put("/courses/{course}/team-settings", response_model=TeamSettingsBody,
            summary="Set whether students form teams, the largest size and until when (staff)")
def put_settings(body: TeamSettingsBody, course: StaffCourse, session: SessionDep) -> TeamSettingsBody:
    teams.save_formation(session, course=course, settings=Formation(**body.model_dump()))
    return body


@router.get("/courses/{course}/teams", response_model=list[TeamPublic],
            summary="Staff: every team with its members; a student: their own team (or none)")
def list_teams(course: MemberCourse, session: SessionDep, user: CurrentUser) -> list[TeamPublic]:
    if _is_staff(session, user, course):
        return [team_public(session, team) for team, _ in teams.teams_with_members(session, course.id)]
    mine = teams.current_team(session, course_id=course.id, user_id=user.id)
    return [team_public(session, mine)] if mine is not None else []


@router.post("/courses/{course}/teams", response_model=TeamPublic, status_code=status.HTTP_201_CREATED,
             summary="Create a team (staff), or a student's own team with them in it (when students form teams)",
             responses=REFUSALS)
def create_team(body: TeamName, course: MemberCourse, session: SessionDep, user: CurrentUser) -> TeamPublic:
    try:
        if _is_staff(session, user, course):
            team = teams.create_team(session, course=course, name=body.name, by=user)
        else:
            team = teams.create_own_team(session, course=course, name=body.name, student=user)
    except TeamRefused as exc:
        raise refused(exc) from None
    return team_public(session, team)


@router.patch("/teams/{team_id}", response_model=TeamPublic, summary="Rename a team (staff)", responses=REFUSALS)
def rename(team_id: RowId, body: TeamName, session: SessionDep, user: CurrentUser) -> TeamPublic:
    team = _staff_team(session, user, team_id)
    try:
        teams.rename_team(session, team=team, name=body.name)
    except TeamRefused as exc:
        raise refused(exc) from None
    return team_public(session, team)


@router.delete("/teams/{team_id}", status_code=status.HTTP_204_NO_CONTENT, responses=REFUSALS,
               summary="Delete a team that never submitted (staff)")
def delete(team_id: RowId, session: SessionDep, user: CurrentUser) -> None:
    try:
        teams.delete_team(session, team=_staff_team(session, user, team_id))
    except TeamRefused as exc:
        raise refused(exc) from None


@router.post("/teams/{team_id}/members", response_model=TeamPublic, responses=REFUSALS,
             summary="Put a student in the team, moving them out of another (staff)")
def add_member(team_id: RowId, body: Username, session: SessionDep, user: CurrentUser) -> TeamPublic:
    team = _staff_team(session, user, team_id)
    try:
        student = teams.course_student(session, course_id=team.course_id, username=body.username)
        teams.place_member(session, team=team, student=student)
    except TeamRefused as exc:
        raise refused(exc) from None
    return team_public(session, team)


@router.delete("/teams/{team_id}/members/{username}", response_model=TeamPublic, responses=REFUSALS,
               summary="Take a student out of the team; what the team sent while they were in stays theirs (staff)")
def remove_member(team_id: RowId, username: str, session: SessionDep, user: CurrentUser) -> TeamPublic:
    team = _staff_team(session, user, team_id)
    try:
        student = teams.course_student(session, course_id=team.course_id, username=username)
        teams.remove_member(session, team=team, student=student)
    except TeamRefused as exc:
        raise refused(exc) from None
    return team_public(session, team)


@router.get("/courses/{course}/invitations", response_model=list[InvitationPublic],
            summary="The caller's unanswered invitations in this course")
def my_invitations(course: MemberCourse, session: SessionDep, user: CurrentUser) -> list[InvitationPublic]:
    rows = teams.pending_invitations(session, course_id=course.id, user_id=user.id)
    return [invitation_public(session, row) for row in rows]


@router.post("/courses/{course}/invitations", response_model=InvitationPublic, status_code=status.HTTP_201_CREATED,
             summary="Invite a classmate into the caller's team (when students form teams)", responses=REFUSALS)
def invite(body: Username, course: MemberCourse, session: SessionDep, user: CurrentUser) -> InvitationPublic:
    try:
        row = teams.invite(session, course=course, inviter=user, username=body.username)
    except TeamRefused as exc:
        raise refused(exc) from None
    return invitation_public(session, row)


def _answer(session, user: User, invitation_id: int, accept: bool) -> InvitationPublic:
    try:
        row = teams.answer_invitation(session, invitation=session.get(TeamInvitation, invitation_id), user=user,
                                      accept=accept)
    except TeamRefused as exc:
        raise refused(exc) from None
    return invitation_public(session, row)


@router.post("/invitations/{invitation_id}/accept", response_model=InvitationPublic, responses=REFUSALS,
             summary="Accept an invitation: join the team")
def accept(invitation_id: RowId, session: SessionDep, user: CurrentUser) -> InvitationPublic:
    return _answer(session, user, invitation_id, True)


@router.post("/invitations/{invitation_id}/decline", response_model=InvitationPublic, responses=REFUSALS,
             summary="Decline an invitation")
def decline(invitation_id: RowId, session: SessionDep, user: CurrentUser) -> InvitationPublic:
    return _answer(session, user, invitation_id, False)


@router.post("/courses/{course}/team/leave", response_model=TeamPublic, responses=REFUSALS,
             summary="Leave the caller's team (while students form teams); the team stays")
def leave(course: MemberCourse, session: SessionDep, user: CurrentUser) -> TeamPublic:
    try:
        team = teams.leave_team(session, course=course, user=user)
    except TeamRefused as exc:
        raise refused(exc) from None
    return team_public(session, team)
