"""Dependencies: settings, session, current user, and access checks written once."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import select
from sqlalchemy.orm import Session

from gradeflow_core.access import can_read_submission, role_in_course
from gradeflow_core.accounts import find_course
from gradeflow_core.blobs import BlobStore
from gradeflow_core.db import session_scope
from gradeflow_protocol.enums import Role
from gradeflow_core.grading import Enqueuer
from gradeflow_core.models import Assignment, Course, Enrollment, RegradeRun, Submission, User
from gradeflow_core.security import read_attempt_token, read_user_token
from gradeflow_api.settings import ApiSettings

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


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


def get_visible_assignment(assignment_id: int, session: SessionDep, user: CurrentUser) -> Assignment:
    assignment = session.get(Assignment, assignment_id)
    if assignment is None or assignment.current_version_id is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No such assignment.")
    if role_in_course(session, user=user, course_id=assignment.course_id) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No such assignment.")
    return assignment


def get_readable_submission(submission_id: int, session: SessionDep, user: CurrentUser) -> Submission:
    """404 for anyone who may not read it: its existence is not revealed."""
    submission = session.get(Submission, submission_id)
    if submission is None or not can_read_submission(session, user=user, submission=submission):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No such submission.")
    return submission


def is_staff_for(session: Session, user: User, course_id: int) -> bool:
    role = role_in_course(session, user=user, course_id=course_id)
    return role is not None and role in (Role.TA, Role.INSTRUCTOR)


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


# --- Course roles (staff's work). Outsiders get 404 (nothing is revealed); members without the role, 403.

_ROLE_WORDS = {Role.TA: "TAs and instructors", Role.INSTRUCTOR: "instructors"}


def _authorize(session: Session, user: User, course_id: int, need: Role, *, missing: str) -> Role:
    role = role_in_course(session, user=user, course_id=course_id)
    if role is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, missing)
    if role.rank < need.rank:
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"Only the course's {_ROLE_WORDS[need]} can do this.")
    return role


def _course(course: str, session: Session) -> Course:
    found = find_course(session, course)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No such course.")
    return found


def _course_with(need: Role):
    def dependency(course: str, session: SessionDep, user: CurrentUser) -> Course:
        found = _course(course, session)
        _authorize(session, user, found.id, need, missing="No such course.")
        return found

    return dependency


def _assignment_with(need: Role):
    def dependency(assignment_id: int, session: SessionDep, user: CurrentUser) -> Assignment:
        assignment = session.get(Assignment, assignment_id)
        if assignment is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "No such assignment.")
        role = _authorize(session, user, assignment.course_id, need, missing="No such assignment.")
        if assignment.current_version_id is None and not role.is_staff:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "No such assignment.")
        return assignment

    return dependency


def get_admin(user: CurrentUser) -> User:
    if not user.is_admin:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Only site admins can do this.")
    return user


def get_staff_regrade(run_id: int, session: SessionDep, user: CurrentUser) -> RegradeRun:
    run = session.get(RegradeRun, run_id)
    if run is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No such regrade.")
    _authorize(session, user, run.assignment.course_id, Role.TA, missing="No such regrade.")
    return run


def get_staff_submission(submission_id: int, session: SessionDep, user: CurrentUser) -> Submission:
    """Students get 404 for others' submissions (as on the spine) and 403 for their own."""
    submission = session.get(Submission, submission_id)
    role = role_in_course(session, user=user, course_id=submission.assignment.course_id) if submission else None
    if submission is None or role is None or (not role.is_staff and submission.user_id != user.id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No such submission.")
    if not role.is_staff:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Only the course's TAs and instructors can do this.")
    return submission


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
