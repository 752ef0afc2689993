"""Web sessions over HTTP: logout ends a copied cookie, the idle limit, throttled last-seen writes, the account
page and "sign out everywhere"."""
from datetime import timedelta

from fastapi.testclient import TestClient

from gradeflow_core.models import WebSessionRecord
from gradeflow_api.web.session import COOKIE_NAME, browser_label
from tests.unit.api.web.test_pages import app, client, csrf_of, sign_in  # noqa: F401 (fixtures)

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:130.0) Gecko/20100101 Firefox/130.0"


def only_row(app) -> WebSessionRecord:
    with app.state.session_factory() as session:
        return session.query(WebSessionRecord).one()


def age_session(app, *, minutes: float) -> None:
    """Pretend the session was last used `minutes` ago (and started then)."""
    with app.state.session_factory() as session:
        record = session.query(WebSessionRecord).one()
        record.last_seen_at -= timedelta(minutes=minutes)
        record.created_at -= timedelta(minutes=minutes)
        session.commit()


def test_a_cookie_copied_before_logout_signs_nobody_in_afterwards(client, app):
    sign_in(client, "alice")
    copied = client.cookies[COOKIE_NAME]
    token = csrf_of(client.get("/history").text)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 303
    with TestClient(app, follow_redirects=False) as thief:
        thief.cookies.set(COOKIE_NAME, copied)
        r = thief.get("/history")
        assert r.status_code == 303 and r.headers["location"].startswith("/login")
    assert only_row(app).revoked_at is not None


def test_a_session_unused_past_the_idle_limit_ends(client, app):
    sign_in(client, "alice")
    idle = app.state.settings.session_idle_minutes
    age_session(app, minutes=idle - 5)
    assert client.get("/history").status_code == 200  # still within the limit; the request renews it
    age_session(app, minutes=idle + 1)
    r = client.get("/history")
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_last_seen_is_written_at_most_once_a_minute(client, app):
    sign_in(client, "alice")
    first = only_row(app).last_seen_at
    for _ in range(3):
        assert client.get("/history").status_code == 200
    assert only_row(app).last_seen_at == first  # polling within the minute writes nothing
    age_session(app, minutes=2)
    assert client.get("/history").status_code == 200
    assert only_row(app).last_seen_at >= first  # older than a minute: written again


def test_a_revoked_cookie_gets_a_fresh_login_form_and_can_sign_in_again(client, app):
    sign_in(client, "alice")
    token = csrf_of(client.get("/history").text)
    copied = client.cookies[COOKIE_NAME]
    client.post("/logout", data={"csrf_token": token})
    with TestClient(app, follow_redirects=False) as again:
        again.cookies.set(COOKIE_NAME, copied, domain="testserver.local")  # where the server's own cookie goes
        form = again.get("/login")
        assert form.status_code == 200 and form.headers.get("set-cookie", "").startswith(COOKIE_NAME + "=")
        assert again.get("/history").status_code == 303
        assert sign_in(again, "alice") == "/"  # the replaced cookie carries a working login form
        assert again.get("/history").status_code == 200


def test_the_account_page_lists_sessions_and_signs_out_everywhere(client, app):
    sign_in(client, "alice")
    with TestClient(app, follow_redirects=False, headers={"User-Agent": FIREFOX}) as other:
        sign_in(other, "alice")
        page = client.get("/account")
        assert page.status_code == 200
        assert "Firefox on Linux" in page.text and "(this browser)" in page.text and page.text.count("<tr") == 3
        assert client.post("/account/sign-out-everywhere").status_code == 403  # CSRF checked
        r = client.post("/account/sign-out-everywhere", data={"csrf_token": csrf_of(page.text)})
        assert r.status_code == 303 and r.headers["location"] == "/login"
        assert other.get("/history").status_code == 303
        assert client.get("/account").status_code == 303


def test_the_account_page_needs_a_session(client):
    r = client.get("/account")
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/account"


def test_browser_labels():
    assert browser_label(FIREFOX) == "Firefox on Linux"
    chrome_android = "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/131.0 Mobile Safari/537.36"
    assert browser_label(chrome_android) == "Chrome on Android"
    assert browser_label("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) Version/17.0 Safari/605.1.15") == "Safari on macOS"
    assert browser_label("curl/8.0") == "Unknown browser" and browser_label("") == "Unknown browser"
