"""The course through the real stack: each assignment of the demo course is published with the CLI, and its
validation grades the reference and every known-wrong file through the API, Redis, Celery and bubblewrap in the
assignment's own environment; the version becomes ready only when each scored exactly as recorded. The time
each file took to grade (claimed -> graded) is printed, for the closing note."""
from __future__ import annotations

import shutil
import sqlite3
import statistics

import pytest

from gradeflow_core.demo import DEMO_COURSE
from tests.conftest import require
from tests.integration.test_cli import cli, login
from tests.stack import ASSIGNMENTS, start_stack

pytestmark = [pytest.mark.integration, pytest.mark.bwrap, pytest.mark.redis]

# ode-theta is published by the stack's demo and validated in tests/integration/test_cli.py
COURSE = [slug for slug in DEMO_COURSE if slug != "ode-theta"]
# room for the PyTorch exercises' training on a busy 2-core machine (the shipped caps are 30 min)
CAPS = {"GRADEFLOW_CAP_TIME_LIMIT_S": "180", "GRADEFLOW_CAP_CELL_TIMEOUT_S": "120"}


@pytest.fixture(scope="module")
def stack(tmp_path_factory, redis_url):
    require(shutil.which("bwrap") is not None, "bubblewrap is not installed")
    stack = start_stack(tmp_path_factory.mktemp("course"), redis_url=redis_url.rsplit("/", 1)[0] + "/9",
                        extra_env=CAPS, workers=2)
    yield stack
    stack.stop()


@pytest.fixture(scope="module")
def homes(tmp_path_factory):
    return tmp_path_factory.mktemp("course-homes")


def grading_seconds(stack, slug: str) -> dict[str, float]:
    """Each validation file of `slug`: claimed -> graded (its grading, queue wait left out), from the database."""
    with sqlite3.connect(stack.var_dir / "gradeflow.db") as db:
        rows = db.execute(
            "SELECT s.filename, (julianday(s.graded_at) - julianday(s.started_at)) * 86400 FROM submissions s "
            "JOIN assignments a ON a.id = s.assignment_id WHERE a.slug = ? AND s.purpose = 'validation'", (slug,))
        return {name: float(seconds) for name, seconds in rows}


@pytest.mark.parametrize("slug", COURSE)
def test_each_assignment_validates_through_the_real_stack(stack, homes, slug):
    login(stack, "ta1", homes)
    folder = ASSIGNMENTS / slug
    files = 1 + len([p for p in (folder / "wrong").iterdir() if p.suffix in (".py", ".ipynb", ".csv", ".zip", ".pdf")])
    done = cli(stack, "ta1", "assignment", "publish", str(folder), "--course", "mathdl", homes=homes, timeout=900)
    assert "is ready" in done.stdout, done.stdout + done.stderr
    assert done.stdout.count(" ok ") == files, done.stdout
    seconds = grading_seconds(stack, slug)
    assert len(seconds) == files, seconds
    with sqlite3.connect(stack.var_dir / "gradeflow.db") as db:
        [(digest,)] = db.execute("SELECT v.environment_digest FROM assignment_versions v JOIN assignments a ON "
                                 "a.id = v.assignment_id WHERE a.slug = ? AND v.state = 'ready'", (slug,)).fetchall()
    runs_code = any(p.suffix in (".py", ".ipynb", ".zip") for p in [*folder.glob("solution.*"),
                                                                   *(folder / "wrong").iterdir()])
    if runs_code:
        assert digest and "," not in digest  # the version names the one environment build it was validated in
    else:  # a contest validated with predictions files only: scored without a kernel, in no environment
        assert digest is None
    print(f"\n{slug}: {files} files graded, claimed -> graded median {statistics.median(seconds.values()):.1f} s, "
          f"max {max(seconds.values()):.1f} s ({', '.join(f'{k} {v:.1f}' for k, v in sorted(seconds.items()))})")
