"""Team pages: a student's Team page (my team, invitations to me, invite a classmate, leave with a confirm step)
and the staff's Teams page (teams and members, create, add/move/remove, the settings form).

The rules are core/teams.py; a refusal is shown as a message on the same page, with the status the API uses.
"""
from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from gradeflow_core import teams
from gradeflow_core.models import Team, TeamInvitation, User, utcnow
from gradeflow_core.teams import Formation, TeamRefused

from gradeflow_api.deps import RowId, SessionDep
from gradeflow_api.routes.teams import STATUS
from gradeflow_api.web.deps import (
    CourseDep,
    CsrfChecked,
    PageError,
    PageUser,
    StaffCourse,
)
from gradeflow_api.web.pages.forms import PostedForm
from gradeflow_api.web.pages.instructor import parse_when
from gradeflow_api.web.pages.login import see_other
from gradeflow_api.web.render import page

router = APIRouter(include_in_schema=False)


def _status(exc: TeamRefused) -> int:
    return STATUS.get(exc.refusal, 409)


def _team_page(request, found, session, user, *, error: str = "", status_code: int = 200, confirm_leave=False):
    course = found.course
    mine = teams.current_team(session, course_id=course.id, user_id=user.id)
    invitations = [(row, session.get(User, row.invited_by))
                   for row in teams.pending_invitations(session, course_id=course.id, user_id=user.id)]
    settings = teams.formation(session, course.id)
    return page(request, "team.html", status_code=status_code, course=course, role=found.role, team=mine,
                members=teams.current_members(session, mine.id) if mine else [], invitations=invitations,
                settings=settings, may_form=settings.open_at(utcnow()), error=error,
                confirm_leave=confirm_leave)


@router.get("/courses/{course_id}/team")
def team_page(request: Request, found: CourseDep, session: SessionDep, user: PageUser) -> Response:
    if found.is_staff:
        return see_other(f"/courses/{found.course.id}/teams")
    return _team_page(request, found, session, user, confirm_leave=request.query_params.get("leave") == "1")


def _student_action(request, found, session, user, action) -> Response:
    try:
        action()
    except TeamRefused as exc:
        session.rollback()
        return _team_page(request, found, session, user, error=exc.message, status_code=_status(exc))
    session.commit()
    return see_other(f"/courses/{found.course.id}/team?done=1")


@router.post("/courses/{course_id}/team/create", dependencies=[CsrfChecked])
def create_own(request: Request, found: CourseDep, session: SessionDep, user: PageUser, form: PostedForm):
    name = str(form.get("name") or "")
    return _student_action(request, found, session, user,
                           lambda: teams.create_own_team(session, course=found.course, name=name, student=user))


@router.post("/courses/{course_id}/team/invite", dependencies=[CsrfChecked])
def invite(request: Request, found: CourseDep, session: SessionDep, user: PageUser, form: PostedForm):
    username = str(form.get("username") or "").strip()
    return _student_action(request, found, session, user,
                           lambda: teams.invite(session, course=found.course, inviter=user, username=username))


@router.post("/courses/{course_id}/team/leave", dependencies=[CsrfChecked])
def leave(request: Request, found: CourseDep, session: SessionDep, user: PageUser):
    return _student_action(request, found, session, user,
                           lambda: teams.leave_team(session, course=found.course, user=user))


@router.post("/courses/{course_id}/invitations/{invitation_id}/{answer}", dependencies=[CsrfChecked])
def answer(request: Request, found: CourseDep, session: SessionDep, user: PageUser, invitation_id: RowId,
           answer: str):
    if answer not in ("accept", "decline"):
        raise PageError(404, "There is no such page.")
    row = session.get(TeamInvitation, invitation_id)
    row = row if row is not None and row.team.course_id == found.course.id else None
    return _student_action(request, found, session, user, lambda: teams.answer_invitation(
        session, invitation=row, user=user, accept=answer == "accept"))


# --- Staff


def _teams_page(request, found, session, *, error: str = "", status_code: int = 200) -> Response:
    course = found.course
    return page(request, "staff/teams.html", status_code=status_code, course=course, role=found.role,
                teams=teams.teams_with_members(session, course.id), settings=teams.formation(session, course.id),
                error=error)


@router.get("/courses/{course_id}/teams")
def teams_page(request: Request, found: StaffCourse, session: SessionDep) -> Response:
    return _teams_page(request, found, session)


def _staff_action(request, found, session, action) -> Response:
    try:
        action()
    except TeamRefused as exc:
        session.rollback()
        return _teams_page(request, found, session, error=exc.message, status_code=_status(exc))
    session.commit()
    return see_other(f"/courses/{found.course.id}/teams?saved=1")


def _course_team(session, found, team_id: int) -> Team:
    team = session.get(Team, team_id)
    if team is None or team.course_id != found.course.id:
        raise PageError(404, "There is no such team in this course.")
    return team


@router.post("/courses/{course_id}/teams", dependencies=[CsrfChecked])
def create(request: Request, found: StaffCourse, session: SessionDep, user: PageUser, form: PostedForm):
    name = str(form.get("name") or "")
    return _staff_action(request, found, session,
                         lambda: teams.create_team(session, course=found.course, name=name, by=user))


@router.post("/courses/{course_id}/teams/settings", dependencies=[CsrfChecked])
def save_settings(request: Request, found: StaffCourse, session: SessionDep, form: PostedForm):
    try:
        size = int(str(form.get("max_size") or "4"))
        until = parse_when(form, "form_until")
        teams.save_formation(session, course=found.course, settings=Formation(
            students_form=form.get("students_form") == "on", max_size=size, form_until=until))
    except ValueError:
        session.rollback()
        return _teams_page(request, found, session, status_code=422,
                           error="The largest team size must be a whole number from 1 to 50, and the date a date.")
    session.commit()
    return see_other(f"/courses/{found.course.id}/teams?saved=1")


@router.post("/courses/{course_id}/teams/{team_id}/members", dependencies=[CsrfChecked])
def add_member(request: Request, found: StaffCourse, session: SessionDep, team_id: RowId, form: PostedForm):
    team, username = _course_team(session, found, team_id), str(form.get("username") or "").strip()

    def place():
        student = teams.course_student(session, course_id=found.course.id, username=username)
        teams.place_member(session, team=team, student=student)
    return _staff_action(request, found, session, place)


@router.post("/courses/{course_id}/teams/{team_id}/members/{username}/remove", dependencies=[CsrfChecked])
def remove_member(request: Request, found: StaffCourse, session: SessionDep, team_id: RowId, username: str):
    team = _course_team(session, found, team_id)

    def remove():
        student = teams.course_student(session, course_id=found.course.id, username=username)
        teams.remove_member(session, team=team, student=student)
    return _staff_action(request, found, session, remove)


@router.post("/courses/{course_id}/teams/{team_id}/delete", dependencies=[CsrfChecked])
def delete(request: Request, found: StaffCourse, session: SessionDep, team_id: RowId):
    team = _course_team(session, found, team_id)
    return _staff_action(request, found, session, lambda: teams.delete_team(session, team=team))
