"""Signed session cookies, CSRF tokens and redirect targets (gradeflow/web/session.py)."""
import base64
import json

import pytest

from gradeflow_api.web.session import (WebSession, csrf_ok, csrf_token, decode_session, encode_session, new_session,
                                   password_fingerprint, safe_next)

SECRET = "unit-secret-0123456789abcdef0123456789"


def signed_in(user_id: int = 7) -> WebSession:
    return new_session().signed_in_as(user_id, password_fingerprint("hash-of-pw"))


def test_a_cookie_round_trips():
    web = signed_in()
    again = decode_session(encode_session(web, secret=SECRET), secret=SECRET, max_age_s=3600)
    assert again == web and again.user_id == 7


@pytest.mark.parametrize("mangle", [
    lambda v: v[:-1] + ("0" if v[-1] != "0" else "1"),  # signature changed
    lambda v: v.split(".")[0],  # no signature
    lambda v: "." + v.split(".")[1],  # no payload
    lambda v: "",
    lambda v: "garbage",
])
def test_a_tampered_cookie_is_refused(mangle):
    assert decode_session(mangle(encode_session(signed_in(), secret=SECRET)), secret=SECRET, max_age_s=3600) is None


def test_changing_the_user_id_breaks_the_signature():
    value = encode_session(signed_in(7), secret=SECRET)
    body, signature = value.split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    payload[0] = 1  # try to become user 1
    forged = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=") + "." + signature
    assert decode_session(forged, secret=SECRET, max_age_s=3600) is None


def test_another_secret_refuses_the_cookie():
    assert decode_session(encode_session(signed_in(), secret=SECRET), secret=SECRET + "x", max_age_s=3600) is None


def test_sessions_expire_and_cannot_come_from_the_future():
    web = signed_in()
    value = encode_session(web, secret=SECRET)
    assert decode_session(value, secret=SECRET, max_age_s=60, now=web.issued_at + 59) is not None
    assert decode_session(value, secret=SECRET, max_age_s=60, now=web.issued_at + 61) is None
    assert decode_session(value, secret=SECRET, max_age_s=60, now=web.issued_at - 10) is None


def test_the_csrf_token_belongs_to_one_session():
    a, b = signed_in(), signed_in()
    token = csrf_token(a, secret=SECRET)
    assert csrf_ok(a, token, secret=SECRET)
    assert not csrf_ok(b, token, secret=SECRET)  # another session's token
    assert not csrf_ok(a, token, secret=SECRET + "x")
    assert not csrf_ok(a, "", secret=SECRET) and not csrf_ok(a, None, secret=SECRET)
    assert not csrf_ok(None, token, secret=SECRET)


def test_logging_in_starts_a_new_session_with_a_new_token():
    anonymous = new_session()
    user = anonymous.signed_in_as(3, "fp")
    assert user.nonce != anonymous.nonce and user.user_id == 3
    assert csrf_token(user, secret=SECRET) != csrf_token(anonymous, secret=SECRET)


def test_the_password_fingerprint_changes_with_the_hash():
    assert password_fingerprint("a") != password_fingerprint("b") and len(password_fingerprint("a")) == 16


@pytest.mark.parametrize(("target", "expected"), [
    ("/assignments/1", "/assignments/1"), ("/history?x=1", "/history?x=1"), (None, "/"), ("", "/"),
    ("https://evil.example/", "/"), ("//evil.example/", "/"), ("/\\evil.example", "/"), ("javascript:alert(1)", "/"),
    ("/ok\r\nSet-Cookie: x", "/"),
])
def test_only_local_paths_are_redirect_targets(target, expected):
    assert safe_next(target) == expected
