"""Other graders' own tools, each installed from PyPI into a venv of its own under var/ (kept: a later run reuses
it), for the tests that compare gradeflow's scores with theirs. Whichever test needs one first builds it."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO, require

OTTER_VENV = REPO / "var" / "otter-venv-7.0.0"


def otter_venv() -> Path:
    """The `otter` command of otter-grader 7.0.0 in its own venv, built once and kept under var/."""
    stamp = OTTER_VENV / "otter-7.0.0.ok"
    if not stamp.is_file():
        shutil.rmtree(OTTER_VENV, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(OTTER_VENV)], check=True)
        done = subprocess.run([str(OTTER_VENV / "bin" / "pip"), "install", "-q", "otter-grader==7.0.0", "ipykernel"],
                              capture_output=True, text=True, check=False)
        require(done.returncode == 0, f"could not install otter-grader 7.0.0 from PyPI: {done.stderr[-500:]}")
        stamp.write_text("otter-grader==7.0.0\n")
    return OTTER_VENV / "bin" / "otter"
