from __future__ import annotations

from fastapi import APIRouter, HTTPException, UploadFile, status
from sqlalchemy import select

from gradeflow_api.deps import (BlobsDep, CurrentUser, EnqueuerDep, ReadableSubmission, SessionDep, SettingsDep,
                                VisibleAssignment, is_staff_for)
from gradeflow_api.present import assignment_public, submission_public
from gradeflow_api.schemas import AssignmentPublic, SubmissionPublic, SubmissionStaff
from gradeflow_core.access import visible_assignments
from gradeflow_core import submitting
from gradeflow_core.deadlines import UploadRefused
from gradeflow_core.models import Submission, utcnow
from gradeflow_core.submitting import Upload
from gradeflow_core.uploads import UploadError, UploadTooLarge
from gradeflow_protocol.enums import SubmissionPurpose, UploadRefusal

router = APIRouter(prefix="/api/v1", tags=["submissions"])


@router.get("/assignments", response_model=list[AssignmentPublic], summary="Assignments the caller can see")
def list_assignments(session: SessionDep, user: CurrentUser) -> list[AssignmentPublic]:
    return [assignment_public(a) for a in visible_assignments(session, user=user)]


def upload_error(exc: UploadRefused | UploadError) -> HTTPException:
    """The API's answer to a refused upload: 403 before opening or after a cutoff, 429 past the daily limit
    (Retry-After says when), 413 too large, 422 for a file that is not what the assignment takes."""
    if isinstance(exc, UploadRefused):
        if exc.refusal is UploadRefusal.DAILY_LIMIT:
            wait = max(int((exc.retry_at - utcnow()).total_seconds()) + 1, 1) if exc.retry_at else 3600
            return HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, exc.message, headers={"Retry-After": str(wait)})
        return HTTPException(status.HTTP_403_FORBIDDEN, exc.message)
    code = status.HTTP_413_CONTENT_TOO_LARGE if isinstance(exc, UploadTooLarge) else 422
    return HTTPException(code, str(exc))


async def read_upload(file: UploadFile, max_bytes: int) -> Upload:
    """The file's bytes, at most the limit + 1 (the real size comes from the request), read before any check."""
    data = await file.read(max_bytes + 1)
    return Upload(filename=file.filename or "", data=data, size=file.size)


@router.post("/assignments/{assignment_id}/submissions", status_code=status.HTTP_202_ACCEPTED,
             response_model=SubmissionPublic, summary="Upload a notebook (.ipynb) or script (.py) for grading",
             responses={403: {"description": "not open yet, or closed (hard cutoff)"},
                        413: {"description": "the file is over the size limit"},
                        422: {"description": "the file is not what the assignment takes; the message says why"},
                        429: {"description": "daily limit reached; Retry-After and the message say when"}})
async def submit(assignment: VisibleAssignment, file: UploadFile, session: SessionDep, user: CurrentUser,
                 settings: SettingsDep, blobs: BlobsDep, enqueuer: EnqueuerDep) -> SubmissionPublic:
    upload = await read_upload(file, settings.max_upload_bytes)  # no await between the policy check and commit
    try:
        submission = submitting.submit(session, assignment=assignment, user=user, upload=upload, blobs=blobs,
                                       enqueuer=enqueuer, secret=settings.secret_key,
                                       max_bytes=settings.max_upload_bytes)
    except (UploadRefused, UploadError) as exc:
        raise upload_error(exc) from None
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

