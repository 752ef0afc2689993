"""The API can go away for a few seconds (a restart, a deploy) while workers grade: no result is thrown away, no
message is dropped, nothing is graded twice. Real processes: API, Celery worker, Redis, bubblewrap."""
from __future__ import annotations

import shutil
import signal
import time

import nbformat
import pytest

from tests.conftest import require
from tests.integration.test_spine import ODE, reference_script
from tests.stack import start_stack

pytestmark = [pytest.mark.integration, pytest.mark.bwrap, pytest.mark.redis]
OUTAGE_S = 6.0


def slow_notebook(seconds: float) -> bytes:
    """The reference solution with a first cell that sleeps: long enough to stop the API under it."""
    nb = nbformat.read(ODE / "solution.ipynb", as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell(f"import time\ntime.sleep({seconds})"))
    return nbformat.writes(nb).encode()


def own_stack(tmp_path, redis_url, db: int, *, workers: int = 1, extra_env: dict | None = None):
    require(shutil.which("bwrap") is not None, "bubblewrap is not installed")
    # a Redis database of its own: a message left behind must not reach another test's stack
    return start_stack(tmp_path, redis_url=redis_url.rsplit("/", 1)[0] + f"/{db}", workers=workers,
                       extra_env=extra_env)


def wait_status(stack, sid, status, timeout=60):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        body = stack.get(sid, username="ta1").json()
        if body["status"] == status:
            return body
        time.sleep(0.05)
    raise TimeoutError(f"{sid} never reached {status}: {body}")


def outage(stack, sig: int) -> float:
    """Stop the API, keep it down for OUTAGE_S, start it again on the same port; returns when it listens."""
    stack.stop_api(sig)
    time.sleep(OUTAGE_S)
    stack.restart_api()
    return time.monotonic()


def assert_graded_once(body: dict) -> None:
    assert body["status"] == "graded" and body["score"] == body["max_score"] == 10, body
    assert body["attempt"] == 1 and body["runs"] == 1, body  # graded once, never re-run
    assert not body["error"], body


def test_the_api_down_mid_run_keeps_the_result_and_grades_once(tmp_path, redis_url):
    # the API's default heartbeat timeout (30 s) outlasts the outage, as in production; the stack's 6 s would let
    # the API's first sweep after a restart re-queue the attempt before the worker's next beat arrives
    stack = own_stack(tmp_path, redis_url, 12, extra_env={"GRADEFLOW_HEARTBEAT_TIMEOUT_S": "20"})
    try:
        sid = stack.submit("slow.ipynb", slow_notebook(4)).json()["id"]
        wait_status(stack, sid, "running")
        up = outage(stack, signal.SIGKILL)  # killed as in a crash: no goodbye to in-flight requests
        body = stack.wait(sid, username="ta1", timeout=60)
        recovery = time.monotonic() - up
        assert_graded_once(body)
        log = (tmp_path / "worker-w1.log").read_text(errors="replace")
        assert "API POST /api/v1/worker/" in log and "retry" in log  # the worker did ride out the outage
        assert "graded 10.0/10.0 (stored)" in log
        print(f"\nmid-run outage: graded {recovery:.1f} s after the API came back")
    finally:
        stack.stop()


@pytest.mark.parametrize("retry_s", ["60", "2"], ids=["claim-retries-through", "claim-gives-up-message-redelivered"])
def test_the_api_down_at_claim_time_loses_no_message(tmp_path, redis_url, retry_s):
    """Claims meet a stopped API: they retry; past the budget the message goes back to Redis (not acked)."""
    stack = own_stack(tmp_path, redis_url, 13 if retry_s == "60" else 14, workers=0,
                      extra_env={"GRADEFLOW_API_RETRY_S": retry_s})
    try:
        # an API that has been up for a sweeper pass or two (1 s apart here): its first pass leaves the marker by
        # which a successor tells a restarted API from a flushed Redis (an API killed before any pass leaves
        # none, and the next one rightly sends everything queued again)
        time.sleep(2.5)
        sids = [stack.submit(f"s{n}.py", reference_script()).json()["id"] for n in range(2)]
        stack.stop_api(signal.SIGTERM)  # stopped as in a deploy
        stack.start_worker("w1")  # its first claim finds nobody listening
        time.sleep(OUTAGE_S)
        stack.restart_api()
        up = time.monotonic()
        bodies = [stack.wait(sid, username="ta1", timeout=30) for sid in sids]
        recovery = time.monotonic() - up
        for body in bodies:
            assert_graded_once(body)
        assert recovery < 30
        log = (tmp_path / "worker-w1.log").read_text(errors="replace")
        assert "API POST /api/v1/worker/claim" in log
        if retry_s == "2":
            assert "reject requeue=True" in log  # the claim gave up and put its message back, unacknowledged
        print(f"\nclaim-time outage (retry budget {retry_s} s): all graded {recovery:.1f} s after the API came back")
    finally:
        stack.stop()
