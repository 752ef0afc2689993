"""The embedded database under load: WAL and its pragmas, a pool that cannot run dry unnoticed, and writers
that queue in order instead of failing with "database is locked"."""
import threading
import time

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError, TimeoutError as PoolTimeout

from gradeflow_core.db import make_engine


@pytest.fixture
def engine(sqlite_url):
    engine = make_engine(sqlite_url, pool_size=4, busy_timeout_s=0.5)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (n INTEGER)"))
    yield engine
    engine.dispose()


def test_sqlite_runs_in_wal_with_normal_sync_foreign_keys_and_a_busy_timeout(engine):
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 500


def test_the_pool_hands_out_its_size_then_says_so_within_the_timeout(engine):
    held = [engine.connect() for _ in range(4)]
    started = time.monotonic()
    with pytest.raises(PoolTimeout):
        engine.connect()
    assert time.monotonic() - started < 2  # not SQLAlchemy's 30 s
    for conn in held:
        conn.close()


def test_concurrent_writers_queue_instead_of_failing(engine):
    errors = []

    def write(n: int) -> None:
        try:
            with engine.begin() as conn:
                conn.execute(text("INSERT INTO t VALUES (:n)"), {"n": n})
                time.sleep(0.02)  # a write transaction that takes a moment
        except Exception as exc:  # pragma: no cover - the failure being tested against
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM t")).scalar() == 12


def test_a_read_never_waits_behind_a_write(engine):
    with engine.connect() as writer:
        writer.execute(text("INSERT INTO t VALUES (1)"))  # the write transaction stays open
        started = time.monotonic()
        with engine.connect() as reader:
            assert reader.execute(text("SELECT count(*) FROM t")).scalar() == 0
        assert time.monotonic() - started < 0.2
        writer.rollback()


def test_a_writer_kept_waiting_past_the_timeout_fails_cleanly_and_the_lock_comes_back(engine):
    with engine.connect() as first:
        first.execute(text("INSERT INTO t VALUES (1)"))
        with engine.connect() as second, pytest.raises(OperationalError, match="database is locked"):
            second.execute(text("INSERT INTO t VALUES (2)"))
        first.commit()
    with engine.begin() as conn:  # the failed writer and the committed one both gave the lock back
        conn.execute(text("INSERT INTO t VALUES (3)"))
    with engine.connect() as conn:
        assert sorted(conn.execute(text("SELECT n FROM t")).scalars()) == [1, 3]


def test_an_in_memory_database_still_works():
    engine = make_engine("sqlite://")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT 1")).scalar() == 1
