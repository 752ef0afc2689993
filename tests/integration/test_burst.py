"""Deadline night against a real API process: 100 uploads at once, each graded result posted while the other
uploads are still arriving, students polling meanwhile, on SQLite and on PostgreSQL.

The results are posted the way a worker posts them (claim, then result, with the attempt's token, which the
test signs with the stack's secret) rather than by real sandboxed runs, so the burst is the API's and the
database's alone, and a run takes seconds. Clients behave as the real ones do: a 503 carries Retry-After
and is tried again after it (nothing is stored when the API sheds or the database cannot serve).
"""
from __future__ import annotations

import shutil
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor, as_completed

import httpx
import pytest

from gradeflow_core.security import make_attempt_token
from gradeflow_protocol.messages import CheckResult, ResultPost, RunReport
from tests.conftest import require
from tests.stack import start_stack

pytestmark = [pytest.mark.integration, pytest.mark.redis]
UPLOADS = 100
STUDENTS = ("student1", "student2")


class Recorder:
    """Every answer the API gave, and whether each 503 said when to come back."""

    def __init__(self) -> None:
        self.codes: Counter[int] = Counter()
        self.bare_503 = 0
        self.lock = threading.Lock()

    def send(self, client: httpx.Client, method: str, url: str, **kwargs) -> httpx.Response:
        for _ in range(30):
            r = client.request(method, url, **kwargs)
            with self.lock:
                self.codes[r.status_code] += 1
                self.bare_503 += r.status_code == 503 and "retry-after" not in r.headers
            if r.status_code != 503:
                return r
            time.sleep(min(float(r.headers.get("retry-after", "1")), 2.0))
        raise AssertionError(f"{method} {url}: still 503 after 30 tries")


def _post_result(recorder: Recorder, client: httpx.Client, submission_id: int, secret: str) -> None:
    """What a worker does for an attempt: claim it, then post its result."""
    worker = {"Authorization": f"Bearer {make_attempt_token(submission_id=submission_id, attempt=1, secret=secret)}"}
    r = recorder.send(client, "POST", "/api/v1/worker/claim", json={"worker": "burst@test"}, headers=worker)
    assert r.status_code == 200, r.text
    post = ResultPost(submission_id=submission_id, attempt=1, run=RunReport(outcome="completed", wall_seconds=0.1),
                      checks=[CheckResult(name="theta method", score=10, max_score=10, passed=True)])
    r = recorder.send(client, "POST", "/api/v1/worker/result", json=post.model_dump(mode="json"), headers=worker)
    assert r.status_code == 200 and r.json()["stored"] is True, r.text


def test_a_burst_of_uploads_and_results_is_stored_once_and_graded(tmp_path, redis_url, database_url):
    require(shutil.which("redis-server") is not None, "redis-server is not installed")
    stack = start_stack(tmp_path, redis_url=redis_url.rsplit("/", 1)[0] + "/5", database_url=database_url, workers=0,
                        extra_env={"GRADEFLOW_HEARTBEAT_TIMEOUT_S": "300"})  # the sweeper leaves claimed rows be
    try:
        secret = stack.env["GRADEFLOW_SECRET_KEY"]
        headers = {name: stack.headers(name) for name in STUDENTS}
        url = f"/api/v1/assignments/{stack.assignment_id()}/submissions"
        recorder = Recorder()
        limits = httpx.Limits(max_connections=UPLOADS * 2, max_keepalive_connections=UPLOADS * 2)
        with httpx.Client(base_url=stack.base_url, timeout=30, limits=limits) as client, \
                ThreadPoolExecutor(max_workers=UPLOADS) as pool:
            barrier = threading.Barrier(UPLOADS)

            def upload(n: int) -> tuple[str, int]:
                student = STUDENTS[n % 2]
                barrier.wait()  # all at once
                r = recorder.send(client, "POST", url, headers=headers[student],
                                  files={"file": (f"burst-{n:03d}.py", f"answer = {n}\n".encode())})
                assert r.status_code == 202, r.text
                return student, r.json()["id"]

            started = time.monotonic()
            uploads = [pool.submit(upload, n) for n in range(UPLOADS)]
            results, owners = [], {}
            for done in as_completed(uploads):  # each result is posted while later uploads still arrive
                student, sid = done.result()
                owners[sid] = student
                results.append(pool.submit(_post_result, recorder, client, sid, secret))
                results.append(pool.submit(recorder.send, client, "GET", f"/api/v1/submissions/{sid}",
                                           headers=headers[student]))  # the student watching it
            for done in results:
                done.result()
            elapsed = time.monotonic() - started

            assert len(owners) == UPLOADS
            assert not [code for code in recorder.codes if code >= 500 and code != 503], recorder.codes
            assert recorder.bare_503 == 0
            for student in STUDENTS:  # every upload stored exactly once, graded with the posted score
                mine = recorder.send(client, "GET", "/api/v1/submissions", headers=headers[student]).json()
                names = Counter(s["filename"] for s in mine)
                assert len(mine) == UPLOADS // 2 and set(names.values()) == {1}, names
                assert {s["id"] for s in mine} == {sid for sid, who in owners.items() if who == student}
                assert {(s["status"], s["score"]) for s in mine} == {("graded", 10.0)}
        assert elapsed < 120, f"the burst took {elapsed:.0f} s"
        print(f"burst of {UPLOADS} uploads + results: {elapsed:.1f} s; answers {dict(recorder.codes)}")
    finally:
        stack.stop()
    log = (tmp_path / "api.log").read_text(errors="replace")
    assert "database is locked" not in log and "QueuePool limit" not in log
