"""Instructor pages: roster import, an assignment's policy and extensions, the gradebook with its downloads.

The rules live in the core (roster, deadlines, gradebook, gradebook_export); these routes parse forms, call it
and render. Times typed in a form are the viewer's local time: static/app.js sends each one also as UTC in a
hidden `NAME_utc` field; without JavaScript the typed value is read as UTC (the form says so).
"""
from __future__ import annotations

import json
from urllib.parse import urlencode
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy import select

from gradeflow_api.deps import SessionDep, SettingsDep
from gradeflow_api.present_staff import extension_public, gradebook_public
from gradeflow_core.accounts import make_invite_token
from gradeflow_core.deadlines import (ExtensionError, PolicySettings, grant_extension, list_extensions, policy_settings,
                                      revoke_extension, save_policy)
from gradeflow_protocol.enums import CountedSubmission, LateMode
from gradeflow_protocol.words import describe_counted
from gradeflow_core.gradebook import build_gradebook, course_students
from gradeflow_core.gradebook_export import to_canvas, to_csv
from gradeflow_core.models import Enrollment, User
from gradeflow_core.roster import RosterError, import_roster, remove_from_course
from gradeflow_api.web.deps import CsrfChecked, InstructorAssignment, InstructorCourse, PageUser, StaffCourse
from gradeflow_api.web.pages.forms import PostedForm
from gradeflow_api.web.pages.login import see_other
from gradeflow_api.web.render import page

router = APIRouter(include_in_schema=False)
MAX_ROSTER_BYTES = 2 * 1024 * 1024


def _enrolled(session, course_id: int) -> list[tuple[User, Enrollment]]:
    rows = session.execute(select(User, Enrollment).join(Enrollment, Enrollment.user_id == User.id)
                           .where(Enrollment.course_id == course_id))
    return sorted(rows, key=lambda ue: (ue[1].role.rank * -1, ue[1].section, ue[0].username))


def _roster_page(request, found, session, *, report=None, error: str = "", status_code: int = 200,
                 notice: str = "") -> Response:
    return page(request, "instructor/roster.html", status_code=status_code, course=found.course, role=found.role,
                enrolled=_enrolled(session, found.course.id), report=report, error=error, notice=notice,
                invite_base=str(request.base_url).rstrip("/") + "/invite?token=")


def _enrolled_user(session, found, username: str, viewer: User) -> User:
    """The enrolled person a removal names; a page with the reason when it cannot be them."""
    from gradeflow_api.web.deps import PageError

    target = session.scalar(select(User).where(User.username == username))
    enrolled = target is not None and session.scalar(select(Enrollment).where(
        Enrollment.user_id == target.id, Enrollment.course_id == found.course.id)) is not None
    if not enrolled:
        raise PageError(404, f"{username} is not enrolled in this course.")
    if target.id == viewer.id:
        raise PageError(400, "You cannot remove yourself; ask another instructor of the course.")
    return target


@router.get("/courses/{course_id}/roster/{username}/remove")
def roster_remove_confirm(request: Request, found: InstructorCourse, session: SessionDep, user: PageUser,
                          username: str) -> Response:
    target = _enrolled_user(session, found, username, user)
    return page(request, "instructor/remove.html", course=found.course, role=found.role, target=target)


@router.post("/courses/{course_id}/roster/{username}/remove", dependencies=[CsrfChecked])
def roster_remove(request: Request, found: InstructorCourse, session: SessionDep, user: PageUser,
                  username: str) -> Response:
    """Unenroll one person; their submissions stay, and every browser signed in as them is signed out now."""
    target = _enrolled_user(session, found, username, user)
    remove_from_course(session, course=found.course, user=target)
    session.commit()
    return _roster_page(request, found, session,
                        notice=f"Removed {target.username} from the course and signed them out everywhere; "
                               "their submissions are kept.")


@router.get("/courses/{course_id}/roster")
def roster_page(request: Request, found: InstructorCourse, session: SessionDep) -> Response:
    return _roster_page(request, found, session)


@router.post("/courses/{course_id}/roster", dependencies=[CsrfChecked])
def roster_import(request: Request, found: InstructorCourse, session: SessionDep, user: PageUser,
                  settings: SettingsDep, roster: Annotated[UploadFile | None, File()] = None,
                  text: Annotated[str, Form()] = "", preview: Annotated[bool, Form()] = False) -> Response:
    # sync: the spooled file and the database are read on a worker thread, never on the event loop
    data = roster.file.read(MAX_ROSTER_BYTES + 1) if roster is not None and roster.filename else text.encode()
    try:
        if len(data) > MAX_ROSTER_BYTES:
            raise RosterError(f"The file is over {MAX_ROSTER_BYTES // 2**20} MB; split it.")
        if not data.strip():
            raise RosterError("Choose a CSV file or paste its rows (first row: username,name,email,section,role).")
        try:
            content = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise RosterError("The file is not UTF-8 text; export it from your spreadsheet as CSV UTF-8.") from None
        report = import_roster(session, course=found.course, text=content, importer=user, dry_run=preview,
                               invite=lambda new_user: make_invite_token(new_user, secret=settings.secret_key))
    except RosterError as exc:
        session.rollback()
        return _roster_page(request, found, session, error=str(exc), status_code=422)
    if report.applied:
        session.commit()
    return _roster_page(request, found, session, report=report, status_code=200 if not report.has_errors else 422)


def parse_when(form, name: str) -> datetime | None:
    """A form's moment: the UTC value the page's script computed, else the typed value read as UTC."""
    for key, zone in ((f"{name}_utc", None), (name, UTC)):
        value = str(form.get(key) or "").strip()
        if value:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            return moment.replace(tzinfo=zone) if zone and moment.tzinfo is None else moment
    return None


def _policy_page(request, found, session, *, error: str = "", status_code: int = 200, values=None) -> Response:
    assignment = found.assignment
    return page(request, "instructor/policy.html", status_code=status_code, course=assignment.course,
                role=found.access.role, assignment=assignment, error=error,
                policy=values or policy_settings(session, assignment.id),
                extensions=[extension_public(session, row) for row in list_extensions(session, assignment.id)],
                students=[u for u, _ in course_students(session, assignment.course_id)],
                late_modes=[m.value for m in LateMode],
                counted_modes=[(c.value, describe_counted(c, staff=True)) for c in CountedSubmission])


@router.get("/assignments/{assignment_id}/policy")
def policy_page(request: Request, found: InstructorAssignment, session: SessionDep) -> Response:
    return _policy_page(request, found, session)


def _number(form, name: str, cast=float):
    value = str(form.get(name) or "").strip()
    return cast(value) if value else None


@router.post("/assignments/{assignment_id}/policy", dependencies=[CsrfChecked])
def policy_save(request: Request, found: InstructorAssignment, session: SessionDep, user: PageUser,
                form: PostedForm) -> Response:
    try:
        fields = dict(opens_at=parse_when(form, "opens_at"), due_at=parse_when(form, "due_at"),
                      grace_minutes=_number(form, "grace_minutes", int) or 0,
                      late_mode=form.get("late_mode") or LateMode.PENALTY,
                      penalty_percent_per_day=_number(form, "penalty_percent_per_day") or 0.0,
                      penalty_cap_percent=_number(form, "penalty_cap_percent") if form.get("penalty_cap_percent") else 100.0,
                      counted=form.get("counted") or CountedSubmission.LAST,
                      max_per_day=_number(form, "max_per_day", int))
        settings = PolicySettings(**fields)
    except (ValueError, ValidationError) as exc:
        return _policy_page(request, found, session, error=_explain(exc), status_code=422)
    save_policy(session, assignment=found.assignment, settings=settings, user=user)
    session.commit()
    return see_other(f"/assignments/{found.assignment.id}/policy?saved=1")


def _explain(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'policy'}: {e['msg']}" for e in exc.errors())
    return f"A value is not readable: {exc}"


def _student(session, found, username: str) -> User | None:
    user = session.scalar(select(User).where(User.username == username.strip()))
    if user is None:
        return None
    enrolled = session.scalar(select(Enrollment).where(Enrollment.user_id == user.id,
                                                       Enrollment.course_id == found.assignment.course_id))
    return user if enrolled is not None else None


@router.post("/assignments/{assignment_id}/extensions", dependencies=[CsrfChecked])
def extension_grant(request: Request, found: InstructorAssignment, session: SessionDep, user: PageUser,
                    form: PostedForm) -> Response:
    student = _student(session, found, str(form.get("username") or ""))
    try:
        due_at = parse_when(form, "due_at")
    except ValueError as exc:
        return _policy_page(request, found, session, error=_explain(exc), status_code=422)
    if student is None or due_at is None:
        message = "Pick an enrolled student." if student is None else "Give the new deadline."
        return _policy_page(request, found, session, error=message, status_code=422)
    try:
        grant_extension(session, assignment=found.assignment, student=student, due_at=due_at,
                        reason=str(form.get("reason") or "")[:2000], granted_by=user)
    except ExtensionError as exc:
        return _policy_page(request, found, session, error=str(exc), status_code=422)
    session.commit()
    return see_other(f"/assignments/{found.assignment.id}/policy#extensions")


@router.post("/assignments/{assignment_id}/extensions/{username}/revoke", dependencies=[CsrfChecked])
def extension_revoke(request: Request, found: InstructorAssignment, username: str, session: SessionDep) -> Response:
    """The confirmed revocation (policy.html asks first); the page it redirects to says it was done."""
    student = _student(session, found, username)
    if student is None or not revoke_extension(session, assignment=found.assignment, student=student):
        return _policy_page(request, found, session, status_code=404,
                            error=f"'{username[:200]}' has no extension on this assignment to revoke.")
    session.commit()
    return see_other(f"/assignments/{found.assignment.id}/policy?{urlencode({'revoked': student.username})}#extensions")


@router.get("/courses/{course_id}/gradebook")
def gradebook_page(request: Request, found: StaffCourse, session: SessionDep) -> Response:
    return page(request, "instructor/gradebook.html", course=found.course, role=found.role,
                book=build_gradebook(session, found.course))


DOWNLOADS = {"csv": ("text/csv", "gradebook.csv"), "canvas": ("text/csv", "gradebook-canvas.csv"),
             "json": ("application/json", "gradebook.json")}


@router.get("/courses/{course_id}/gradebook/download")
def gradebook_download(found: StaffCourse, session: SessionDep, format: str = "csv") -> Response:
    if format not in DOWNLOADS:
        format = "csv"
    book = build_gradebook(session, found.course)
    if format == "json":
        body = json.dumps(gradebook_public(book).model_dump(mode="json"), indent=2)
    else:
        body = to_canvas(book) if format == "canvas" else to_csv(book)
    media, name = DOWNLOADS[format]
    return Response(body, media_type=f"{media}; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{found.course.slug}-{name}"'})
