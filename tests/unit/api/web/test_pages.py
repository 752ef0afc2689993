"""The pages over HTTP with a fake queue: login, cookies, CSRF, access, errors as pages, the API untouched."""
import re

import pytest
from fastapi.testclient import TestClient

from gradeflow_api.main import create_app
from gradeflow_api.queue import ListEnqueuer
from gradeflow_core.migrate import upgrade
from gradeflow_core.models import Submission, User
from gradeflow_core.security import hash_password
from gradeflow_api.settings import ApiSettings
from gradeflow_api.web.session import COOKIE_NAME
from tests.db_helpers import make_course

SECRET = "unit-test-secret-0123456789abcdef"


@pytest.fixture
def app(tmp_path):
    settings = ApiSettings(var_dir=tmp_path / "var", secret_key=SECRET, max_upload_bytes=20_000)
    settings.var_dir.mkdir()
    upgrade(settings.effective_database_url)
    app = create_app(settings, enqueuer=ListEnqueuer(), sweeper=False)
    with app.state.session_factory() as session:
        make_course(session, app.state.blobs, tmp_path / "toy")
        session.commit()
    return app


@pytest.fixture
def client(app):
    with TestClient(app, follow_redirects=False) as client:
        yield client


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([0-9a-f]{64})"', html).group(1)


def sign_in(client, name: str, next_url: str = "/") -> str:
    token = csrf_of(client.get("/login").text)
    r = client.post("/login", data={"username": name, "password": "pw-" + name, "csrf_token": token, "next": next_url})
    assert r.status_code == 303, r.text
    return r.headers["location"]


def test_pages_need_a_session_and_send_you_back_after_login(client):
    r = client.get("/assignments/1?tab=x")
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/assignments/1%3Ftab%3Dx"
    assert sign_in(client, "alice", "/assignments/1") == "/assignments/1"
    assert client.get("/assignments/1").status_code == 200


def test_the_session_cookie_is_http_only_and_same_site_lax(client):
    client.get("/login")
    token = csrf_of(client.get("/login").text)
    r = client.post("/login", data={"username": "alice", "password": "pw-alice", "csrf_token": token})
    cookie = r.headers["set-cookie"]
    assert cookie.startswith(COOKIE_NAME + "=") and "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
    assert "Secure" not in cookie  # plain HTTP in development; production mode or HTTPS adds it


def test_login_needs_the_csrf_token_of_the_login_form(client):
    client.get("/login")
    r = client.post("/login", data={"username": "alice", "password": "pw-alice"})
    assert r.status_code == 403 and "Form refused" in r.text
    r = client.post("/login", data={"username": "alice", "password": "pw-alice", "csrf_token": "0" * 64})
    assert r.status_code == 403


def test_wrong_password_is_a_message(client):
    token = csrf_of(client.get("/login").text)
    r = client.post("/login", data={"username": "alice", "password": "nope", "csrf_token": token})
    assert r.status_code == 401 and "Wrong username or password." in r.text


def test_an_open_redirect_after_login_is_refused(client):
    assert sign_in(client, "alice", "https://evil.example/") == "/"


def test_every_post_checks_the_token_and_the_token_changes_at_login(client, app):
    anonymous_token = csrf_of(client.get("/login").text)
    sign_in(client, "alice")
    page = client.get("/assignments/1").text
    token = csrf_of(page)
    assert token != anonymous_token
    files = {"file": ("a.py", b"answer = 42\n")}
    assert client.post("/assignments/1/submissions", files=files).status_code == 403
    assert client.post("/assignments/1/submissions", files=files, data={"csrf_token": anonymous_token}).status_code == 403
    r = client.post("/assignments/1/submissions", files=files, data={"csrf_token": token})
    assert r.status_code == 303 and r.headers["location"] == "/submissions/1"
    assert client.post("/assignments/1/submissions", files=files, headers={"X-CSRF-Token": token}).status_code == 303
    assert client.post("/logout").status_code == 403
    assert client.post("/logout", data={"csrf_token": token}).status_code == 303
    assert client.get("/history").status_code == 303  # signed out


def test_a_changed_password_ends_the_session(client, app):
    sign_in(client, "alice")
    assert client.get("/history").status_code == 200
    with app.state.session_factory() as session:
        session.query(User).filter_by(username="alice").one().password_hash = hash_password("new-password")
        session.commit()
    assert client.get("/history").status_code == 303


def test_a_refused_upload_is_shown_on_the_page_and_nothing_is_stored(client, app):
    sign_in(client, "alice")
    token = csrf_of(client.get("/assignments/1").text)
    r = client.post("/assignments/1/submissions", files={"file": ("a.exe", b"x")}, data={"csrf_token": token})
    assert r.status_code == 422 and "unknown extension" in r.text and "<form" in r.text
    r = client.post("/assignments/1/submissions", files={"file": ("a.py", b"x" * 30_000)}, data={"csrf_token": token})
    assert r.status_code == 413 and "the limit is" in r.text
    with app.state.session_factory() as session:
        assert session.query(Submission).count() == 0


def test_students_see_only_their_own_submissions_and_no_staff_pages(client):
    sign_in(client, "alice")
    token = csrf_of(client.get("/assignments/1").text)
    client.post("/assignments/1/submissions", files={"file": ("a.py", b"answer = 42\n")}, data={"csrf_token": token})
    assert "answer = 42" in client.get("/submissions/1").text
    client.cookies.clear()
    sign_in(client, "bob")
    r = client.get("/submissions/1")
    assert r.status_code == 404 and "There is no such submission." in r.text and "Traceback" not in r.text
    assert client.get("/submissions/1/status").status_code == 404
    assert client.get("/submissions/1/file").status_code == 404
    assert client.get("/courses/1/queue").status_code == 403
    assert client.get("/courses/99").status_code == 404
    client.cookies.clear()
    sign_in(client, "tina")
    staff = client.get("/submissions/1").text
    assert "alice" in staff and "Full log" in staff


def test_the_status_fragment_polls_until_final(client):
    sign_in(client, "alice")
    token = csrf_of(client.get("/assignments/1").text)
    client.post("/assignments/1/submissions", files={"file": ("a.py", b"answer = 42\n")}, data={"csrf_token": token})
    fragment = client.get("/submissions/1/status").text
    assert 'hx-get="/submissions/1/status"' in fragment and "number 1" in fragment and "<html" not in fragment


def test_an_expired_session_on_a_polled_fragment_asks_htmx_to_go_to_login(client):
    r = client.get("/submissions/1/status", headers={"HX-Request": "true"})
    assert r.status_code == 204 and r.headers["HX-Redirect"].startswith("/login?next=")


def test_pages_carry_a_strict_content_security_policy(client):
    r = client.get("/login")
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "<script>" not in r.text  # no inline scripts anywhere


def test_the_api_keeps_json_errors_and_bearer_tokens(client):
    assert client.get("/api/v1/assignments").json()["detail"].startswith("Not signed in")
    assert client.get("/api/v1/nope").json() == {"detail": "Not Found"}
    token = client.post("/api/v1/auth/token", data={"username": "alice", "password": "pw-alice"}).json()["access_token"]
    assert client.get("/api/v1/assignments", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    sign_in(client, "alice")  # a session cookie is not an API credential
    client.headers.pop("Authorization", None)
    assert client.get("/api/v1/assignments").status_code == 401


def test_unknown_pages_are_html_for_browsers(client):
    r = client.get("/no/such/page", headers={"Accept": "text/html"})
    assert r.status_code == 404 and "There is no such page." in r.text
    r = client.get("/courses/abc", headers={"Accept": "text/html"})
    assert r.status_code in (303, 422)


@pytest.mark.parametrize("path", ["/courses/{big}", "/assignments/{big}", "/submissions/{big}",
                                  "/submissions/{big}/status"])
def test_an_id_too_large_for_the_database_is_a_page_saying_so_not_a_500(client, path):
    sign_in(client, "alice")
    r = client.get(path.format(big=10**20))
    assert r.status_code == 422 and "wrong value" in r.text
