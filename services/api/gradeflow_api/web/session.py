"""Signed session cookies and CSRF tokens for the web pages (no framework here: plain functions, unit-tested).

A cookie value is `base64(json payload) . hmac-sha256`; the payload holds the user id (None before login), a
random nonce, the time it was issued and a fingerprint of the user's password hash (so changing a password
ends every session). The CSRF token of a session is an HMAC of its nonce: it needs no server-side storage,
changes at every login, and cannot be computed without the secret.

A signed-in session's nonce is also its server-side token (gradeflow_core.web_sessions): the `web_sessions` row
keyed by its sha256 must be live for the cookie to sign anyone in, so logout and revocation end it at once. An
anonymous session (the login form's CSRF token) stays cookie-only.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass, replace

from gradeflow_core.web_sessions import new_token

COOKIE_NAME = "gradeflow_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


@dataclass(frozen=True)
class WebSession:
    """What the cookie carries."""

    user_id: int | None
    nonce: str
    issued_at: int
    fingerprint: str = ""

    def signed_in_as(self, user_id: int, fingerprint: str) -> WebSession:
        """A fresh session for a user who just logged in (a new nonce: no fixation, a new CSRF token)."""
        return replace(new_session(), user_id=user_id, nonce=new_token(), fingerprint=fingerprint)


def new_session() -> WebSession:
    """An anonymous session (it carries the CSRF token of the login form)."""
    return WebSession(user_id=None, nonce=secrets.token_urlsafe(16), issued_at=int(time.time()))


def _key(purpose: str, secret: str) -> bytes:
    return hashlib.sha256(f"gradeflow-web:{purpose}:".encode() + secret.encode()).digest()


def _mac(purpose: str, secret: str, message: str) -> str:
    return hmac.new(_key(purpose, secret), message.encode(), hashlib.sha256).hexdigest()


def password_fingerprint(password_hash: str) -> str:
    """A short digest of the stored hash: a session ends when the password changes."""
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


def encode_session(session: WebSession, *, secret: str) -> str:
    payload = json.dumps([session.user_id, session.nonce, session.issued_at, session.fingerprint],
                         separators=(",", ":"))
    body = base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")
    return f"{body}.{_mac('session', secret, body)}"


def decode_session(value: str, *, secret: str, max_age_s: int, now: float | None = None) -> WebSession | None:
    """The session in a genuine, unexpired cookie value; None for anything else."""
    body, _, signature = (value or "").partition(".")
    if not body or not hmac.compare_digest(signature, _mac("session", secret, body)):
        return None
    try:
        user_id, nonce, issued_at, fingerprint = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except (ValueError, TypeError, binascii.Error):
        return None
    if not isinstance(nonce, str) or not isinstance(issued_at, int) or not isinstance(fingerprint, str):
        return None
    if user_id is not None and not isinstance(user_id, int):
        return None
    now = time.time() if now is None else now
    if not 0 <= now - issued_at <= max_age_s:
        return None
    return WebSession(user_id=user_id, nonce=nonce, issued_at=issued_at, fingerprint=fingerprint)


def csrf_token(session: WebSession, *, secret: str) -> str:
    """The token every form of this session must send back."""
    return _mac("csrf", secret, session.nonce)


def csrf_ok(session: WebSession | None, token: str | None, *, secret: str) -> bool:
    if session is None or not token:
        return False
    return hmac.compare_digest(token, csrf_token(session, secret=secret))


def safe_next(target: str | None, default: str = "/") -> str:
    """Only a path on this site may be a redirect target after login (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    if any(ord(c) < 32 for c in target):
        return default
    return target


_BROWSERS = (("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("Chromium/", "Chromium"),
             ("Chrome/", "Chrome"), ("Safari/", "Safari"))
_SYSTEMS = (("Android", "Android"), ("iPhone", "iPhone"), ("iPad", "iPad"), ("Windows", "Windows"),
            ("Mac OS X", "macOS"), ("CrOS", "ChromeOS"), ("Linux", "Linux"))


def browser_label(user_agent: str) -> str:
    """A short human name for a User-Agent ("Firefox on Linux"), for the list of a user's sessions."""
    browser = next((name for marker, name in _BROWSERS if marker in user_agent), "")
    system = next((name for marker, name in _SYSTEMS if marker in user_agent), "")
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or "Unknown browser"
