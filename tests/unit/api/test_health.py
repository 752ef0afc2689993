"""/healthz (liveness) always answers; /readyz (readiness) says which dependency is not answering."""
from __future__ import annotations

import threading

import pytest

from gradeflow_api import health
from gradeflow_core.db import make_engine
from tests.unit.api.test_metrics import make_client


def test_liveness_answers_while_dependencies_are_down(tmp_path):
    client, _ = make_client(tmp_path)
    assert client.get("/healthz").json() == {"ok": True}


def test_database_down_is_503_naming_it(tmp_path):
    client, _ = make_client(tmp_path)
    client.app.state.engine = make_engine(f"sqlite:///{tmp_path}/no/such/dir/gradeflow.db")
    r = client.get("/readyz")
    assert r.status_code == 503
    assert r.json() == {"ready": False, "checks": {"database": "failed", "redis": "failed"}}


def test_redis_down_alone_is_503_naming_it(tmp_path):
    client, _ = make_client(tmp_path)  # its Redis URL points at a closed port
    r = client.get("/readyz")
    assert r.status_code == 503 and r.json()["checks"] == {"database": "ok", "redis": "failed"}


def test_a_hung_database_times_out_within_the_budget(tmp_path, monkeypatch):
    client, _ = make_client(tmp_path, readiness_timeout_s=0.2)
    release = threading.Event()
    monkeypatch.setattr(health, "check_database", lambda engine: release.wait(5))
    try:
        r = client.get("/readyz")
    finally:
        release.set()
    assert r.status_code == 503 and r.json()["checks"]["database"] == "timed out"


@pytest.mark.redis
def test_ready_when_both_answer(tmp_path, redis_url):
    client, _ = make_client(tmp_path, redis_url=redis_url)
    r = client.get("/readyz")
    assert r.status_code == 200 and r.json() == {"ready": True, "checks": {"database": "ok", "redis": "ok"}}
