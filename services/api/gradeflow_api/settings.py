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
    session_idle_minutes: int = 120  # a web session unused this long ends (besides token_minutes' absolute end)

    # Uploads
    max_upload_bytes: int = 5 * 1024 * 1024
    max_report_bytes: int = 25 * 1024 * 1024  # a report (.pdf): min(this, the assignment's report.max_pdf_mb)

    # Grading reliability
    max_runs: int = 3  # claims of one submission before it is marked failed
    sweep_interval_s: float = 10.0
    heartbeat_timeout_s: float = 30.0  # silence after which a running submission is re-queued
    queued_timeout_s: float = 3600.0  # a queued submission older than this is sent again
    # a queue whose Redis lists stayed empty this long while rows of it wait: their messages were lost
    lost_message_grace_s: float = 20.0

    demo_password: str = ""

    # Load (gradeflow_api.shedding): what the API serves at once; the thread budget and the database pool are
    # sized from it (see thread_budget, db_pool_size), so neither can run dry below it
    max_in_flight: int = 64  # requests served at once; past it, 503 + Retry-After at once (never a growing queue)
    worker_reserved: int = 8  # of those, kept for the workers' calls (/api/v1/worker/*): results always get in
    poll_reserved: int = 16  # and below those, kept from status polls: uploads and sign-in get in before them
    retry_after_s: int = 2  # what a shed request, or one the database could not serve, is told to wait
    db_busy_timeout_s: float = 5.0  # longest wait for SQLite's write lock or a pooled connection; then 503
    status_position_ttl_s: float = 1.0  # queue positions on the status page are at most this old
    status_watch_interval_s: float = 1.0  # a 304 to a status poll is at most this late to notice a change; 0: off

    # Observability (gradeflow_api.metrics, gradeflow_api.health)
    metrics_token: str = ""  # set: /metrics needs "Authorization: Bearer <token>"; unset: open in development only
    metrics_cache_s: float = 5.0  # database and broker gauges are read at most this often
    readiness_timeout_s: float = 1.0  # /readyz: how long the database and Redis get to answer

    def require_api_secret(self) -> None:
        """The API signs tokens, so it refuses a placeholder secret in production. Workers never sign
        anything (they present the token the task carries) and need no secret at all (trust rule 4)."""
        if self.mode == "production" and self.secret_key in ("", PLACEHOLDER_SECRET):
            raise ValueError("GRADEFLOW_SECRET_KEY must be set to a real secret in production mode")

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.var_dir / 'gradeflow.db').resolve()}"

    @property
    def thread_budget(self) -> int:
        """Worker threads for sync routes and dependencies: a request uses at most one at a time."""
        return max(self.max_in_flight, 1)

    @property
    def db_pool_size(self) -> int:
        """Connections: one per request in flight, plus the sweeper, the readiness probe's threads and spare."""
        return max(self.max_in_flight, 1) + 8

    @property
    def blob_dir(self) -> Path:
        return self.var_dir / "blobs"


@lru_cache
def get_settings() -> ApiSettings:
    """The API process's settings, read once from the environment."""
    return ApiSettings()
