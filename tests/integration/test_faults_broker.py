"""Redis restarts without persistence while submissions wait: the database is the truth, nothing is lost.

The test owns its redis-server (tests/redis_server.py) and restarts it empty on the same port; the sweeper runs
at its default interval (10 s), so "within 30 s" is what a real deployment gets.
"""
from __future__ import annotations

import shutil
import sqlite3
import time

import pytest
import redis

from gradeflow_api.reconciler import MARKER_KEY, queue_lists
from gradeflow_core.reconcile import LossReason
from tests.conftest import require
from tests.integration.test_spine import reference_script
from tests.redis_server import own_redis  # noqa: F401  (fixture)
from tests.stack import start_stack

pytestmark = [pytest.mark.integration, pytest.mark.bwrap, pytest.mark.redis]

RECOVERY_S = 30.0


def wait_for(condition, *, timeout: float, what: str):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise TimeoutError(what)


def depth(broker, queue: str = "cpu") -> int:
    return sum(broker.llen(key) for key in queue_lists(queue))


def results_per_submission(var_dir) -> dict[int, int]:
    with sqlite3.connect(var_dir / "gradeflow.db") as db:
        return dict(db.execute("SELECT submission_id, count(*) FROM grading_results GROUP BY submission_id"))


def test_a_redis_restart_loses_no_queued_submission(tmp_path, own_redis):  # noqa: F811
    require(shutil.which("bwrap") is not None, "bubblewrap is not installed")
    stack = start_stack(tmp_path / "stack", redis_url=own_redis.url, workers=1,
                        extra_env={"GRADEFLOW_SWEEP_INTERVAL_S": "10"})
    broker = redis.Redis.from_url(own_redis.url)
    try:
        wait_for(lambda: broker.exists(MARKER_KEY), timeout=20, what="the sweeper never left its marker")
        slow = b"import time\ntime.sleep(2)\n" + reference_script()
        ids = [stack.submit(f"s{i}.py", slow).json()["id"] for i in range(6)]
        wait_for(lambda: stack.get(ids[0], username="ta1").json()["status"] == "running", timeout=60,
                 what="the first submission never started")
        waiting = [sid for sid in ids if stack.get(sid, username="ta1").json()["status"] == "queued"]
        assert len(waiting) >= 4 and depth(broker) >= 4

        own_redis.restart()  # SIGKILL, start again empty on the same port
        restarted = time.monotonic()
        assert depth(broker) == 0 and not broker.exists(MARKER_KEY)

        def resent():
            bodies = [stack.get(sid, username="ta1").json() for sid in waiting]
            return all(b["attempt"] == 2 or b["status"] != "queued" for b in bodies)

        wait_for(resent, timeout=RECOVERY_S, what=f"lost submissions not sent again within {RECOVERY_S} s")
        recovered = time.monotonic() - restarted
        bodies = {sid: stack.wait(sid, username="ta1", timeout=180) for sid in ids}
        for sid, body in bodies.items():
            assert body["status"] == "graded" and body["score"] == 10, body
            assert body["runs"] == 1, body  # graded exactly once: no attempt ran twice
        for sid in waiting:
            assert bodies[sid]["attempt"] == 2 and bodies[sid]["error"] == LossReason.BROKER_RESET.value
        assert results_per_submission(stack.var_dir) == {sid: 1 for sid in ids}
        assert broker.exists(MARKER_KEY)  # left again once the lost ones were sent
        print(f"lost submissions sent again {recovered:.1f} s after the restart")
    finally:
        broker.close()
        stack.stop()


def test_a_queue_waiting_behind_a_busy_worker_is_not_sent_again(tmp_path, own_redis):  # noqa: F811
    """No restart, a long queue, a grace period shorter than the wait: every row keeps its first attempt."""
    require(shutil.which("bwrap") is not None, "bubblewrap is not installed")
    stack = start_stack(tmp_path / "stack", redis_url=own_redis.url, workers=1,
                        extra_env={"GRADEFLOW_LOST_MESSAGE_GRACE_S": "2"})
    try:
        slow = b"import time\ntime.sleep(3)\n" + reference_script()
        ids = [stack.submit(f"s{i}.py", slow).json()["id"] for i in range(4)]
        bodies = [stack.wait(sid, username="ta1", timeout=180) for sid in ids]
        assert [(b["status"], b["attempt"], b["runs"]) for b in bodies] == [("graded", 1, 1)] * 4
        assert results_per_submission(stack.var_dir) == {sid: 1 for sid in ids}
    finally:
        stack.stop()
