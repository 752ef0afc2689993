"""The API deployable's own commands: migrate the schema, seed the demo course, serve (no CLI needed)."""
from __future__ import annotations

from pathlib import Path

from gradeflow_api.settings import ApiSettings


def upgrade_schema(settings: ApiSettings) -> str:
    """Create or upgrade the schema; returns where (without credentials)."""
    from gradeflow_core.migrate import upgrade

    settings.var_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.effective_database_url)
    return settings.effective_database_url.split("@")[-1]


def seed_demo_course(settings: ApiSettings, assignments: Path, *, only: tuple[str, ...] = ()) -> str:
    """The demo course mathdl (only the assignments `only` names, when given); returns the password to show (or
    where it came from)."""
    from gradeflow_core.blobs import LocalBlobStore
    from gradeflow_core.db import make_engine, make_session_factory, session_scope
    from gradeflow_core.demo import DEMO_COURSE, seed_demo

    factory = make_session_factory(make_engine(settings.effective_database_url))
    with session_scope(factory) as session:
        password = seed_demo(session, LocalBlobStore(settings.blob_dir), assignments_dir=assignments,
                             password=settings.demo_password or None, slugs=only or DEMO_COURSE)
    return "(from GRADEFLOW_DEMO_PASSWORD)" if settings.demo_password else password


def serve(settings: ApiSettings, *, host: str, port: int) -> None:
    """Run the API (JSON and pages) under uvicorn until stopped."""
    import uvicorn

    from gradeflow_api.main import create_app

    uvicorn.run(create_app(settings), host=host, port=port, log_level="info")
