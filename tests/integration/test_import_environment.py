"""A requirements.txt no built-in environment holds becomes a new pinned environment for real: pip resolves it
against PyPI (six, a small pure-Python package, plus ipykernel), the pinned file is written to the operator's
folder, `python -m gradeflow_worker.environments build NAME` builds it, and the worker then finds it."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest
from gradeflow_graders.importers.common import ImportReport, choose_environment
from gradeflow_worker.environments import read_stamp, resolve_environment

from tests.conftest import REPO

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]


def test_a_new_environment_is_pinned_built_and_found(tmp_path, monkeypatch):
    local, venvs = tmp_path / "local", tmp_path / "venvs"
    monkeypatch.setenv("GRADEFLOW_LOCAL_ENVIRONMENTS", str(local))
    (tmp_path / "requirements.txt").write_text("six\notter-grader\n")
    report = ImportReport()
    name = choose_environment(tmp_path / "requirements.txt", report, name="hw-six")
    pins = (local / name / "requirements.txt").read_text().splitlines()
    assert any(p.lower().startswith("six==") for p in pins) and any(p.startswith("ipykernel==") for p in pins)
    assert not any(p.lower().startswith("otter") for p in pins)  # the grading tool is the worker's business
    command = f"python -m gradeflow_worker.environments build {name}"
    assert any(command in note for note in report.notes), report.lines()
    env = os.environ | {"GRADEFLOW_LOCAL_ENVIRONMENTS": str(local), "GRADEFLOW_ENVIRONMENTS_DIR": str(venvs)}
    done = subprocess.run([sys.executable, "-m", "gradeflow_worker.environments", "build", name], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=800, check=False)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert read_stamp(venvs / name) is not None
    found = resolve_environment(name, environments_dir=venvs, default_python=sys.executable)
    probe = subprocess.run([found.python, "-c", "import six, ipykernel; print(six.__version__)"],
                           capture_output=True, text=True, timeout=60, check=False)
    assert probe.returncode == 0 and f"six=={probe.stdout.strip()}" in [p.lower() for p in pins]
