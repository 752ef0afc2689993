"""The worker's client against the real API app (in process): both sides speak the protocol's models and paths."""
from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from gradeflow_api.main import create_app
from gradeflow_api.queue import ListEnqueuer
from gradeflow_api.settings import ApiSettings
from gradeflow_core.migrate import upgrade
from gradeflow_protocol import messages
from gradeflow_protocol.messages import CheckResult, ResultPost, RunReport
from gradeflow_protocol.paths import WorkerPath
from gradeflow_worker.client import ApiClient, Refused, RetryPolicy
from tests.db_helpers import make_course

SECRET = "unit-test-secret-0123456789abcdef"


@pytest.fixture
def api(tmp_path):
    settings = ApiSettings(var_dir=tmp_path / "var", secret_key=SECRET)
    settings.var_dir.mkdir()
    upgrade(settings.effective_database_url)
    queue = ListEnqueuer()
    app = create_app(settings, enqueuer=queue, sweeper=False)
    with app.state.session_factory() as session:
        make_course(session, app.state.blobs, tmp_path / "toy")
        session.commit()
    with TestClient(app) as client:
        yield app, client, queue


def worker_client(http: TestClient, task) -> ApiClient:
    # TestClient is an httpx.Client; its transport calls the ASGI app directly
    return ApiClient(str(http.base_url), task, transport=http._transport, retry=RetryPolicy(budget_s=0))


def submit(http: TestClient, queue: ListEnqueuer):
    token = http.post("/api/v1/auth/token", data={"username": "alice", "password": "pw-alice"}).json()["access_token"]
    r = http.post("/api/v1/assignments/1/submissions", headers={"Authorization": f"Bearer {token}"},
                  files={"file": ("a.py", b"answer=42")})
    assert r.status_code == 202, r.text
    return queue.sent[-1][0]


def test_the_api_mounts_exactly_the_protocols_worker_paths_with_protocol_models(api):
    _, http, _ = api
    paths = {p: ops for p, ops in http.get("/openapi.json").json()["paths"].items() if p.startswith("/api/v1/worker")}
    assert set(paths) == {p.url for p in WorkerPath}
    models = {WorkerPath.CLAIM: ("ClaimBody", "JobSpec"), WorkerPath.HEARTBEAT: ("HeartbeatBody", "HeartbeatReply"),
              WorkerPath.RESULT: ("ResultPost", "ResultReply"), WorkerPath.RELEASE: ("ReleaseBody", "ReleaseReply")}
    for path, (body, reply) in models.items():
        op = paths[path.url]["post"]
        assert op["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(f"/{body}")
        assert op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(f"/{reply}")
        assert hasattr(messages, body) and hasattr(messages, reply)
    assert paths[WorkerPath.CLAIM.url]["post"]["responses"]["409"]["content"]["application/json"]["schema"][
        "$ref"].endswith("/Refusal")


def test_a_whole_attempt_through_the_client(api):
    _, http, queue = api
    task = submit(http, queue)
    client = worker_client(http, task)
    job = client.claim("w@test")
    assert job.submission_id == task.submission_id and job.attempt == 1
    assert client.submission_file() == b"answer=42" and client.bundle()[:2] == b"\x1f\x8b"
    assert client.heartbeat("cell 1 of 1") is True
    post = ResultPost(submission_id=job.submission_id, attempt=1, run=RunReport(outcome="completed", wall_seconds=1),
                      checks=[CheckResult(name="x", score=2, max_score=2, passed=True)])
    assert client.post_result(post) is True
    assert client.post_result(post) is False  # a retried post that had got through changes nothing
    assert client.heartbeat("late") is False
    with pytest.raises(Refused, match="already graded"):
        client.claim("w@test")
    assert client.release("late error") is False


def test_release_and_the_superseded_attempt_is_refused(api):
    _, http, queue = api
    task = submit(http, queue)
    client = worker_client(http, task)
    client.claim("w@test")
    assert client.release("disk full " * 1000) is True  # cut to what the API accepts
    with pytest.raises(Refused, match="superseded"):
        client.submission_file()
    with pytest.raises(Refused, match="superseded"):
        client.claim("w@test")
