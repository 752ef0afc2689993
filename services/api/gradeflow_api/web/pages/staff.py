"""TA pages: the queue, every submission of the course, versions with validation and regrade diffs, publishing.

Each route authorises through web/deps.py, calls the staff core (queue_admin, versions, regrade) and renders;
grading tasks for rows it creates are sent after the commit by gradeflow_core.grading.commit_and_send.
"""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import Response
from sqlalchemy import select

from gradeflow_api.deps import BlobsDep, EnqueuerDep, SessionDep, SettingsDep
from gradeflow_api.dispatch import broker_depths
from gradeflow_core.grading import commit_and_send
from gradeflow_api.present_staff import activation_entries
from gradeflow_protocol.bundles import MAX_BUNDLE_BYTES, BundleError
from gradeflow_protocol.enums import RegradeItemState, Role, SubmissionStatus
from gradeflow_core.models import Assignment, AssignmentVersion, RegradeRun
from gradeflow_core.queue_admin import QueueThresholds, RetryError, retry_failed, snapshot
from gradeflow_core.queue_admin import queue_thresholds as core_thresholds
from gradeflow_core.regrade import (RerunError, activate, latest_run, list_runs, regrade_diff, rerun_submission,
                                   start_regrade)
from gradeflow_core.submission_list import SubmissionFilters, list_page
from gradeflow_core.versions import VersionError, list_versions, publish_bundle, run_checks
from gradeflow_protocol.words import describe_version_state
from gradeflow_api.settings import ApiSettings
from gradeflow_api.deps import RowId
from gradeflow_api.web.deps import (CsrfChecked, PageError, PageUser, StaffAssignment, StaffCourse, SubmissionDep,
                                    granted)
from gradeflow_core import access
from gradeflow_api.web.mine import page_number
from gradeflow_api.web.pages.login import see_other
from gradeflow_api.web.render import page

router = APIRouter(include_in_schema=False)
QUEUE_REFRESH_S = 3


def queue_thresholds(settings: ApiSettings) -> QueueThresholds:
    """The same thresholds as GET /api/v1/queue."""
    return core_thresholds(heartbeat_interval_s=settings.heartbeat_interval_s, time_limit_s=settings.time_limit_s)


def _queue_context(found, session, settings) -> dict:
    shot = snapshot(session, course_ids={found.course.id}, limits=queue_thresholds(settings))
    queues = set(shot.waiting) | {"cpu", "gpu"}
    return dict(course=found.course, role=found.role, shot=shot, broker=broker_depths(settings.redis_url, queues),
                refresh_s=QUEUE_REFRESH_S)


@router.get("/courses/{course_id}/queue")
def queue_page(request: Request, found: StaffCourse, session: SessionDep, settings: SettingsDep) -> Response:
    return page(request, "staff/queue.html", **_queue_context(found, session, settings))


@router.get("/courses/{course_id}/queue/live")
def queue_fragment(request: Request, found: StaffCourse, session: SessionDep, settings: SettingsDep) -> Response:
    """What the queue page polls every few seconds."""
    return page(request, "staff/_queue.html", **_queue_context(found, session, settings))


@router.post("/submissions/{submission_id}/retry", dependencies=[CsrfChecked])
def retry(found: SubmissionDep, session: SessionDep, settings: SettingsDep, enqueuer: EnqueuerDep) -> Response:
    if not found.staff_view:
        raise PageError(403, "Only the course's TAs and instructors can retry a submission.")
    try:
        retry_failed(found.submission)
    except RetryError as exc:
        raise PageError(409, str(exc), title="Cannot retry") from None
    commit_and_send(session, enqueuer, [found.submission], secret=settings.secret_key)
    return see_other(f"/submissions/{found.submission.id}")


@router.post("/submissions/{submission_id}/regrade", dependencies=[CsrfChecked])
def regrade_one(found: SubmissionDep, session: SessionDep, settings: SettingsDep, enqueuer: EnqueuerDep) -> Response:
    """Grade this one submission again against the official version (a new attempt; earlier results are kept)."""
    if not found.staff_view:
        raise PageError(403, "Only the course's TAs and instructors can regrade a submission.")
    try:
        rerun_submission(found.submission)
    except RerunError as exc:
        raise PageError(409, str(exc), title="Cannot regrade") from None
    commit_and_send(session, enqueuer, [found.submission], secret=settings.secret_key)
    return see_other(f"/submissions/{found.submission.id}?regraded=1")


def _assignment_filter(text: str) -> int | None:
    try:
        return int(text) if text.strip() else None
    except ValueError:
        raise PageError(400, "Pick the assignment from the list.", title="Unknown filter") from None


@router.get("/courses/{course_id}/submissions")
def course_submissions(request: Request, found: StaffCourse, session: SessionDep, assignment: str = "",
                       student: str = "", status: str = "",
                       raw_page: Annotated[str, Query(alias="page")] = "") -> Response:
    statuses = [s.value for s in SubmissionStatus]
    filters = SubmissionFilters(assignment_id=_assignment_filter(assignment), username=student.strip(),
                                status=SubmissionStatus(status) if status in statuses else None)
    submissions, paging = list_page(session, course_id=found.course.id, filters=filters, page=page_number(raw_page))
    assignments = list(session.scalars(select(Assignment).where(Assignment.course_id == found.course.id)
                                       .order_by(Assignment.id)))
    shown = {"assignment": filters.assignment_id or "", "student": filters.username,
             "status": filters.status.value if filters.status else ""}
    return page(request, "staff/submissions.html", course=found.course, role=found.role, submissions=submissions,
                assignments=assignments, paging=paging, filters=shown, filtered=filters.active,
                query={k: v for k, v in shown.items() if v}, statuses=statuses)


def _version_of(session, found, version_id: int) -> AssignmentVersion:
    version = session.get(AssignmentVersion, version_id)
    if version is None or version.assignment_id != found.assignment.id:
        raise PageError(404, "This assignment has no such version.")
    return version


def _versions_page(request: Request, found, session, *, error: str = "", status_code: int = 200) -> Response:
    assignment = found.assignment
    versions = list_versions(session, assignment)
    return page(request, "staff/versions.html", status_code=status_code, course=assignment.course,
                role=found.access.role, assignment=assignment, error=error,
                versions=[(v, run_checks(session, v), describe_version_state(v.state), latest_run(session, v))
                          for v in versions],
                runs=[(run, regrade_diff(session, run)) for run in list_runs(session, assignment)[:5]],
                history=activation_entries(session, assignment)[:20])


@router.get("/assignments/{assignment_id}/versions")
def versions_page(request: Request, found: StaffAssignment, session: SessionDep) -> Response:
    return _versions_page(request, found, session)


@router.post("/assignments/{assignment_id}/versions/{version_id}/regrade", dependencies=[CsrfChecked])
def regrade(request: Request, found: StaffAssignment, version_id: RowId, session: SessionDep, user: PageUser,
            settings: SettingsDep, enqueuer: EnqueuerDep) -> Response:
    version = _version_of(session, found, version_id)
    try:
        run, twins = start_regrade(session, assignment=found.assignment, version=version, user=user)
    except VersionError as exc:
        session.rollback()
        return _versions_page(request, found, session, error=str(exc), status_code=409)
    commit_and_send(session, enqueuer, twins, secret=settings.secret_key)
    return see_other(f"/regrades/{run.id}")


@router.post("/assignments/{assignment_id}/versions/{version_id}/activate", dependencies=[CsrfChecked])
def make_official(request: Request, found: StaffAssignment, version_id: RowId, session: SessionDep, user: PageUser,
                  run_id: Annotated[int | None, Form()] = None, force: Annotated[bool, Form()] = False) -> Response:
    version = _version_of(session, found, version_id)
    run = session.get(RegradeRun, run_id) if run_id else None
    if run is not None and run.assignment_id != found.assignment.id:
        raise PageError(404, "This assignment has no such regrade.")
    try:
        activate(session, version=version, run=run, user=user, force=force)
    except VersionError as exc:
        session.rollback()
        return _versions_page(request, found, session, error=str(exc), status_code=409)
    session.commit()
    return see_other(f"/assignments/{found.assignment.id}/versions")


@router.get("/regrades/{run_id}")
def regrade_page(request: Request, run_id: RowId, session: SessionDep, user: PageUser) -> Response:
    run = session.get(RegradeRun, run_id)
    found = _staff_assignment_of(run, session, user)
    diff = regrade_diff(session, run)
    return page(request, "staff/regrade.html", course=found.assignment.course, role=found.access.role,
                assignment=found.assignment, run=run, diff=diff, version=run.version,
                counts={state.value: diff.count(state) for state in RegradeItemState})


def _staff_assignment_of(run: RegradeRun | None, session, user):
    if run is None:
        raise PageError(404, "There is no such regrade.")
    return granted(access.assignment_access(session, user=user, assignment=run.assignment, need=Role.TA),
                   what="assignment")


@router.get("/courses/{course_id}/publish")
def publish_form(request: Request, found: StaffCourse) -> Response:
    return page(request, "staff/publish.html", course=found.course, role=found.role, error="",
                max_mb=MAX_BUNDLE_BYTES // 2**20)


@router.post("/courses/{course_id}/publish", dependencies=[CsrfChecked])
def publish(request: Request, found: StaffCourse, bundle: Annotated[UploadFile, File()], session: SessionDep,
            user: PageUser, settings: SettingsDep, blobs: BlobsDep, enqueuer: EnqueuerDep,
            activate_when_ready: Annotated[bool, Form()] = False) -> Response:
    data = bundle.file.read(MAX_BUNDLE_BYTES + 1)  # spooled already; a sync route keeps the database off the loop
    try:
        if len(data) > MAX_BUNDLE_BYTES:
            raise BundleError(f"the bundle is over {MAX_BUNDLE_BYTES // 2**20} MB")
        published = publish_bundle(session, blobs, course=found.course, user=user, data=data,
                                   activate=activate_when_ready)
    except BundleError as exc:
        session.rollback()
        return page(request, "staff/publish.html", status_code=422, course=found.course, role=found.role,
                    error=str(exc), max_mb=MAX_BUNDLE_BYTES // 2**20)
    assignment_id = published.version.assignment_id
    commit_and_send(session, enqueuer, published.to_enqueue, secret=settings.secret_key)
    return see_other(f"/assignments/{assignment_id}/versions")
