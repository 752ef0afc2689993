"""The API's Prometheus metrics: request latency (an ASGI middleware), grading runs (observed when a result is
stored), and the queue as the database and the broker see it (gradeflow_api.metrics_state), served at /metrics.

Each app gets its own registry (no import-time state; several test apps live side by side). /metrics is open
in development when GRADEFLOW_METRICS_TOKEN is unset; with a token it needs "Authorization: Bearer <token>";
in production it refuses to serve until a token is set.
"""
from __future__ import annotations

import hmac
import time
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Request, Response, status
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from starlette.types import ASGIApp, Receive, Scope, Send

from gradeflow_api.metrics_state import QueueStateCollector
from gradeflow_api.settings import ApiSettings
from gradeflow_protocol.enums import RunOutcome
from gradeflow_protocol.messages import ResultPost

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "<unmatched>"  # requests no route matched share one label, so scanners cannot grow the series
GRADING_BUCKETS = (1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 1800, float("inf"))


class ApiMetrics:
    """The metrics one API app records; `registry` is what /metrics serves."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry(auto_describe=True)
        self.latency = Histogram("gradeflow_http_request_duration_seconds",
                                 "Wall seconds the API spent on a request, by route template and method",
                                 ["route", "method"], registry=self.registry)
        self.grading = Histogram("gradeflow_grading_seconds", "Wall seconds of a stored grading run (worker-reported)",
                                 ["queue", "outcome"], buckets=GRADING_BUCKETS, registry=self.registry)
        self.runs = Counter("gradeflow_runs", "Grading results stored by this API process, by run outcome",
                            ["outcome"], registry=self.registry)
        for outcome in RunOutcome:  # every outcome shows from the start, at 0
            self.runs.labels(outcome=outcome.value)

    def observe_result(self, post: ResultPost, *, queue: str, stored: bool) -> None:
        """Count a result the API stored now (a duplicate or stale post is not a new run)."""
        if not stored:
            return
        outcome = RunOutcome(post.run.outcome).value
        self.runs.labels(outcome=outcome).inc()
        self.grading.labels(queue=queue, outcome=outcome).observe(post.run.wall_seconds)


class LatencyMiddleware:
    """Pure ASGI: times every HTTP request and labels it with the route's template (not the raw path)."""

    def __init__(self, app: ASGIApp, *, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send)
        finally:
            route = getattr(scope.get("route"), "path_format", None) or getattr(scope.get("route"), "path", None)
            method = scope["method"] if scope["method"] in METHODS else "OTHER"
            self.metrics.latency.labels(route=route or UNMATCHED, method=method).observe(time.perf_counter() - started)


def get_metrics(request: Request) -> ApiMetrics:
    return request.app.state.metrics


MetricsDep = Annotated[ApiMetrics, Depends(get_metrics)]


def _authorise(request: Request, settings: ApiSettings) -> None:
    if not settings.metrics_token:
        if settings.mode == "production":
            raise HTTPException(status.HTTP_403_FORBIDDEN, "Set GRADEFLOW_METRICS_TOKEN to scrape metrics in production.")
        return
    presented = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(presented.encode(), settings.metrics_token.encode()):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "A metrics token is required.",
                            headers={"WWW-Authenticate": "Bearer"})


def install_metrics(app: FastAPI) -> ApiMetrics:
    """Give the app its registry, the latency middleware, the queue gauges and the /metrics endpoint."""
    settings: ApiSettings = app.state.settings
    metrics = ApiMetrics()
    metrics.registry.register(QueueStateCollector(session_factory=app.state.session_factory,
                                                  redis_url=settings.redis_url, ttl_s=settings.metrics_cache_s))
    app.state.metrics = metrics
    app.add_middleware(LatencyMiddleware, metrics=metrics)

    @app.get("/metrics", include_in_schema=False)
    def scrape(request: Request) -> Response:
        _authorise(request, settings)
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return metrics
