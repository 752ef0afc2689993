"""Send grading tasks for rows just created, after they are committed (the sweeper re-sends any that fail)."""
from __future__ import annotations

import logging
from collections.abc import Iterable

from sqlalchemy.orm import Session

from gradeflow_core.grading import Enqueuer, send
from gradeflow_core.models import Submission
from gradeflow_api.settings import ApiSettings

log = logging.getLogger(__name__)


def commit_and_send(session: Session, enqueuer: Enqueuer, settings: ApiSettings,
                    submissions: Iterable[Submission]) -> None:
    """Commit, then enqueue each submission's current attempt on its queue, at its purpose's priority."""
    session.commit()
    for submission in submissions:
        try:
            send(enqueuer, submission, secret=settings.secret_key)
        except Exception:  # stored as queued: the sweeper sends it again
            log.exception("could not reach the broker for submission %s", submission.id)


def priority_lists(queue: str) -> list[str]:
    """The Redis lists kombu keeps for one queue: the queue's own name (priority 0), then one per other step."""
    from kombu.transport.redis import PRIORITY_STEPS, Channel

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
