from __future__ import annotations

import logging
import secrets

from fastapi import APIRouter, HTTPException, UploadFile, status
from sqlalchemy import select

from gradeflow_api.deps import (BlobsDep, CurrentUser, EnqueuerDep, ReadableSubmission, SessionDep, SettingsDep,
                                VisibleAssignment, is_staff_for)
from gradeflow_api.present import assignment_public, submission_public
from gradeflow_api.schemas import AssignmentPublic, SubmissionPublic, SubmissionStaff
from gradeflow_core.access import visible_assignments
from gradeflow_protocol.bundles import AssignmentConfig
from gradeflow_core.deadlines import UploadRefused, enforce_upload
from gradeflow_protocol.enums import SubmissionPurpose, UploadRefusal
from gradeflow_core.grading import send
from gradeflow_core.models import Submission, utcnow
from gradeflow_core.uploads import UploadError, check_upload

router = APIRouter(prefix="/api/v1", tags=["submissions"])
log = logging.getLogger(__name__)


@router.get("/assignments", response_model=list[AssignmentPublic], summary="Assignments the caller can see")
def list_assignments(session: SessionDep, user: CurrentUser) -> list[AssignmentPublic]:
    return [assignment_public(a) for a in visible_assignments(session, user=user)]


def _enforce_policy(session, assignment, user) -> None:
    """403 before opening or after a hard cutoff; 429 past the daily limit, with when to try again."""
    try:
        enforce_upload(session, assignment=assignment, user=user)
    except UploadRefused as exc:
        if exc.refusal is UploadRefusal.DAILY_LIMIT:
            wait = max(int((exc.retry_at - utcnow()).total_seconds()) + 1, 1) if exc.retry_at else 3600
            raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, exc.message,
                                headers={"Retry-After": str(wait)}) from None
        raise HTTPException(status.HTTP_403_FORBIDDEN, exc.message) from None


@router.post("/assignments/{assignment_id}/submissions", status_code=status.HTTP_202_ACCEPTED,
             response_model=SubmissionPublic, summary="Upload a notebook (.ipynb) or script (.py) for grading",
             responses={403: {"description": "not open yet, or closed (hard cutoff)"},
                        429: {"description": "daily limit reached; Retry-After and the message say when"}})
async def submit(assignment: VisibleAssignment, file: UploadFile, session: SessionDep, user: CurrentUser,
                 settings: SettingsDep, blobs: BlobsDep, enqueuer: EnqueuerDep) -> SubmissionPublic:
    data = await file.read(settings.max_upload_bytes + 1)  # before the policy check: no await between it and commit
    _enforce_policy(session, assignment, user)
    version = assignment.current_version
    config = AssignmentConfig(**version.config)
    try:
        upload = check_upload(filename=file.filename or "", data=data, accepted=config.accepted_extensions(),
                              max_bytes=settings.max_upload_bytes)
    except UploadError as exc:
        code = status.HTTP_413_CONTENT_TOO_LARGE if len(data) > settings.max_upload_bytes else 422
        raise HTTPException(code, str(exc)) from None
    sha = blobs.put(upload.data)
    submission = Submission(user_id=user.id, assignment_id=assignment.id, version_id=version.id,
                            filename=upload.filename, kind=upload.kind, blob_sha256=sha, size=len(upload.data),
                            seed=secrets.randbelow(2**31), queue=config.resources.queue)
    session.add(submission)
    session.commit()
    try:
        send(enqueuer, submission, secret=settings.secret_key)
    except Exception:  # stored and queued in the database: the sweeper re-sends it
        log.exception("could not reach the broker for submission %s", submission.id)
    return submission_public(session, submission)


@router.get("/submissions/{submission_id}", response_model=SubmissionPublic | SubmissionStaff,
            summary="One submission: status, score, per-check feedback (staff also see logs)")
def get_submission(submission: ReadableSubmission, session: SessionDep, user: CurrentUser):
    staff = is_staff_for(session, user, submission.assignment.course_id)  # staff see logs of their own runs too
    return submission_public(session, submission, staff=staff)


@router.get("/submissions", response_model=list[SubmissionPublic], summary="The caller's own submissions, newest first")
def my_submissions(session: SessionDep, user: CurrentUser, assignment_id: int | None = None) -> list[SubmissionPublic]:
    query = select(Submission).where(Submission.user_id == user.id, Submission.purpose == SubmissionPurpose.STUDENT)
    query = query.order_by(Submission.id.desc())
    if assignment_id is not None:
        query = query.where(Submission.assignment_id == assignment_id)
    return [submission_public(session, s) for s in session.scalars(query)]

