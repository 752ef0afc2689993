"""The composition root: one FastAPI app serving the JSON API and the web pages side by side.

Both share the app's state (settings, database, blob store, enqueuer); neither mounts the other.
"""
from __future__ import annotations

from fastapi import FastAPI

from gradeflow_api.app import create_api
from gradeflow_api.web.routes import install_pages
from gradeflow_core.grading import Enqueuer
from gradeflow_api.settings import ApiSettings


def create_app(settings: ApiSettings, *, enqueuer: Enqueuer | None = None, sweeper: bool = True) -> FastAPI:
    """The service as `gradeflow serve` runs it."""
    app = create_api(settings, enqueuer=enqueuer, sweeper=sweeper)
    install_pages(app)
    return app
