"""What every deployable's settings share (environment prefix GRADEFLOW_): mode, var dir, broker, limits.

Each deployable has its own typed settings object built on this one: `gradeflow_api.settings.ApiSettings`
(database, signing key, uploads, the sweeper) and `gradeflow_worker.settings.WorkerSettings` (the API's
address, the sandbox). A worker's settings have no database URL and no secret: it cannot hold them.
"""
from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict


class CommonSettings(BaseSettings):
    """The knobs both the API and the worker read; safe defaults for every limit."""

    model_config = SettingsConfigDict(env_prefix="GRADEFLOW_", extra="ignore")

    mode: Literal["development", "production"] = "development"
    var_dir: Path = Path("var")
    redis_url: str = "redis://127.0.0.1:6379/0"
    heartbeat_interval_s: float = 5.0  # how often a worker reports progress
    visibility_timeout_s: int = 3600  # must exceed the longest allowed run

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
