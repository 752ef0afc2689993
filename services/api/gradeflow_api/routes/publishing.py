"""Publishing: upload a bundle, watch its validation, list versions, make one official."""
from __future__ import annotations

from fastapi import APIRouter, Form, HTTPException, Response, UploadFile, status
from sqlalchemy import select
from sqlalchemy.orm import Session

from gradeflow_api.deps import (BlobsDep, CurrentUser, EnqueuerDep, SessionDep, SettingsDep, StaffAssignment,
                                StaffCourse)
from gradeflow_core.grading import commit_and_send
from gradeflow_api.present_staff import activation_entries, assignment_staff, version_public
from gradeflow_api.schemas_staff import (ActivateRequest, ActivationLogEntry, ActivationPublic, AssignmentStaff,
                                         VersionPublic)
from gradeflow_protocol.bundles import MAX_BUNDLE_BYTES, BundleError
from gradeflow_core.models import Assignment, AssignmentVersion, RegradeRun
from gradeflow_core.regrade import activate, latest_run
from gradeflow_core.versions import VersionError, find_version, list_versions, publish_bundle, settle

router = APIRouter(prefix="/api/v1", tags=["publishing"])


@router.post("/courses/{course}/assignments", response_model=VersionPublic, status_code=status.HTTP_202_ACCEPTED,
             summary="Publish an assignment bundle (tar.gz of its folder) as a new version; it is validated "
                     "in the sandbox (reference = full marks, known-wrong = recorded scores) before it can be used",
             responses={200: {"description": "this content was already published; its version is returned"},
                        413: {"description": "the bundle is too large"},
                        422: {"description": "the bundle is broken; the message says what to fix"}})
def publish(course: StaffCourse, bundle: UploadFile, response: Response, session: SessionDep, user: CurrentUser,
            settings: SettingsDep, blobs: BlobsDep, enqueuer: EnqueuerDep,
            activate_when_ready: bool = Form(False, description="make it official once validated "
                                                                "(always so for a first version)")):
    data = bundle.file.read(MAX_BUNDLE_BYTES + 1)  # spooled already; a sync route keeps the database off the loop
    if len(data) > MAX_BUNDLE_BYTES:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE,
                            f"The bundle is over {MAX_BUNDLE_BYTES // 2**20} MB; move large data out of it.")
    try:
        published = publish_bundle(session, blobs, course=course, user=user, data=data, activate=activate_when_ready)
    except BundleError as exc:
        session.rollback()
        raise HTTPException(422, f"The bundle was not published: {exc}") from None
    commit_and_send(session, enqueuer, published.to_enqueue, secret=settings.secret_key)
    if not published.created:
        response.status_code = status.HTTP_200_OK
    return version_public(session, published.version)


@router.get("/courses/{course}/assignments", response_model=list[AssignmentStaff],
            summary="Every assignment of the course, published or not (staff)")
def course_assignments(course: StaffCourse, session: SessionDep) -> list[AssignmentStaff]:
    rows = session.scalars(select(Assignment).where(Assignment.course_id == course.id).order_by(Assignment.id))
    return [assignment_staff(session, a) for a in rows]


@router.get("/assignments/{assignment_id}/versions", response_model=list[VersionPublic],
            summary="The assignment's versions, newest first, with their validation (staff)")
def versions(assignment: StaffAssignment, session: SessionDep) -> list[VersionPublic]:
    return [version_public(session, v) for v in list_versions(session, assignment)]


@router.get("/assignments/{assignment_id}/versions/{sha}", response_model=VersionPublic,
            summary="One version (by hash or a 6+ character prefix) and its validation runs (staff)")
def version(assignment: StaffAssignment, sha: str, session: SessionDep) -> VersionPublic:
    try:
        found = find_version(session, assignment, sha)
    except VersionError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    settle(session, found)
    return version_public(session, found)


@router.get("/assignments/{assignment_id}/activations", response_model=list[ActivationLogEntry],
            summary="Who made which version official, when and why, newest first (staff)")
def activations(assignment: StaffAssignment, session: SessionDep) -> list[ActivationLogEntry]:
    return activation_entries(session, assignment)


@router.post("/assignments/{assignment_id}/versions/{sha}/activate", response_model=ActivationPublic,
             summary="Make a ready version official, adopting a finished regrade's results (staff)",
             responses={409: {"description": "not ready, regrade unfinished, or newer submissions; the message "
                                             "says what to do"}})
def activate_version(assignment: StaffAssignment, sha: str, session: SessionDep, user: CurrentUser,
                     body: ActivateRequest | None = None) -> ActivationPublic:
    body = body or ActivateRequest()
    try:
        found = find_version(session, assignment, sha)
    except VersionError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    run = _chosen_run(session, assignment, found, body)
    try:
        done = activate(session, version=found, run=run, user=user, force=body.force)
    except VersionError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    return ActivationPublic(assignment_id=assignment.id, version=found.sha256, regrade_run_id=run.id if run else None,
                            adopted=done.adopted, kept=done.kept, stale=done.stale)


def _chosen_run(session: Session, assignment: Assignment, version: AssignmentVersion,
                body: ActivateRequest) -> RegradeRun | None:
    if body.skip_regrade:
        return None
    if body.regrade_run_id is None:
        return latest_run(session, version)
    run = session.get(RegradeRun, body.regrade_run_id)
    if run is None or run.assignment_id != assignment.id:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"No regrade {body.regrade_run_id} of {assignment.slug}.")
    return run
