"""Load shedding: a bounded number of requests in flight; past it, 503 with Retry-After at once.

Without a bound, a crowd of pollers fills the thread pool and the database pool, every request waits in a
queue that only grows, and all of them time out together (sign-in included). With it, the API serves what
it can at full speed and tells the rest when to come back. Who is shed first:
- status polls (GET /api/v1/submissions/{id}, GET /submissions/{id}/status): they come back by themselves
  within seconds, so they may not take the last `reserved + poll_reserved` slots;
- everything else (uploads, sign-in, pages) may not take the last `reserved`;
- the workers' calls (claims, heartbeats, results) may use every slot, so a crowd cannot keep a result out.
Probes (/healthz, /readyz, /metrics) and static files are neither counted nor shed.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

WORKER_PREFIX = "/api/v1/worker/"
NEVER_SHED = ("/healthz", "/readyz", "/metrics", "/static/")
POLLS = re.compile(r"/api/v1/submissions/\d+|/submissions/\d+/status")


@dataclass
class InFlight:
    """The gate's state: the limit, the slots kept for workers (`reserved`) and, below those, for everything
    but status polls (`poll_reserved`); what is in flight now and how many were shed."""

    limit: int
    reserved: int
    poll_reserved: int = 0
    retry_after_s: int = 2
    now: int = 0
    shed: int = 0

    def admits(self, *, worker: bool, poll: bool = False) -> bool:
        kept = 0 if worker else self.reserved + (self.poll_reserved if poll else 0)
        return self.now < self.limit - kept


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
        poll = scope.get("method") == "GET" and POLLS.fullmatch(path) is not None
        if not gate.admits(worker=path.startswith(WORKER_PREFIX), poll=poll):
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
