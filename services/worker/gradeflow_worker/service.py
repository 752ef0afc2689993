"""Grade one task end to end: claim, fetch, run the harness, post. Imports no Celery."""
from __future__ import annotations

import hashlib
import logging
import shutil
import socket
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from pathlib import Path

from gradeflow_protocol.bundles import unpack
from gradeflow_protocol.environments import DEFAULT_ENVIRONMENT
from gradeflow_protocol.limits import default_job_limits
from gradeflow_protocol.messages import GradeTask, JobSpec, ResultPost
from gradeflow_worker.sandbox import make_sandbox
from gradeflow_worker.settings import WorkerSettings
from gradeflow_worker.client import ApiClient, ApiUnavailable, Refused, RetryPolicy
from gradeflow_worker.environments import EnvironmentMissing
from gradeflow_worker.harness import HarnessConfig, grade, student_environment
from gradeflow_worker.metrics import get_worker_metrics
from gradeflow_worker.warm import KernelPool, WarmKey, process_pool, start_slot

log = logging.getLogger(__name__)


class Heartbeat:
    """Reports progress to the API every few seconds while a run is in flight (and while its result is posted).

    Beats prove life, not progress: past `watchdog_s` (the job's own time limit plus a margin) the harness is
    taken to hang, beats stop, and the API's sweeper re-queues the silent attempt."""

    def __init__(self, client: ApiClient, interval: float, *, watchdog_s: float = float("inf")) -> None:
        self.client, self.interval = client, interval
        self.progress = "starting"
        self.deadline = time.monotonic() + watchdog_s
        self.watchdog_s = watchdog_s
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True, name="heartbeat")

    def _loop(self) -> None:
        while not self.stop.wait(self.interval):
            if time.monotonic() > self.deadline:
                log.error("watchdog: this attempt has run %.0f s, past every limit it was given (last progress: %s); "
                          "heartbeats stop so the API takes it back", self.watchdog_s, self.progress)
                return
            try:  # a beat retries for one interval at most: the next beat overtakes it
                self.client.heartbeat(self.progress, budget_s=self.interval)
            except Exception as exc:  # the API may be restarting; the next beat will tell
                log.warning("heartbeat not delivered: %s", exc)

    def update(self, progress: str) -> None:
        self.progress = progress

    def __enter__(self) -> "Heartbeat":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join(timeout=1.0)  # let a beat in flight finish before the client closes; never wait long


def worker_name() -> str:
    return f"{socket.gethostname()}:{threading.get_native_id()}"


def run_task(task: GradeTask, settings: WorkerSettings) -> str:
    """Returns what happened, for the log.

    Raises ApiUnavailable when the claim could not reach the API within the retry budget: nothing ran and
    nothing changed, so the Celery edge puts the message back. After a claim, infrastructure errors release
    the attempt for a retry, and an API that stays away leaves it to the API's sweeper.
    """
    client = ApiClient(settings.api_url, task, retry=RetryPolicy(budget_s=settings.api_retry_s))
    workdir = settings.run_dir / f"job-{uuid.uuid4().hex[:10]}"
    try:
        try:
            job = client.claim(worker_name())
        except Refused as exc:
            return f"skipped: {exc}"
        return _run_claimed(client, job, settings=settings, workdir=workdir)
    finally:
        client.close()
        shutil.rmtree(workdir, ignore_errors=True)


def _run_claimed(client: ApiClient, job: JobSpec, *, settings: WorkerSettings, workdir: Path) -> str:
    try:
        watchdog_s = job.limits.time_limit_s + settings.watchdog_margin_s
        with Heartbeat(client, settings.heartbeat_interval_s, watchdog_s=watchdog_s) as beat:
            result = _grade(client, job, settings=settings, workdir=workdir, progress=beat.update)
            beat.update("posting the result")  # beats go on: the attempt stays this worker's while the post retries
            stored = client.post_result(result)
        return f"graded {result.score}/{result.max_score} ({'stored' if stored else 'duplicate'})"
    except Refused as exc:
        return f"dropped: {exc}"
    except ApiUnavailable as exc:  # releasing needs the API too; once it is back its sweeper re-queues the attempt
        log.error("submission %s attempt %s abandoned: %s", job.submission_id, job.attempt, exc)
        return f"abandoned: {exc}"
    except EnvironmentMissing as exc:  # nothing ran: released with the message naming the build command
        log.error("submission %s cannot run here: %s", job.submission_id, exc)
        return _release(client, str(exc))
    except Exception:
        error = traceback.format_exc()
        log.error("grading submission %s failed:\n%s", job.submission_id, error)
        return _release(client, error)


def _grade(client: ApiClient, job: JobSpec, *, settings: WorkerSettings, workdir: Path,
           progress: Callable[[str], None]) -> ResultPost:
    submission = client.submission_file()
    bundle_dir = unpack(client.bundle(), workdir / "bundle")  # where the sandbox never looks
    if hashlib.sha256(submission).hexdigest() != job.submission_sha256:
        raise RuntimeError("submission bytes do not match their hash")
    config = harness_config(settings)
    sandbox = make_sandbox(settings)
    pool = warm_pool(settings, sandbox, config) if settings.warm_kernels > 0 else None
    return grade(job, submission=submission, bundle_dir=bundle_dir, sandbox=sandbox, config=config,
                 progress=progress, pool=pool)


def harness_config(settings: WorkerSettings) -> HarnessConfig:
    """Where runs go, the default environment's interpreter and where the named environments are built."""
    return HarnessConfig(run_dir=settings.run_dir, python=settings.sandbox_python or sys.executable,
                         environments_dir=settings.environments_path)


def warm_pool(settings: WorkerSettings, sandbox, config: HarnessConfig) -> KernelPool:
    """This process's warm kernels (WorkerSettings.warm_kernels of them), started with the limits and the
    environment of the job just taken."""
    def make() -> KernelPool:
        def start(key: WarmKey):
            return start_slot(sandbox, run_dir=config.run_dir, key=key)
        return KernelPool(start, size=settings.warm_kernels, on_change=record_pool)

    return process_pool(make)


def prewarm(settings: WorkerSettings) -> None:
    """Start this process's first warm kernel now, with the operator's default limits in the default environment
    (a new worker process)."""
    if settings.warm_kernels <= 0:
        return
    config = harness_config(settings)
    settings.run_dir.mkdir(parents=True, exist_ok=True)
    sandbox = make_sandbox(settings)
    environment = student_environment(DEFAULT_ENVIRONMENT, sandbox=sandbox, config=config)
    warm_pool(settings, sandbox, config).refill(WarmKey(default_job_limits(settings), environment))


def record_pool(ready: int, hit: bool | None) -> None:
    """The pool's changes, as the worker's metrics."""
    metrics = get_worker_metrics()
    metrics.warm_pool_size.set(ready)
    if hit is not None:
        (metrics.warm_pool_hits if hit else metrics.warm_pool_misses).inc()


def _release(client: ApiClient, error: str) -> str:
    try:
        client.release(error)
    except Exception as exc:  # best effort: a running attempt that stays silent is re-queued by the sweeper
        log.error("could not release the attempt: %s", exc)
        return "failed; not released"
    return "released after an error"
