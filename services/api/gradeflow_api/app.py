"""create_api(settings): the JSON API (bearer tokens, workers' attempt tokens), with no import-time side effects.

The web pages are mounted beside it by the composition root, gradeflow_api.main."""
from __future__ import annotations

import gc
import logging
import sys
import threading
from contextlib import asynccontextmanager

from anyio import to_thread
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse
from sqlalchemy.exc import OperationalError, TimeoutError as PoolTimeout

from gradeflow_api import health
from gradeflow_api.metrics import install_metrics
from gradeflow_api.queue import CeleryEnqueuer
from gradeflow_api.reconciler import BrokerReconciler
from gradeflow_api.polling import AnswerCache, QueuePositions, VerifiedTokens
from gradeflow_api.routes import auth, contest, staff, submissions, worker
from gradeflow_api.routes import teams as team_routes
from gradeflow_api.routes import rubric
from gradeflow_api.shedding import InFlight, LoadShedder
from gradeflow_api.status_watch import PollShortcut, StatusWatch
from gradeflow_core.blobs import LocalBlobStore
from gradeflow_core.db import make_engine, make_session_factory, session_scope
from gradeflow_core.models import utcnow
from gradeflow_core.grading import Enqueuer, commit_and_send, hold_sweep_lock, sweep
from gradeflow_api.settings import ApiSettings

log = logging.getLogger(__name__)


def run_sweeper(app: FastAPI, stop: threading.Event) -> None:
    """Re-queue submissions whose worker died or whose message was lost, every sweep_interval_s."""
    settings: ApiSettings = app.state.settings
    reconciler = BrokerReconciler(settings)  # finds what a restarted (or flushed) Redis lost, within one pass
    listening_since = utcnow()  # heartbeats sent while this API was down were never heard
    while not stop.wait(settings.sweep_interval_s):
        try:
            with session_scope(app.state.session_factory) as session:
                if not hold_sweep_lock(session):  # another API replica is sweeping
                    continue
                lost = reconciler.lost(session)  # before sweep(): its re-queued rows are not counted as lost
                requeued = lost + [sub for sub in sweep(session, timing=worker.timing(settings),
                                                        listening_since=listening_since) if sub not in lost]
                sent = commit_and_send(session, app.state.enqueuer, requeued, secret=settings.secret_key)
                for task in sent:
                    log.warning("re-queued submission %s as attempt %s", task.submission_id, task.attempt)
                reconciler.settle(all_sent=len(sent) == len(requeued))
        except Exception:
            log.exception("sweeper pass failed")
    reconciler.close()


async def database_unavailable(request: Request, exc: Exception):
    """503 + Retry-After when the database cannot be reached or stayed locked past its timeout. The session
    has rolled back by then, so nothing was half written (an upload's blob may stay: content-addressed,
    harmless)."""
    log.warning("database unavailable on %s %s: %s", request.method, request.url.path, getattr(exc, "orig", exc))
    retry = request.app.state.settings.retry_after_s
    message = f"The database is not answering right now, so nothing was saved or read. Try again in {retry} s."
    headers = {"Retry-After": str(retry), "Cache-Control": "no-store"}
    if not request.url.path.startswith("/api/") and "text/html" in request.headers.get("accept", ""):
        return HTMLResponse(f"<!doctype html><title>Try again shortly</title><p>{message}</p>", status_code=503,
                            headers=headers)
    return JSONResponse({"detail": message}, status_code=503, headers=headers)


def tune_for_latency() -> None:
    """Process-wide, at start: what exists now (routes, models, templates, pools) lives as long as the process,
    so out of the collector's way (a full collection then takes ~0 ms instead of ~200 ms with every request in
    flight stalled behind it), and collections come less often (a request makes a few hundred objects, nearly
    all freed at once). The event loop drops the GIL at every socket call and must win it back from the
    background threads (sweeper, status watch, database work): it waits up to 1 ms, not CPython's 5 ms."""
    gc.freeze()
    gc.set_threshold(20_000, 20, 50)
    sys.setswitchinterval(0.001)


def install_load_limits(app: FastAPI, settings: ApiSettings) -> None:
    """Cheap status polls (gradeflow_api.polling, status_watch), load shedding, and 503 when the database
    cannot serve."""
    app.state.queue_positions = QueuePositions(ttl_s=settings.status_position_ttl_s)  # the status pages' places
    app.state.verified_tokens = VerifiedTokens(settings.secret_key)
    app.state.answers = AnswerCache()
    app.state.status_watch = StatusWatch(app.state.engine, interval_s=settings.status_watch_interval_s)
    app.state.status_watch.follow(app.state.session_factory)  # this process's own changes are seen at once
    app.state.in_flight = InFlight(limit=settings.max_in_flight, reserved=settings.worker_reserved,
                                   poll_reserved=settings.poll_reserved, retry_after_s=settings.retry_after_s)
    app.add_middleware(PollShortcut, state=app.state)  # inside the shedder: shortcut polls count as in flight
    app.add_middleware(LoadShedder, gate=app.state.in_flight)
    app.add_exception_handler(OperationalError, database_unavailable)
    app.add_exception_handler(PoolTimeout, database_unavailable)


def create_api(settings: ApiSettings, *, enqueuer: Enqueuer | None = None, sweeper: bool = True) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        # sync routes and dependencies run on anyio's threads: as many as requests may be in flight, and the
        # pool holds a connection for each of them, so no request ever waits for a thread or a connection
        to_thread.current_default_thread_limiter().total_tokens = settings.thread_budget
        app.state.status_watch.start()
        tune_for_latency()
        stop = threading.Event()
        thread = threading.Thread(target=run_sweeper, args=(app, stop), daemon=True, name="sweeper")
        if sweeper:
            thread.start()
        yield
        stop.set()
        app.state.status_watch.stop()
        app.state.engine.dispose()
        gc.unfreeze()  # an app that stops (tests start many) leaves its objects collectable

    settings.require_api_secret()
    app = FastAPI(title="gradeflow", version="0.1.0", lifespan=lifespan,
                  description="Autograder API: submit work, read feedback; workers claim and report attempts.")
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    app.state.settings = settings
    app.state.engine = make_engine(settings.effective_database_url, pool_size=settings.db_pool_size,
                                   busy_timeout_s=settings.db_busy_timeout_s)
    app.state.session_factory = make_session_factory(app.state.engine)
    app.state.blobs = LocalBlobStore(settings.blob_dir)
    app.state.enqueuer = enqueuer or CeleryEnqueuer(settings)
    install_load_limits(app, settings)
    for module in (auth, submissions, worker, staff,
                   contest, team_routes, rubric):
        app.include_router(module.router)
    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict:
        return {"ok": True}
    app.include_router(health.router)  # /readyz
    install_metrics(app)  # /metrics and the latency middleware (added last: it times what the others add)
    document_422(app)
    return app


def document_422(app: FastAPI) -> None:
    """A 422 is either FastAPI's list of field errors or a message saying what to fix (a bundle, a roster, a
    rubric item that does not make sense): the OpenAPI document says both, so clients and the fuzzer can trust it."""
    build = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            schema = build()
            error = schema.get("components", {}).get("schemas", {}).get("HTTPValidationError")
            if error is not None:
                detail = error["properties"]["detail"]
                error["properties"]["detail"] = {"title": "Detail", "anyOf": [
                    {k: v for k, v in detail.items() if k != "title"}, {"type": "string"}, {"type": "object"}]}
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi
