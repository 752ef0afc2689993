"""Endpoints for workers, authorised by a per-attempt token (workers hold no database credentials)."""
from __future__ import annotations

from fastapi import APIRouter, HTTPException, Response, status
from pydantic import BaseModel, Field

from gradeflow_api.deps import AttemptDep, BlobsDep, EnqueuerDep, SessionDep, SettingsDep
from gradeflow_core import grading
from gradeflow_protocol.bundles import AssignmentConfig
from gradeflow_protocol.limits import limits_from_settings
from gradeflow_protocol.messages import JobSpec, ResultPost
from gradeflow_api.settings import ApiSettings

router = APIRouter(prefix="/api/v1/worker", tags=["worker"])


class ClaimBody(BaseModel):
    worker: str = Field(..., max_length=200)


class HeartbeatBody(BaseModel):
    progress: str = Field("", max_length=200)


class ReleaseBody(BaseModel):
    error: str = Field(..., max_length=4000)


def timing(settings: ApiSettings) -> grading.Timing:
    return grading.Timing(heartbeat_timeout_s=settings.heartbeat_timeout_s, queued_timeout_s=settings.queued_timeout_s,
                          max_runs=settings.max_runs)


@router.post("/claim", response_model=JobSpec, responses={409: {"description": "do not run this attempt"}})
def claim(body: ClaimBody, attempt: AttemptDep, session: SessionDep, settings: SettingsDep) -> JobSpec:
    submission, number = attempt
    refusal = grading.claim(session, submission=submission, attempt=number, worker=body.worker, timing=timing(settings))
    if refusal is not None:
        session.commit()  # a GAVE_UP refusal marks the submission failed
        raise HTTPException(status.HTTP_409_CONFLICT, refusal.value)
    version = submission.version
    config = AssignmentConfig(**version.config)
    return JobSpec(submission_id=submission.id, attempt=number, kind=submission.kind, filename=submission.filename,
                   submission_sha256=submission.blob_sha256, bundle_sha256=version.sha256,
                   assignment_slug=submission.assignment.slug, limits=config.limits(*limits_from_settings(settings)),
                   seed=submission.seed)


def _current(attempt: tuple) -> None:
    submission, number = attempt
    if number != submission.attempt:
        raise HTTPException(status.HTTP_409_CONFLICT, grading.ClaimRefusal.SUPERSEDED.value)


@router.post("/heartbeat")
def heartbeat(body: HeartbeatBody, attempt: AttemptDep) -> dict:
    submission, number = attempt
    return {"ok": grading.heartbeat(submission, attempt=number, progress=body.progress)}


@router.get("/submission-file")
def submission_file(attempt: AttemptDep, blobs: BlobsDep) -> Response:
    _current(attempt)
    return Response(blobs.get(attempt[0].blob_sha256), media_type="application/octet-stream")


@router.get("/bundle")
def bundle(attempt: AttemptDep, blobs: BlobsDep) -> Response:
    _current(attempt)
    return Response(blobs.get(attempt[0].version.bundle_blob), media_type="application/gzip")


@router.post("/result")
def result(post: ResultPost, attempt: AttemptDep, session: SessionDep) -> dict:
    submission, number = attempt
    if post.submission_id != submission.id or post.attempt != number:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "result does not match the token")
    return {"stored": grading.record_result(session, submission=submission, post=post)}


@router.post("/release")
def release(body: ReleaseBody, attempt: AttemptDep, session: SessionDep, settings: SettingsDep,
            enqueuer: EnqueuerDep) -> dict:
    """The worker could not grade (an infrastructure error): re-queue as a new attempt, or fail."""
    submission, number = attempt
    if number != submission.attempt or submission.status != "running":
        return {"requeued": False}
    again = grading.requeue(submission, reason=body.error, timing=timing(settings))
    grading.commit_and_send(session, enqueuer, [submission] if again else [], secret=settings.secret_key)
    return {"requeued": again}
