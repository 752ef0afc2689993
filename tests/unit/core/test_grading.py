from datetime import timedelta

import pytest

from gradeflow_core import grading
from gradeflow_core.grading import commit_and_send, queue_position
from gradeflow_core.blobs import MemoryBlobStore
from gradeflow_core.db import make_engine, make_session_factory
from gradeflow_protocol.enums import RunOutcome, SubmissionStatus
from gradeflow_core.migrate import upgrade
from gradeflow_core.models import GradingResult, utcnow
from gradeflow_protocol.messages import CheckResult, ResultPost, RunReport
from tests.db_helpers import add_submission, make_course

TIMING = grading.Timing(heartbeat_timeout_s=30, queued_timeout_s=600, max_runs=2)


@pytest.fixture
def db(database_url, tmp_path):
    upgrade(database_url)
    engine = make_engine(database_url)
    session = make_session_factory(engine)()
    world = make_course(session, MemoryBlobStore(), tmp_path / "toy")
    world["sub"] = add_submission(session, user=world["alice"], version=world["version"])
    session.commit()
    yield session, world
    session.close()
    engine.dispose()


def result(sub, attempt, score=2.0) -> ResultPost:
    return ResultPost(submission_id=sub.id, attempt=attempt,
                      checks=[CheckResult(name="a", score=score, max_score=2, passed=score == 2)],
                      run=RunReport(outcome=RunOutcome.COMPLETED, wall_seconds=1.0))


def test_claim_then_result_is_stored_once(db):
    session, w = db
    sub = w["sub"]
    assert grading.claim(session, submission=sub, attempt=1, worker="w", timing=TIMING) is None
    assert sub.status == SubmissionStatus.RUNNING and sub.runs == 1
    assert grading.record_result(session, submission=sub, post=result(sub, 1)) is True
    assert grading.record_result(session, submission=sub, post=result(sub, 1, score=0)) is False
    session.commit()
    assert session.query(GradingResult).count() == 1
    assert sub.score == 2.0 and sub.status == SubmissionStatus.GRADED
    assert grading.claim(session, submission=sub, attempt=1, worker="w2", timing=TIMING) is grading.ClaimRefusal.FINAL


def test_a_live_claim_blocks_a_second_worker_but_a_silent_one_does_not(db):
    session, w = db
    sub = w["sub"]
    assert grading.claim(session, submission=sub, attempt=1, worker="w1", timing=TIMING) is None
    assert grading.claim(session, submission=sub, attempt=1, worker="w2", timing=TIMING) is grading.ClaimRefusal.BUSY
    later = utcnow() + timedelta(seconds=60)
    assert grading.claim(session, submission=sub, attempt=1, worker="w2", timing=TIMING, now=later) is None
    assert sub.runs == 2 and sub.worker == "w2"


def test_sweep_requeues_a_silent_run_as_a_new_attempt_and_the_old_token_is_stale(db):
    session, w = db
    sub = w["sub"]
    grading.claim(session, submission=sub, attempt=1, worker="w1", timing=TIMING)
    assert grading.sweep(session, timing=TIMING) == []
    requeued = grading.sweep(session, timing=TIMING, now=utcnow() + timedelta(seconds=60))
    assert requeued == [sub] and sub.attempt == 2 and sub.status == SubmissionStatus.QUEUED
    assert grading.record_result(session, submission=sub, post=result(sub, 1)) is False
    assert grading.claim(session, submission=sub, attempt=1, worker="w", timing=TIMING) is grading.ClaimRefusal.SUPERSEDED
    assert grading.claim(session, submission=sub, attempt=2, worker="w", timing=TIMING) is None


def test_out_of_runs_is_failed_not_lost(db):
    session, w = db
    sub = w["sub"]
    for attempt in (1, 2):
        grading.claim(session, submission=sub, attempt=attempt, worker="w", timing=TIMING)
        grading.requeue(sub, reason="worker died", timing=TIMING) if attempt == 1 else None
    assert sub.runs == 2
    assert grading.requeue(sub, reason="worker died", timing=TIMING) is False
    assert sub.status == SubmissionStatus.FAILED and "worker died" in sub.error


def test_sweep_resends_a_submission_whose_message_was_lost(db):
    session, w = db
    sub = w["sub"]
    assert grading.sweep(session, timing=TIMING, now=utcnow() + timedelta(seconds=601)) == [sub]
    assert sub.attempt == 2


def test_heartbeat_only_for_the_current_running_attempt(db):
    session, w = db
    sub = w["sub"]
    assert grading.heartbeat(sub, attempt=1, progress="cell 1") is False
    grading.claim(session, submission=sub, attempt=1, worker="w", timing=TIMING)
    assert grading.heartbeat(sub, attempt=1, progress="cell 2/3") is True and sub.progress == "cell 2/3"
    assert grading.heartbeat(sub, attempt=2, progress="x") is False


@pytest.mark.postgres
def test_one_api_replica_sweeps_at_a_time(fresh_postgres_url):
    upgrade(fresh_postgres_url)
    engine = make_engine(fresh_postgres_url)
    first, second = make_session_factory(engine)(), make_session_factory(engine)()
    try:
        assert grading.hold_sweep_lock(first)
        assert not grading.hold_sweep_lock(second)  # the other replica skips this pass
        first.commit()  # the lock ends with the transaction
        second.rollback()
        assert grading.hold_sweep_lock(second)
    finally:
        first.close()
        second.close()
        engine.dispose()


def test_sqlite_needs_no_sweep_lock(sqlite_url):
    upgrade(sqlite_url)
    engine = make_engine(sqlite_url)
    with make_session_factory(engine)() as session:
        assert grading.hold_sweep_lock(session) and grading.hold_sweep_lock(session)
    engine.dispose()


def test_fair_share_one_students_burst_delays_anothers_first_upload_by_one_slot(tmp_path):
    """Alice queues five; Bob's first then waits behind Alice's first only (queue position 2)."""
    from tests.unit.core.conftest import _open
    from tests.unit.core.world import submit

    engine, session, _, world = _open(f"sqlite:///{tmp_path / 'fair.db'}", tmp_path)
    queue = FakeQueue()
    alices = []
    for _ in range(5):  # each upload is sent as it arrives
        alices.append(submit(session, world, "alice"))
        commit_and_send(session, queue, [alices[-1]], secret="s" * 32)
    bobs = submit(session, world, "bob")
    commit_and_send(session, queue, [bobs], secret="s" * 32)
    assert queue.priorities == [0, 1, 2, 2, 2, 0]
    assert queue_position(session, bobs) == 2
    assert [queue_position(session, row) for row in alices] == [1, 3, 4, 5, 6]
    session.close()
    engine.dispose()


class FakeQueue:
    def __init__(self):
        self.priorities = []

    def enqueue(self, task, *, queue, priority=0):
        self.priorities.append(priority)


def test_a_restarted_api_waits_one_heartbeat_timeout_before_calling_a_worker_silent(tmp_path):
    """The API was down for longer than the timeout; the worker's beats went unheard, not unsent."""
    from tests.unit.core.conftest import _open
    from tests.unit.core.world import submit

    engine, session, _, world = _open(f"sqlite:///{tmp_path / 'restart.db'}", tmp_path)
    row = submit(session, world, "alice")
    now = utcnow()
    row.status, row.worker, row.last_heartbeat = SubmissionStatus.RUNNING, "w1", now - timedelta(seconds=40)
    session.commit()
    timing = grading.Timing(heartbeat_timeout_s=30, queued_timeout_s=3600, max_runs=3)
    assert grading.sweep(session, timing=timing, now=now, listening_since=now - timedelta(seconds=5)) == []
    assert grading.sweep(session, timing=timing, now=now, listening_since=now - timedelta(seconds=31)) == [row]
    session.close()
    engine.dispose()


def test_a_claim_retried_by_the_same_worker_is_answered_again_not_refused(tmp_path):
    """The first answer was lost on the way back (a timeout): the retry must not turn into 'busy' and a drop."""
    from tests.unit.core.conftest import _open
    from tests.unit.core.world import submit

    engine, session, _, world = _open(f"sqlite:///{tmp_path / 'reclaim.db'}", tmp_path)
    row = submit(session, world, "alice")
    timing = grading.Timing(heartbeat_timeout_s=30, queued_timeout_s=3600, max_runs=3)
    assert grading.claim(session, submission=row, attempt=row.attempt, worker="w1:7", timing=timing) is None
    assert grading.claim(session, submission=row, attempt=row.attempt, worker="w1:7", timing=timing) is None
    assert row.runs == 1  # one run, claimed twice
    assert grading.claim(session, submission=row, attempt=row.attempt, worker="w2:9",
                         timing=timing) is grading.ClaimRefusal.BUSY
    session.close()
    engine.dispose()
