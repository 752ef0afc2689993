"""Dependencies of the web pages: the cookie session, the signed-in user, CSRF, and access checks written once.

The bearer-token API keeps its own dependencies (gradeflow_api.deps); these read the session cookie instead.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from gradeflow_api.deps import SessionDep, SettingsDep
from gradeflow_core.access import can_read_submission, role_in_course
from gradeflow_protocol.enums import Role
from gradeflow_core.models import Assignment, Course, Submission, User
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


def get_page_user(request: Request, session: SessionDep, settings: SettingsDep) -> User | None:
    """The signed-in user, or None; a session whose user is gone or changed password counts as signed out."""
    web = read_web_session(request, settings)
    user = session.get(User, web.user_id) if web is not None and web.user_id is not None else None
    if user is not None and web.fingerprint != password_fingerprint(user.password_hash):
        user = None
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


@dataclass(frozen=True)
class CourseAccess:
    course: Course
    role: Role

    @property
    def is_staff(self) -> bool:
        return self.role.is_staff


def _access(session: Session, user: User, course: Course | None) -> CourseAccess:
    role = role_in_course(session, user=user, course_id=course.id) if course is not None else None
    if course is None or role is None:
        raise PageError(404, "There is no such course, or you are not enrolled in it.")
    return CourseAccess(course=course, role=Role(role))


def get_course_access(course_id: int, session: SessionDep, user: PageUser) -> CourseAccess:
    return _access(session, user, session.get(Course, course_id))


def get_staff_access(access: Annotated[CourseAccess, Depends(get_course_access)]) -> CourseAccess:
    if not access.is_staff:
        raise PageError(403, "This page is for the course's TAs and instructors.")
    return access


def get_instructor_access(access: Annotated[CourseAccess, Depends(get_course_access)]) -> CourseAccess:
    if access.role is not Role.INSTRUCTOR:
        raise PageError(403, "This page is for the course's instructors.")
    return access


CourseDep = Annotated[CourseAccess, Depends(get_course_access)]
StaffCourse = Annotated[CourseAccess, Depends(get_staff_access)]
InstructorCourse = Annotated[CourseAccess, Depends(get_instructor_access)]


@dataclass(frozen=True)
class AssignmentAccess:
    assignment: Assignment
    access: CourseAccess


def get_assignment_access(assignment_id: int, session: SessionDep, user: PageUser) -> AssignmentAccess:
    """A published assignment of a course the user is in (staff also see unpublished ones)."""
    assignment = session.get(Assignment, assignment_id)
    if assignment is None:
        raise PageError(404, "There is no such assignment.")
    access = _access(session, user, assignment.course)
    if assignment.current_version_id is None and not access.is_staff:
        raise PageError(404, "There is no such assignment.")
    return AssignmentAccess(assignment=assignment, access=access)


def get_staff_assignment(found: Annotated[AssignmentAccess, Depends(get_assignment_access)]) -> AssignmentAccess:
    if not found.access.is_staff:
        raise PageError(403, "This page is for the course's TAs and instructors.")
    return found


AssignmentDep = Annotated[AssignmentAccess, Depends(get_assignment_access)]
StaffAssignment = Annotated[AssignmentAccess, Depends(get_staff_assignment)]


@dataclass(frozen=True)
class SubmissionAccess:
    submission: Submission
    role: Role
    staff_view: bool  # a TA or instructor of the course: logs and limits shown


def get_submission_access(submission_id: int, session: SessionDep, user: PageUser) -> SubmissionAccess:
    """404 for anyone who may not read it: its existence is not revealed."""
    submission = session.get(Submission, submission_id)
    if submission is None or not can_read_submission(session, user=user, submission=submission):
        raise PageError(404, "There is no such submission.")
    role = Role(role_in_course(session, user=user, course_id=submission.assignment.course_id) or Role.STUDENT)
    return SubmissionAccess(submission=submission, role=role, staff_view=role.is_staff)


SubmissionDep = Annotated[SubmissionAccess, Depends(get_submission_access)]


def get_instructor_assignment(found: AssignmentDep) -> AssignmentAccess:
    if found.access.role is not Role.INSTRUCTOR:
        raise PageError(403, "This page is for the course's instructors.")
    return found


InstructorAssignment = Annotated[AssignmentAccess, Depends(get_instructor_assignment)]
