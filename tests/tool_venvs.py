"""Other graders' own tools, each installed from PyPI into a venv of its own under var/ (kept: a later run reuses
it), for the tests that compare gradeflow's scores with theirs. Whichever test needs one first builds it."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO, require


def tool_venv(requirement: str, folder: str) -> Path:
    """The bin directory of the venv var/FOLDER holding `requirement` (e.g. "otter-grader==7.0.0") and ipykernel,
    built once."""
    venv = REPO / "var" / folder
    stamp = venv / "installed.ok"
    if not stamp.is_file():
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        done = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", requirement, "ipykernel"],
                              capture_output=True, text=True, check=False)
        require(done.returncode == 0, f"could not install {requirement} from PyPI: {done.stderr[-500:]}")
        stamp.write_text(requirement + "\n")
    return venv / "bin"


def otter_venv() -> Path:
    """The `otter` command of otter-grader 7.0.0."""
    return tool_venv("otter-grader==7.0.0", "otter-venv-7.0.0") / "otter"


def nbgrader_venv() -> Path:
    """The bin directory of nbgrader 0.9.6's venv."""
    return tool_venv("nbgrader==0.9.6", "nbgrader-venv-0.9.6")
