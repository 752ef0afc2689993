from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, Response, UploadFile, status
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from starlette.concurrency import run_in_threadpool

from gradeflow_api.deps import (BlobsDep, CurrentUser, EnqueuerDep, RowId, SessionDep, SettingsDep,
                                VisibleAssignment, get_current_user, granted, oauth2)
from gradeflow_api.polling import not_modified, peek, poll_headers, submission_etag
from gradeflow_core.db import session_scope
from gradeflow_api.present import assignment_public, submission_public
from gradeflow_api.schemas import MAX_ROW_ID, AssignmentPublic, SubmissionPublic, SubmissionStaff
from gradeflow_core import access
from gradeflow_core.access import SubmissionAccess, visible_assignments
from gradeflow_core import submitting
from gradeflow_core.deadlines import UploadRefused
from gradeflow_core.models import Submission, utcnow
from gradeflow_core.submitting import Upload
from gradeflow_core.teams import sees_submission
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


def read_upload(file: UploadFile, max_bytes: int) -> Upload:
    """The file's bytes, at most the limit + 1 (the real size comes from the request), read before any check.

    FastAPI has spooled the body before the route runs, so this reads memory or a local temporary file, on
    the worker thread the (sync) route runs in: the event loop never waits on the upload or the database."""
    data = file.file.read(max_bytes + 1)
    return Upload(filename=file.filename or "", data=data, size=file.size)


@router.post("/assignments/{assignment_id}/submissions", status_code=status.HTTP_202_ACCEPTED,
             response_model=SubmissionPublic, summary="Upload a notebook (.ipynb) or script (.py) for grading",
             responses={403: {"description": "not open yet, or closed (hard cutoff)"},
                        413: {"description": "the file is over the size limit"},
                        422: {"description": "the file is not what the assignment takes; the message says why"},
                        429: {"description": "daily limit reached; Retry-After and the message say when"}})
def submit(assignment: VisibleAssignment, file: UploadFile, session: SessionDep, user: CurrentUser,
           settings: SettingsDep, blobs: BlobsDep, enqueuer: EnqueuerDep) -> SubmissionPublic:
    # read first: the policy check and commit are one step (a report's limit where the assignment takes PDFs)
    upload = read_upload(file, submitting.read_limit(assignment, max_bytes=settings.max_upload_bytes,
                                                     max_report_bytes=settings.max_report_bytes))
    try:
        submission = submitting.submit(session, assignment=assignment, user=user, upload=upload, blobs=blobs,
                                       enqueuer=enqueuer, secret=settings.secret_key,
                                       max_bytes=settings.max_upload_bytes, max_report_bytes=settings.max_report_bytes)
    except (UploadRefused, UploadError) as exc:
        raise upload_error(exc) from None
    return submission_public(session, submission)


def get_submission_access(submission_id: RowId, session: SessionDep, user: CurrentUser) -> SubmissionAccess:
    """The submission with the caller's role in its course (404 for anyone who may not read it)."""
    submission = session.get(Submission, submission_id, options=[joinedload(Submission.assignment)])
    return granted(access.submission_access(session, user=user, submission=submission), missing="No such submission.")


def submission_answer(request: Request, submission_id: int, token: str | None) -> tuple[bytes, dict[str, str]]:
    """The ordinary path: the caller (401), the access rule (404), then the answer and its poll headers."""
    state = request.app.state
    with session_scope(state.session_factory) as session:
        user = get_current_user(session, state.settings, token)
        found = get_submission_access(submission_id, session, user)
        submission, staff = found.submission, found.staff_view  # staff see logs of their own runs too
        headers = poll_headers(submission_etag(submission, staff=staff), staff=staff)
        return submission_public(session, submission, staff=staff).model_dump_json().encode(), headers


@router.get("/submissions/{submission_id}", response_model=SubmissionPublic | SubmissionStaff,
            summary="One submission: status, score, per-check feedback (staff also see logs)",
            responses={304: {"description": "unchanged since the ETag sent in If-None-Match"}})
async def get_submission(submission_id: RowId, request: Request, token: Annotated[str | None, Depends(oauth2)],
                         if_none_match: Annotated[str | None, Header()] = None) -> Response:
    """Polled until final, by every student at once on deadline night, so the common answer is cheap: while
    the ETag the client holds is current, a 304 from memory (status_watch: at most its interval late), else
    from one query (polling.peek, on a worker thread); an unchanged answer asked for again comes from memory
    too (polling.AnswerCache). Anything else (a change, an error) takes the ordinary path, on one worker
    thread too."""
    state = request.app.state
    user_id = state.verified_tokens.user_id(token)
    if user_id is not None:
        seen = state.status_watch.lookup(submission_id, user_id)
        if if_none_match and (seen is None or not not_modified(if_none_match, seen[0])):
            seen = await run_in_threadpool(peek, state.engine, submission_id=submission_id, user_id=user_id)
            if seen is not None:
                state.status_watch.remember(submission_id, user_id, seen)
        if seen is not None:
            headers = poll_headers(seen[0], staff=seen[1])
            if not_modified(if_none_match, seen[0]):
                return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
            if (known := state.answers.get(seen[0])) is not None:
                return Response(known, media_type="application/json", headers=headers)
    body, headers = await run_in_threadpool(submission_answer, request, submission_id, token)
    state.answers.put(headers["ETag"], body)
    if not_modified(if_none_match, headers["ETag"]):
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


@router.get("/submissions", response_model=list[SubmissionPublic],
            summary="The caller's own submissions (and their teams', sent while a member), newest first")
def my_submissions(session: SessionDep, user: CurrentUser,
                   assignment_id: Annotated[int | None, Query(ge=1, le=MAX_ROW_ID)] = None) -> list[SubmissionPublic]:
    query = select(Submission).where(sees_submission(user.id), Submission.purpose == SubmissionPurpose.STUDENT)
    query = query.order_by(Submission.id.desc())
    if assignment_id is not None:
        query = query.where(Submission.assignment_id == assignment_id)
    return [submission_public(session, s) for s in session.scalars(query)]

