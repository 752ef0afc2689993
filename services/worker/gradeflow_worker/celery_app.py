"""make_celery(settings): the worker's Celery app, configured for no lost and no doubled work."""
from __future__ import annotations

from celery import Celery

from gradeflow_protocol.queues import transport_options
from gradeflow_worker.settings import WorkerSettings


def make_celery(settings: WorkerSettings) -> Celery:
    app = Celery("gradeflow", broker=settings.redis_url, set_as_current=True)
    app.conf.update(
        task_acks_late=True,  # a task leaves Redis only once it has finished
        # the watchdog's last resort: a pool process whose harness hangs past every allowed run is killed and
        # replaced (its sandbox dies with it); the API's sweeper re-queues the silent attempt
        task_time_limit=settings.hard_time_limit_s,
        task_reject_on_worker_lost=True,  # a killed pool process puts its task back at once
        worker_prefetch_multiplier=1,  # a busy worker holds no waiting tasks
        task_serializer="json",
        accept_content=["json"],
        result_backend=None,
        task_ignore_result=True,
        task_default_queue="cpu",
        worker_send_task_events=True,
        task_send_sent_event=True,
        broker_connection_retry_on_startup=True,
        worker_cancel_long_running_tasks_on_connection_loss=False,
        broker_transport_options={
            # longer than the longest allowed run, so a slow run is never handed out twice; and the same
            # priority lists the API publishes to (gradeflow_protocol.queues) ...
            **transport_options(settings.visibility_timeout_s),
            # ... and a message a dead worker held is scanned for every second, not every 100 s
            "unacked_restore_interval": 1,
            "unacked_restore_throttle": 1,
        },
    )
    return app
