"""Where each of the repository's distributions lives (folder -> import name, as the README says)."""
from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
PACKAGES = {
    "gradeflow_protocol": "packages/protocol",
    "gradeflow_core": "packages/core",
    "gradeflow_graders": "graders",
    "gradeflow_worker": "services/worker",
    "gradeflow_api": "services/api",
    "gradeflow_cli": "packages/cli",
}


def package_dir(name: str) -> Path:
    return REPO / PACKAGES[name] / name
