"""Load shedding: a bounded number of requests in flight; past it, 503 with Retry-After at once.

Without a bound, a crowd of pollers fills the thread pool and the database pool, every request waits in a
queue that only grows, and all of them time out together (sign-in included). With it, the API serves what
it can at full speed and tells the rest when to come back. The workers' calls (results, heartbeats,
claims) may use every slot, everyone else all but `reserved`, so students polling cannot keep a result out;
probes (/healthz, /readyz, /metrics) and static files are neither counted nor shed.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

WORKER_PREFIX = "/api/v1/worker/"
NEVER_SHED = ("/healthz", "/readyz", "/metrics", "/static/")


@dataclass
class InFlight:
    """The gate's state: the limit, the share kept for workers, what is in flight now and what was shed."""

    limit: int
    reserved: int
    retry_after_s: int = 2
    now: int = 0
    shed: int = 0

    def admits(self, *, worker: bool) -> bool:
        return self.now < (self.limit if worker else self.limit - self.reserved)


class LoadShedder:
    """Pure ASGI middleware over `InFlight`. The counter is touched only on the event loop thread, between
    awaits, so it needs no lock."""

    def __init__(self, app: ASGIApp, *, gate: InFlight) -> None:
        self.app = app
        self.gate = gate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not path or path.startswith(NEVER_SHED):
            await self.app(scope, receive, send)
            return
        gate = self.gate
        if not gate.admits(worker=path.startswith(WORKER_PREFIX)):
            gate.shed += 1
            await busy(scope, send, retry_after_s=gate.retry_after_s)
            return
        gate.now += 1
        try:
            await self.app(scope, receive, send)
        finally:
            gate.now -= 1


def busy_message(retry_after_s: int) -> str:
    return f"The service is busy right now; try again in {retry_after_s} s."


async def busy(scope: Scope, send: Send, *, retry_after_s: int) -> None:
    """503 with Retry-After: JSON for the API, a short page for a browser."""
    message = busy_message(retry_after_s)
    accept = dict(scope.get("headers") or []).get(b"accept", b"")
    if b"text/html" in accept:
        body, media = f"<!doctype html><title>Busy</title><p>{message}</p>".encode(), b"text/html; charset=utf-8"
    else:
        body, media = json.dumps({"detail": message}).encode(), b"application/json"
    await send({"type": "http.response.start", "status": 503,
                "headers": [(b"content-type", media), (b"content-length", str(len(body)).encode()),
                            (b"retry-after", str(retry_after_s).encode()), (b"cache-control", b"no-store")]})
    await send({"type": "http.response.body", "body": body})
