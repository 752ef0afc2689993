"""The worker's typed settings (environment prefix GRADEFLOW_): the broker, the API's address, the sandbox.

No database URL and no signing key: a worker acts only through the per-attempt token each task carries.
"""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from gradeflow_protocol.settings import CommonSettings


class WorkerSettings(CommonSettings):
    """The worker's knobs on top of the shared ones."""

    api_url: str = "http://127.0.0.1:8000"  # how workers reach the API
    # how long one call to the API is retried through an outage (a restart, a deploy) before it is given up
    api_retry_s: float = Field(60.0, ge=0)

    # The watchdog over one attempt's whole grading (the harness, not the student's code, which its own limits
    # end): heartbeats stop this long past the job's time limit, so the API's sweeper takes the attempt back;
    # Celery kills a pool process still busy this long past the longest allowed run (the cap) and starts another.
    watchdog_margin_s: float = Field(120.0, gt=0)

    # Grading processes per worker (Celery prefork children); 0: one per core, so a burst keeps every core busy
    concurrency: int = Field(0, ge=0, le=256)
    # Warm sandboxes per worker process (Celery child): kernels started ahead of demand, each used once. Two: in a
    # burst a job often arrives while the one refill is still starting; the second keeps both cores on student
    # work (bench/deadline.py: 82% of the ideal rate with one, 90% with two)
    warm_kernels: int = Field(2, ge=0, le=8)

    sandbox_backend: Literal["bwrap", "docker", "process"] = "bwrap"
    sandbox_python: str = ""  # interpreter inside the sandbox; empty: this one
    sandbox_uid: int = 65534
    docker_image: str = "gradeflow-sandbox:latest"
    # where the named student environments (venvs: numpy, scientific, pytorch) are built; empty: VAR_DIR/environments
    environments_dir: Path | None = None
    docker_host: str = ""  # e.g. unix:///run/gradeflow-docker.sock

    # Prometheus exporter of gradeflow_worker.metrics (the warm pool); unset: no HTTP port is opened
    metrics_port: int | None = Field(None, ge=0, le=65535)
    metrics_addr: str = "127.0.0.1"  # 0.0.0.0 to let a scraper on another host (or container) in

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> "WorkerSettings":
        if self.mode == "production" and self.sandbox_backend == "process":
            raise ValueError("the 'process' sandbox is for local looks only; not in production mode")
        return self

    @property
    def effective_concurrency(self) -> int:
        return self.concurrency or os.cpu_count() or 1

    @property
    def hard_time_limit_s(self) -> float:
        """Celery's hard limit on one task: the longest allowed run, the margin, and a result post's retries."""
        return self.cap_time_limit_s + self.watchdog_margin_s + self.api_retry_s

    @property
    def run_dir(self) -> Path:
        return self.var_dir / "runs"

    @property
    def environments_path(self) -> Path:
        """The built student environments' directory, absolute (the sandbox binds paths inside it)."""
        return (self.environments_dir or self.var_dir / "environments").resolve()


@lru_cache
def get_settings() -> WorkerSettings:
    """The worker process's settings, read once from the environment."""
    return WorkerSettings()
