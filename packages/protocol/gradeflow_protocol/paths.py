"""The worker API's URL paths, named once: the API's router mounts them and the worker's client calls them."""
from __future__ import annotations

from enum import StrEnum

WORKER_PREFIX = "/api/v1/worker"


class WorkerPath(StrEnum):
    """One endpoint a worker calls with its per-attempt token; the value is relative to WORKER_PREFIX."""

    CLAIM = "/claim"
    HEARTBEAT = "/heartbeat"
    SUBMISSION_FILE = "/submission-file"
    BUNDLE = "/bundle"
    RESULT = "/result"
    RELEASE = "/release"

    @property
    def url(self) -> str:
        """The full path, as a client calls it."""
        return WORKER_PREFIX + self.value
