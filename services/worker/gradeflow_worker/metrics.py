"""The worker's Prometheus metrics, named once here: the warm pool of pre-started sandboxes (its size, and how
often a run found a warm sandbox waiting or had to start a cold one).

Celery runs tasks in forked pool processes, so the metrics use prometheus_client's multiprocess mode: every
process writes its values to files under `<var_dir>/metrics`, and the HTTP exporter the main process starts
(only when GRADEFLOW_METRICS_PORT is set) adds them up. Without a port, the metrics live in memory, unread.

Usage, from the pool (later):  metrics = get_worker_metrics(); metrics.warm_pool_hits.inc()
"""
from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass
from functools import lru_cache

from celery.signals import worker_process_shutdown
from prometheus_client import CollectorRegistry, Counter, Gauge, multiprocess, start_http_server, values

from gradeflow_worker.settings import WorkerSettings

log = logging.getLogger(__name__)
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


@dataclass(frozen=True)
class WorkerMetrics:
    warm_pool_size: Gauge  # sandboxes started and waiting for a run, summed over the live pool processes
    warm_pool_hits: Counter  # runs that took a warm sandbox
    warm_pool_misses: Counter  # runs that found none and started one cold


def make_worker_metrics(registry: CollectorRegistry | None = None) -> WorkerMetrics:
    """Fresh metric objects on `registry` (a private one by default; in multiprocess mode the files are the truth)."""
    registry = registry or CollectorRegistry()
    return WorkerMetrics(
        warm_pool_size=Gauge("gradeflow_warm_pool_size", "Warm sandboxes waiting for a run", registry=registry,
                             multiprocess_mode="livesum"),
        warm_pool_hits=Counter("gradeflow_warm_pool_hits", "Runs that took a warm sandbox", registry=registry),
        warm_pool_misses=Counter("gradeflow_warm_pool_misses", "Runs that had to start a sandbox cold",
                                 registry=registry),
    )


@lru_cache
def get_worker_metrics() -> WorkerMetrics:
    """This process's metrics (a forked pool process inherits them and writes its own files)."""
    return make_worker_metrics()


def start_metrics_server(settings: WorkerSettings) -> int | None:
    """Serve the worker's metrics on GRADEFLOW_METRICS_ADDR:GRADEFLOW_METRICS_PORT; the port, or None when unset.

    Call it in the main process before the pool forks and before any metric is made."""
    if settings.metrics_port is None:
        return None
    directory = (settings.var_dir / "metrics").resolve()
    shutil.rmtree(directory, ignore_errors=True)  # the last run's processes are gone: their files mean nothing now
    directory.mkdir(parents=True)
    os.environ[MULTIPROC_ENV] = str(directory)
    values.ValueClass = values.get_value_class()  # it is chosen when prometheus_client is imported: choose again
    get_worker_metrics.cache_clear()
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=str(directory))
    worker_process_shutdown.connect(_pool_process_ended, weak=False)
    server, _ = start_http_server(settings.metrics_port, addr=settings.metrics_addr, registry=registry)
    log.info("worker metrics on %s:%s/metrics", settings.metrics_addr, server.server_port)
    return server.server_port


def _pool_process_ended(pid: int | None = None, **_: object) -> None:
    """A pool process is ending: its warm-pool gauge must stop counting (the counters' files stay: they add up)."""
    multiprocess.mark_process_dead(pid or os.getpid())
