"""Password hashing, user bearer tokens and per-attempt worker tokens."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def make_user_token(*, user_id: int, secret: str, minutes: int) -> str:
    now = datetime.now(UTC)
    claims = {"sub": str(user_id), "iat": now, "exp": now + timedelta(minutes=minutes), "typ": "user"}
    return jwt.encode(claims, secret, algorithm="HS256")


def read_user_token(token: str, *, secret: str) -> int | None:
    """The user id in a valid token, or None."""
    try:
        claims = jwt.decode(token, secret, algorithms=["HS256"])
    except jwt.PyJWTError:
        return None
    if claims.get("typ") != "user":
        return None
    try:
        return int(claims["sub"])
    except (KeyError, ValueError):
        return None


def _sign(payload: bytes, secret: str) -> str:
    key = hashlib.sha256(b"attempt:" + secret.encode()).digest()
    return hmac.new(key, payload, hashlib.sha256).hexdigest()


def make_attempt_token(*, submission_id: int, attempt: int, secret: str) -> str:
    """A token naming one (submission, attempt); the API checks the attempt is current."""
    payload = base64.urlsafe_b64encode(json.dumps([submission_id, attempt]).encode()).decode()
    return f"{payload}.{_sign(payload.encode(), secret)}"


def read_attempt_token(token: str, *, secret: str) -> tuple[int, int] | None:
    """(submission_id, attempt) from a genuine token, else None."""
    payload, _, signature = token.partition(".")
    if not payload or not hmac.compare_digest(signature, _sign(payload.encode(), secret)):
        return None
    try:
        submission_id, attempt = json.loads(base64.urlsafe_b64decode(payload.encode()))
        return int(submission_id), int(attempt)
    except (ValueError, TypeError):
        return None
