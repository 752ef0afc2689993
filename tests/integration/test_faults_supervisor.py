"""`gradeflow up` supervises its processes: a SIGKILLed worker comes back and grades; a submission that kills
its worker every time ends `failed` after the run cap while the queue keeps moving."""
from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import time

import pytest

from tests.conftest import require
from tests.fault_worker import HANG, POISON
from tests.integration.test_spine import reference_script
from tests.redis_server import own_redis  # noqa: F401  (fixture)
from tests.up_stack import start_up

pytestmark = [pytest.mark.integration, pytest.mark.bwrap, pytest.mark.redis]

RECOVERY_S = 30.0
GRADING_S = 90.0


def results_per_submission(var_dir) -> dict[int, int]:
    with sqlite3.connect(var_dir / "gradeflow.db") as db:
        return dict(db.execute("SELECT submission_id, count(*) FROM grading_results GROUP BY submission_id"))


def _parent(pid: int) -> int:
    with open(f"/proc/{pid}/status") as fh:
        return int(next(line for line in fh if line.startswith("PPid:")).split()[1])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as fh:
        return fh.read().rsplit(")", 1)[1].split()[0] != "Z"


def test_a_sigkilled_worker_is_restarted_and_grades_what_comes_after(tmp_path, own_redis):  # noqa: F811
    require(shutil.which("bwrap") is not None, "bubblewrap is not installed")
    stack = start_up(tmp_path / "up", redis_url=own_redis.url, workers=1)
    try:
        dead = stack.pid("worker-1")
        os.killpg(dead, signal.SIGKILL)  # the worker's whole group: Celery main and pool process
        killed = time.monotonic()
        r = stack.submit("solution.py", reference_script())  # made after the kill: only a new worker can grade it
        assert r.status_code == 202, r.text
        stack.wait_ready("worker-1", times=2, timeout=RECOVERY_S)  # a new worker is taking work within 30 s
        recovered = time.monotonic() - killed
        body = stack.wait(r.json()["id"], username="ta1", timeout=GRADING_S)  # plus the run itself (slow when busy)
        assert body["status"] == "graded" and body["score"] == 10
        assert (body["attempt"], body["runs"]) == (1, 1)
        new = stack.pid("worker-1")
        assert new not in (None, dead) and stack.programs()["worker-1"]["restarts"] == 1
        assert _parent(int(body["worker"].rsplit(":", 1)[1])) == new  # graded in the new worker's pool process
        assert f"worker-1 (pid {dead}) killed by SIGKILL" in stack.supervisor_log()
        assert results_per_submission(stack.var_dir) == {body["id"]: 1}
        print(f"worker SIGKILLed; a new one ready {recovered:.1f} s later, its first submission graded "
              f"{time.monotonic() - killed:.1f} s after the kill")
    finally:
        stack.stop()
    children = [stack.pid(name) for name in ("api", "worker-1")]
    assert stack.api.returncode == 0 and children == [None, None]  # SIGTERM stopped everything it started
    assert not _alive(new)


def test_a_submission_that_kills_its_worker_fails_after_the_run_cap_and_the_queue_moves_on(tmp_path,
                                                                                          own_redis):  # noqa: F811
    require(shutil.which("bwrap") is not None, "bubblewrap is not installed")
    stack = start_up(tmp_path / "up", redis_url=own_redis.url, workers=2, faulty=True)
    try:
        poison = stack.submit("poison.py", reference_script() + b"\n" + POISON + b"\n")
        assert poison.status_code == 202, poison.text
        others = [stack.submit(f"ok{i}.py", reference_script(), username=user).json()["id"]
                  for i, user in enumerate(["student2", "student1", "student2"])]
        bodies = [stack.wait(sid, username="ta1", timeout=120) for sid in others]
        assert [(b["status"], b["score"], b["runs"]) for b in bodies] == [("graded", 10, 1)] * 3
        failed = stack.wait(poison.json()["id"], username="ta1", timeout=120)
        assert failed["status"] == "failed" and failed["runs"] == 3  # ApiSettings.max_runs
        assert "stopped sending heartbeats" in failed["error"] and "gave up after 3 runs" in failed["error"]
        assert failed["score"] is None
        assert results_per_submission(stack.var_dir) == {sid: 1 for sid in others}
        assert stack.supervisor_log().count("killed by SIGKILL") >= 3  # each run took a worker down
        after = stack.submit("after.py", reference_script()).json()["id"]  # both workers are back
        assert stack.wait(after, username="ta1", timeout=GRADING_S)["status"] == "graded"
    finally:
        stack.stop()


def test_a_hung_harness_is_given_up_by_the_watchdog_and_graded_once_by_a_fresh_process(tmp_path,
                                                                                      own_redis):  # noqa: F811
    """Heartbeats prove life, not progress: past the job's time limit plus the watchdog's margin the beats stop
    (the sweeper takes the attempt back), and Celery replaces the stuck pool process past the hard limit."""
    require(shutil.which("bwrap") is not None, "bubblewrap is not installed")
    env = {"GRADEFLOW_CAP_TIME_LIMIT_S": "8", "GRADEFLOW_WATCHDOG_MARGIN_S": "2", "GRADEFLOW_API_RETRY_S": "3"}
    stack = start_up(tmp_path / "up", redis_url=own_redis.url, workers=1, faulty=True, extra_env=env)
    try:
        hung = stack.submit("hang.py", reference_script() + b"\n" + HANG + b"\n")
        assert hung.status_code == 202, hung.text
        began = time.monotonic()
        body = stack.wait(hung.json()["id"], username="ta1", timeout=90)
        recovered = time.monotonic() - began
        assert body["status"] == "graded" and body["score"] == 10
        assert (body["attempt"], body["runs"]) == (2, 2)
        assert "stopped sending heartbeats" in (body["error"] or "")
        assert results_per_submission(stack.var_dir) == {body["id"]: 1}
        assert "watchdog: this attempt has run" in stack.worker_log("worker-1").read_text(errors="replace")
        assert stack.programs()["worker-1"]["restarts"] == 0  # the pool process was replaced, not the worker
        print(f"hung harness: graded by attempt 2 {recovered:.1f} s after the upload")
    finally:
        stack.stop()
