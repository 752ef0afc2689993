"""Load shedding: past the in-flight limit a request gets 503 + Retry-After at once; workers keep a reserved
share; probes are never shed."""
import asyncio
import json

import pytest

from gradeflow_api.shedding import InFlight, LoadShedder
from tests.unit.api.test_api import api, login  # noqa: F401  (fixture)


class SlowApp:
    """An ASGI app whose requests stay in flight until released."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.started = 0

    async def __call__(self, scope, receive, send):
        self.started += 1
        await self.release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


async def _call(app, path: str, accept: str = "application/json", method: str = "GET") -> dict:
    sent = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": method, "path": path, "headers": [(b"accept", accept.encode())]}
    await app(scope, receive, send)
    start = sent[0]
    return {"status": start["status"], "headers": dict(start["headers"]), "body": sent[1]["body"]}


def test_requests_past_the_limit_are_shed_with_retry_after_and_workers_keep_their_share():
    async def scenario():
        slow = SlowApp()
        gate = InFlight(limit=4, reserved=2, retry_after_s=3)
        app = LoadShedder(slow, gate=gate)
        held = [asyncio.create_task(_call(app, f"/api/v1/submissions/{n}")) for n in range(2)]
        await asyncio.sleep(0.01)
        assert gate.now == 2 and slow.started == 2

        shed = await asyncio.wait_for(_call(app, "/api/v1/submissions/9"), 1)  # answered at once, not queued
        assert shed["status"] == 503 and shed["headers"][b"retry-after"] == b"3"
        assert json.loads(shed["body"])["detail"] == "The service is busy right now; try again in 3 s."
        page = await asyncio.wait_for(_call(app, "/submissions/9/status", accept="text/html"), 1)
        assert page["status"] == 503 and b"try again in 3 s" in page["body"]

        workers = [asyncio.create_task(_call(app, f"/api/v1/worker/{name}")) for name in ("result", "heartbeat")]
        await asyncio.sleep(0.01)
        assert gate.now == 4 and slow.started == 4  # the reserved share let both workers in
        third = await asyncio.wait_for(_call(app, "/api/v1/worker/result"), 1)  # even workers stop at the limit
        assert third["status"] == 503

        probe = asyncio.create_task(_call(app, "/healthz"))  # never counted, never shed
        await asyncio.sleep(0.01)
        assert slow.started == 5 and gate.now == 4
        slow.release.set()
        results = await asyncio.gather(*held, *workers, probe)
        assert [r["status"] for r in results] == [200] * 5
        assert gate.now == 0 and gate.shed == 3
        assert (await _call(app, "/api/v1/submissions/9"))["status"] == 200  # room again

    asyncio.run(scenario())


def test_status_polls_are_shed_before_uploads_and_pages():
    async def scenario():
        slow = SlowApp()
        gate = InFlight(limit=6, reserved=2, poll_reserved=2)
        app = LoadShedder(slow, gate=gate)
        held = [asyncio.create_task(_call(app, "/api/v1/assignments")) for _ in range(2)]
        await asyncio.sleep(0.01)
        for poll in ("/api/v1/submissions/7", "/submissions/7/status"):
            assert (await asyncio.wait_for(_call(app, poll), 1))["status"] == 503
        upload = asyncio.create_task(_call(app, "/api/v1/assignments/1/submissions", method="POST"))
        page = asyncio.create_task(_call(app, "/submissions/7"))  # the page itself is not a poll
        await asyncio.sleep(0.01)
        assert gate.now == 4
        slow.release.set()
        assert [r["status"] for r in await asyncio.gather(*held, upload, page)] == [200] * 4

    asyncio.run(scenario())


def test_an_app_that_fails_gives_its_slot_back():
    async def boom(scope, receive, send):
        raise RuntimeError("boom")

    async def scenario():
        gate = InFlight(limit=1, reserved=0)
        app = LoadShedder(boom, gate=gate)
        for _ in range(3):
            with pytest.raises(RuntimeError):
                await _call(app, "/api/v1/assignments")
        assert gate.now == 0 and gate.shed == 0

    asyncio.run(scenario())


def test_the_api_sheds_at_its_limit_but_serves_probes_and_workers(api):
    client, _, app = api
    alice = login(client, "alice")
    gate = app.state.in_flight
    assert gate.limit == app.state.settings.max_in_flight
    gate.now = gate.limit - gate.reserved - gate.poll_reserved  # as if that many requests were being served
    assert client.get("/api/v1/submissions/1", headers=alice).status_code == 503  # polls go first
    assert client.get("/api/v1/assignments", headers=alice).status_code == 200
    gate.now = gate.limit - gate.reserved
    r = client.get("/api/v1/assignments", headers=alice)
    assert r.status_code == 503 and r.headers["retry-after"] == str(app.state.settings.retry_after_s)
    assert client.get("/healthz").status_code == 200
    assert client.post("/api/v1/worker/heartbeat", json={"progress": ""}).status_code == 401  # served, not shed
    gate.now = 0
    assert client.get("/api/v1/assignments", headers=alice).status_code == 200
