"""A course's requirements.txt -> the environment its assignment runs in.

When a built-in named environment holds every package, the assignment uses it. Otherwise, with
GRADEFLOW_LOCAL_ENVIRONMENTS set (gradeflow_protocol.environments), the requirements are resolved against the
package index (`pip install --dry-run --ignore-installed --report`, ipykernel added: the kernel runs inside) and
written fully pinned as a new environment, `$GRADEFLOW_LOCAL_ENVIRONMENTS/NAME/requirements.txt`, NAME being the
assignment's slug and a digest of the pins (the same requirements give the same environment). The TA is told the
command that builds it on each worker; `assignment validate` refuses to run until it is built.
"""
from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from gradeflow_protocol.environments import (
    LOCAL_ENVIRONMENTS_VAR,
    local_environments_dir,
)

BUILD_COMMAND = "python -m gradeflow_worker.environments build"
Resolver = Callable[[list[str]], list[str]]  # requirement lines -> every package pinned, "name==version"


class ResolveError(RuntimeError):
    """The requirements could not be resolved (the message is pip's)."""


def requirement_name(line: str) -> str:
    """The normalised project name of a requirements line ('' for comments, options and blank lines)."""
    line = line.split("#", 1)[0].strip()
    if not line or line.startswith("-"):
        return ""
    return re.split(r"[<>=!~\[; @]", line, maxsplit=1)[0].lower().replace("_", "-")


def pip_resolve(lines: list[str]) -> list[str]:
    """Resolve with this interpreter's pip against the index, installing nothing; every package pinned."""
    with tempfile.TemporaryDirectory() as tmp:
        requirements, out = Path(tmp) / "requirements.txt", Path(tmp) / "report.json"
        requirements.write_text("\n".join(lines) + "\n", "utf-8")
        done = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
                               "--disable-pip-version-check", "--report", str(out), "-r", str(requirements)],
                              capture_output=True, text=True, timeout=600, check=False)
        if done.returncode != 0 or not out.is_file():
            raise ResolveError((done.stderr or done.stdout).strip()[-800:] or "pip gave no report")
        report = json.loads(out.read_text("utf-8"))
    return sorted(f"{item['metadata']['name']}=={item['metadata']['version']}" for item in report.get("install", []))


def pinned_environment(lines: list[str], *, slug: str, resolve: Resolver = pip_resolve,
                       folder: Path | None = None) -> tuple[str, Path]:
    """Write a new pinned environment for `lines` (ipykernel added); its name and requirements file."""
    folder = folder or local_environments_dir()
    if folder is None:
        raise ResolveError(f"set {LOCAL_ENVIRONMENTS_VAR} to the folder of your own environments (the same on the "
                           f"API and the workers) and import again")
    wanted = lines + ([] if any(requirement_name(line) == "ipykernel" for line in lines) else ["ipykernel"])
    pins = resolve(wanted)
    bad = [pin for pin in pins if not re.fullmatch(r"[A-Za-z0-9._-]+==[A-Za-z0-9.!+_-]+", pin)]
    if not pins or bad:
        raise ResolveError(f"the resolver gave no exact pins ({', '.join(bad[:3]) or 'nothing'})")
    digest = hashlib.sha256("\n".join(sorted(pins)).encode()).hexdigest()[:8]
    name = f"{slug[:38].rstrip('-') or 'course'}-{digest}"
    target = folder / name / "requirements.txt"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(f"# gradeflow student environment {name!r}: every package pinned (direct and transitive), "
                      f"ipykernel included.\n# Resolved by `gradeflow assignment import` from: {', '.join(lines)}\n"
                      f"# Built by: {BUILD_COMMAND} {name}\n" + "\n".join(pins) + "\n", "utf-8")
    return name, target
