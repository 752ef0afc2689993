"""Send grading tasks by name; the API never imports the worker's code."""
from __future__ import annotations

from celery import Celery

from gradeflow_api.settings import ApiSettings
from gradeflow_protocol.messages import GradeTask
from gradeflow_protocol.queues import TASK_NAME, transport_options


class CeleryEnqueuer:
    def __init__(self, settings: ApiSettings) -> None:
        self.app = Celery("gradeflow-api", broker=settings.redis_url, set_as_current=False)
        self.app.conf.broker_transport_options = transport_options(settings.visibility_timeout_s)
        self.app.conf.broker_connection_retry_on_startup = True

    def enqueue(self, task: GradeTask, *, queue: str, priority: int = 0) -> None:
        self.app.send_task(TASK_NAME, args=[task.model_dump()], queue=queue, priority=priority)


class ListEnqueuer:
    """A fake for unit tests: remembers what would have been sent."""

    def __init__(self) -> None:
        self.sent: list[tuple[GradeTask, str]] = []
        self.priorities: list[int] = []

    def enqueue(self, task: GradeTask, *, queue: str, priority: int = 0) -> None:
        self.sent.append((task, queue))
        self.priorities.append(priority)
