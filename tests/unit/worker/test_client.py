"""The worker's API client rides out transient failures and never retries a refusal (fake transport, fake clock)."""
from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from pydantic import ValidationError

from gradeflow_protocol.messages import GradeTask, ResultPost, RunReport
from gradeflow_worker.client import ApiClient, ApiUnavailable, Refused, RetryPolicy, retry_after_s

TASK = GradeTask(submission_id=7, attempt=1, token="t" * 32)
RESULT = ResultPost(submission_id=7, attempt=1, checks=[], run=RunReport(outcome="completed", wall_seconds=1.0))
POLICY = RetryPolicy(budget_s=60.0, first_delay_s=0.25, max_delay_s=4.0, multiplier=2.0)


class FakeTime:
    """A clock that moves only when the client sleeps or a request takes time."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.sleeps.append(seconds)
        self.now += seconds


class Api:
    """A scripted API: each request takes the next answer (an exception to raise, or a response)."""

    def __init__(self, time: FakeTime, answers: list, *, request_s: float = 0.01) -> None:
        self.time, self.answers, self.request_s = time, list(answers), request_s
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        self.time.now += self.request_s
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


def refused() -> httpx.ConnectError:
    return httpx.ConnectError("[Errno 111] Connection refused")


def ok(body: dict) -> httpx.Response:
    return httpx.Response(200, json=body)


def client_for(answers: list, *, policy: RetryPolicy = POLICY, rng=lambda: 0.5, request_s: float = 0.01):
    time = FakeTime()
    api = Api(time, answers, request_s=request_s)
    client = ApiClient("http://api.test", TASK, retry=policy, transport=httpx.MockTransport(api), sleep=time.sleep,
                       clock=time.clock, rng=rng)
    return client, api, time


def test_connection_refused_is_retried_with_growing_bounded_pauses_until_the_api_answers():
    client, api, time = client_for([refused()] * 8 + [ok({"stored": True})], rng=lambda: 1.0)
    assert client.post_result(RESULT) is True
    assert len(api.requests) == 9 and all(r.content == api.requests[0].content for r in api.requests)
    assert time.sleeps == [0.25, 0.5, 1.0, 2.0, 4.0, 4.0, 4.0, 4.0]  # doubling, then held at the ceiling


def test_jitter_keeps_each_pause_between_half_and_all_of_its_ceiling():
    for rng, first in ((lambda: 0.0, 0.125), (lambda: 1.0, 0.25)):
        client, _, time = client_for([refused()] * 3 + [ok({"ok": True})], rng=rng)
        assert client.heartbeat("running") is True
        assert time.sleeps[0] == pytest.approx(first)
    client, _, time = client_for([refused()] * 30 + [ok({"ok": True})], rng=random.Random(4).random,
                                 policy=RetryPolicy(budget_s=1000.0))
    client.heartbeat("x")
    ceilings = [min(4.0, 0.25 * 2 ** n) for n in range(len(time.sleeps))]
    assert all(c / 2 <= s <= c for s, c in zip(time.sleeps, ceilings))
    assert len(set(time.sleeps)) > 10  # really jittered


def test_the_budget_bounds_the_total_time_then_the_api_is_unavailable():
    client, api, time = client_for([refused()], policy=RetryPolicy(budget_s=20.0))
    with pytest.raises(ApiUnavailable, match="gave up after"):
        client.claim("w")
    assert 20.0 <= time.now <= 20.0 + 0.02  # the last pause is cut to the deadline, one last try after it
    assert sum(time.sleeps) <= 20.0 and max(time.sleeps) <= 4.0
    assert len(api.requests) == len(time.sleeps) + 1 < 20


def test_a_zero_budget_is_a_single_try():
    client, api, time = client_for([refused()], policy=RetryPolicy(budget_s=0))
    with pytest.raises(ApiUnavailable):
        client.bundle()
    assert len(api.requests) == 1 and time.sleeps == []


@pytest.mark.parametrize("error", [httpx.ConnectError("refused"), httpx.ReadError("[Errno 104] Connection reset"),
                                   httpx.ConnectTimeout("slow"), httpx.ReadTimeout("slow"),
                                   httpx.RemoteProtocolError("Server disconnected without sending a response.")],
                         ids=lambda e: type(e).__name__)
def test_every_transient_transport_error_is_retried(error):
    client, api, _ = client_for([error, error, httpx.Response(200, content=b"bytes")])
    assert client.submission_file() == b"bytes"
    assert len(api.requests) == 3


@pytest.mark.parametrize("code", [502, 503, 504])
def test_gateway_and_unavailable_answers_are_retried(code):
    client, api, _ = client_for([httpx.Response(code), ok({"requeued": True})])
    assert client.release("disk full") is True
    assert len(api.requests) == 2


def test_a_409_is_a_refusal_and_is_never_retried():
    client, api, time = client_for([httpx.Response(409, json={"detail": "superseded by a newer attempt"})])
    with pytest.raises(Refused, match="superseded"):
        client.claim("w")
    assert len(api.requests) == 1 and time.sleeps == []
    client, _, _ = client_for([httpx.Response(409, text="<html>not json</html>")])
    with pytest.raises(Refused, match="refused"):
        client.bundle()


@pytest.mark.parametrize("code", [400, 401, 404, 413, 422, 429, 500])
def test_other_client_and_server_errors_are_raised_at_once(code):
    client, api, time = client_for([httpx.Response(code, json={"detail": "no"})])
    with pytest.raises(httpx.HTTPStatusError):
        client.claim("w")
    assert len(api.requests) == 1 and time.sleeps == []


def test_retry_after_is_honoured_instead_of_the_backoff():
    busy = httpx.Response(503, headers={"Retry-After": "7"})
    client, api, time = client_for([busy, busy, ok({"ok": True})])
    assert client.heartbeat("x") is True
    assert time.sleeps == [7.0, 7.0] and len(api.requests) == 3
    client, _, time = client_for([httpx.Response(503, headers={"Retry-After": "0"}), ok({"ok": True})])
    client.heartbeat("x")
    assert time.sleeps == [0.1875]  # "now" still gets the backoff: no tight loop against a struggling API


def test_a_retry_after_past_the_budget_waits_out_the_budget_and_gives_up():
    client, api, time = client_for([httpx.Response(503, headers={"Retry-After": "120"})],
                                   policy=RetryPolicy(budget_s=10.0))
    with pytest.raises(ApiUnavailable, match="retry after 120 s"):
        client.claim("w")
    assert len(api.requests) == 1 and time.now == pytest.approx(10.0)  # no spinning when the message is redelivered


def test_retry_after_reads_seconds_and_http_dates():
    now = datetime(2025, 6, 1, 12, 0, 0, tzinfo=UTC)
    date = (now + timedelta(seconds=30)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert retry_after_s(httpx.Response(503, headers={"Retry-After": "12"})) == 12.0
    assert retry_after_s(httpx.Response(503, headers={"Retry-After": date}), now=lambda: now) == 30.0
    assert retry_after_s(httpx.Response(503, headers={"Retry-After": "soon"})) is None
    assert retry_after_s(httpx.Response(503)) is None


def test_a_heartbeat_retries_for_its_own_short_budget():
    client, api, time = client_for([refused()])
    with pytest.raises(ApiUnavailable):
        client.heartbeat("x", budget_s=1.0)
    assert time.now <= 1.1 and len(api.requests) <= 5


def test_requests_are_the_protocol_models_and_replies_are_validated():
    client, api, _ = client_for([ok({"ok": True})])
    client.heartbeat("p" * 500)
    sent = api.requests[0]
    assert sent.url.path == "/api/v1/worker/heartbeat" and sent.headers["authorization"] == f"Bearer {TASK.token}"
    assert json.loads(sent.content) == {"progress": "p" * 200}  # cut to what the API accepts
    client, api, _ = client_for([ok({"ok": "maybe"})])
    with pytest.raises(ValidationError):
        client.heartbeat("x")
    assert len(api.requests) == 1  # a malformed reply is a bug, not an outage
    client, api, _ = client_for([ok({"stored": True, "surprise": 1})])
    with pytest.raises(ValidationError):
        client.post_result(RESULT)
