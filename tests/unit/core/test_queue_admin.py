"""The staff's view of the queue, and retrying failed submissions."""
from __future__ import annotations

from datetime import timedelta

import pytest

from gradeflow_core import grading
from gradeflow_protocol.enums import SubmissionStatus
from gradeflow_core.models import Assignment, utcnow
from gradeflow_core.queue_admin import QueueThresholds, RetryError, retry_failed, snapshot
from tests.unit.core.world import TIMING, fail_now, grade_now, submit

LIMITS = QueueThresholds(stuck_running_s=15, stuck_queued_s=600)


def test_snapshot_counts_everything_and_lists_only_the_callers_courses(staff_db):
    session, _, world = staff_db
    now = utcnow()
    waiting = submit(session, world, "alice")
    old = submit(session, world, "bob", when=now - timedelta(hours=1))
    running = submit(session, world, "carol")
    grading.claim(session, submission=running, attempt=1, worker="w1@host", timing=TIMING)
    running.last_heartbeat = now - timedelta(seconds=60)
    grade_now(session, submit(session, world, "alice"), 2)
    failed = submit(session, world, "bob")
    fail_now(session, failed)
    other = Assignment(course_id=world.other.id, slug="x", title="X", kind="script", max_score=1)
    session.add(other)
    session.flush()
    elsewhere = submit(session, world, "olga")
    elsewhere.assignment_id = other.id
    session.flush()
    snap = snapshot(session, course_ids={world.course.id}, limits=LIMITS, now=now)
    assert snap.waiting == {"cpu": 3} and snap.running == {"w1@host": 1}
    assert [s.id for s in snap.queued] == [old.id, waiting.id]  # oldest first; olga's is not listed
    assert [s.id for s in snap.active] == [running.id]
    assert {s.id for s in snap.stuck} == {old.id, running.id}
    assert [s.id for s in snap.failed] == [failed.id]
    assert len(snapshot(session, course_ids=None, limits=LIMITS, now=now).queued) == 3
    assert snapshot(session, course_ids={world.other.id}, limits=LIMITS, now=now).failed == []


def test_retry_gives_a_failed_submission_a_fresh_start(staff_db):
    session, _, world = staff_db
    sub = submit(session, world, "bob")
    fail_now(session, sub)
    assert sub.status == SubmissionStatus.FAILED
    attempt = sub.attempt
    retry_failed(sub)
    assert (sub.status, sub.runs, sub.attempt) == (SubmissionStatus.QUEUED, 0, attempt + 1)
    assert sub.error.startswith("retried by staff after:")
    with pytest.raises(RetryError, match="only a failed one"):
        retry_failed(sub)

