"""What the worker does when the API goes away, around a fake client (no API, no sandbox, no broker)."""
from __future__ import annotations

import hashlib
import threading

import pytest
from celery import Celery
from celery.exceptions import Reject

from gradeflow_protocol.messages import GradeTask, JobSpec, Limits, ResultPost, RunReport
from gradeflow_worker import service, tasks
from gradeflow_worker.client import ApiUnavailable, Refused
from gradeflow_worker.settings import WorkerSettings

TASK = GradeTask(submission_id=3, attempt=1, token="t" * 32)
FILE = b"answer = 42\n"
JOB = JobSpec(submission_id=3, attempt=1, kind="script", filename="a.py",
              submission_sha256=hashlib.sha256(FILE).hexdigest(),
              bundle_sha256="b" * 64, assignment_slug="toy", limits=Limits(), seed=1)
RESULT = ResultPost(submission_id=3, attempt=1, checks=[], run=RunReport(outcome="completed", wall_seconds=1.0))


class FakeClient:
    """Answers like the API; `post_result` fails as scripted."""

    def __init__(self, *, claim_error: Exception | None = None, post_error: Exception | None = None) -> None:
        self.claim_error, self.post_error = claim_error, post_error
        self.calls: list[str] = []
        self.beats_during_post = 0
        self.posting = threading.Event()

    def claim(self, worker):
        self.calls.append("claim")
        if self.claim_error:
            raise self.claim_error
        return JOB

    def submission_file(self):
        return FILE

    def bundle(self):
        return b""

    def heartbeat(self, progress, *, budget_s=None):
        if self.posting.is_set():
            self.beats_during_post += 1
        return True

    def post_result(self, result):
        self.calls.append("post")
        self.posting.set()
        threading.Event().wait(0.3)  # the post takes a while (retrying); the beats go on
        if self.post_error:
            raise self.post_error
        return True

    def release(self, error):
        self.calls.append("release")
        raise ApiUnavailable("still down")

    def close(self):
        self.calls.append("close")


@pytest.fixture
def settings(tmp_path, monkeypatch):
    monkeypatch.setattr(service, "unpack", lambda data, where: where)
    monkeypatch.setattr(service, "make_sandbox", lambda settings: None)
    monkeypatch.setattr(service, "grade", lambda job, **kwargs: RESULT)
    return WorkerSettings(var_dir=tmp_path, heartbeat_interval_s=0.05, sandbox_backend="process")


def use(monkeypatch, client: FakeClient) -> FakeClient:
    monkeypatch.setattr(service, "ApiClient", lambda *args, **kwargs: client)
    return client


def test_the_result_is_posted_while_the_heartbeat_keeps_the_attempt(settings, monkeypatch):
    client = use(monkeypatch, FakeClient())
    assert service.run_task(TASK, settings).endswith("(stored)")
    assert client.calls == ["claim", "post", "close"] and client.beats_during_post >= 2


def test_an_api_that_stays_away_past_the_budget_leaves_the_attempt_to_the_sweeper(settings, monkeypatch):
    client = use(monkeypatch, FakeClient(post_error=ApiUnavailable("/result: ConnectError")))
    assert service.run_task(TASK, settings).startswith("abandoned")
    assert "release" not in client.calls  # releasing needs the API too


def test_a_claim_that_cannot_reach_the_api_raises_and_a_refusal_is_a_skip(settings, monkeypatch):
    use(monkeypatch, FakeClient(claim_error=ApiUnavailable("/claim: ConnectError")))
    with pytest.raises(ApiUnavailable):
        service.run_task(TASK, settings)
    use(monkeypatch, FakeClient(claim_error=Refused("already graded")))
    assert service.run_task(TASK, settings) == "skipped: already graded"


def test_a_harness_error_releases_and_a_failed_release_is_not_fatal(settings, monkeypatch):
    def broken(job, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(service, "grade", broken)
    client = use(monkeypatch, FakeClient())
    assert service.run_task(TASK, settings) == "failed; not released"
    assert client.calls == ["claim", "release", "close"]


def test_the_celery_edge_puts_an_unclaimed_message_back(settings, monkeypatch):
    def unreachable(task, settings):
        raise ApiUnavailable("/claim: ConnectError")

    monkeypatch.setattr(tasks, "run_task", unreachable)
    app = Celery("test", set_as_current=False)
    tasks.register_tasks(app, settings)
    with pytest.raises(Reject) as caught:
        app.tasks[tasks.TASK_NAME].run(TASK.model_dump())
    assert caught.value.requeue is True


def test_heartbeats_stop_past_the_watchdog_so_a_hung_harness_is_taken_back():
    class Client:
        def __init__(self):
            self.beats = 0

        def heartbeat(self, progress, budget_s):
            self.beats += 1

    client = Client()
    with service.Heartbeat(client, 0.01, watchdog_s=0.1) as beat:
        beat.thread.join(2)  # the loop ends by itself once past the watchdog
        assert not beat.thread.is_alive()
    assert 3 <= client.beats <= 11  # it beat while within the limit, then stopped


def test_celery_kills_a_task_past_the_longest_allowed_run():
    from gradeflow_worker.celery_app import make_celery

    settings = WorkerSettings(cap_time_limit_s=600, watchdog_margin_s=30, api_retry_s=15)
    assert make_celery(settings).conf.task_time_limit == 645
