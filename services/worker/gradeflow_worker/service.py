"""Grade one task end to end: claim, fetch, run the harness, post. Imports no Celery."""
from __future__ import annotations

import hashlib
import logging
import shutil
import socket
import sys
import threading
import traceback
import uuid

from gradeflow_protocol.bundles import unpack
from gradeflow_protocol.messages import GradeTask
from gradeflow_worker.sandbox import make_sandbox
from gradeflow_worker.settings import WorkerSettings
from gradeflow_worker.client import ApiClient, Refused
from gradeflow_worker.harness import HarnessConfig, grade

log = logging.getLogger(__name__)


class Heartbeat:
    """Reports progress to the API every few seconds while a run is in flight."""

    def __init__(self, client: ApiClient, interval: float) -> None:
        self.client, self.interval = client, interval
        self.progress = "starting"
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True, name="heartbeat")

    def _loop(self) -> None:
        while not self.stop.wait(self.interval):
            try:
                self.client.heartbeat(self.progress)
            except Exception:  # the API may be restarting; the next beat will tell
                log.warning("heartbeat failed", exc_info=True)

    def update(self, progress: str) -> None:
        self.progress = progress

    def __enter__(self) -> "Heartbeat":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()


def worker_name() -> str:
    return f"{socket.gethostname()}:{threading.get_native_id()}"


def run_task(task: GradeTask, settings: WorkerSettings) -> str:
    """Returns what happened, for the log. Infrastructure errors release the attempt for a retry."""
    client = ApiClient(settings.api_url, task)
    workdir = settings.run_dir / f"job-{uuid.uuid4().hex[:10]}"
    try:
        try:
            job = client.claim(worker_name())
        except Refused as exc:
            return f"skipped: {exc}"
        try:
            with Heartbeat(client, settings.heartbeat_interval_s) as beat:
                submission = client.submission_file()
                bundle_dir = unpack(client.bundle(), workdir / "bundle")  # where the sandbox never looks
                if hashlib.sha256(submission).hexdigest() != job.submission_sha256:
                    raise RuntimeError("submission bytes do not match their hash")
                config = HarnessConfig(run_dir=settings.run_dir, python=settings.sandbox_python or sys.executable)
                result = grade(job, submission=submission, bundle_dir=bundle_dir, sandbox=make_sandbox(settings),
                               config=config, progress=beat.update)
            stored = client.post_result(result)
            return f"graded {result.score}/{result.max_score} ({'stored' if stored else 'duplicate'})"
        except Refused as exc:
            return f"dropped: {exc}"
        except Exception:
            error = traceback.format_exc()
            log.error("grading submission %s failed:\n%s", task.submission_id, error)
            client.release(error)
            return "released after an error"
    finally:
        client.close()
        shutil.rmtree(workdir, ignore_errors=True)
