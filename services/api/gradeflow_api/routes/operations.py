"""The queue and submissions as staff see them: what waits, what runs where, what is stuck or failed."""
from __future__ import annotations

from fastapi import APIRouter, HTTPException, Query, status
from sqlalchemy import select

from gradeflow_api.deps import (EnqueuerDep, SessionDep, SettingsDep, StaffAssignment, StaffCourseIds,
                                StaffSubmission)
from gradeflow_api.dispatch import broker_depths
from gradeflow_core.grading import commit_and_send
from gradeflow_api.present_staff import submission_row
from gradeflow_api.schemas_staff import QueuePublic, SubmissionRow
from gradeflow_protocol.enums import SubmissionPurpose, SubmissionStatus
from gradeflow_core.models import Submission, User
from gradeflow_core.queue_admin import RetryError, queue_thresholds, retry_failed, snapshot

router = APIRouter(prefix="/api/v1", tags=["queue"])
MAX_ROWS = 1000


@router.get("/queue", response_model=QueuePublic,
            summary="Waiting and running counts (every course), and the caller's courses' queued, running, "
                    "stuck and recently failed submissions (staff)")
def queue(session: SessionDep, settings: SettingsDep, course_ids: StaffCourseIds) -> QueuePublic:
    limits = queue_thresholds(heartbeat_interval_s=settings.heartbeat_interval_s, time_limit_s=settings.time_limit_s)
    snap = snapshot(session, course_ids=course_ids, limits=limits)
    return QueuePublic(waiting=snap.waiting, running=snap.running,
                       broker=broker_depths(settings.redis_url, ["cpu", "gpu", *snap.waiting]),
                       queued=[submission_row(s) for s in snap.queued], active=[submission_row(s) for s in snap.active],
                       stuck=[submission_row(s) for s in snap.stuck], failed=[submission_row(s) for s in snap.failed])


@router.get("/assignments/{assignment_id}/submissions", response_model=list[SubmissionRow],
            summary="The assignment's submissions, newest first, filtered (staff)")
def staff_submissions(assignment: StaffAssignment, session: SessionDep, username: str | None = None,
                      status_is: SubmissionStatus | None = Query(None, alias="status"),
                      purpose: SubmissionPurpose = SubmissionPurpose.STUDENT, limit: int = 200) -> list[SubmissionRow]:
    query = select(Submission).where(Submission.assignment_id == assignment.id, Submission.purpose == purpose)
    if username is not None:
        query = query.join(User, User.id == Submission.user_id).where(User.username == username)
    if status_is is not None:
        query = query.where(Submission.status == status_is)
    rows = session.scalars(query.order_by(Submission.id.desc()).limit(max(1, min(limit, MAX_ROWS))))
    return [submission_row(s) for s in rows]


@router.post("/submissions/{submission_id}/retry", response_model=SubmissionRow, status_code=status.HTTP_202_ACCEPTED,
             summary="Grade a failed submission again from scratch (staff)",
             responses={409: {"description": "the submission has not failed"}})
def retry(submission: StaffSubmission, session: SessionDep, settings: SettingsDep,
          enqueuer: EnqueuerDep) -> SubmissionRow:
    try:
        retry_failed(submission)
    except RetryError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    commit_and_send(session, enqueuer, [submission], secret=settings.secret_key)
    return submission_row(submission)
