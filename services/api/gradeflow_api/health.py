"""Readiness: /readyz answers 200 when the database answers SELECT 1 and Redis answers PING, each within
`readiness_timeout_s`; otherwise 503 naming the dependency that failed. (/healthz, liveness, stays in app.py:
it only says the process answers, so a restart never fixes a database outage.)

The checks run on a small private thread pool: a hung database costs at most its two threads, and /readyz
still answers on time (a check that did not finish counts as failed).
"""
from __future__ import annotations

import concurrent.futures
import logging
from functools import lru_cache
from typing import Literal

from fastapi import APIRouter, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import Engine, text

from gradeflow_api.settings import ApiSettings

router = APIRouter(tags=["ops"])
log = logging.getLogger(__name__)

Check = Literal["ok", "failed", "timed out"]


@lru_cache
def _pool() -> concurrent.futures.ThreadPoolExecutor:
    return concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="readyz")


class ReadinessPublic(BaseModel):
    ready: bool = Field(..., description="true when every dependency answered")
    checks: dict[str, Check] = Field(..., description="dependency (database, redis) -> its verdict")


def check_database(engine: Engine) -> None:
    with engine.connect() as conn:
        conn.execute(text("SELECT 1")).scalar_one()


def check_redis(redis_url: str, timeout_s: float) -> None:
    import redis

    client = redis.Redis.from_url(redis_url, socket_connect_timeout=timeout_s, socket_timeout=timeout_s)
    try:
        if not client.ping():
            raise ConnectionError("PING answered false")
    finally:
        client.close()


def readiness(*, engine: Engine, settings: ApiSettings) -> ReadinessPublic:
    """Run both checks at once and wait at most readiness_timeout_s for them."""
    timeout = settings.readiness_timeout_s
    futures = {"database": _pool().submit(check_database, engine),
               "redis": _pool().submit(check_redis, settings.redis_url, timeout)}
    done, _ = concurrent.futures.wait(futures.values(), timeout=timeout)
    checks: dict[str, Check] = {}
    for name, future in futures.items():
        if future not in done:
            future.cancel()  # still waiting for a thread (others hung): drop it rather than pile up
            checks[name] = "timed out"
        elif future.exception() is not None:
            log.warning("readiness: %s failed: %r", name, future.exception())
            checks[name] = "failed"
        else:
            checks[name] = "ok"
    return ReadinessPublic(ready=all(v == "ok" for v in checks.values()), checks=checks)


@router.get("/readyz", response_model=ReadinessPublic, summary="Readiness: the database and Redis answer",
            responses={503: {"model": ReadinessPublic, "description": "a dependency did not answer in time"}})
def readyz(request: Request) -> JSONResponse:
    verdict = readiness(engine=request.app.state.engine, settings=request.app.state.settings)
    code = status.HTTP_200_OK if verdict.ready else status.HTTP_503_SERVICE_UNAVAILABLE
    return JSONResponse(verdict.model_dump(), status_code=code)
