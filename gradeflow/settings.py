"""The one typed settings object (environment prefix GRADEFLOW_)."""
from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRET = "change-me"


class Settings(BaseSettings):
    """Every knob of every deployable; safe defaults for every limit."""

    model_config = SettingsConfigDict(env_prefix="GRADEFLOW_", extra="ignore")

    mode: Literal["development", "production"] = "development"
    var_dir: Path = Path("var")
    database_url: str = ""  # empty: SQLite file under var_dir
    redis_url: str = "redis://127.0.0.1:6379/0"
    api_url: str = "http://127.0.0.1:8000"  # how workers reach the API
    secret_key: str = PLACEHOLDER_SECRET
    token_minutes: int = 12 * 60

    # Uploads
    max_upload_bytes: int = 5 * 1024 * 1024

    # Grading reliability
    max_runs: int = 3  # claims of one submission before it is marked failed
    sweep_interval_s: float = 10.0
    heartbeat_interval_s: float = 5.0  # how often a worker reports progress
    heartbeat_timeout_s: float = 30.0  # silence after which a running submission is re-queued
    queued_timeout_s: float = 3600.0  # a queued submission older than this is sent again
    visibility_timeout_s: int = 3600  # must exceed the longest allowed run

    # Sandbox
    sandbox_backend: Literal["bwrap", "docker", "process"] = "bwrap"
    sandbox_python: str = ""  # interpreter inside the sandbox; empty: this one
    sandbox_uid: int = 65534
    docker_image: str = "gradeflow-sandbox:latest"
    docker_host: str = ""  # e.g. unix:///run/gradeflow-docker.sock

    # Default limits (an assignment may change them within the caps below)
    time_limit_s: float = 300.0
    cell_timeout_s: float = 60.0
    check_timeout_s: float = 30.0
    memory_mb: int = 1024
    max_processes: int = 64
    max_output_kb: int = 1024  # kill the run beyond this
    shown_output_kb: int = 64  # what a student is shown
    scratch_mb: int = 128
    max_open_files: int = 256
    cap_time_limit_s: float = 1800.0
    cap_cell_timeout_s: float = 600.0
    cap_memory_mb: int = 8192
    cap_max_processes: int = 512

    demo_password: str = ""

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> "Settings":
        if self.mode == "production" and self.sandbox_backend == "process":
            raise ValueError("the 'process' sandbox is for local looks only; not in production mode")
        return self

    def require_api_secret(self) -> None:
        """The API signs tokens, so it refuses a placeholder secret in production. Workers never sign
        anything (they present the token the task carries) and need no secret at all (trust rule 4)."""
        if self.mode == "production" and self.secret_key in ("", PLACEHOLDER_SECRET):
            raise ValueError("GRADEFLOW_SECRET_KEY must be set to a real secret in production mode")

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.var_dir / 'gradeflow.db').resolve()}"

    @property
    def blob_dir(self) -> Path:
        return self.var_dir / "blobs"

    @property
    def run_dir(self) -> Path:
        return self.var_dir / "runs"


def random_secret() -> str:
    return secrets.token_urlsafe(32)


@lru_cache
def get_settings() -> Settings:
    """The process's settings, read once from the environment."""
    return Settings()


__all__ = ["Settings", "get_settings", "Field"]
