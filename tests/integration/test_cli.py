"""The real `gradeflow` CLI (a subprocess) against a running stack: API process, Redis, Celery worker, bubblewrap."""
from __future__ import annotations

import csv
import io
import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ASSIGNMENTS, free_port, require
from tests.stack import PASSWORD, start_stack
from tests.unit.core.world import write_bundle

pytestmark = [pytest.mark.integration, pytest.mark.bwrap, pytest.mark.redis]
ODE = ASSIGNMENTS / "ode-theta"


@pytest.fixture(scope="module")
def stack(tmp_path_factory, redis_url):
    require(shutil.which("bwrap") is not None, "bubblewrap is not installed")
    stack = start_stack(tmp_path_factory.mktemp("cli"), redis_url=redis_url.rsplit("/", 1)[0] + "/7")
    yield stack
    stack.stop()


@pytest.fixture(scope="module")
def homes(tmp_path_factory):
    return tmp_path_factory.mktemp("cli-homes")


def cli(stack, user: str | None, *args: str, homes: Path, api: str | None = None, check: bool | None = True,
        timeout: float = 180) -> subprocess.CompletedProcess:
    """Run `python -m gradeflow_cli.main ARGS` as `user` (each user has their own credentials file)."""
    env = dict(stack.env) | {"GRADEFLOW_CLI_CONFIG": str(homes / f"{user or 'nobody'}.json"),
                             "GRADEFLOW_CLI_API": api or stack.base_url, "COLUMNS": "200"}
    env.pop("GRADEFLOW_DEBUG", None)
    done = subprocess.run([sys.executable, "-m", "gradeflow_cli.main", *args], env=env, capture_output=True,
                          text=True, timeout=timeout)
    assert "Traceback" not in done.stdout + done.stderr, done.stderr
    if check is True:
        assert done.returncode == 0, f"{args}: {done.stdout}\n{done.stderr}"
    elif check is False:
        assert done.returncode != 0, f"{args} should have failed: {done.stdout}"
    return done


def login(stack, user: str, homes: Path) -> None:
    cli(stack, user, "login", "-u", user, "-p", PASSWORD, homes=homes)


def test_login_saves_a_private_token_and_bad_passwords_are_one_line(stack, homes):
    bad = cli(stack, "ta1", "login", "-u", "ta1", "-p", "wrong", homes=homes, check=False)
    assert bad.returncode == 1 and "Wrong username or password" in bad.stderr
    done = cli(stack, "ta1", "login", "-u", "ta1", "-p", PASSWORD, homes=homes)
    assert "signed in as ta1 (ta in mathdl)" in done.stdout
    path = homes / "ta1.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and json.loads(path.read_text())["course"] == "mathdl"
    assert "mathdl: ta" in cli(stack, "ta1", "whoami", homes=homes).stdout


def test_errors_name_the_fix(stack, homes):
    nobody = cli(stack, None, "queue", homes=homes, check=False)
    assert "Not signed in: run `gradeflow login`" in nobody.stderr
    down = cli(stack, "ta1", "whoami", homes=homes, api=f"http://127.0.0.1:{free_port()}", check=False)
    assert "Cannot reach the gradeflow API" in down.stderr
    login(stack, "student1", homes)
    refused = cli(stack, "student1", "gradebook", "export", "--course", "mathdl", homes=homes, check=False)
    assert "Only the course's TAs and instructors can do this." in refused.stderr


def test_validate_locally_passes_and_fails_loudly(stack, homes, tmp_path):
    good = cli(stack, "ta1", "assignment", "validate", str(write_bundle(tmp_path / "toy")), homes=homes)
    assert "all 2 files scored as expected" in good.stdout
    broken = Path(shutil.copytree(ODE, tmp_path / "ode"))
    (broken / "wrong" / "expected.toml").write_text(
        '[scores]\n"ignores_theta.py" = 4.5\n"off_by_one.py" = 3\n"explicit_everywhere.py" = 4.5\n')
    failed = cli(stack, "ta1", "assignment", "validate", str(broken), homes=homes, check=False)
    assert failed.returncode == 1 and "MISMATCH" in failed.stdout
    assert "wrong/off_by_one.py: expected 3, got 4" in failed.stderr


def test_publish_waits_for_validation_and_reports(stack, homes, tmp_path):
    login(stack, "ta1", homes)
    folder = Path(shutil.copytree(ODE, tmp_path / "ode"))
    (folder / "README.md").write_text((folder / "README.md").read_text() + "\nErrata: h = (t1 - t0) / n.\n")
    done = cli(stack, "ta1", "assignment", "publish", str(folder), "--course", "mathdl", homes=homes)
    assert "is ready. See what it changes for students: `gradeflow regrade ode-theta" in done.stdout
    assert done.stdout.count(" ok ") == 4
    versions = cli(stack, "ta1", "assignment", "versions", "ode-theta", homes=homes).stdout
    assert versions.count("ready") == 2
    (folder / "wrong" / "expected.toml").write_text('[scores]\n"ignores_theta.py" = 4.5\n"off_by_one.py" = 4\n')
    static = cli(stack, "ta1", "assignment", "publish", str(folder), homes=homes, check=False)
    assert "wrong/explicit_everywhere.py: no recorded score" in static.stderr


def test_regrade_shows_the_diff_and_activates(stack, homes):
    login(stack, "ta1", homes)
    stack.grade("off_by_one.py", (ODE / "wrong" / "off_by_one.py").read_bytes(), username="student2")
    done = cli(stack, "ta1", "regrade", "ode-theta", "--yes", homes=homes)
    assert "student2" in done.stdout and "1 student: 0 up, 0 down, 1 unchanged" in done.stdout
    assert "is now official; 1 submission updated from regrade" in done.stdout
    history = cli(stack, "ta1", "assignment", "history", "ode-theta", homes=homes).stdout
    assert "official versions of ode-theta" in history and "ta1" in history and "activated" in history
    queue = cli(stack, "ta1", "queue", homes=homes).stdout
    assert "waiting:" in queue and "running, per worker" in queue
    listing = cli(stack, "ta1", "submissions", "list", "ode-theta", "--user", "student2", homes=homes).stdout
    assert "off_by_one.py" in listing and "graded" in listing


def test_roster_policy_overrides_and_gradebook(stack, homes, tmp_path):
    login(stack, "prof", homes)
    roster = tmp_path / "roster.csv"
    roster.write_text("username,name,email,section,role\nstudent5,Third Student,s5@uni.example,B,student\n"
                      "student1,,,A,student\n")
    dry = cli(stack, "prof", "roster", "import", str(roster), "--course", "mathdl", "--dry-run", homes=homes)
    assert "(nothing written)" in dry.stdout
    done = cli(stack, "prof", "roster", "import", str(roster), "--course", "mathdl", homes=homes)
    assert "1 created" in done.stdout and "eyJ" in done.stdout  # the invitation token
    again = cli(stack, "prof", "roster", "import", str(roster), "--course", "mathdl", homes=homes)
    assert "2 unchanged" in again.stdout
    roster.write_text("username,role\nstudent4,wizard\n")
    bad = cli(stack, "prof", "roster", "import", str(roster), "--course", "mathdl", homes=homes, check=False)
    assert "role must be student, ta or instructor" in bad.stdout and "nothing was imported" in bad.stderr
    policy = cli(stack, "prof", "policy", "set", "ode-theta", "--course", "mathdl", "--due", "2020-01-01T00:00Z",
                 "--penalty", "10", "--cap", "30", "--max-per-day", "5", homes=homes).stdout
    assert "-10% per day late, at most -30%" in policy and "submissions per 24 h: 5" in policy
    cli(stack, "prof", "extension", "grant", "ode-theta", "student5", "--until", "2030-01-01T00:00Z", "--reason",
        "medical", homes=homes)
    assert "medical" in cli(stack, "prof", "extension", "list", "ode-theta", homes=homes).stdout
    cli(stack, "prof", "override", "set", "ode-theta", "student5", "7.5", "--reason", "oral exam", homes=homes)
    assert "oral exam" in cli(stack, "prof", "override", "log", "ode-theta", homes=homes).stdout
    target = tmp_path / "canvas.csv"
    cli(stack, "prof", "gradebook", "export", "--course", "mathdl", "--format", "canvas", "-o", str(target),
        homes=homes)
    rows = list(csv.reader(io.StringIO(target.read_text())))
    assert rows[0][:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
    student5 = next(r for r in rows if r[3] == "student5")
    assert student5 == ["Third Student", "", "", "student5", "B", "7.5", "7.5"]


def test_service_commands_still_work(stack, tmp_path):
    env = dict(stack.env) | {"GRADEFLOW_VAR_DIR": str(tmp_path), "GRADEFLOW_DATABASE_URL": ""}
    for args in (["db", "upgrade"], ["demo", "--assignments", str(ASSIGNMENTS)]):
        done = subprocess.run([sys.executable, "-m", "gradeflow_cli.main", *args], env=env, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stderr
    assert "demo course 'mathdl' ready" in done.stdout
    assert os.path.exists(tmp_path / "gradeflow.db")
