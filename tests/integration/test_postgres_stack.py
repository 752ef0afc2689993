"""The same service on PostgreSQL: migrations, API, worker and a graded submission."""
from __future__ import annotations

import shutil

import pytest

from tests.conftest import require
from tests.integration.test_spine import reference_notebook
from tests.stack import start_stack

pytestmark = [pytest.mark.integration, pytest.mark.postgres, pytest.mark.bwrap, pytest.mark.redis]


def test_reference_notebook_is_graded_on_postgres(tmp_path, redis_url, fresh_postgres_url):
    require(shutil.which("bwrap") is not None, "bubblewrap is not installed")
    stack = start_stack(tmp_path, redis_url=redis_url.rsplit("/", 1)[0] + "/4", database_url=fresh_postgres_url)
    try:
        body = stack.grade("solution.ipynb", reference_notebook())
        assert body["status"] == "graded" and body["score"] == 10, body
        assert body["created_at"].endswith("Z") or "+00:00" in body["created_at"]
        assert stack.get(body["id"], username="student2").status_code == 404
    finally:
        stack.stop()
