"""The worker's only way to the service: HTTP to the API with the attempt's token.

Every call rides out a short API outage (a restart, a deploy, a proxy hiccup): transient failures are retried
with exponential backoff and jitter for a bounded total time; refusals (4xx) never are. Requests and replies
are the protocol's models, validated on the way in and out; the paths are the protocol's.
"""
from __future__ import annotations

import email.utils
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from gradeflow_protocol.messages import (MAX_PROGRESS_CHARS, MAX_RELEASE_ERROR_CHARS, MAX_WORKER_NAME_CHARS, ClaimBody,
                                         GradeTask, HeartbeatBody, HeartbeatReply, JobSpec, Refusal, ReleaseBody,
                                         ReleaseReply, ResultPost, ResultReply)
from gradeflow_protocol.paths import WorkerPath

log = logging.getLogger(__name__)
Reply = TypeVar("Reply", bound=BaseModel)

TRANSIENT_STATUS = frozenset({502, 503, 504})  # a proxy or the API itself says "not now"
# connection refused or reset, a timeout, a connection closed mid-reply: the API may be restarting
TRANSIENT_ERRORS = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)


class Refused(Exception):
    """The API says this attempt must not run (graded, superseded, busy elsewhere, out of runs)."""


class ApiUnavailable(Exception):
    """The API could not be reached (or kept answering 'not now') for the whole retry budget."""


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter on transient failures, within a total budget.

    The longest pause stays well under the API's default sweep interval (10 s), so once the API is back a
    heartbeat or a result lands before its sweeper judges the worker silent.
    """

    budget_s: float = 60.0  # total time spent retrying one call; 0: a single try
    first_delay_s: float = 0.25
    max_delay_s: float = 4.0
    multiplier: float = 2.0
    min_attempt_timeout_s: float = 1.0  # a retry near the end of the budget still gets this long to answer

    def backoff(self, retry: int, rng: Callable[[], float]) -> float:
        """The pause before retry number `retry` (0-based): half the ceiling plus up to as much again at random,
        so workers that lost the API together do not come back together, and none hammers it."""
        ceiling = min(self.max_delay_s, self.first_delay_s * self.multiplier ** retry)
        return ceiling * (0.5 + 0.5 * rng())


def retry_after_s(response: httpx.Response, *, now: Callable[[], datetime] = lambda: datetime.now(UTC)
                  ) -> float | None:
    """The pause a Retry-After header asks for (seconds or an HTTP date), or None when absent or unreadable."""
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now()).total_seconds())


class ApiClient:
    """The worker's calls for one attempt, authorised by the attempt's token."""

    def __init__(self, base_url: str, task: GradeTask, *, timeout: float = 30.0, retry: RetryPolicy = RetryPolicy(),
                 transport: httpx.BaseTransport | None = None, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic, rng: Callable[[], float] = random.random) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=timeout, transport=transport,
                                 headers={"Authorization": f"Bearer {task.token}"})
        self.timeout, self.retry = timeout, retry
        self.sleep, self.clock, self.rng = sleep, clock, rng

    def claim(self, worker: str) -> JobSpec:
        return self._call("POST", WorkerPath.CLAIM, JobSpec, body=ClaimBody(worker=worker[:MAX_WORKER_NAME_CHARS]))

    def submission_file(self) -> bytes:
        return self._send("GET", WorkerPath.SUBMISSION_FILE).content

    def bundle(self) -> bytes:
        return self._send("GET", WorkerPath.BUNDLE).content

    def heartbeat(self, progress: str, *, budget_s: float | None = None) -> bool:
        """False when the API says the attempt no longer runs here. `budget_s` shortens the retry budget: a beat
        that cannot get through is overtaken by the next one."""
        body = HeartbeatBody(progress=progress[:MAX_PROGRESS_CHARS])
        return self._call("POST", WorkerPath.HEARTBEAT, HeartbeatReply, body=body, budget_s=budget_s).ok

    def post_result(self, result: ResultPost) -> bool:
        """True when stored now, False for a duplicate (a retry of a post that got through is one)."""
        return self._call("POST", WorkerPath.RESULT, ResultReply, body=result).stored

    def release(self, error: str) -> bool:
        body = ReleaseBody(error=error[:MAX_RELEASE_ERROR_CHARS])
        return self._call("POST", WorkerPath.RELEASE, ReleaseReply, body=body).requeued

    def close(self) -> None:
        self.http.close()

    def _call(self, method: str, path: WorkerPath, reply: type[Reply], *, body: BaseModel,
              budget_s: float | None = None) -> Reply:
        response = self._send(method, path, body=body, budget_s=budget_s)
        return reply.model_validate_json(response.content)

    def _send(self, method: str, path: WorkerPath, *, body: BaseModel | None = None,
              budget_s: float | None = None) -> httpx.Response:
        """One call, retried through transient failures; raises Refused (409), ApiUnavailable or HTTPStatusError."""
        content = body.model_dump_json().encode() if body is not None else None
        headers = {"Content-Type": "application/json"} if body is not None else None
        deadline = self.clock() + (self.retry.budget_s if budget_s is None else budget_s)
        retry = 0
        while True:
            timeout = max(min(self.timeout, deadline - self.clock()), self.retry.min_attempt_timeout_s)
            try:
                response = self.http.request(method, path.url, content=content, headers=headers, timeout=timeout)
            except TRANSIENT_ERRORS as exc:
                reason, pause = f"{type(exc).__name__}: {exc}", self.retry.backoff(retry, self.rng)
            else:
                if response.status_code not in TRANSIENT_STATUS:
                    return _checked(response)
                asked = retry_after_s(response) if response.status_code == 503 else None
                reason = f"HTTP {response.status_code}"
                pause = max(asked or 0.0, self.retry.backoff(retry, self.rng))  # never sooner than asked, nor at once
                if asked is not None and asked > deadline - self.clock():  # not before the budget ends: stop now
                    self.sleep(max(0.0, deadline - self.clock()))  # ... having waited, so a redelivery cannot spin
                    raise ApiUnavailable(f"{path.url}: {reason}, retry after {asked:.0f} s is past the budget")
            remaining = deadline - self.clock()
            if remaining <= 0:
                raise ApiUnavailable(f"{path.url}: {reason} (gave up after {retry + 1} tries)")
            pause = min(pause, remaining)
            log.log(logging.WARNING if retry == 0 else logging.INFO, "API %s %s: %s; retry %d in %.2f s", method,
                    path.url, reason, retry + 1, pause)
            self.sleep(pause)
            retry += 1


def _checked(response: httpx.Response) -> httpx.Response:
    """A 409 is a Refusal; any other 4xx or 5xx is an error nobody should retry."""
    if response.status_code == 409:
        try:
            detail = Refusal.model_validate_json(response.content).detail
        except ValidationError:
            detail = "refused"
        raise Refused(detail)
    response.raise_for_status()
    return response
