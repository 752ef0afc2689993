"""What the broker holds: the Redis lists of a queue and their depths (sending is gradeflow_core.grading)."""
from __future__ import annotations

from collections.abc import Iterable

from gradeflow_protocol.queues import PRIORITY_STEPS


def priority_lists(queue: str) -> list[str]:
    """The Redis lists kombu keeps for one queue: the queue's own name (priority 0), then one per other step."""
    from kombu.transport.redis import Channel

    return [queue] + [f"{queue}{Channel.sep}{step}" for step in PRIORITY_STEPS if step]


def broker_depths(redis_url: str, queues: Iterable[str]) -> dict[str, int | None]:
    """Messages waiting in Redis per queue (None when the broker cannot be reached quickly)."""
    import redis

    names = sorted(set(queues))
    try:
        client = redis.Redis.from_url(redis_url, socket_connect_timeout=0.5, socket_timeout=0.5)
        try:
            return {name: sum(int(client.llen(key)) for key in priority_lists(name)) for name in names}
        finally:
            client.close()
    except (redis.RedisError, OSError, ValueError):
        return {name: None for name in names}
