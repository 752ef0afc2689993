"""The life of a submission's grading: claim, heartbeat, result, release, sweep.

Attempts make this safe against dying workers: each (re-)queue bumps
`attempt`, the task message carries a token for that attempt only, a stale
attempt is refused, and a result is stored once per (submission, attempt).
"""
from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from sqlalchemy import func, or_, select, text
from sqlalchemy.orm import Session

from gradeflow_protocol.enums import SubmissionPurpose, SubmissionStatus
from gradeflow_core.models import ContestScore, GradingResult, Submission, utcnow
from gradeflow_protocol.messages import ContestResult, GradeTask, ResultPost
from gradeflow_protocol.queues import REGRADE_PRIORITY, STUDENT_PRIORITIES, VALIDATION_PRIORITY
from gradeflow_core.security import make_attempt_token
from gradeflow_core.versions import settle


log = logging.getLogger(__name__)


class Enqueuer(Protocol):
    """Sends a grading task to a named queue (Celery in the API; a list in unit tests)."""

    def enqueue(self, task: GradeTask, *, queue: str, priority: int = 0) -> None: ...


_BAND = {SubmissionPurpose.VALIDATION: VALIDATION_PRIORITY, SubmissionPurpose.REGRADE: REGRADE_PRIORITY}


def priority_of(session: Session, submission: Submission) -> int:
    """Where the submission waits in its queue (0 is served first). A student waiting for feedback goes before
    the staff's background work; among students, a fair share: a student's upload with none of theirs in
    flight (queued or running) goes before any student's second, so one student's 50 uploads delay another's
    first by at most one slot."""
    if submission.purpose is not SubmissionPurpose.STUDENT:
        return _BAND[submission.purpose]
    waiting = session.scalar(select(func.count(Submission.id)).where(
        Submission.user_id == submission.user_id, Submission.queue == submission.queue,
        Submission.purpose == SubmissionPurpose.STUDENT,
        Submission.status.in_([SubmissionStatus.QUEUED, SubmissionStatus.RUNNING]), Submission.id != submission.id))
    return STUDENT_PRIORITIES[min(int(waiting or 0), len(STUDENT_PRIORITIES) - 1)]


def commit_and_send(session: Session, enqueuer: Enqueuer, submissions: Iterable[Submission], *,
                    secret: str) -> list[GradeTask]:
    """The one way work reaches the broker: commit the rows, then send each one's current attempt.

    A worker claims only what the database says, so the commit comes first. A broker that cannot be reached
    loses nothing: the row stays queued and the sweeper sends it again. Returns the tasks that were sent.
    """
    rows = list(submissions)
    session.flush()  # new rows get their ids and defaults
    for submission in rows:  # decided (and stored) before the commit: the queue position reads it
        submission.priority = priority_of(session, submission)
    session.commit()
    sent = []
    for submission in rows:
        try:
            sent.append(send(enqueuer, submission, secret=secret))
        except Exception:  # stored as queued: the sweeper sends it again
            log.exception("could not reach the broker for submission %s; the sweeper will send it", submission.id)
    return sent


def send(enqueuer: Enqueuer, submission: Submission, *, secret: str) -> GradeTask:
    """Enqueue the submission's current attempt on its queue, at the priority commit_and_send stored."""
    task = make_task(submission, secret=secret)
    enqueuer.enqueue(task, queue=submission.queue, priority=submission.priority)
    return task


def queue_position(session: Session, submission: Submission) -> int:
    """1 when it is next in its queue: what the queue serves first (a lower priority list, or the same list
    queued earlier) among the queued submissions on the same queue, plus one."""
    earlier = or_(Submission.queued_at < submission.queued_at,
                  (Submission.queued_at == submission.queued_at) & (Submission.id < submission.id))
    ahead = session.scalar(select(func.count(Submission.id)).where(
        Submission.status == SubmissionStatus.QUEUED, Submission.queue == submission.queue,
        or_(Submission.priority < submission.priority, (Submission.priority == submission.priority) & earlier)))
    return int(ahead or 0) + 1


class ClaimRefusal(StrEnum):
    FINAL = "already graded"
    SUPERSEDED = "superseded by a newer attempt"
    BUSY = "being graded by another worker"
    GAVE_UP = "too many runs; marked failed"


@dataclass(frozen=True)
class Timing:
    heartbeat_timeout_s: float
    queued_timeout_s: float
    max_runs: int


def make_task(submission: Submission, *, secret: str) -> GradeTask:
    token = make_attempt_token(submission_id=submission.id, attempt=submission.attempt, secret=secret)
    return GradeTask(submission_id=submission.id, attempt=submission.attempt, token=token)


def claim(session: Session, *, submission: Submission, attempt: int, worker: str, timing: Timing,
          now: datetime | None = None) -> ClaimRefusal | None:
    """Mark the attempt running for `worker`, or say why it must not run."""
    now = now or utcnow()
    if attempt != submission.attempt:
        return ClaimRefusal.SUPERSEDED
    if submission.status.is_final:
        return ClaimRefusal.FINAL
    if submission.status == SubmissionStatus.RUNNING and _fresh(submission, now, timing):
        if submission.worker == worker[:200]:  # the same worker retrying a claim whose answer it never got
            submission.last_heartbeat = now
            return None
        return ClaimRefusal.BUSY
    if submission.runs >= timing.max_runs:
        _fail(submission, f"gave up after {submission.runs} runs without a result", now)
        return ClaimRefusal.GAVE_UP
    submission.runs += 1
    submission.status = SubmissionStatus.RUNNING
    submission.worker = worker[:200]
    submission.started_at = now
    submission.last_heartbeat = now
    submission.progress = "starting"
    return None


def _fresh(submission: Submission, now: datetime, timing: Timing) -> bool:
    beat = submission.last_heartbeat
    return beat is not None and now - beat < timedelta(seconds=timing.heartbeat_timeout_s)


def _fail(submission: Submission, error: str, now: datetime) -> None:
    submission.status = SubmissionStatus.FAILED
    submission.error = error[:2000]
    submission.graded_at = now
    submission.progress = ""


def heartbeat(submission: Submission, *, attempt: int, progress: str) -> bool:
    if attempt != submission.attempt or submission.status != SubmissionStatus.RUNNING:
        return False
    submission.last_heartbeat = utcnow()
    submission.progress = progress[:200]
    return True


def record_result(session: Session, *, submission: Submission, post: ResultPost) -> bool:
    """Store a result once; True when stored now, False for a duplicate or stale post."""
    if post.attempt != submission.attempt or submission.status.is_final:
        return False
    exists = session.scalar(select(GradingResult.id).where(GradingResult.submission_id == submission.id,
                                                           GradingResult.attempt == post.attempt))
    if exists is not None:
        return False
    session.add(GradingResult(submission_id=submission.id, attempt=post.attempt, score=post.score,
                              max_score=post.max_score, checks=[c.model_dump() for c in post.checks],
                              run=post.run.model_dump(mode="json"), output=post.output, log=post.log, error=post.error))
    if post.contest is not None:
        store_contest_result(session, submission=submission, result=post.contest)
    submission.status = SubmissionStatus.GRADED
    submission.score, submission.max_score = post.score, post.max_score
    submission.graded_at = utcnow()
    submission.progress = ""
    if submission.purpose == SubmissionPurpose.VALIDATION:  # the last run of a publish decides the version
        settle(session, submission.version)
    return True


def store_contest_result(session: Session, *, submission: Submission, result: ContestResult) -> None:
    """Keep a contest submission's scores (the private one for the reveal); an unscorable file is void: it does not
    count against the daily limit."""
    row = session.scalar(select(ContestScore).where(ContestScore.submission_id == submission.id))
    if row is None:
        row = ContestScore(submission_id=submission.id)
        session.add(row)
    row.metric, row.public, row.private = result.metric.value, result.public, result.private
    row.private_low, row.private_high, row.problem = result.private_low, result.private_high, result.problem
    submission.void = result.public is None


def requeue(submission: Submission, *, reason: str, timing: Timing) -> bool:
    """New attempt for a submission that lost its worker; False (and failed) when out of runs."""
    now = utcnow()
    if submission.runs >= timing.max_runs:
        _fail(submission, f"{reason}; gave up after {submission.runs} runs", now)
        return False
    submission.attempt += 1
    submission.status = SubmissionStatus.QUEUED
    submission.queued_at = now
    submission.last_heartbeat = None
    submission.progress = ""
    submission.error = reason[:2000]
    return True


SWEEP_LOCK_KEY = 0x67667377  # "gfsw": the PostgreSQL advisory lock one sweeping API replica holds


def hold_sweep_lock(session: Session) -> bool:
    """True when this process may sweep now: on PostgreSQL it holds an advisory lock until the transaction ends,
    so several API replicas do not sweep at once; SQLite serves one API process and needs none."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    return bool(session.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": SWEEP_LOCK_KEY}))


def sweep(session: Session, *, timing: Timing, now: datetime | None = None,
          listening_since: datetime | None = None) -> list[Submission]:
    """Re-queue submissions whose worker went silent or whose message was lost; returns those re-queued.

    `listening_since` is when this API began hearing heartbeats: a worker is not silent because the API was
    down (a restarted API waits one heartbeat timeout before calling anyone silent)."""
    now = now or utcnow()
    stale_beat = now - timedelta(seconds=timing.heartbeat_timeout_s)
    stale_queue = now - timedelta(seconds=timing.queued_timeout_s)
    rows = session.scalars(select(Submission).where(Submission.status.in_([SubmissionStatus.QUEUED,
                                                                            SubmissionStatus.RUNNING]))).all()
    requeued = []
    for sub in rows:
        heard = max(filter(None, (sub.last_heartbeat, listening_since)), default=None)
        if sub.status == SubmissionStatus.RUNNING and (heard is None or heard < stale_beat):
            reason = f"worker {sub.worker or '?'} stopped sending heartbeats"
        elif sub.status == SubmissionStatus.QUEUED and sub.queued_at < stale_queue:
            reason = "waited too long in the queue"
        else:
            continue
        if requeue(sub, reason=reason, timing=timing):
            requeued.append(sub)
    return requeued
