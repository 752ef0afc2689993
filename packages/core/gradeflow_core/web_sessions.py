"""Signed-in browser sessions kept server-side, so that they can be ended (no web framework here).

The browser's cookie carries a random token; the `web_sessions` row holds only its sha256, so a leaked
database does not sign anyone in. A session is valid while its row exists, is not revoked, has not reached its
absolute end (`expires_at`) and has seen a request within the idle limit. Logout revokes one session; a
password change, the user's removal from a course and "sign out everywhere" revoke all of a user's sessions.

`last_seen_at` is written at most once a minute per session (`TOUCH_EVERY`), so pages that poll do not write
on every request; the idle limit is therefore honoured to within that minute.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from gradeflow_core.models import WebSessionRecord, utcnow

TOUCH_EVERY = timedelta(minutes=1)
MAX_USER_AGENT = 300  # the column's width


def new_token() -> str:
    """A fresh random session token (what the cookie carries; 256 bits)."""
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """The row id of a token: its sha256, hex."""
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(session: Session, *, user_id: int, token: str, lifetime: timedelta, user_agent: str = "",
                  now: datetime | None = None) -> WebSessionRecord:
    """Record a new signed-in session for `token`; the user's dead sessions (ended or revoked) are cleared out."""
    now = now or utcnow()
    session.execute(delete(WebSessionRecord).where(
        WebSessionRecord.user_id == user_id,
        or_(WebSessionRecord.revoked_at.is_not(None), WebSessionRecord.expires_at <= now)))
    record = WebSessionRecord(id=token_digest(token), user_id=user_id, created_at=now, last_seen_at=now,
                              expires_at=now + lifetime, user_agent=user_agent[:MAX_USER_AGENT])
    session.add(record)
    session.flush()
    return record


def is_live(record: WebSessionRecord, *, idle: timedelta, now: datetime | None = None) -> bool:
    """Not revoked, before its absolute end, and used within the idle limit."""
    now = now or utcnow()
    return record.revoked_at is None and now < record.expires_at and now - record.last_seen_at <= idle


def find_valid(session: Session, *, token: str, idle: timedelta, now: datetime | None = None
               ) -> WebSessionRecord | None:
    """The live session of `token`, or None (unknown, revoked, expired or idle too long)."""
    if not token:
        return None
    record = session.get(WebSessionRecord, token_digest(token))
    return record if record is not None and is_live(record, idle=idle, now=now) else None


def needs_touch(record: WebSessionRecord, *, now: datetime | None = None) -> bool:
    """Whether `last_seen_at` is old enough to be written again (at most once per TOUCH_EVERY)."""
    return (now or utcnow()) - record.last_seen_at >= TOUCH_EVERY


def touch(session: Session, *, session_id: str, now: datetime | None = None) -> bool:
    """Note a request on a live session; writes only when `last_seen_at` is older than TOUCH_EVERY and the
    session is still unrevoked. True when a row was written."""
    now = now or utcnow()
    result = session.execute(update(WebSessionRecord)
                             .where(WebSessionRecord.id == session_id, WebSessionRecord.revoked_at.is_(None),
                                    WebSessionRecord.last_seen_at <= now - TOUCH_EVERY)
                             .values(last_seen_at=now))
    return result.rowcount > 0


def revoke(session: Session, *, token: str, now: datetime | None = None) -> bool:
    """End the session of `token` (logout); True when a live row was revoked."""
    result = session.execute(update(WebSessionRecord)
                             .where(WebSessionRecord.id == token_digest(token), WebSessionRecord.revoked_at.is_(None))
                             .values(revoked_at=now or utcnow()))
    return result.rowcount > 0


def revoke_all_for_user(session: Session, *, user_id: int, keep_token: str = "", now: datetime | None = None) -> int:
    """End every session of a user (sign out everywhere, password change, removal), except `keep_token`'s when
    given; returns how many were revoked."""
    statement = (update(WebSessionRecord)
                 .where(WebSessionRecord.user_id == user_id, WebSessionRecord.revoked_at.is_(None))
                 .values(revoked_at=now or utcnow()))
    if keep_token:
        statement = statement.where(WebSessionRecord.id != token_digest(keep_token))
    return session.execute(statement).rowcount


def active_sessions(session: Session, *, user_id: int, idle: timedelta, now: datetime | None = None
                    ) -> list[WebSessionRecord]:
    """A user's live sessions, the most recently used first."""
    now = now or utcnow()
    rows = session.scalars(select(WebSessionRecord)
                           .where(WebSessionRecord.user_id == user_id, WebSessionRecord.revoked_at.is_(None),
                                  WebSessionRecord.expires_at > now)
                           .order_by(WebSessionRecord.last_seen_at.desc()))
    return [row for row in rows if is_live(row, idle=idle, now=now)]
