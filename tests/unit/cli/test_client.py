"""HTTP failures become one-line messages that say what to do."""
from __future__ import annotations

import httpx
import pytest

from gradeflow_cli.app import CliError
from gradeflow_cli.client import Api, detail
from gradeflow_cli.config import Credentials

CREDS = Credentials(api_url="http://api.test", token="tok", username="u")


def api_answering(status: int, body=None, text: str | None = None) -> Api:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["authorization"] == "Bearer tok"
        if text is not None:
            return httpx.Response(status, text=text)
        return httpx.Response(status, json=body)

    return Api(CREDS, transport=httpx.MockTransport(handler))


@pytest.mark.parametrize(("status", "body", "message"), [
    (401, {"detail": "Not signed in."}, "Run `gradeflow login`"),
    (403, {"detail": "Only the course's instructors can do this."}, "Only the course's instructors"),
    (404, {"detail": "No such course."}, "No such course."),
    (422, {"detail": [{"loc": ["body", "due_at"], "msg": "Input should have timezone info"}]},
     "due_at: Input should have timezone info"),
    (422, {"detail": {"message": "Some rows are wrong", "report": {}}}, "Some rows are wrong"),
    (500, {"detail": "boom"}, "failed (500)"),
])
def test_errors_become_messages(status, body, message):
    with pytest.raises(CliError) as info:
        api_answering(status, body).get("/courses")
    assert message in info.value.message


def test_plain_text_errors():
    with pytest.raises(CliError, match="bad gateway"):
        api_answering(502, text="bad gateway").get("/x")


def test_allowed_codes_and_raw_responses():
    response = api_answering(401, {"detail": "Wrong username or password."}).post("/auth/token", raw=True, ok=(401,))
    assert response.status_code == 401 and detail(response) == "Wrong username or password."


def test_success_returns_json_or_none():
    assert api_answering(200, {"a": 1}).get("/x") == {"a": 1}
    assert api_answering(204, text="").delete("/x") is None


def test_unreachable_api_is_explained():
    def handler(request):
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(CliError, match="Cannot reach the gradeflow API at http://api.test"):
        Api(CREDS, transport=httpx.MockTransport(handler)).get("/x")


def test_not_signed_in():
    with pytest.raises(CliError, match="Not signed in"):
        Api(Credentials())


def test_course_resolution(monkeypatch):
    monkeypatch.delenv("GRADEFLOW_COURSE", raising=False)
    client = api_answering(200, [{"id": 3, "slug": "toy"}])
    assert client.course("given") == "given"
    with pytest.raises(CliError, match="Which course"):
        client.course(None)
    monkeypatch.setenv("GRADEFLOW_COURSE", "envc")
    assert client.course(None) == "envc"
    assert client.assignment("c1", "toy")["id"] == 3 and client.assignment("c1", "3")["slug"] == "toy"
    with pytest.raises(CliError, match="it has: toy"):
        client.assignment("c1", "nope")
