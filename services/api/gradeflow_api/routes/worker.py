"""Endpoints for workers, authorised by a per-attempt token (workers hold no database credentials)."""
from __future__ import annotations

from fastapi import APIRouter, HTTPException, Response, status

from gradeflow_api.deps import AttemptDep, BlobsDep, EnqueuerDep, SessionDep, SettingsDep
from gradeflow_api.metrics import MetricsDep
from gradeflow_core import grading
from gradeflow_protocol.bundles import AssignmentConfig
from gradeflow_protocol.limits import limits_from_settings
from gradeflow_protocol.messages import (ClaimBody, HeartbeatBody, HeartbeatReply, JobSpec, Refusal, ReleaseBody,
                                         ReleaseReply, ResultPost, ResultReply)
from gradeflow_protocol.paths import WORKER_PREFIX, WorkerPath
from gradeflow_api.settings import ApiSettings

router = APIRouter(prefix=WORKER_PREFIX, tags=["worker"])
REFUSED = {409: {"model": Refusal, "description": "do not run this attempt"}}


def _file(media_type: str) -> dict:
    """OpenAPI for an endpoint that answers raw bytes (or a Refusal)."""
    return REFUSED | {200: {"content": {media_type: {}}, "description": "the file's bytes"}}


def timing(settings: ApiSettings) -> grading.Timing:
    return grading.Timing(heartbeat_timeout_s=settings.heartbeat_timeout_s, queued_timeout_s=settings.queued_timeout_s,
                          max_runs=settings.max_runs)


@router.post(WorkerPath.CLAIM.value, response_model=JobSpec, responses=REFUSED)
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
                   seed=submission.seed, environment=config.environment)


def _current(attempt: tuple) -> None:
    submission, number = attempt
    if number != submission.attempt:
        raise HTTPException(status.HTTP_409_CONFLICT, grading.ClaimRefusal.SUPERSEDED.value)


@router.post(WorkerPath.HEARTBEAT.value, response_model=HeartbeatReply)
def heartbeat(body: HeartbeatBody, attempt: AttemptDep) -> HeartbeatReply:
    submission, number = attempt
    return HeartbeatReply(ok=grading.heartbeat(submission, attempt=number, progress=body.progress))


@router.get(WorkerPath.SUBMISSION_FILE.value, response_class=Response, responses=_file("application/octet-stream"))
def submission_file(attempt: AttemptDep, blobs: BlobsDep) -> Response:
    _current(attempt)
    return Response(blobs.get(attempt[0].blob_sha256), media_type="application/octet-stream")


@router.get(WorkerPath.BUNDLE.value, response_class=Response, responses=_file("application/gzip"))
def bundle(attempt: AttemptDep, blobs: BlobsDep) -> Response:
    _current(attempt)
    return Response(blobs.get(attempt[0].version.bundle_blob), media_type="application/gzip")


@router.post(WorkerPath.RESULT.value, response_model=ResultReply)
def result(post: ResultPost, attempt: AttemptDep, session: SessionDep, metrics: MetricsDep) -> ResultReply:
    submission, number = attempt
    if post.submission_id != submission.id or post.attempt != number:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "result does not match the token")
    stored = grading.record_result(session, submission=submission, post=post)
    metrics.observe_result(post, queue=submission.queue, stored=stored)
    return ResultReply(stored=stored)


@router.post(WorkerPath.RELEASE.value, response_model=ReleaseReply)
def release(body: ReleaseBody, attempt: AttemptDep, session: SessionDep, settings: SettingsDep,
            enqueuer: EnqueuerDep) -> ReleaseReply:
    """The worker could not grade (an infrastructure error): re-queue as a new attempt, or fail."""
    submission, number = attempt
    if number != submission.attempt or submission.status != "running":
        return ReleaseReply(requeued=False)
    again = grading.requeue(submission, reason=body.error, timing=timing(settings))
    grading.commit_and_send(session, enqueuer, [submission] if again else [], secret=settings.secret_key)
    return ReleaseReply(requeued=again)
