"""The grading queue as staff see it (waiting, running per worker, stuck, failed) and what they can do about it."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from gradeflow_protocol.enums import SubmissionStatus
from gradeflow_core.models import Assignment, Submission, utcnow

MAX_LISTED = 200


@dataclass(frozen=True)
class QueueThresholds:
    stuck_running_s: float  # a running submission silent this long is stuck (the sweeper re-queues it soon)
    stuck_queued_s: float  # a queued submission waiting this long is stuck (no worker on its queue?)
    failed_window_s: float = 24 * 3600  # failures this recent are listed


@dataclass(frozen=True)
class QueueSnapshot:
    """Counts are over every course; listed submissions only over `course_ids` (None: all)."""

    waiting: dict[str, int]  # queue name -> queued submissions
    running: dict[str, int]  # worker -> running submissions
    queued: list[Submission] = field(default_factory=list)
    active: list[Submission] = field(default_factory=list)
    stuck: list[Submission] = field(default_factory=list)
    failed: list[Submission] = field(default_factory=list)


def _in_courses(query, course_ids: set[int] | None):
    if course_ids is None:
        return query
    return query.where(Submission.assignment_id.in_(select(Assignment.id).where(Assignment.course_id.in_(course_ids))))


def _is_stuck(sub: Submission, now: datetime, limits: QueueThresholds) -> bool:
    if sub.status == SubmissionStatus.RUNNING:
        beat = sub.last_heartbeat or sub.started_at or sub.queued_at
        return now - beat > timedelta(seconds=limits.stuck_running_s)
    return now - sub.queued_at > timedelta(seconds=limits.stuck_queued_s)


def snapshot(session: Session, *, course_ids: set[int] | None, limits: QueueThresholds,
             now: datetime | None = None) -> QueueSnapshot:
    now = now or utcnow()
    rows = session.execute(select(Submission, Assignment.course_id)
                           .join(Assignment, Assignment.id == Submission.assignment_id)
                           .where(Submission.status.in_([SubmissionStatus.QUEUED, SubmissionStatus.RUNNING]))
                           .order_by(Submission.queued_at)).all()
    live = [sub for sub, _ in rows]
    waiting = Counter(s.queue for s in live if s.status == SubmissionStatus.QUEUED)
    running = Counter(s.worker or "?" for s in live if s.status == SubmissionStatus.RUNNING)
    mine = [sub for sub, course in rows if course_ids is None or course in course_ids]
    since = now - timedelta(seconds=limits.failed_window_s)
    failed = session.scalars(_in_courses(select(Submission).where(
        Submission.status == SubmissionStatus.FAILED,
        or_(Submission.graded_at >= since, Submission.graded_at.is_(None))), course_ids)
        .order_by(Submission.id.desc()).limit(MAX_LISTED))
    return QueueSnapshot(
        waiting=dict(waiting), running=dict(running),
        queued=[s for s in mine if s.status == SubmissionStatus.QUEUED][:MAX_LISTED],
        active=[s for s in mine if s.status == SubmissionStatus.RUNNING][:MAX_LISTED],
        stuck=[s for s in mine if _is_stuck(s, now, limits)][:MAX_LISTED], failed=list(failed))


class RetryError(ValueError):
    """A submission that cannot be retried; the message says why."""


def retry_failed(submission: Submission) -> None:
    """Give a FAILED submission a fresh start (new attempt, runs reset); the caller enqueues it after committing."""
    if submission.status != SubmissionStatus.FAILED:
        raise RetryError(f"submission {submission.id} is {submission.status}; only a failed one can be retried")
    submission.attempt += 1
    submission.runs = 0
    submission.status = SubmissionStatus.QUEUED
    submission.queued_at = utcnow()
    submission.graded_at = None
    submission.last_heartbeat = None
    submission.progress = ""
    submission.error = "retried by staff after: " + (submission.error or "an unknown failure")[:1800]


def queue_thresholds(*, heartbeat_interval_s: float, time_limit_s: float) -> QueueThresholds:
    """When staff should call a submission stuck: silent for three heartbeats, or queued longer than a whole run."""
    return QueueThresholds(stuck_running_s=max(3 * heartbeat_interval_s, 10.0), stuck_queued_s=max(time_limit_s, 300.0))
