"""/metrics: the latency histogram by route template, the queue gauges, run outcomes, and the token."""
from __future__ import annotations

import pytest
import redis
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from gradeflow_api.dispatch import priority_lists
from gradeflow_api.main import create_app
from gradeflow_api.metrics_state import QueueStateCollector
from gradeflow_api.queue import ListEnqueuer
from gradeflow_api.settings import ApiSettings
from gradeflow_core.migrate import upgrade
from gradeflow_protocol.messages import CheckResult, ResultPost, RunReport
from tests.db_helpers import make_course
from tests.unit.api.test_api import SECRET, login

NO_REDIS = "redis://127.0.0.1:1/0"


def make_client(tmp_path, **overrides) -> tuple[TestClient, ListEnqueuer]:
    settings = ApiSettings(**{"var_dir": tmp_path / "var", "secret_key": SECRET, "redis_url": NO_REDIS,
                              "metrics_cache_s": 0, **overrides})
    settings.var_dir.mkdir()
    upgrade(settings.effective_database_url)
    queue = ListEnqueuer()
    app = create_app(settings, enqueuer=queue, sweeper=False)
    with app.state.session_factory() as session:
        make_course(session, app.state.blobs, tmp_path / "toy")
        session.commit()
    return TestClient(app), queue


def samples(client: TestClient, headers: dict | None = None) -> dict[tuple[str, frozenset], float]:
    r = client.get("/metrics", headers=headers or {})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(r.text) for s in family.samples}


def value(found: dict, name: str, **labels: str) -> float | None:
    return found.get((name, frozenset(labels.items())))


def _upload(client, headers) -> int:
    r = client.post("/api/v1/assignments/1/submissions", headers=headers, files={"file": ("a.py", b"answer = 42\n")})
    assert r.status_code == 202, r.text
    return r.json()["id"]


def test_a_request_shows_in_the_latency_histogram_by_route_template(tmp_path):
    client, _ = make_client(tmp_path)
    alice = login(client, "alice")
    sid = _upload(client, alice)
    client.get(f"/api/v1/submissions/{sid}", headers=alice)
    client.get("/no/such/page/12345")
    found = samples(client)
    route = "/api/v1/submissions/{submission_id}"
    assert value(found, "gradeflow_http_request_duration_seconds_count", route=route, method="GET") == 1
    assert value(found, "gradeflow_http_request_duration_seconds_bucket", route=route, method="GET", le="+Inf") == 1
    assert value(found, "gradeflow_http_request_duration_seconds_count", route="<unmatched>", method="GET") == 1
    assert not any(f"/submissions/{sid}" in dict(labels).get("route", "") for _, labels in found)  # templates only


def test_queue_gauges_come_from_the_database_and_say_when_redis_is_down(tmp_path):
    client, _ = make_client(tmp_path)
    _upload(client, login(client, "alice"))
    found = samples(client)
    assert value(found, "gradeflow_submissions", queue="cpu", status="queued") == 1
    assert value(found, "gradeflow_submissions", queue="cpu", status="running") == 0
    assert value(found, "gradeflow_submissions", queue="gpu", status="queued") == 0
    assert value(found, "gradeflow_oldest_queued_seconds", queue="cpu") >= 0
    assert value(found, "gradeflow_metrics_database_up") == 1
    assert value(found, "gradeflow_metrics_broker_up") == 0


def test_a_stored_result_counts_its_outcome_and_wall_seconds_once(tmp_path):
    client, queue = make_client(tmp_path)
    sid = _upload(client, login(client, "alice"))
    worker = {"Authorization": f"Bearer {queue.sent[0][0].token}"}
    assert client.post("/api/v1/worker/claim", json={"worker": "w"}, headers=worker).status_code == 200
    post = ResultPost(submission_id=sid, attempt=1, checks=[CheckResult(name="x", score=1, max_score=1, passed=True)],
                      run=RunReport(outcome="timeout", wall_seconds=7.5)).model_dump(mode="json")
    for _ in range(2):  # the duplicate changes nothing
        client.post("/api/v1/worker/result", json=post, headers=worker)
    found = samples(client)
    assert value(found, "gradeflow_runs_total", outcome="timeout") == 1
    assert value(found, "gradeflow_runs_total", outcome="completed") == 0
    assert value(found, "gradeflow_grading_seconds_sum", queue="cpu", outcome="timeout") == 7.5
    assert value(found, "gradeflow_grading_seconds_bucket", queue="cpu", outcome="timeout", le="5.0") == 0


@pytest.mark.redis
def test_broker_depth_per_queue_and_priority(tmp_path, redis_url):
    url = redis_url.rsplit("/", 1)[0] + "/8"
    client, _ = make_client(tmp_path)
    broker = redis.Redis.from_url(url)
    broker.rpush("cpu", b"a", b"b")
    broker.rpush(priority_lists("gpu")[3], b"c")  # kombu's list for priority 3 (steps 0, 1, 2, 3, ...)
    collector = QueueStateCollector(session_factory=client.app.state.session_factory, redis_url=url, ttl_s=0)
    families = {f.name: f for f in collector.collect()}
    depth = {tuple(s.labels.values()): s.value for s in families["gradeflow_broker_messages"].samples}
    assert depth[("cpu", "0")] == 2 and depth[("gpu", "3")] == 1 and depth[("cpu", "6")] == 0
    assert families["gradeflow_metrics_broker_up"].samples[0].value == 1
    broker.flushdb()
    broker.close()


def test_the_gauges_are_cached_for_ttl_seconds(tmp_path):
    client, _ = make_client(tmp_path)
    now = [100.0]
    collector = QueueStateCollector(session_factory=client.app.state.session_factory, redis_url=NO_REDIS, ttl_s=5,
                                    clock=lambda: now[0])
    reads = []
    original = collector._read
    collector._read = lambda: reads.append(1) or original()
    list(collector.collect()), list(collector.collect())
    now[0] += 5
    list(collector.collect())
    assert len(reads) == 2


def test_the_token_is_required_when_set(tmp_path):
    client, _ = make_client(tmp_path, metrics_token="scrape-me")
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert value(samples(client, {"Authorization": "Bearer scrape-me"}), "gradeflow_metrics_database_up") == 1


def test_production_without_a_token_serves_no_metrics(tmp_path):
    client, _ = make_client(tmp_path, mode="production")
    assert client.get("/metrics").status_code == 403
    assert "/metrics" not in client.get("/openapi.json").json()["paths"]
