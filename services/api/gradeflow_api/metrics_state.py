"""Gauges read at scrape time: the queue as the database sees it (queued and running submissions per queue) and
as the broker sees it (messages per queue and priority list).

One scrape costs one grouped query over the live rows (the status index; finished submissions are not read)
and one Redis round trip of LLENs; the answer is cached for `ttl_s`, so many scrapers (or API replicas
scraped together) cost the same. Either source failing turns its *_up gauge to 0, never the scrape into an error.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from gradeflow_api.dispatch import priority_lists
from gradeflow_core.models import Submission, utcnow
from gradeflow_protocol.enums import SubmissionStatus
from gradeflow_protocol.queues import PRIORITY_STEPS, QUEUES

log = logging.getLogger(__name__)
LIVE = (SubmissionStatus.QUEUED, SubmissionStatus.RUNNING)
BROKER_TIMEOUT_S = 0.5


def _families() -> dict[str, GaugeMetricFamily]:
    return {
        "submissions": GaugeMetricFamily("gradeflow_submissions", "Submissions queued or running, from the database",
                                         labels=["queue", "status"]),
        "oldest": GaugeMetricFamily("gradeflow_oldest_queued_seconds",
                                    "Age of the oldest queued submission, from the database", labels=["queue"]),
        "database_up": GaugeMetricFamily("gradeflow_metrics_database_up",
                                         "1 when the last scrape could read the database"),
        "depth": GaugeMetricFamily("gradeflow_broker_messages", "Messages waiting in Redis, per queue and priority",
                                   labels=["queue", "priority"]),
        "broker_up": GaugeMetricFamily("gradeflow_metrics_broker_up", "1 when the last scrape could read Redis"),
    }


def _steps() -> list[int]:
    """The priority step of each list `priority_lists` names, in the same order (the queue's own list is 0)."""
    return [0] + [step for step in PRIORITY_STEPS if step]


class QueueStateCollector(Collector):
    """Database- and broker-derived gauges with a short cache (see the module docstring)."""

    def __init__(self, *, session_factory: sessionmaker[Session], redis_url: str, ttl_s: float = 5.0,
                 queues: Iterable[str] = QUEUES, clock: Callable[[], float] = time.monotonic) -> None:
        self.session_factory = session_factory
        self.redis_url = redis_url
        self.ttl_s = ttl_s
        self.queues = tuple(queues)
        self.clock = clock
        self._lock = threading.Lock()
        self._cached: list[Metric] | None = None
        self._read_at = 0.0

    def describe(self) -> Iterator[Metric]:
        """Names only, so registering the collector reads nothing."""
        return iter(_families().values())

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            if self._cached is None or self.clock() - self._read_at >= self.ttl_s:
                self._cached = self._read()
                self._read_at = self.clock()
            return iter(self._cached)

    def _read(self) -> list[Metric]:
        families = _families()
        queues = set(self.queues)
        try:
            counts, oldest = self._from_database()
            families["database_up"].add_metric([], 1)
        except Exception:  # a scrape must still answer while the database is down
            log.warning("metrics: the database could not be read", exc_info=True)
            counts, oldest = {}, {}
            families["database_up"].add_metric([], 0)
        queues |= {queue for queue, _ in counts}
        for queue in sorted(queues):
            for state in LIVE:
                families["submissions"].add_metric([queue, state.value], counts.get((queue, state.value), 0))
        now = utcnow()
        for queue, queued_at in sorted(oldest.items()):
            families["oldest"].add_metric([queue], max(0.0, (now - queued_at).total_seconds()))
        depths = self._from_broker(sorted(queues))
        families["broker_up"].add_metric([], 0 if depths is None else 1)
        for (queue, step), depth in sorted((depths or {}).items()):
            families["depth"].add_metric([queue, str(step)], depth)
        return list(families.values())

    def _from_database(self) -> tuple[dict[tuple[str, str], int], dict[str, object]]:
        with self.session_factory() as session:
            rows = session.execute(select(Submission.queue, Submission.status, func.count(), func.min(Submission.queued_at))
                                   .where(Submission.status.in_(LIVE)).group_by(Submission.queue, Submission.status))
            counts, oldest = {}, {}
            for queue, state, count, first in rows:
                counts[(queue, SubmissionStatus(state).value)] = int(count)
                if state == SubmissionStatus.QUEUED and first is not None:
                    oldest[queue] = first
            return counts, oldest

    def _from_broker(self, queues: list[str]) -> dict[tuple[str, int], int] | None:
        """LLEN of every priority list of every queue in one pipeline; None when Redis does not answer quickly."""
        import redis

        keys = [(queue, step, name) for queue in queues for step, name in zip(_steps(), priority_lists(queue))]
        try:
            client = redis.Redis.from_url(self.redis_url, socket_connect_timeout=BROKER_TIMEOUT_S,
                                          socket_timeout=BROKER_TIMEOUT_S)
            try:
                pipe = client.pipeline(transaction=False)
                for _, _, name in keys:
                    pipe.llen(name)
                lengths = pipe.execute()
            finally:
                client.close()
        except (redis.RedisError, OSError, ValueError):
            return None
        return {(queue, step): int(length) for (queue, step, _), length in zip(keys, lengths)}
