"""Service commands, run on the service's machines: serve, worker, db upgrade, demo."""
from __future__ import annotations

from pathlib import Path

import typer

from gradeflow.cli.app import GradeflowTyper
from gradeflow.settings import get_settings

db_app = GradeflowTyper(help="Database schema.")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or upgrade the schema (Alembic) at GRADEFLOW_DATABASE_URL, or the SQLite file under var/."""
    from gradeflow.core.migrate import upgrade

    settings = get_settings()
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.effective_database_url)
    typer.echo(f"schema up to date: {settings.effective_database_url.split('@')[-1]}")


def demo(assignments: Path = typer.Option(Path("assignments"), help="folder holding ode-theta/")) -> None:
    """Create the demo course mathdl with ode-theta and users student1, student2, ta1, prof."""
    from gradeflow.core.blobs import LocalBlobStore
    from gradeflow.core.db import make_engine, make_session_factory, session_scope
    from gradeflow.core.demo import seed_demo

    settings = get_settings()
    factory = make_session_factory(make_engine(settings.effective_database_url))
    with session_scope(factory) as session:
        password = seed_demo(session, LocalBlobStore(settings.blob_dir), assignments_dir=assignments,
                             password=settings.demo_password or None)
    shown = "(from GRADEFLOW_DEMO_PASSWORD)" if settings.demo_password else password
    typer.echo(f"demo course 'mathdl' ready; users student1, student2, ta1, prof; password: {shown}")


def serve(host: str = "127.0.0.1", port: int = 8000) -> None:
    """Run the API."""
    import uvicorn

    from gradeflow.api.app import create_app

    uvicorn.run(create_app(get_settings()), host=host, port=port, log_level="info")


def worker(queues: str = "cpu", concurrency: int = 1, hostname: str | None = None) -> None:
    """Run a Celery grading worker on the given queues."""
    from gradeflow.worker.tasks import start_worker

    start_worker(get_settings(), queues=queues, concurrency=concurrency, hostname=hostname)


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
    for command in (demo, serve, worker):
        app.command()(command)
