"""Reconciling the database with a broker that lost messages: which rows are sent again, and which never are."""
from __future__ import annotations

from datetime import timedelta

import pytest

from gradeflow_core import grading
from gradeflow_core.blobs import MemoryBlobStore
from gradeflow_core.db import make_engine, make_session_factory
from gradeflow_core.migrate import upgrade
from gradeflow_core.models import utcnow
from gradeflow_core.reconcile import (BrokerMemory, BrokerView, LossReason, find_lost, queued_per_queue,
                                      resend_lost)
from gradeflow_protocol.enums import SubmissionStatus
from tests.db_helpers import add_submission, make_course

T0 = utcnow()
GRACE = timedelta(seconds=20)
TIMING = grading.Timing(heartbeat_timeout_s=30, queued_timeout_s=3600, max_runs=3)


def at(seconds: float):
    return T0 + timedelta(seconds=seconds)


def view(*, marker=True, started=-1000.0, **depths) -> BrokerView:
    return BrokerView(marker_present=marker, started_at=at(started), depths=depths)


def test_a_restart_after_the_marker_was_seen_cuts_at_the_brokers_start():
    memory = BrokerMemory()
    assert find_lost(view(cpu=0), memory, queued={"cpu": 0}, now=at(0), grace=GRACE) == {}
    assert memory.marker_seen_at == at(0)
    lost = find_lost(view(marker=False, started=5, cpu=2), memory, queued={"cpu": 10}, now=at(8), grace=GRACE)
    assert lost["cpu"].before == at(6) and lost["cpu"].reason is LossReason.BROKER_RESET  # start + 1 s margin


def test_without_memory_a_missing_marker_cuts_at_the_brokers_start():
    """A fresh API process that never saw the marker (a first start, or Redis and the API restarted together)
    re-sends what was queued before the broker started; a row queued since may have its message taken by a
    worker that has not claimed yet, and sending it again would grade it under a second attempt."""
    lost = find_lost(view(marker=False, started=-5, cpu=0), BrokerMemory(), queued={"cpu": 3}, now=at(0), grace=GRACE)
    assert lost["cpu"].before == at(-4) and lost["cpu"].reason is LossReason.BROKER_RESET


def test_without_memory_a_flush_is_caught_by_the_empty_queue_proof():
    """A flush while this process was not watching leaves no trace but empty lists: the grace period decides."""
    memory = BrokerMemory()
    first = find_lost(view(marker=False, started=-500, cpu=0), memory, queued={"cpu": 3}, now=at(0), grace=GRACE)
    assert first["cpu"].before == at(-499)  # rows queued since the broker started are not re-sent at once
    lost = find_lost(view(marker=True, started=-500, cpu=0), memory, queued={"cpu": 3}, now=at(21), grace=GRACE)
    assert lost["cpu"].before == at(0) and lost["cpu"].reason is LossReason.EMPTY_QUEUE


def test_a_missing_marker_with_every_message_still_there_resends_nothing():
    """Only the marker went (evicted): a message per queued row is still waiting."""
    lost = find_lost(view(marker=False, cpu=7), BrokerMemory(), queued={"cpu": 7}, now=at(0), grace=GRACE)
    assert lost == {}


def test_a_long_healthy_queue_is_never_sent_again():
    """Hundreds of rows wait behind a slow worker for an hour: the lists are never empty, nothing is lost."""
    memory = BrokerMemory()
    for second in range(0, 3600, 10):
        waiting = 500 - second // 10
        lost = find_lost(view(cpu=waiting - 1), memory, queued={"cpu": waiting}, now=at(second), grace=GRACE)
        assert lost == {}  # one message is always with the worker, claimed a moment later


def test_a_queue_empty_for_the_grace_period_loses_the_rows_sent_before_it_went_empty():
    memory = BrokerMemory()
    assert find_lost(view(cpu=0), memory, queued={"cpu": 2}, now=at(0), grace=GRACE) == {}
    assert find_lost(view(cpu=0), memory, queued={"cpu": 2}, now=at(10), grace=GRACE) == {}
    lost = find_lost(view(cpu=0), memory, queued={"cpu": 2}, now=at(20), grace=GRACE)
    assert lost["cpu"].before == at(0) and lost["cpu"].reason is LossReason.EMPTY_QUEUE


def test_a_message_in_the_lists_restarts_the_grace_period():
    memory = BrokerMemory()
    find_lost(view(cpu=0), memory, queued={"cpu": 2}, now=at(0), grace=GRACE)
    find_lost(view(cpu=1), memory, queued={"cpu": 2}, now=at(10), grace=GRACE)
    assert find_lost(view(cpu=0), memory, queued={"cpu": 2}, now=at(20), grace=GRACE) == {}
    assert find_lost(view(cpu=0), memory, queued={"cpu": 2}, now=at(40), grace=GRACE)["cpu"].before == at(20)


def test_queues_are_judged_apart():
    """The gpu queue has no worker (its messages wait); the cpu queue's were lost."""
    memory = BrokerMemory()
    find_lost(view(cpu=0, gpu=4), memory, queued={"cpu": 1, "gpu": 4}, now=at(0), grace=GRACE)
    lost = find_lost(view(cpu=0, gpu=4), memory, queued={"cpu": 1, "gpu": 4}, now=at(30), grace=GRACE)
    assert set(lost) == {"cpu"}


@pytest.fixture
def db(sqlite_url, tmp_path):
    upgrade(sqlite_url)
    engine = make_engine(sqlite_url)
    factory = make_session_factory(engine)
    session = factory()
    world = make_course(session, MemoryBlobStore(), tmp_path / "toy")
    session.commit()
    yield session, world, factory
    session.close()
    engine.dispose()


def _queued(session, world, *, at_second: float):
    sub = add_submission(session, user=world["alice"], version=world["version"])
    sub.queued_at = at(at_second)
    session.commit()
    return sub


def test_resend_bumps_the_attempt_of_rows_before_the_cutoff_and_the_stale_message_is_refused(db):
    session, world, _ = db
    old, new = _queued(session, world, at_second=0), _queued(session, world, at_second=10)
    assert queued_per_queue(session) == {"cpu": 2}
    flushed = BrokerMemory(marker_seen_at=at(-1))  # this process saw the marker, then the broker was flushed
    lost = find_lost(view(marker=False, cpu=1), flushed, queued={"cpu": 2}, now=at(5), grace=GRACE)
    assert resend_lost(session, lost, now=at(5)) == [old]
    session.commit()
    assert (old.attempt, old.runs, old.queued_at, old.status) == (2, 0, at(5), SubmissionStatus.QUEUED)
    assert old.error == LossReason.BROKER_RESET.value
    assert new.attempt == 1
    assert grading.claim(session, submission=old, attempt=1, worker="w", timing=TIMING) is grading.ClaimRefusal.SUPERSEDED
    assert grading.claim(session, submission=old, attempt=2, worker="w", timing=TIMING) is None
    assert old.runs == 1


def test_a_row_claimed_meanwhile_is_left_to_its_worker(db):
    """The sweeper read the row as queued; a worker claimed the old attempt before the bump: the claim wins."""
    from gradeflow_core.reconcile import _bump_if_still_queued

    session, world, factory = db
    sub = _queued(session, world, at_second=0)
    assert sub.status == SubmissionStatus.QUEUED  # as the sweeper's select saw it
    with factory() as other:  # the claim route's session, between that select and the bump
        row = other.get(type(sub), sub.id)
        assert grading.claim(other, submission=row, attempt=1, worker="w1", timing=TIMING) is None
        other.commit()
    assert _bump_if_still_queued(session, sub, reason=LossReason.BROKER_RESET, now=at(5)) is False
    session.commit()
    assert (sub.attempt, sub.status, sub.worker) == (1, SubmissionStatus.RUNNING, "w1")
