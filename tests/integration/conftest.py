from __future__ import annotations

import shutil

import pytest

from tests.conftest import require
from tests.stack import start_stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory, redis_url):
    """API + one Celery worker + the session's Redis + SQLite + bubblewrap, shared by the spine tests."""
    require(shutil.which("bwrap") is not None, "bubblewrap is not installed")
    stack = start_stack(tmp_path_factory.mktemp("stack"), redis_url=redis_url)
    yield stack
    stack.stop()
