"""The named student environments an assignment may choose (`environment = "NAME"` in assignment.toml).

Each named one is a pinned set of packages the student's kernel runs in (built by the worker:
`python -m gradeflow_worker.environments build NAME`); "default" is the worker's own interpreter, as before
environments existed. The API refuses any other name at publish; the worker refuses one it has not built.

Beyond these, an operator may add pinned environments of their own (`gradeflow assignment import` writes one
when a requirements.txt fits none of these): a folder named by GRADEFLOW_LOCAL_ENVIRONMENTS, the same on the API
and the workers, holding NAME/requirements.txt (every package pinned). The set stays closed: a name is valid when
it is one of ENVIRONMENTS or such a folder; nothing else.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

DEFAULT_ENVIRONMENT = "default"
ENVIRONMENTS: dict[str, str] = {
    DEFAULT_ENVIRONMENT: "the worker's own Python (what every assignment ran in before environments existed)",
    "numpy": "NumPy only",
    "scientific": "NumPy, SciPy, scikit-learn, matplotlib",
    "pytorch": "PyTorch (CPU, torch 2.13.0) plus the scientific set",
}
NAMED_ENVIRONMENTS = tuple(name for name in ENVIRONMENTS if name != DEFAULT_ENVIRONMENT)


LOCAL_ENVIRONMENTS_VAR = "GRADEFLOW_LOCAL_ENVIRONMENTS"
LOCAL_NAME = re.compile(r"^[a-z][a-z0-9-]{0,47}$")


def local_environments_dir() -> Path | None:
    """The operator's folder of extra pinned environments (GRADEFLOW_LOCAL_ENVIRONMENTS), or None."""
    value = os.environ.get(LOCAL_ENVIRONMENTS_VAR, "").strip()
    return Path(value) if value else None


def local_environments() -> dict[str, Path]:
    """The operator's environments: name -> its pinned requirements file (a valid name, not a built-in one)."""
    folder = local_environments_dir()
    if folder is None or not folder.is_dir():
        return {}
    return {p.name: p / "requirements.txt" for p in sorted(folder.iterdir())
            if LOCAL_NAME.match(p.name) and p.name not in ENVIRONMENTS and (p / "requirements.txt").is_file()}


def named_environments() -> tuple[str, ...]:
    """Every environment the worker builds: the built-in named ones, then the operator's."""
    return NAMED_ENVIRONMENTS + tuple(local_environments())


def unknown_environment(name: str) -> str | None:
    """None for a defined name, else the message for the TA: what was asked and every valid name."""
    if name in ENVIRONMENTS or name in local_environments():
        return None
    return f"unknown environment {name!r}; use one of: {', '.join((*ENVIRONMENTS, *local_environments()))}"
