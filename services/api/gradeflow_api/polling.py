"""What makes a status poll cheap: a validator computed from the submission's row (ETag, 304 without building
the answer) and queue positions read from one ordered scan per queue per interval instead of a count per poll.

A thousand students watching their submissions send a poll each every second or two; most find nothing new.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
import threading
import time
from functools import lru_cache

from sqlalchemy import Engine, Select, bindparam, select
from sqlalchemy.orm import Session

from gradeflow_core.grading import queue_position
from gradeflow_core.models import Assignment, Enrollment, Submission, User
from gradeflow_core.security import read_user_token
from gradeflow_protocol.enums import Role, SubmissionStatus

# The browser may keep the answer but must ask again each time, sending If-None-Match; staff views (full logs)
# are never stored.
REVALIDATE = "private, no-cache"
NEVER_STORE = "no-store"
_VERSION = "1"  # bump when what a poll shows starts depending on something else


def submission_etag(submission, *, staff: bool, extra: tuple = ()) -> str:
    """A weak ETag of everything a poll shows of `submission` (a Submission, or a row of `peek`'s query with
    the same columns). It covers every column the answer reads; once graded, the feedback is the result of
    `attempt`, which is stored once and never changes."""
    graded_at = submission.graded_at.isoformat() if submission.graded_at else ""
    parts = (_VERSION, submission.id, submission.user_id, submission.status.value, submission.attempt,
             submission.runs, submission.progress, submission.score, submission.max_score, graded_at,
             submission.worker, submission.error, staff, *extra)
    return 'W/"' + hashlib.blake2b(repr(parts).encode(), digest_size=12).hexdigest() + '"'


def not_modified(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110's weak comparison of an If-None-Match header against the current ETag."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    mine = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == mine for tag in if_none_match.split(","))


def poll_headers(etag: str, *, staff: bool) -> dict[str, str]:
    return {"ETag": etag, "Cache-Control": NEVER_STORE if staff else REVALIDATE}


class VerifiedTokens:
    """Bearer tokens already verified (signature, claims), kept until they expire: a student's token is
    checked once, not at every poll. Bounded (cleared when full); used on the event loop thread only."""

    def __init__(self, secret: str, size: int = 20_000) -> None:
        self.secret, self.size = secret, size
        self._known: dict[str, tuple[int, float]] = {}

    def user_id(self, token: str | None) -> int | None:
        if not token:
            return None
        known = self._known.get(token)
        if known is not None and known[1] > time.time():
            return known[0]
        user_id = read_user_token(token, secret=self.secret)
        expires = _expiry(token) if user_id is not None else None
        if expires is None:
            return None
        if len(self._known) >= self.size:
            self._known.clear()
        self._known[token] = (user_id, expires)
        return user_id


def _expiry(token: str) -> float | None:
    """The `exp` claim of a token whose signature was just verified."""
    try:
        segment = token.split(".")[1]
        return float(json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))["exp"])
    except (IndexError, KeyError, TypeError, ValueError, binascii.Error):
        return None


class AnswerCache:
    """Serialised answers by ETag, for a poll without If-None-Match of a submission that has not changed (a
    page load, a second viewer): the ETag names everything the answer shows, so one ETag is one answer.
    Bounded by bytes, oldest out first; used on the event loop thread only."""

    def __init__(self, max_bytes: int = 32 * 2**20, max_answer_bytes: int = 256 * 2**10) -> None:
        self.max_bytes, self.max_answer_bytes = max_bytes, max_answer_bytes
        self._answers: dict[str, bytes] = {}
        self._bytes = 0

    def get(self, etag: str) -> bytes | None:
        return self._answers.get(etag)

    def put(self, etag: str, body: bytes) -> None:
        if len(body) > self.max_answer_bytes or etag in self._answers:
            return
        self._answers[etag] = body
        self._bytes += len(body)
        while self._bytes > self.max_bytes:
            self._bytes -= len(self._answers.pop(next(iter(self._answers))))


def shown_columns() -> tuple:
    """The columns of a submission that `submission_etag` reads."""
    return (Submission.id, Submission.user_id, Submission.status, Submission.attempt, Submission.runs,
            Submission.progress, Submission.score, Submission.max_score, Submission.graded_at, Submission.worker,
            Submission.error)


def reader_role(*, is_admin: bool, enrolled: Role | None, owner_id: int, user_id: int) -> Role | None:
    """The caller's role for reading a submission, None when they may not: gradeflow_core.access's
    submission_access rule (tests/unit/api/test_polling.py holds the two to the same answers). An admin is an
    instructor everywhere; staff read any submission of their course; a student, and a former member, their own."""
    role = Role.INSTRUCTOR if is_admin else enrolled
    if role is None and owner_id == user_id:
        role = Role.STUDENT
    if role is None or (not role.is_staff and owner_id != user_id):
        return None
    return role


@lru_cache
def _peek_query() -> Select:
    """The submission's shown columns, the caller (if they exist) and their role in its course: one indexed
    lookup per table, compiled once."""
    uid = bindparam("uid")
    return (select(*shown_columns(), User.id.label("caller"), User.is_admin, Enrollment.role)
            .join(Assignment, Assignment.id == Submission.assignment_id)
            .outerjoin(User, User.id == uid)
            .outerjoin(Enrollment, (Enrollment.user_id == uid) & (Enrollment.course_id == Assignment.course_id))
            .where(Submission.id == bindparam("sid")))


def peek(engine: Engine, *, submission_id: int, user_id: int) -> tuple[str, bool] | None:
    """(ETag, staff view) of a submission the caller may read, from one query and no ORM; None whenever the
    ordinary path must decide (no such submission or caller, or access refused: it answers 401/404)."""
    with engine.connect() as conn:
        row = conn.execute(_peek_query(), {"sid": submission_id, "uid": user_id}).first()
    if row is None or row.caller is None:
        return None
    role = reader_role(is_admin=row.is_admin, enrolled=row.role, owner_id=row.user_id, user_id=user_id)
    return None if role is None else (submission_etag(row, staff=role.is_staff), role.is_staff)


class QueuePositions:
    """Every queued submission's place in its queue, from one ordered scan of that queue at most every `ttl_s`
    (the order of gradeflow_core.grading.queue_position: priority list, then queued_at, then id). While one
    thread rescans, the others read the previous scan; one queued after the scan gets the exact count."""

    def __init__(self, ttl_s: float = 1.0) -> None:
        self.ttl_s = ttl_s
        self._scans: dict[str, tuple[float, dict[int, int]]] = {}
        self._scanning: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def position(self, session: Session, submission: Submission) -> int:
        taken, places = self._scans.get(submission.queue, (float("-inf"), {}))
        if time.monotonic() - taken > self.ttl_s:
            places = self._rescan(session, submission.queue) or places
        place = places.get(submission.id)
        return place if place is not None else queue_position(session, submission)

    def _rescan(self, session: Session, queue: str) -> dict[int, int] | None:
        with self._guard:
            lock = self._scanning.setdefault(queue, threading.Lock())
        if not lock.acquire(blocking=False):
            return None  # another thread is scanning this queue
        try:
            started = time.monotonic()
            ids = session.scalars(select(Submission.id).where(Submission.status == SubmissionStatus.QUEUED,
                                                              Submission.queue == queue)
                                  .order_by(Submission.priority, Submission.queued_at, Submission.id))
            places = {sid: index for index, sid in enumerate(ids, start=1)}
            self._scans[queue] = (started, places)
            return places
        finally:
            lock.release()
