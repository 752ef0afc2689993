"""The submissions being watched right now: their ETags held in memory, refreshed together by one thread.

On deadline night a thousand students poll GET /api/v1/submissions/{id} every second or two, and almost every
answer is 304. Reading the row for each poll costs a database round trip and a hop to a worker thread, in a
process that has one core's worth of Python; instead one thread reads every watched submission again every
`interval_s` (a fifth of them every fifth of it: a long stretch of Python on that thread would hold the event
loop back; the callers' roles every `access_every` rounds), and a poll whose ETag is current is answered from
memory. A change committed by this process (an upload, a worker's claim or result, the sweeper) is seen at
once (`follow` hooks the session factory); one made elsewhere (another API replica, the CLI) at most
`interval_s` late. A caller the access rule no longer lets in drops out within `access_every` rounds; a pair
nobody polled for `idle_s` is forgotten.
"""
from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from sqlalchemy import Engine, Row, event, select
from sqlalchemy.orm import sessionmaker

from starlette.types import ASGIApp, Receive, Scope, Send

from gradeflow_api.polling import not_modified, poll_headers, reader_role, shown_columns, submission_etag
from gradeflow_core.models import Assignment, Enrollment, Submission, User
from gradeflow_protocol.enums import Role

log = logging.getLogger(__name__)
Key = tuple[int, int]  # (submission id, caller's user id)
Seen = tuple[str, bool]  # (ETag, staff view)
CHUNK = 500  # ids per IN (...): well under every database's limit on bound parameters
SLICES = 5  # the watched pairs are read again in this many turns per interval (by submission id)


class StatusWatch:
    """`lookup` and `remember` run on the event loop; `refresh` on the watch's own thread. A refresh replaces
    the map at once, so a reader sees one refresh or the next for each pair, never a mix."""

    def __init__(self, engine: Engine, *, interval_s: float = 1.0, access_every: int = 10, idle_s: float = 60.0,
                 max_watched: int = 50_000) -> None:
        self.engine, self.interval_s, self.idle_s, self.max_watched = engine, interval_s, idle_s, max_watched
        self.access_every = max(access_every, 1)
        self._polled: dict[Key, float] = {}
        self._known: dict[Key, Seen] = {}
        self._roles = Roles()
        self._etags: dict[tuple, str] = {}  # (shown row, staff) -> ETag, for rows that did not change
        self._ticks = 0
        self._changed: dict[int, float] = {}  # submission id -> when this process committed a change to it
        self._refreshed_at = float("-inf")
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def lookup(self, submission_id: int, user_id: int) -> Seen | None:
        """What the last refresh saw of this pair (None: not watched yet, not readable by this caller, or no
        refresh lately: the watch is off or its thread is not keeping up, so memory is not to be trusted)."""
        key, now = (submission_id, user_id), time.monotonic()
        if key in self._polled or len(self._polled) < self.max_watched:
            self._polled[key] = now
        if now - self._refreshed_at > 2 * self.interval_s or submission_id in self._changed:
            return None
        return self._known.get(key)

    def remember(self, submission_id: int, user_id: int, seen: Seen) -> None:
        """A fresher answer read on the request's path; the next refresh reads it again anyway."""
        self._known[(submission_id, user_id)] = seen

    def changed(self, submission_ids: Iterable[int]) -> None:
        """Committed changes: memory is not trusted for them until a refresh that started afterwards."""
        now = time.monotonic()
        for submission_id in submission_ids:
            self._changed[submission_id] = now

    def follow(self, factory: sessionmaker) -> None:
        """Hear of every Submission row that factory's sessions change, once their transaction commits."""

        @event.listens_for(factory, "after_flush")
        def _flushed(session, _context) -> None:
            touched = session.info.setdefault("status_watch", set())
            touched.update(obj.id for obj in (*session.new, *session.dirty) if isinstance(obj, Submission))

        @event.listens_for(factory, "after_commit")
        def _committed(session) -> None:
            touched = session.info.pop("status_watch", None)
            if touched:
                self.changed(touched)

        @event.listens_for(factory, "after_rollback")
        def _rolled_back(session) -> None:
            session.info.pop("status_watch", None)

    def refresh(self, part: int = 0, parts: int = 1, *, roles: bool = True) -> None:
        """Read again the watched pairs whose submission id is `part` modulo `parts` (all of them by default),
        and their callers' roles too when `roles`."""
        now = time.monotonic()
        mine = lambda submission_id: submission_id % parts == part  # noqa: E731
        polled = {key: at for key, at in self._polled.copy().items() if mine(key[0])}
        for key, at in polled.items():
            if now - at > self.idle_s:
                self._polled.pop(key, None)
        keys = [key for key, at in polled.items() if now - at <= self.idle_s]
        users = {user_id for _, user_id in keys}
        if roles or not users <= self._roles.users:
            self._roles = self._roles.merged(read_roles(self.engine, users), users)
        rows = read_rows(self.engine, {submission_id for submission_id, _ in keys})
        etags = {memo: etag for memo, etag in self._etags.items() if not mine(memo[0][0])}
        known = {key: seen for key, seen in self._known.items() if not mine(key[0])}
        for submission_id, user_id in keys:
            row = rows.get(submission_id)
            role = self._roles.reader(row, user_id) if row is not None else None
            if role is None:
                continue
            memo = (tuple(row), role.is_staff)
            etag = etags[memo] = self._etags.get(memo) or submission_etag(row, staff=role.is_staff)
            known[(submission_id, user_id)] = (etag, role.is_staff)
        self._known, self._etags, self._refreshed_at = known, etags, now
        for submission_id, at in list(self._changed.items()):
            if at < now and mine(submission_id):  # changed before this refresh read it
                self._changed.pop(submission_id, None)

    def start(self) -> None:
        if self.interval_s > 0 and self._thread is None:
            self._thread = threading.Thread(target=self._run, daemon=True, name="status-watch")
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s / SLICES):
            part, round_ = self._ticks % SLICES, self._ticks // SLICES
            self._ticks += 1
            try:
                self.refresh(part, SLICES, roles=round_ % self.access_every == 0)
            except Exception:  # the database is down, say: polls take the ordinary path meanwhile
                log.warning("status watch refresh failed", exc_info=True)
                self._known = {}


POLL = re.compile(r"/api/v1/submissions/([1-9][0-9]{0,17})")


class PollShortcut:
    """Pure ASGI, in front of the routes: a status poll whose ETag the watch holds as current is answered 304
    here, before routing and dependencies (most of a poll's cost in the framework). Anything else, a miss
    included, goes on to the route (GET /api/v1/submissions/{id}), which decides."""

    def __init__(self, app: ASGIApp, *, state) -> None:
        self.app, self.state = app, state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = POLL.fullmatch(scope.get("path", "")) if scope["type"] == "http" and scope["method"] == "GET" else None
        seen = self._current(scope, int(match[1])) if match else None
        if seen is None:
            await self.app(scope, receive, send)
            return
        headers = [(name.lower().encode(), value.encode()) for name, value in poll_headers(seen[0], staff=seen[1]).items()]
        await send({"type": "http.response.start", "status": 304, "headers": headers})
        await send({"type": "http.response.body", "body": b""})

    def _current(self, scope: Scope, submission_id: int) -> tuple[str, bool] | None:
        if_none_match = authorization = None
        for name, value in scope["headers"]:
            if name == b"if-none-match":
                if_none_match = value.decode("latin-1")
            elif name == b"authorization":
                authorization = value.decode("latin-1")
        if not if_none_match or not authorization or authorization[:7].lower() != "bearer ":
            return None
        user_id = self.state.verified_tokens.user_id(authorization[7:].strip())
        seen = self.state.status_watch.lookup(submission_id, user_id) if user_id is not None else None
        return (seen[0], seen[1]) if seen is not None and not_modified(if_none_match, seen[0]) else None


@dataclass(frozen=True)
class Roles:
    """Who the watched callers are: admin or not, and their role per course."""

    admins: dict[int, bool] = field(default_factory=dict)
    enrolled: dict[tuple[int, int], Role] = field(default_factory=dict)

    @property
    def users(self) -> set[int]:
        return set(self.admins)

    def merged(self, fresh: Roles, users: set[int]) -> Roles:
        """These roles with `users`' own replaced by `fresh` (which read exactly those users)."""
        admins = {uid: admin for uid, admin in self.admins.items() if uid not in users} | fresh.admins
        enrolled = {key: role for key, role in self.enrolled.items() if key[0] not in users} | fresh.enrolled
        return Roles(admins=admins, enrolled=enrolled)

    def reader(self, row, user_id: int) -> Role | None:
        if user_id not in self.admins:  # no such user (any more)
            return None
        return reader_role(is_admin=self.admins[user_id], enrolled=self.enrolled.get((user_id, row.course_id)),
                           owner_id=row.user_id, user_id=user_id)


def _chunks(ids: Iterable[int]) -> Iterator[list[int]]:
    ordered = sorted(set(ids))
    for start in range(0, len(ordered), CHUNK):
        yield ordered[start:start + CHUNK]


def read_rows(engine: Engine, submission_ids: set[int]) -> dict[int, Row]:
    """The shown columns (and course) of each submission, by id."""
    query = select(*shown_columns(), Assignment.course_id).join(Assignment, Assignment.id == Submission.assignment_id)
    with engine.connect() as conn:
        return {row.id: row for ids in _chunks(submission_ids)
                for row in conn.execute(query.where(Submission.id.in_(ids))).all()}


def read_roles(engine: Engine, user_ids: set[int]) -> Roles:
    with engine.connect() as conn:
        admins = {row.id: row.is_admin for ids in _chunks(user_ids)
                  for row in conn.execute(select(User.id, User.is_admin).where(User.id.in_(ids))).all()}
        enrolled = {(row.user_id, row.course_id): row.role for ids in _chunks(user_ids) for row in conn.execute(
            select(Enrollment.user_id, Enrollment.course_id, Enrollment.role).where(Enrollment.user_id.in_(ids))).all()}
    return Roles(admins=admins, enrolled=enrolled)


def read_watched(engine: Engine, keys: list[Key]) -> dict[Key, Seen]:
    """(ETag, staff view) of every pair whose caller may read the submission: what one refresh computes."""
    watch = StatusWatch(engine)
    watch._polled = dict.fromkeys(keys, time.monotonic())
    watch.refresh()
    return watch._known
