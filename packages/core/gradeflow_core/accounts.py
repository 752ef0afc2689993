"""Courses and accounts: course creation, and the one-time invitation tokens that let a new user set a password.

Accounts created by a roster import have no usable password (an empty hash never verifies). The import
report carries an invitation token per such account; `POST /api/v1/auth/set-password` (or
`gradeflow account set-password`) exchanges it for a password. A token is signed with the service secret,
expires, and names a fingerprint of the account's current password hash, so it stops working once used.
"""
from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta

import jwt
from sqlalchemy import select
from sqlalchemy.orm import Session

from gradeflow_core.models import Course, User
from gradeflow_core.security import hash_password
from gradeflow_core.web_sessions import revoke_all_for_user

INVITE_DAYS = 14
MIN_PASSWORD = 8
SLUG = re.compile(r"^[a-z][a-z0-9-]{1,63}$")


class AccountError(ValueError):
    """A request about courses or accounts that cannot be done; the message says why."""


def create_course(session: Session, *, slug: str, title: str) -> Course:
    if not SLUG.match(slug):
        raise AccountError("A course slug is 2-64 lowercase letters, digits or dashes, starting with a letter "
                           "(e.g. mathdl-2026).")
    if session.scalar(select(Course.id).where(Course.slug == slug)) is not None:
        raise AccountError(f"A course '{slug}' already exists; pick another slug.")
    course = Course(slug=slug, title=title.strip() or slug)
    session.add(course)
    session.flush()
    return course


def find_course(session: Session, ref: str) -> Course | None:
    """A course by slug, or by numeric id."""
    if ref.isdigit():
        return session.get(Course, int(ref))
    return session.scalar(select(Course).where(Course.slug == ref))


def _fingerprint(password_hash: str) -> str:
    return hashlib.sha256(b"invite:" + password_hash.encode()).hexdigest()[:24]


def make_invite_token(user: User, *, secret: str, days: int = INVITE_DAYS) -> str:
    now = datetime.now(UTC)
    claims = {"sub": str(user.id), "typ": "invite", "fp": _fingerprint(user.password_hash), "iat": now,
              "exp": now + timedelta(days=days)}
    return jwt.encode(claims, secret, algorithm="HS256")


def user_for_invite(session: Session, token: str, *, secret: str) -> User | None:
    """The user an unused, unexpired invitation names, else None."""
    try:
        claims = jwt.decode(token, secret, algorithms=["HS256"])
    except jwt.PyJWTError:
        return None
    if claims.get("typ") != "invite" or not str(claims.get("sub", "")).isdigit():
        return None
    user = session.get(User, int(claims["sub"]))
    if user is None or claims.get("fp") != _fingerprint(user.password_hash):
        return None
    return user


def set_password_with_invite(session: Session, *, token: str, password: str, secret: str) -> User:
    user = user_for_invite(session, token, secret=secret)
    if user is None:
        raise AccountError("This invitation is invalid, expired or already used; ask your instructor for a new one.")
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"Choose a password of at least {MIN_PASSWORD} characters.")
    user.password_hash = hash_password(password)
    revoke_all_for_user(session, user_id=user.id)  # a new password ends every signed-in browser
    session.flush()
    return user
