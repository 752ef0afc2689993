"""Per-assignment rules and manual scores: policy, extensions, overrides."""
from __future__ import annotations

from fastapi import APIRouter, HTTPException, status

from gradeflow_api.deps import CurrentUser, InstructorAssignment, MemberAssignment, SessionDep, StaffAssignment
from gradeflow_api.present_staff import extension_public, override_public, standing
from gradeflow_api.schemas_grades import ExtensionPublic, ExtensionRequest, OverridePublic, OverrideRequest, PolicyView
from gradeflow_core.deadlines import (ExtensionError, PolicySettings, grant_extension, list_extensions,
                                      policy_settings, revoke_extension, save_policy)
from gradeflow_core.gradebook import find_student, override_score
from gradeflow_core.models import Assignment, User
from gradeflow_core.overrides import OverrideError, override_log

router = APIRouter(prefix="/api/v1", tags=["policy and grades"])


def _student(session, assignment: Assignment, username: str) -> User:
    student = find_student(session, course_id=assignment.course_id, username=username)
    if student is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"No student '{username}' in this course.")
    return student


@router.get("/assignments/{assignment_id}/policy", response_model=PolicyView,
            summary="The assignment's deadlines and rules, and the caller's own standing (any member)")
def get_policy(assignment: MemberAssignment, session: SessionDep, user: CurrentUser) -> PolicyView:
    return PolicyView(policy=policy_settings(session, assignment.id),
                      me=standing(session, assignment=assignment, user=user))


@router.put("/assignments/{assignment_id}/policy", response_model=PolicyView,
            summary="Replace the assignment's policy (instructors); fields left out take their defaults")
def put_policy(body: PolicySettings, assignment: InstructorAssignment, session: SessionDep,
               user: CurrentUser) -> PolicyView:
    save_policy(session, assignment=assignment, settings=body, user=user)
    return PolicyView(policy=policy_settings(session, assignment.id),
                      me=standing(session, assignment=assignment, user=user))


@router.get("/assignments/{assignment_id}/extensions", response_model=list[ExtensionPublic],
            summary="Students with their own deadline (staff)")
def extensions(assignment: StaffAssignment, session: SessionDep) -> list[ExtensionPublic]:
    return [extension_public(session, row) for row in list_extensions(session, assignment.id)]


@router.put("/assignments/{assignment_id}/extensions/{username}", response_model=ExtensionPublic,
            summary="Give one student their own deadline (instructors); it never shortens the due date")
def put_extension(username: str, body: ExtensionRequest, assignment: InstructorAssignment, session: SessionDep,
                  user: CurrentUser) -> ExtensionPublic:
    student = _student(session, assignment, username)
    try:
        row = grant_extension(session, assignment=assignment, student=student, due_at=body.due_at, reason=body.reason,
                              granted_by=user)
    except ExtensionError as exc:
        raise HTTPException(422, str(exc)) from None
    return extension_public(session, row)


@router.delete("/assignments/{assignment_id}/extensions/{username}", status_code=status.HTTP_204_NO_CONTENT,
               summary="Take an extension back (instructors)")
def delete_extension(username: str, assignment: InstructorAssignment, session: SessionDep) -> None:
    if not revoke_extension(session, assignment=assignment, student=_student(session, assignment, username)):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"{username} has no extension on {assignment.slug}.")


@router.get("/assignments/{assignment_id}/overrides", response_model=list[OverridePublic],
            summary="The audit log of manual scores, newest first: who, when, old, new, why (staff)")
def overrides(assignment: StaffAssignment, session: SessionDep) -> list[OverridePublic]:
    return [override_public(row) for row in override_log(session, assignment.id)]


@router.post("/assignments/{assignment_id}/overrides", response_model=OverridePublic,
             status_code=status.HTTP_201_CREATED,
             summary="Record a manual score with a reason, or clear one with score null (staff); kept in the log")
def post_override(body: OverrideRequest, assignment: StaffAssignment, session: SessionDep,
                  user: CurrentUser) -> OverridePublic:
    student = _student(session, assignment, body.username)
    try:
        row = override_score(session, assignment=assignment, student=student, score=body.score, reason=body.reason,
                             author=user)
    except OverrideError as exc:
        raise HTTPException(422, str(exc)) from None
    return override_public(row)
