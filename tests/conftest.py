"""Shared fixtures: a private Redis, a fresh PostgreSQL database, SQLite sessions."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
ASSIGNMENTS = REPO / "assignments"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 20.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listening on {port}")


def require(condition: bool, reason: str) -> None:
    """Skip locally when a service is missing; in CI (CI=true) a missing service is a failure."""
    if condition:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI must provide it)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory) -> str:
    """A private redis-server for this test session (never the developer's)."""
    binary = shutil.which("redis-server")
    require(binary is not None, "redis-server is not installed")
    port = free_port()
    workdir = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", str(workdir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port)
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(10)


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """A fresh database on the local PostgreSQL, dropped afterwards."""
    import psycopg

    admin = os.environ.get("GRADEFLOW_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
    try:
        conn = psycopg.connect(admin, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        require(False, f"PostgreSQL not reachable at {admin}: {exc}")
    name = f"gf_test_{uuid.uuid4().hex[:10]}"
    conn.execute(f'CREATE DATABASE "{name}"')
    base = admin.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    conn.close()


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'gradeflow.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request, tmp_path) -> str:
    """The same test on the embedded default and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'gradeflow.db'}"
    return request.getfixturevalue("fresh_postgres_url")


@pytest.fixture
def fresh_postgres_url(postgres_url) -> str:
    """An empty schema for one test inside the session's PostgreSQL database."""
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    yield f"{postgres_url}?options=-csearch_path%3D{schema}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


# pytest-xdist (`-n 2 --dist loadgroup`): a test module stays on one process (its module-scoped stack starts once),
# and modules that share a machine-wide resource share a group: the Docker tests the one test dockerd
# (tests/docker_env.py: one socket), the otter/nbgrader tests the venvs they build under var/ (tests/tool_venvs.py).
_SHARED_GROUPS = {"test_import_stack.py": "tool-venvs", "test_nbgrader_equivalence.py": "tool-venvs",
                  "test_otter_equivalence.py": "tool-venvs"}


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook, which reads the groups
def pytest_collection_modifyitems(config, items):
    for item in items:
        name = item.path.name
        group = "docker" if item.get_closest_marker("docker") else _SHARED_GROUPS.get(name, item.nodeid.split("::")[0])
        item.add_marker(pytest.mark.xdist_group(group))
