"""The worker's typed settings (environment prefix GRADEFLOW_): the broker, the API's address, the sandbox.

No database URL and no signing key: a worker acts only through the per-attempt token each task carries.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import model_validator

from gradeflow_protocol.settings import CommonSettings


class WorkerSettings(CommonSettings):
    """The worker's knobs on top of the shared ones."""

    api_url: str = "http://127.0.0.1:8000"  # how workers reach the API

    sandbox_backend: Literal["bwrap", "docker", "process"] = "bwrap"
    sandbox_python: str = ""  # interpreter inside the sandbox; empty: this one
    sandbox_uid: int = 65534
    docker_image: str = "gradeflow-sandbox:latest"
    docker_host: str = ""  # e.g. unix:///run/gradeflow-docker.sock

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> "WorkerSettings":
        if self.mode == "production" and self.sandbox_backend == "process":
            raise ValueError("the 'process' sandbox is for local looks only; not in production mode")
        return self

    @property
    def run_dir(self) -> Path:
        return self.var_dir / "runs"


@lru_cache
def get_settings() -> WorkerSettings:
    """The worker process's settings, read once from the environment."""
    return WorkerSettings()
