"""The Celery edge: parse the message, call the service. Started by `gradeflow worker`."""
from __future__ import annotations

import logging

from celery import Celery
from celery.exceptions import Reject
from celery.signals import worker_process_init

from gradeflow_protocol.messages import GradeTask
from gradeflow_protocol.queues import TASK_NAME
from gradeflow_worker.settings import WorkerSettings
from gradeflow_worker.celery_app import make_celery
from gradeflow_worker.client import ApiUnavailable
from gradeflow_worker.metrics import start_metrics_server
from gradeflow_worker.service import prewarm, run_task


def register_tasks(app: Celery, settings: WorkerSettings) -> None:
    @worker_process_init.connect(weak=False)
    def warm_up(**_) -> None:  # each pool process starts its first warm kernel before any task arrives
        try:
            prewarm(settings)
        except Exception:
            logging.getLogger(__name__).exception("no warm kernel at start; the first job starts its own")

    @app.task(name=TASK_NAME, acks_late=True, reject_on_worker_lost=True)
    def grade_submission(task: dict) -> str:
        try:
            return run_task(GradeTask(**task), settings)
        except ApiUnavailable as exc:
            # the claim never reached the API: put the message back (at the end of the queue) rather than let
            # acks_late ack a failed task and leave the row queued until the sweeper's queued timeout
            raise Reject(str(exc), requeue=True) from exc


def start_worker(settings: WorkerSettings, *, queues: str = "cpu", concurrency: int | None = None, hostname: str | None = None) -> None:
    """Run a Celery worker in this process (blocks); `concurrency` defaults to the settings (one per core)."""
    start_metrics_server(settings)  # before the pool forks (a no-op unless GRADEFLOW_METRICS_PORT is set)
    app = make_celery(settings)
    register_tasks(app, settings)
    argv = ["worker", "-Q", queues, "--concurrency", str(concurrency or settings.effective_concurrency), "--loglevel", "INFO", "--without-gossip",
            "--without-mingle"]
    if hostname:
        argv += ["--hostname", hostname]
    app.worker_main(argv)
