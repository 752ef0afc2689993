"""The queue depth the staff see counts every priority list kombu keeps for a queue (a real Redis)."""
from __future__ import annotations

import pytest
import redis

from gradeflow_api.dispatch import broker_depths, priority_lists
from gradeflow_api.queue import CeleryEnqueuer
from gradeflow_protocol.messages import GradeTask
from gradeflow_api.settings import ApiSettings

pytestmark = pytest.mark.redis


def test_depth_counts_messages_at_every_priority(redis_url):
    url = redis_url.rsplit("/", 1)[0] + "/9"
    enqueuer = CeleryEnqueuer(ApiSettings(redis_url=url))
    for number, priority in enumerate([0, 1, 3, 6, 6]):
        enqueuer.enqueue(GradeTask(submission_id=number + 1, attempt=1, token="t" * 20), queue="depth-test",
                         priority=priority)
    assert broker_depths(url, ["depth-test", "empty"]) == {"depth-test": 5, "empty": 0}
    client = redis.Redis.from_url(url)
    assert [client.llen(key) for key in priority_lists("depth-test")] == [1, 1, 0, 1, 2, 0]  # kombu's own list names
    client.flushdb()
    client.close()
