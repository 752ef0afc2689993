"""The API's typed settings (environment prefix GRADEFLOW_): the only deployable with the database and the key."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from gradeflow_protocol.settings import CommonSettings

PLACEHOLDER_SECRET = "change-me"


class ApiSettings(CommonSettings):
    """The API's knobs on top of the shared ones."""

    database_url: str = ""  # empty: SQLite file under var_dir
    secret_key: str = PLACEHOLDER_SECRET
    token_minutes: int = 12 * 60

    # Uploads
    max_upload_bytes: int = 5 * 1024 * 1024

    # Grading reliability
    max_runs: int = 3  # claims of one submission before it is marked failed
    sweep_interval_s: float = 10.0
    heartbeat_timeout_s: float = 30.0  # silence after which a running submission is re-queued
    queued_timeout_s: float = 3600.0  # a queued submission older than this is sent again

    demo_password: str = ""

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


@lru_cache
def get_settings() -> ApiSettings:
    """The API process's settings, read once from the environment."""
    return ApiSettings()
