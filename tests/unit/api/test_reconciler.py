"""The sweeper's look at a real Redis: the marker, the depth of every priority list, a pass over the database."""
from __future__ import annotations

import time

import pytest
import redis

from gradeflow_api.queue import CeleryEnqueuer
from gradeflow_api.reconciler import MARKER_KEY, BrokerReconciler
from gradeflow_api.settings import ApiSettings
from gradeflow_core.blobs import MemoryBlobStore
from gradeflow_core.db import make_engine, make_session_factory
from gradeflow_core.migrate import upgrade
from gradeflow_core.models import utcnow
from gradeflow_core.reconcile import LossReason
from gradeflow_protocol.messages import GradeTask
from tests.db_helpers import add_submission, make_course

pytestmark = pytest.mark.redis


@pytest.fixture
def broker_url(redis_url):
    url = redis_url.rsplit("/", 1)[0] + "/11"
    client = redis.Redis.from_url(url)
    client.flushdb()
    yield url
    client.flushdb()
    client.close()


def test_the_look_counts_every_priority_list_and_sees_the_marker(broker_url):
    enqueuer = CeleryEnqueuer(ApiSettings(redis_url=broker_url))
    for number, priority in enumerate([0, 1, 2, 6]):
        enqueuer.enqueue(GradeTask(submission_id=number + 1, attempt=1, token="t" * 20), queue="cpu", priority=priority)
    reconciler = BrokerReconciler(ApiSettings(redis_url=broker_url))
    seen = reconciler.look(["cpu", "gpu"])
    assert seen.depths == {"cpu": 4, "gpu": 0} and seen.marker_present is False
    assert seen.started_at <= utcnow()
    redis.Redis.from_url(broker_url).set(MARKER_KEY, "x")
    assert reconciler.look(["cpu"]).marker_present is True
    reconciler.close()


def test_an_unreachable_broker_is_no_verdict():
    reconciler = BrokerReconciler(ApiSettings(redis_url="redis://127.0.0.1:1/0"))
    assert reconciler.look(["cpu"]) is None
    reconciler.close()


def test_a_pass_over_an_empty_broker_resends_the_queued_rows_then_leaves_the_marker(broker_url, sqlite_url, tmp_path):
    upgrade(sqlite_url)
    while redis.Redis.from_url(broker_url).info("server")["uptime_in_seconds"] < 2:  # rows come after its start
        time.sleep(0.2)
    engine = make_engine(sqlite_url)
    session = make_session_factory(engine)()
    world = make_course(session, MemoryBlobStore(), tmp_path / "toy")
    rows = [add_submission(session, user=world["alice"], version=world["version"]) for _ in range(3)]
    session.commit()
    reconciler = BrokerReconciler(ApiSettings(redis_url=broker_url))
    # a broker without the marker, never seen by this process: rows queued since it started are left alone
    assert reconciler.lost(session) == []
    reconciler.settle(all_sent=True)
    assert redis.Redis.from_url(broker_url).exists(MARKER_KEY)
    redis.Redis.from_url(broker_url).delete(MARKER_KEY)  # flushed while this process watches: everything is lost
    assert reconciler.lost(session) == rows
    session.commit()
    assert [(r.attempt, r.error) for r in rows] == [(2, LossReason.BROKER_RESET.value)] * 3
    reconciler.settle(all_sent=True)
    assert redis.Redis.from_url(broker_url).exists(MARKER_KEY)
    assert reconciler.lost(session) == []  # the marker is there; the empty queue waits out its grace period
    reconciler.close()
    session.close()
    engine.dispose()
