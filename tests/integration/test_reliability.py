"""A worker can die at any moment: no submission is lost or graded twice."""
from __future__ import annotations

import os
import signal
import time

import pytest

from tests.conftest import require
from tests.integration.test_spine import reference_script
from tests.stack import start_stack

pytestmark = [pytest.mark.integration, pytest.mark.bwrap, pytest.mark.redis]


@pytest.fixture
def own_stack(tmp_path, redis_url):
    import shutil

    require(shutil.which("bwrap") is not None, "bubblewrap is not installed")
    db = redis_url.rsplit("/", 1)[0] + "/3"  # a separate Redis database: this test kills workers
    stack = start_stack(tmp_path, redis_url=db)
    yield stack
    stack.stop()


def wait_status(stack, sid, status, timeout=60):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        body = stack.get(sid, username="ta1").json()
        if body["status"] == status:
            return body
        time.sleep(0.1)
    raise TimeoutError(f"{sid} never reached {status}: {body}")


def test_killing_the_worker_mid_run_regrades_once_on_another_worker(own_stack):
    slow = b"import time\ntime.sleep(4)\n" + reference_script()
    sid = own_stack.submit("slow.py", slow).json()["id"]
    running = wait_status(own_stack, sid, "running")
    assert running["attempt"] == 1 and running["runs"] == 1
    dead = own_stack.workers[0]
    os.killpg(dead.pid, signal.SIGKILL)  # the whole worker: main process and pool child
    dead.wait(10)
    own_stack.start_worker("w2")
    body = own_stack.wait(sid, username="ta1", timeout=90)
    assert body["status"] == "graded" and body["score"] == 10
    assert body["attempt"] == 2 and body["runs"] == 2
    assert "heartbeats" in (body["error"] or "")
    # the first attempt's message may come back later: it is refused, nothing changes
    time.sleep(2)
    again = own_stack.get(sid, username="ta1").json()
    assert again["graded_at"] == body["graded_at"] and again["score"] == 10


def test_redis_down_at_upload_keeps_the_submission_and_it_is_graded_later(tmp_path, redis_url):
    """The upload is stored before it is queued; the sweeper re-sends what the broker never got."""
    import shutil
    import subprocess

    from tests.conftest import free_port, wait_port

    require(shutil.which("bwrap") is not None, "bubblewrap is not installed")
    port = free_port()
    redis_bin = shutil.which("redis-server")
    stack = start_stack(tmp_path, redis_url=f"redis://127.0.0.1:{port}/0", workers=0,
                        extra_env={"GRADEFLOW_QUEUED_TIMEOUT_S": "3"})
    try:
        r = stack.submit("solution.py", reference_script())
        assert r.status_code == 202
        sid = r.json()["id"]
        redis = subprocess.Popen([redis_bin, "--port", str(port), "--save", "", "--dir", str(tmp_path)],
                                 stdout=subprocess.DEVNULL)
        wait_port(port)
        stack.start_worker("late")
        body = stack.wait(sid, timeout=60)
        assert body["status"] == "graded" and body["score"] == 10
    finally:
        stack.stop()
        redis.terminate()
