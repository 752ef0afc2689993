"""The Celery edge: parse the message, call the service. Started by `gradeflow worker`."""
from __future__ import annotations

from celery import Celery

from gradeflow_protocol.messages import GradeTask
from gradeflow_worker.settings import WorkerSettings
from gradeflow_worker.celery_app import make_celery
from gradeflow_worker.service import run_task

TASK_NAME = "gradeflow.grade"


def register_tasks(app: Celery, settings: WorkerSettings) -> None:
    @app.task(name=TASK_NAME, acks_late=True, reject_on_worker_lost=True)
    def grade_submission(task: dict) -> str:
        return run_task(GradeTask(**task), settings)


def start_worker(settings: WorkerSettings, *, queues: str = "cpu", concurrency: int = 1, hostname: str | None = None) -> None:
    """Run a Celery worker in this process (blocks)."""
    app = make_celery(settings)
    register_tasks(app, settings)
    argv = ["worker", "-Q", queues, "--concurrency", str(concurrency), "--loglevel", "INFO", "--without-gossip",
            "--without-mingle"]
    if hostname:
        argv += ["--hostname", hostname]
    app.worker_main(argv)
