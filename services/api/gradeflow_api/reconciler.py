"""The sweeper's look at Redis, for gradeflow_core.reconcile: a marker key, the server's uptime, queue depths.

One round trip per pass (INFO server, GET of the marker, LLEN of each priority list of the queues that have
queued rows), whatever the number of rows: nothing here scans messages.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy.orm import Session

from gradeflow_api.settings import ApiSettings
from gradeflow_core.models import Submission, utcnow
from gradeflow_core.reconcile import BrokerMemory, BrokerView, find_lost, queued_per_queue, resend_lost

log = logging.getLogger(__name__)

MARKER_KEY = "gradeflow:broker-marker"  # lives in the broker's database; gone means the broker lost its data


def queue_lists(queue: str) -> list[str]:
    """Every Redis list kombu may keep for a queue: its own name (priority 0), then one per other priority.
    All ten steps, whichever the producer configured, so a message never hides from the count."""
    from kombu.transport.redis import Channel

    from gradeflow_protocol.queues import PRIORITY_STEPS

    return [queue] + [f"{queue}{Channel.sep}{step}" for step in sorted(set(range(10)) | set(PRIORITY_STEPS)) if step]


class BrokerReconciler:
    """Finds the queued rows the broker lost, once per sweeper pass; `settle` after they were sent."""

    def __init__(self, settings: ApiSettings) -> None:
        import redis

        self.client = redis.Redis.from_url(settings.redis_url, socket_connect_timeout=0.5, socket_timeout=0.5)
        self.grace = timedelta(seconds=settings.lost_message_grace_s)
        self.memory = BrokerMemory()
        self._marker_missing = False

    def look(self, queues: list[str]) -> BrokerView | None:
        """What the broker holds now, or None when it cannot be reached quickly."""
        import redis

        lists = {queue: queue_lists(queue) for queue in queues}
        try:
            pipe = self.client.pipeline(transaction=False)
            pipe.info("server")
            pipe.exists(MARKER_KEY)
            for keys in lists.values():
                for key in keys:
                    pipe.llen(key)
            info, marker, *lengths = pipe.execute()
        except (redis.RedisError, OSError) as exc:
            log.info("broker not reachable for reconciliation: %s", exc)
            return None
        depths, position = {}, 0
        for queue, keys in lists.items():
            depths[queue] = sum(int(n) for n in lengths[position:position + len(keys)])
            position += len(keys)
        started_at = utcnow() - timedelta(seconds=int(info.get("uptime_in_seconds", 0)))
        return BrokerView(marker_present=bool(marker), started_at=started_at, depths=depths)

    def lost(self, session: Session) -> list[Submission]:
        """Rows whose message the broker provably lost, given a new attempt (commit, then send them)."""
        queued = queued_per_queue(session)
        view = self.look(sorted(queued))
        if view is None:
            self._marker_missing = False
            return []
        now = utcnow()
        cutoffs = find_lost(view, self.memory, queued=queued, now=now, grace=self.grace)
        self._marker_missing = not view.marker_present
        rows = resend_lost(session, cutoffs, now=now)
        for queue, cutoff in cutoffs.items():
            count = sum(1 for row in rows if row.queue == queue)
            if count:
                log.warning("queue %s: %s queued submission(s) lost by the broker, sent again (%s)", queue, count,
                            cutoff.reason.name.lower())
        return rows

    def settle(self, *, all_sent: bool) -> None:
        """Leave the marker once what the broker lost was sent again (not before: a failed send is retried)."""
        if not (self._marker_missing and all_sent):
            return
        import redis

        try:
            self.client.set(MARKER_KEY, utcnow().isoformat())
            self.memory.marker_seen_at = utcnow()
            self._marker_missing = False
        except (redis.RedisError, OSError) as exc:
            log.info("could not leave the broker marker: %s", exc)

    def close(self) -> None:
        self.client.close()
