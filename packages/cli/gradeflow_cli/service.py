"""Service commands, run on the service's machines: serve, worker, db upgrade, demo, up (all supervised).

They call the deployables' own entry points (gradeflow_api.service, gradeflow_worker.tasks), which the
API and worker images run directly as `gradeflow-api` and `gradeflow-worker`.
"""
from __future__ import annotations

from pathlib import Path

import typer

from gradeflow_cli.app import GradeflowTyper

db_app = GradeflowTyper(help="Database schema.")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or upgrade the schema (Alembic) at GRADEFLOW_DATABASE_URL, or the SQLite file under var/."""
    from gradeflow_api import service
    from gradeflow_api.settings import get_settings

    typer.echo(f"schema up to date: {service.upgrade_schema(get_settings())}")


def demo(assignments: Path = typer.Option(Path("assignments"), help="folder holding the course's assignments"),
         only: list[str] = typer.Option([], "--only", help="publish only this assignment (repeatable)")) -> None:
    """Create the demo course mathdl with its nine exercises and users student1, student2, ta1, prof."""
    from gradeflow_api import service
    from gradeflow_api.settings import get_settings

    shown = service.seed_demo_course(get_settings(), assignments, only=tuple(only))
    typer.echo(f"demo course 'mathdl' ready; users student1, student2, ta1, prof; password: {shown}")


def serve(host: str = "127.0.0.1", port: int = 8000) -> None:
    """Run the API."""
    from gradeflow_api import service
    from gradeflow_api.settings import get_settings

    service.serve(get_settings(), host=host, port=port)


def worker(queues: str = "cpu", concurrency: int = 0, hostname: str | None = None) -> None:
    """Run a Celery grading worker on the given queues (concurrency 0: GRADEFLOW_CONCURRENCY, else one per core)."""
    from gradeflow_worker.settings import get_settings
    from gradeflow_worker.tasks import start_worker

    start_worker(get_settings(), queues=queues, concurrency=concurrency or None, hostname=hostname)


def register(app: typer.Typer) -> None:
    from gradeflow_cli.up import up

    app.add_typer(db_app, name="db")
    for command in (demo, serve, worker, up):
        app.command()(command)
