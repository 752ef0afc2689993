"""The whole path, for real: HTTP upload -> database + blobs -> Redis -> Celery worker -> bubblewrap kernel
-> checks in the harness -> result over HTTP."""
from __future__ import annotations

import tomllib

import nbformat
import pytest

from tests.conftest import ASSIGNMENTS

ODE = ASSIGNMENTS / "ode-theta"
pytestmark = [pytest.mark.integration, pytest.mark.bwrap, pytest.mark.redis]


def reference_notebook() -> bytes:
    return (ODE / "solution.ipynb").read_bytes()


def reference_script() -> bytes:
    nb = nbformat.read(ODE / "solution.ipynb", as_version=4)
    return "\n\n".join(c.source for c in nb.cells if c.cell_type == "code").encode()


def test_reference_notebook_gets_full_marks(stack):
    body = stack.grade("solution.ipynb", reference_notebook())
    assert body["status"] == "graded", body
    assert body["score"] == body["max_score"] == 10
    assert body["run"]["outcome"] == "completed"
    assert all(c["passed"] for c in body["checks"]) and len(body["checks"]) >= 5
    assert body["graded_at"] and body["created_at"]


def test_reference_as_a_script_gets_full_marks(stack):
    body = stack.grade("solution.py", reference_script())
    assert body["status"] == "graded" and body["score"] == 10, body


EXPECTED = tomllib.loads((ODE / "wrong" / "expected.toml").read_text())["scores"] if (ODE / "wrong" / "expected.toml").exists() else {}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_known_wrong_submission_gets_its_recorded_score(stack, name):
    body = stack.grade(name, (ODE / "wrong" / name).read_bytes())
    assert body["status"] == "graded", body
    assert body["score"] == pytest.approx(EXPECTED[name]), [(c["name"], c["score"], c["message"]) for c in body["checks"]]
    assert any(not c["passed"] and c["message"] for c in body["checks"])


def test_starter_scores_zero_with_messages(stack):
    body = stack.grade("starter.ipynb", (ODE / "starter.ipynb").read_bytes())
    assert body["status"] == "graded" and body["score"] == 0
    assert all(c["message"] for c in body["checks"])


def test_raise_at_import_is_graded_with_the_error_shown(stack):
    body = stack.grade("raises.py", b"import numpy as np\nraise ValueError('my bug here')\n")
    assert body["status"] == "graded" and body["score"] == 0
    assert body["run"]["outcome"] == "completed"
    assert "ValueError: my bug here" in body["output"]
    assert "raised ValueError" in body["run"]["message"]
    assert "theta_method" in " ".join(c["message"] for c in body["checks"])


def test_infinite_loop_times_out_and_the_worker_stays_healthy(stack):
    body = stack.grade("loop.py", b"while True:\n    pass\n")
    assert body["status"] == "graded" and body["run"]["outcome"] == "timeout"
    assert "time limit" in body["run"]["message"]
    assert stack.grade("solution.py", reference_script())["score"] == 10


@pytest.mark.parametrize("code", ["import sys\nsys.exit(3)\n", "raise SystemExit\n"], ids=["sys.exit", "SystemExit"])
def test_sys_exit_is_explained(stack, code):
    body = stack.grade("exits.py", code.encode())
    assert body["status"] == "graded" and body["score"] == 0
    assert "sys.exit" in body["run"]["message"]


def test_os_exit_is_a_crash_with_a_clear_message_and_the_worker_stays_healthy(stack):
    body = stack.grade("osexit.py", b"import os\nos._exit(0)\n")
    assert body["status"] == "graded" and body["run"]["outcome"] == "crashed"
    assert "ended unexpectedly" in body["run"]["message"]
    assert all(c["message"].startswith("Not run") for c in body["checks"])
    assert stack.grade("solution.py", reference_script())["score"] == 10


def test_a_student_reads_only_their_own_and_a_ta_reads_the_log(stack):
    r = stack.submit("solution.py", reference_script(), username="student1")
    sid = r.json()["id"]
    stack.wait(sid)
    assert stack.get(sid, username="student2").status_code == 404
    staff = stack.get(sid, username="ta1").json()
    assert staff["user"] == "student1" and "seed:" in staff["log"] and staff["enforced"]["network"]
    assert "log" not in stack.get(sid, username="student1").json()
