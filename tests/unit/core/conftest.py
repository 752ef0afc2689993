"""Fixtures for the staff's core tests: a migrated database holding the world of tests/unit/core/world.py."""
from __future__ import annotations

import pytest

from gradeflow_core.blobs import MemoryBlobStore
from gradeflow_core.db import make_engine, make_session_factory
from gradeflow_core.migrate import upgrade
from tests.unit.core.world import build_world


def _open(url: str, tmp_path):
    upgrade(url)
    engine = make_engine(url)
    session = make_session_factory(engine)()
    blobs = MemoryBlobStore()
    world = build_world(session, blobs, tmp_path / "toy")
    session.commit()
    return engine, session, blobs, world


@pytest.fixture
def staff_db(sqlite_url, tmp_path):
    """(session, blobs, world) on SQLite."""
    engine, session, blobs, world = _open(sqlite_url, tmp_path)
    yield session, blobs, world
    session.close()
    engine.dispose()


@pytest.fixture
def any_db(database_url, tmp_path):
    """(session, blobs, world) on SQLite and on PostgreSQL."""
    engine, session, blobs, world = _open(database_url, tmp_path)
    yield session, blobs, world
    session.close()
    engine.dispose()
