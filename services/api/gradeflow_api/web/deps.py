"""Dependencies of the web pages: the cookie session, the signed-in user, CSRF, and access checks written once.

The bearer-token API keeps its own dependencies (gradeflow_api.deps); these read the session cookie instead.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from sqlalchemy.exc import OperationalError, TimeoutError as PoolTimeout
from sqlalchemy.orm import Session

from gradeflow_api.deps import RowId, SessionDep, SettingsDep
from gradeflow_core import access, web_sessions
from gradeflow_core.access import AssignmentAccess, CourseAccess, Denied, Refusal, SubmissionAccess
from gradeflow_protocol.enums import Role
from gradeflow_core.models import Assignment, Course, Submission, User, WebSessionRecord

T = TypeVar("T")
log = logging.getLogger(__name__)
from gradeflow_api.settings import ApiSettings
from gradeflow_api.web.session import (COOKIE_NAME, CSRF_FIELD, CSRF_HEADER, WebSession, csrf_ok, decode_session,
                                   password_fingerprint)


@dataclass(frozen=True)
class Viewer:
    """Who is signed in, as the page header shows it (a plain copy: error pages render after the session closed)."""

    id: int
    username: str
    name: str


class LoginRequired(Exception):
    """Raised by a page that needs a signed-in user; answered with a redirect to the login page."""


class PageError(Exception):
    """An error shown to a person as a page with a message (never a stack trace)."""

    def __init__(self, status_code: int, message: str, title: str = "") -> None:
        super().__init__(message)
        self.status_code, self.message = status_code, message
        self.title = title or {403: "Not allowed", 404: "Not found"}.get(status_code, "Something went wrong")


def session_max_age(settings: ApiSettings) -> int:
    return settings.token_minutes * 60


def read_web_session(request: Request, settings: ApiSettings) -> WebSession | None:
    """The genuine session in the request's cookie (cached on request.state)."""
    if not hasattr(request.state, "web_session"):
        raw = request.cookies.get(COOKIE_NAME, "")
        request.state.web_session = decode_session(raw, secret=settings.secret_key,
                                                   max_age_s=session_max_age(settings)) if raw else None
    return request.state.web_session


def session_lifetime(settings: ApiSettings) -> timedelta:
    return timedelta(seconds=session_max_age(settings))


def session_idle(settings: ApiSettings) -> timedelta:
    return timedelta(minutes=settings.session_idle_minutes)


def _touch(session: Session, record: WebSessionRecord) -> None:
    """Note the request on the session row (at most once a minute), committed at once so that no write lock is
    held for the rest of the request; a write that cannot get in is skipped, never an error for the page."""
    if not web_sessions.needs_touch(record):
        return
    try:
        web_sessions.touch(session, session_id=record.id)
        session.commit()
    except (OperationalError, PoolTimeout):
        session.rollback()
        log.info("a web session's last_seen_at was not written (database busy)")


def get_page_user(request: Request, session: SessionDep, settings: SettingsDep) -> User | None:
    """The signed-in user, or None. The cookie's session must be live server-side (not logged out, revoked,
    expired or idle too long); a session whose user is gone or changed password counts as signed out too."""
    web = read_web_session(request, settings)
    record = user = None
    if web is not None and web.user_id is not None:
        record = web_sessions.find_valid(session, token=web.nonce, idle=session_idle(settings))
    if record is not None and record.user_id == web.user_id:
        user = session.get(User, web.user_id)
    if user is not None and web.fingerprint != password_fingerprint(user.password_hash):
        user = None
    if user is not None:
        _touch(session, record)
    request.state.viewer = Viewer(id=user.id, username=user.username, name=user.name) if user else None
    return user


OptionalUser = Annotated[User | None, Depends(get_page_user)]


def require_user(user: OptionalUser) -> User:
    if user is None:
        raise LoginRequired()
    return user


PageUser = Annotated[User, Depends(require_user)]


async def check_csrf(request: Request, settings: SettingsDep) -> None:
    """Every state-changing request carries the session's token (form field, or header for scripts)."""
    token = request.headers.get(CSRF_HEADER)
    if not token:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        token = value if isinstance(value, str) else None
    if not csrf_ok(read_web_session(request, settings), token, secret=settings.secret_key):
        raise PageError(403, "This form has expired or did not come from this site. Go back, reload the page and "
                             "try again.", title="Form refused")


CsrfChecked = Depends(check_csrf)


# --- Access: the core's rules (gradeflow_core.access), turned into error pages here and only here.

_NOT_FOUND = {"course": "There is no such course, or you are not enrolled in it.",
              "assignment": "There is no such assignment.", "submission": "There is no such submission."}
_ONLY_FOR = {Role.TA: "This page is for the course's TAs and instructors.",
             Role.INSTRUCTOR: "This page is for the course's instructors."}


def granted(found: T | Denied, *, what: str) -> T:
    """The access, or the page's error for the refusal."""
    if not isinstance(found, Denied):
        return found
    if found.refusal is Refusal.NOT_FOUND:
        raise PageError(404, _NOT_FOUND[what])
    raise PageError(403, _ONLY_FOR[found.need])


def _course_dep(need: Role):
    def dependency(course_id: RowId, session: SessionDep, user: PageUser) -> CourseAccess:
        found = access.course_access(session, user=user, course=session.get(Course, course_id), need=need)
        return granted(found, what="course")

    return dependency


def _assignment_dep(need: Role):
    def dependency(assignment_id: RowId, session: SessionDep, user: PageUser) -> AssignmentAccess:
        """A published assignment of a course the user is in (staff also see unpublished ones)."""
        found = access.assignment_access(session, user=user, assignment=session.get(Assignment, assignment_id),
                                         need=need)
        return granted(found, what="assignment")

    return dependency


def get_submission_access(submission_id: RowId, session: SessionDep, user: PageUser) -> SubmissionAccess:
    """404 for anyone who may not read it: its existence is not revealed."""
    found = access.submission_access(session, user=user, submission=session.get(Submission, submission_id))
    return granted(found, what="submission")


CourseDep = Annotated[CourseAccess, Depends(_course_dep(Role.STUDENT))]
StaffCourse = Annotated[CourseAccess, Depends(_course_dep(Role.TA))]
InstructorCourse = Annotated[CourseAccess, Depends(_course_dep(Role.INSTRUCTOR))]
AssignmentDep = Annotated[AssignmentAccess, Depends(_assignment_dep(Role.STUDENT))]
StaffAssignment = Annotated[AssignmentAccess, Depends(_assignment_dep(Role.TA))]
InstructorAssignment = Annotated[AssignmentAccess, Depends(_assignment_dep(Role.INSTRUCTOR))]
SubmissionDep = Annotated[SubmissionAccess, Depends(get_submission_access)]
