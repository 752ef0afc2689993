"""Regrades: re-run students' counted work against a version and read the before/after diff."""
from __future__ import annotations

from fastapi import APIRouter, HTTPException, status

from gradeflow_api.deps import CurrentUser, EnqueuerDep, SessionDep, SettingsDep, StaffAssignment, StaffRegrade
from gradeflow_core.grading import commit_and_send
from gradeflow_api.present_staff import regrade_public
from gradeflow_api.schemas_staff import RegradePublic
from gradeflow_core.regrade import list_runs, regrade_diff, start_regrade
from gradeflow_core.versions import VersionError, find_version

router = APIRouter(prefix="/api/v1", tags=["regrades"])


@router.post("/assignments/{assignment_id}/versions/{sha}/regrade", response_model=RegradePublic,
             status_code=status.HTTP_202_ACCEPTED,
             summary="Re-run every student's counted submission against a version (staff); nothing changes for "
                     "students until the version is activated",
             responses={409: {"description": "the version is not ready"}})
def start(assignment: StaffAssignment, sha: str, session: SessionDep, user: CurrentUser, settings: SettingsDep,
          enqueuer: EnqueuerDep) -> RegradePublic:
    try:
        version = find_version(session, assignment, sha)
    except VersionError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    try:
        run, twins = start_regrade(session, assignment=assignment, version=version, user=user)
    except VersionError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    commit_and_send(session, enqueuer, twins, secret=settings.secret_key)
    return regrade_public(regrade_diff(session, run))


@router.get("/regrades/{run_id}", response_model=RegradePublic,
            summary="A regrade's progress and its per-student before/after diff (staff)")
def get_regrade(run: StaffRegrade, session: SessionDep) -> RegradePublic:
    return regrade_public(regrade_diff(session, run))


@router.get("/assignments/{assignment_id}/regrades", response_model=list[RegradePublic],
            summary="The assignment's regrades, newest first (staff)")
def regrades(assignment: StaffAssignment, session: SessionDep) -> list[RegradePublic]:
    return [regrade_public(regrade_diff(session, run)) for run in list_runs(session, assignment)]
