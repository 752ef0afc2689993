"""Dependencies: settings, session, current user, and access checks written once."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, TypeVar

from fastapi import Depends, HTTPException, Path, Request, status
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import select
from sqlalchemy.orm import Session

from gradeflow_core import access
from gradeflow_core.access import Denied, Refusal
from gradeflow_core.accounts import find_course
from gradeflow_core.blobs import BlobStore
from gradeflow_core.db import session_scope
from gradeflow_protocol.enums import Role
from gradeflow_core.grading import Enqueuer
from gradeflow_core.models import Assignment, Course, Enrollment, RegradeRun, Submission, User
from gradeflow_core.security import read_attempt_token, read_user_token
from gradeflow_api.schemas import MAX_ROW_ID
from gradeflow_api.settings import ApiSettings

T = TypeVar("T")
oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]  # an id in the path: 422 out of range, never a 500


def get_app_settings(request: Request) -> ApiSettings:
    return request.app.state.settings


def get_session(request: Request) -> Iterator[Session]:
    with session_scope(request.app.state.session_factory) as session:
        yield session


def get_blobs(request: Request) -> BlobStore:
    return request.app.state.blobs


def get_enqueuer(request: Request) -> Enqueuer:
    return request.app.state.enqueuer


SettingsDep = Annotated[ApiSettings, Depends(get_app_settings)]
SessionDep = Annotated[Session, Depends(get_session)]
BlobsDep = Annotated[BlobStore, Depends(get_blobs)]
EnqueuerDep = Annotated[Enqueuer, Depends(get_enqueuer)]

_UNAUTHORIZED = HTTPException(status.HTTP_401_UNAUTHORIZED, "Not signed in or the token expired; sign in again.",
                              headers={"WWW-Authenticate": "Bearer"})


def get_current_user(session: SessionDep, settings: SettingsDep, token: Annotated[str | None, Depends(oauth2)]) -> User:
    if not token:
        raise _UNAUTHORIZED
    user_id = read_user_token(token, secret=settings.secret_key)
    user = session.get(User, user_id) if user_id is not None else None
    if user is None:
        raise _UNAUTHORIZED
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


# --- Access: the core's rules (gradeflow_core.access), turned into the API's errors here and only here.
# Outsiders get 404 (nothing is revealed); members without the role, 403.

_ROLE_WORDS = {Role.STUDENT: "members", Role.TA: "TAs and instructors", Role.INSTRUCTOR: "instructors"}


def granted(found: T | Denied, *, missing: str) -> T:
    """The access, or the API's error for the refusal."""
    if not isinstance(found, Denied):
        return found
    if found.refusal is Refusal.NOT_FOUND:
        raise HTTPException(status.HTTP_404_NOT_FOUND, missing)
    raise HTTPException(status.HTTP_403_FORBIDDEN, f"Only the course's {_ROLE_WORDS[found.need]} can do this.")


def get_visible_assignment(assignment_id: RowId, session: SessionDep, user: CurrentUser) -> Assignment:
    """A published assignment of one of the caller's courses (what a student may submit to)."""
    assignment = session.get(Assignment, assignment_id)
    found = granted(access.assignment_access(session, user=user, assignment=assignment, need=Role.STUDENT),
                    missing="No such assignment.")
    if assignment.current_version_id is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No such assignment.")
    return found.assignment


def get_readable_submission(submission_id: RowId, session: SessionDep, user: CurrentUser) -> Submission:
    """404 for anyone who may not read it: its existence is not revealed."""
    found = access.submission_access(session, user=user, submission=session.get(Submission, submission_id))
    return granted(found, missing="No such submission.").submission


def is_staff_for(session: Session, user: User, course_id: int) -> bool:
    role = access.role_in_course(session, user=user, course_id=course_id)
    return role is not None and role.is_staff


VisibleAssignment = Annotated[Assignment, Depends(get_visible_assignment)]
ReadableSubmission = Annotated[Submission, Depends(get_readable_submission)]


def get_attempt(request: Request, settings: SettingsDep, session: SessionDep) -> tuple[Submission, int]:
    """The (submission, attempt) a worker's per-attempt token names."""
    header = request.headers.get("authorization", "")
    token = header.removeprefix("Bearer ").strip()
    parsed = read_attempt_token(token, secret=settings.secret_key) if token else None
    submission = session.get(Submission, parsed[0]) if parsed else None
    if parsed is None or submission is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "invalid attempt token")
    return submission, parsed[1]


AttemptDep = Annotated[tuple[Submission, int], Depends(get_attempt)]


def _course_with(need: Role):
    def dependency(course: str, session: SessionDep, user: CurrentUser) -> Course:
        found = access.course_access(session, user=user, course=find_course(session, course), need=need)
        return granted(found, missing="No such course.").course

    return dependency


def _assignment_with(need: Role):
    def dependency(assignment_id: RowId, session: SessionDep, user: CurrentUser) -> Assignment:
        found = access.assignment_access(session, user=user, assignment=session.get(Assignment, assignment_id),
                                         need=need)
        return granted(found, missing="No such assignment.").assignment

    return dependency


def get_admin(user: CurrentUser) -> User:
    if not user.is_admin:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Only site admins can do this.")
    return user


def get_staff_regrade(run_id: RowId, session: SessionDep, user: CurrentUser) -> RegradeRun:
    run = session.get(RegradeRun, run_id)
    found = access.course_access(session, user=user, course=run.assignment.course if run else None, need=Role.TA)
    granted(found, missing="No such regrade.")
    return run


def get_staff_submission(submission_id: RowId, session: SessionDep, user: CurrentUser) -> Submission:
    """Students get 404 for others' submissions (as on the spine) and 403 for their own."""
    found = access.submission_access(session, user=user, submission=session.get(Submission, submission_id),
                                     need=Role.TA)
    return granted(found, missing="No such submission.").submission


def get_staff_course_ids(session: SessionDep, user: CurrentUser) -> set[int] | None:
    """The courses the caller is staff in (None: every course, for an admin); 403 when none."""
    if user.is_admin:
        return None
    ids = set(session.scalars(select(Enrollment.course_id).where(Enrollment.user_id == user.id,
                                                                Enrollment.role.in_([Role.TA, Role.INSTRUCTOR]))))
    if not ids:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Only TAs and instructors can see the queue.")
    return ids


MemberCourse = Annotated[Course, Depends(_course_with(Role.STUDENT))]
StaffCourse = Annotated[Course, Depends(_course_with(Role.TA))]
InstructorCourse = Annotated[Course, Depends(_course_with(Role.INSTRUCTOR))]
MemberAssignment = Annotated[Assignment, Depends(_assignment_with(Role.STUDENT))]
StaffAssignment = Annotated[Assignment, Depends(_assignment_with(Role.TA))]
InstructorAssignment = Annotated[Assignment, Depends(_assignment_with(Role.INSTRUCTOR))]
AdminUser = Annotated[User, Depends(get_admin)]
StaffRegrade = Annotated[RegradeRun, Depends(get_staff_regrade)]
StaffSubmission = Annotated[Submission, Depends(get_staff_submission)]
StaffCourseIds = Annotated[set[int] | None, Depends(get_staff_course_ids)]
