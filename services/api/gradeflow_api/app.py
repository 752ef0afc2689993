"""create_api(settings): the JSON API (bearer tokens, workers' attempt tokens), with no import-time side effects.

The web pages are mounted beside it by the composition root, gradeflow_api.main."""
from __future__ import annotations

import logging
import threading
from contextlib import asynccontextmanager

from fastapi import FastAPI

from gradeflow_api.queue import CeleryEnqueuer
from gradeflow_api.routes import auth, staff, submissions, worker
from gradeflow_core.blobs import LocalBlobStore
from gradeflow_core.db import make_engine, make_session_factory, session_scope
from gradeflow_core.grading import Enqueuer, commit_and_send, hold_sweep_lock, sweep
from gradeflow_api.settings import ApiSettings

log = logging.getLogger(__name__)


def run_sweeper(app: FastAPI, stop: threading.Event) -> None:
    """Re-queue submissions whose worker died or whose message was lost, every sweep_interval_s."""
    settings: ApiSettings = app.state.settings
    while not stop.wait(settings.sweep_interval_s):
        try:
            with session_scope(app.state.session_factory) as session:
                if not hold_sweep_lock(session):  # another API replica is sweeping
                    continue
                requeued = sweep(session, timing=worker.timing(settings))
                for task in commit_and_send(session, app.state.enqueuer, requeued, secret=settings.secret_key):
                    log.warning("re-queued submission %s as attempt %s", task.submission_id, task.attempt)
        except Exception:
            log.exception("sweeper pass failed")


def create_api(settings: ApiSettings, *, enqueuer: Enqueuer | None = None, sweeper: bool = True) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        stop = threading.Event()
        thread = threading.Thread(target=run_sweeper, args=(app, stop), daemon=True, name="sweeper")
        if sweeper:
            thread.start()
        yield
        stop.set()
        app.state.engine.dispose()

    settings.require_api_secret()
    app = FastAPI(title="gradeflow", version="0.1.0", lifespan=lifespan,
                  description="Autograder API: submit work, read feedback; workers claim and report attempts.")
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    app.state.settings = settings
    app.state.engine = make_engine(settings.effective_database_url)
    app.state.session_factory = make_session_factory(app.state.engine)
    app.state.blobs = LocalBlobStore(settings.blob_dir)
    app.state.enqueuer = enqueuer or CeleryEnqueuer(settings)
    for module in (auth, submissions, worker, staff):
        app.include_router(module.router)
    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict:
        return {"ok": True}

    return app
