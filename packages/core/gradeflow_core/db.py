"""Engine and session factories; nothing is created at import time.

SQLite (the embedded default) is tuned to hold a deadline rush: WAL (readers never block the writer, nor it
them), synchronous=NORMAL (durable at checkpoints, safe with WAL), a busy timeout, and one writer at a time
per process: a write transaction queues on a lock in Python instead of spinning in SQLite's busy handler, where
a newcomer can overtake a writer that has waited for seconds and both give up with "database is locked".
"""
from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

DEFAULT_POOL_SIZE = 20
DEFAULT_BUSY_TIMEOUT_S = 5.0
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")  # what makes pysqlite open a (deferred) write transaction


class Base(DeclarativeBase):
    pass


class SerialisedWriterConnection(sqlite3.Connection):
    """A sqlite3 connection that takes its engine's writer lock at its transaction's first write and gives
    it back when the transaction ends (commit, rollback, close). Subclassed per engine with `writers` and
    `wait_s` set (see `_writer_factory`)."""

    writers: threading.Lock
    wait_s: float
    _holding = False

    def cursor(self, factory=None):  # SQLAlchemy runs every statement through a cursor
        return super().cursor(factory or _WriterCursor)

    def execute(self, sql, parameters=(), /):  # the shortcuts make their own plain cursor
        self.before_statement(sql)
        return super().execute(sql, parameters)

    def executemany(self, sql, seq_of_parameters, /):
        self.before_statement(sql)
        return super().executemany(sql, seq_of_parameters)

    def before_statement(self, sql: str) -> None:
        if self._holding or not sql.lstrip()[:7].upper().startswith(_WRITES):
            return
        if not self.writers.acquire(timeout=self.wait_s):
            raise sqlite3.OperationalError(f"database is locked (waited {self.wait_s:g} s behind this "
                                           "process's other writers)")
        self._holding = True

    def _release(self) -> None:
        if self._holding:
            self._holding = False
            self.writers.release()

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self._release()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._release()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._release()


class _WriterCursor(sqlite3.Cursor):
    def execute(self, sql, parameters=(), /):
        self.connection.before_statement(sql)
        return super().execute(sql, parameters)

    def executemany(self, sql, seq_of_parameters, /):
        self.connection.before_statement(sql)
        return super().executemany(sql, seq_of_parameters)


def _writer_factory(wait_s: float) -> type[SerialisedWriterConnection]:
    """A connection class whose instances share one writer lock: one per engine, so per database file."""
    return type("EngineWriterConnection", (SerialisedWriterConnection,),
                {"writers": threading.Lock(), "wait_s": wait_s})


def make_engine(url: str, *, pool_size: int = DEFAULT_POOL_SIZE,
                busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S) -> Engine:
    """An engine for SQLite (WAL, synchronous=NORMAL, foreign keys, busy timeout, serialised writers) or
    PostgreSQL.

    `pool_size` connections at most are handed out at once (no overflow): the caller sizes it above its own
    concurrency (the API: its in-flight limit plus its background threads), so it never runs dry. A wait
    for a pooled connection, for SQLite's write lock or for a PostgreSQL connection lasts at most
    `busy_timeout_s`, then raises (sqlalchemy.exc.TimeoutError / OperationalError), which the API answers
    with 503 and Retry-After.
    """
    pool = dict(pool_size=pool_size, max_overflow=0, pool_timeout=busy_timeout_s)
    if url.startswith("sqlite"):
        file_db = _is_file_db(url)
        connect_args = {"check_same_thread": False, "timeout": busy_timeout_s}
        if file_db:
            connect_args["factory"] = _writer_factory(busy_timeout_s)
        engine = create_engine(url, connect_args=connect_args, **(pool if file_db else {}))
        busy_ms = int(busy_timeout_s * 1000)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA busy_timeout={busy_ms}")
            cur.close()

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, pool_pre_ping=True, connect_args={"connect_timeout": max(1, round(busy_timeout_s))},
                         **pool)


def _is_file_db(url: str) -> bool:
    parsed = make_url(url)
    return bool(parsed.database) and parsed.database != ":memory:" and parsed.query.get("mode") != "memory"


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
