"""Named student environments: pinned venvs the student's kernel runs in, built here and found at each run.

Each name of `gradeflow_protocol.environments.NAMED_ENVIRONMENTS` has a pinned requirements file,
`services/worker/environments/NAME/requirements.txt` (ipykernel included: the kernel runs inside the venv).
`python -m gradeflow_worker.environments build [NAME...]` (or `gradeflow-environments build`) makes a venv
for each under WorkerSettings.environments_path (default var/environments/NAME), without the system site
packages, and writes a stamp file last: the requirements file's sha256 (an unchanged one skips the build) and
the digest of the venv (sha256 of its `pip freeze`) that every run records. "default" is the worker's own
interpreter, exactly as before environments existed; its digest is that of its installed distributions.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from gradeflow_protocol.environments import DEFAULT_ENVIRONMENT, ENVIRONMENTS, local_environments, named_environments

REQUIREMENTS_ROOT = Path(__file__).resolve().parents[1] / "environments"
STAMP = "gradeflow-environment.json"  # inside the venv; written last, so its presence means "built"
BUILD_COMMAND = "python -m gradeflow_worker.environments build"
_DISTRIBUTIONS = ("import importlib.metadata as m; print('\\n'.join(sorted({f\"{d.metadata['Name'].lower()}=="
                  "{d.version}\" for d in m.distributions() if d.metadata['Name']})))")


class EnvironmentMissing(RuntimeError):
    """The job asks for an environment this worker has not built (or does not know): a sandbox error."""


@dataclass(frozen=True)
class StudentEnvironment:
    """The interpreter a kernel runs with, and what to record about it."""

    name: str
    python: str  # the kernel's interpreter: a venv's bin/python, or the worker's own for "default"
    digest: str  # sha256 of the environment's package list ("pip freeze")
    image: str | None = None  # a container backend's image of it (python is then the image's interpreter)

    @property
    def is_default(self) -> bool:
        return self.name == DEFAULT_ENVIRONMENT


def environment_image(default_image: str, name: str) -> str:
    """The container image of a student environment: the default image's, or NAME appended to its repository
    (gradeflow-sandbox:latest -> gradeflow-sandbox-pytorch:latest), as build_image.sh --environment tags it."""
    if name == DEFAULT_ENVIRONMENT:
        return default_image
    repository, colon, tag = default_image.rpartition(":")
    if not colon or "/" in tag:  # no tag (a registry's port is not one)
        repository, tag = default_image, "latest"
    return f"{repository}-{name}:{tag}"


IMAGE_BUILD_COMMAND = "services/worker/sandbox_image/build_image.sh --environment"
ENVIRONMENT_LABEL = "gradeflow.environment"
DIGEST_LABEL = "gradeflow.environment_digest"
FINGERPRINT_LABEL = "gradeflow.fingerprint"


def requirements_file(name: str) -> Path:
    """The pinned requirements of a named environment (the operator's own, GRADEFLOW_LOCAL_ENVIRONMENTS, included)."""
    return local_environments().get(name) or REQUIREMENTS_ROOT / name / "requirements.txt"


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def freeze_digest(freeze: str) -> str:
    """The digest of a package list: sha256 of its sorted, non-empty lines (order and blank lines do not count)."""
    lines = sorted(line.strip() for line in freeze.splitlines() if line.strip())
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def read_stamp(venv: Path) -> dict | None:
    """What the build recorded, or None when the venv is not (completely) built."""
    try:
        stamp = json.loads((venv / STAMP).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return stamp if isinstance(stamp, dict) and (venv / "bin" / "python").exists() else None


@lru_cache(maxsize=4)
def interpreter_digest(python: str) -> str:
    """The digest of an interpreter's installed distributions (the default environment's), once per process."""
    out = subprocess.run([python, "-c", _DISTRIBUTIONS], capture_output=True, text=True, timeout=60)
    return freeze_digest(out.stdout) if out.returncode == 0 else ""


def resolve_environment(name: str, *, environments_dir: Path | None, default_python: str) -> StudentEnvironment:
    """The environment a job asked for, ready to run; raises EnvironmentMissing with the command that builds it."""
    if name == DEFAULT_ENVIRONMENT:
        return StudentEnvironment(name, python=default_python, digest=interpreter_digest(default_python))
    if name not in named_environments():
        raise EnvironmentMissing(f"sandbox_error: unknown student environment {name!r}; this worker knows "
                                 f"{', '.join((*ENVIRONMENTS, *local_environments()))} (is it older than the API, "
                                 f"or is GRADEFLOW_LOCAL_ENVIRONMENTS not set as on the API?)")
    venv = (environments_dir or Path("var/environments")).resolve() / name
    stamp = read_stamp(venv)
    if stamp is None or not stamp.get("digest"):
        raise EnvironmentMissing(f"sandbox_error: the student environment {name!r} is not built on this worker "
                                 f"(no {venv / STAMP}); build it with `{BUILD_COMMAND} {name}` "
                                 "(`make up` and `make test` build the ones they need)")
    return StudentEnvironment(name, python=str(venv / "bin" / "python"), digest=str(stamp["digest"]))


# --- building


def _run(argv: list[str], *, quiet: bool = False) -> str:
    """Run a build step, its output shown as progress (or captured and returned)."""
    out = subprocess.run(argv, check=True, text=True, stdout=subprocess.PIPE if quiet else None)
    return out.stdout or ""


def _open_to_sandbox(root: Path) -> None:
    """The sandbox's uid reads the venv: make every file readable and every directory traversable by all."""
    for path in [root, *root.rglob("*")]:
        if not path.is_symlink():
            mode = path.stat().st_mode
            os.chmod(path, mode | 0o044 | (0o011 if path.is_dir() or mode & 0o100 else 0))


def build_environment(name: str, *, environments_dir: Path, python: str = sys.executable,
                      force: bool = False) -> dict:
    """Build one named environment (idempotent: skipped when its requirements file is unchanged); returns its
    stamp. Progress is printed."""
    requirements = requirements_file(name)
    wanted = file_sha256(requirements)
    venv = environments_dir.resolve() / name
    stamp = read_stamp(venv)
    if stamp and stamp.get("requirements_sha256") == wanted and not force:
        print(f"environment {name}: up to date ({venv}, digest {stamp['digest'][:12]})", flush=True)
        return stamp
    began = time.monotonic()
    print(f"environment {name}: building {venv} from {requirements}", flush=True)
    shutil.rmtree(venv, ignore_errors=True)
    venv.parent.mkdir(parents=True, exist_ok=True)
    _run([python, "-m", "venv", str(venv)])  # no --system-site-packages: the worker's packages stay out
    venv_python = str(venv / "bin" / "python")
    _run([venv_python, "-m", "pip", "install", "--no-input", "--disable-pip-version-check", "--progress-bar", "off",
          "-r", str(requirements)])
    freeze = _run([venv_python, "-m", "pip", "freeze"], quiet=True)
    stamp = {"name": name, "requirements_sha256": wanted, "digest": freeze_digest(freeze), "freeze": freeze,
             "python": sys.version.split()[0], "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
             "build_seconds": round(time.monotonic() - began, 1)}
    _open_to_sandbox(venv)
    (venv / STAMP).write_text(json.dumps(stamp, indent=1))
    (venv / STAMP).chmod(0o644)
    print(f"environment {name}: built in {stamp['build_seconds']:.0f} s (digest {stamp['digest'][:12]})", flush=True)
    return stamp


def environments_of(assignments: Path) -> list[str]:
    """The named environments the assignment folders under `assignments` ask for (what `make up` builds)."""
    from gradeflow_protocol.bundles import BundleError, read_config

    names = set()
    for folder in sorted(p for p in assignments.iterdir() if (p / "assignment.toml").is_file()):
        try:
            names.add(read_config(folder).environment)
        except BundleError as exc:
            print(f"environments: skipping {folder.name}: {exc}", file=sys.stderr)
    return sorted(names & set(named_environments()))


def main(argv: list[str] | None = None) -> int:
    """`build [NAME...] [--assignments DIR] [--force]`: build named environments (all when none is named)."""
    parser = argparse.ArgumentParser(prog="gradeflow-environments", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    build = sub.add_parser("build", help="build (or check) named student environments")
    build.add_argument("names", nargs="*", metavar="NAME", help="a named environment (default: all)")
    build.add_argument("--assignments", type=Path, help="also build what the assignment folders here ask for")
    build.add_argument("--force", action="store_true", help="rebuild even when the requirements are unchanged")
    sub.add_parser("list", help="each environment, where it is and whether it is built")
    args = parser.parse_args(argv)
    from gradeflow_worker.settings import WorkerSettings

    where = WorkerSettings().environments_path
    if args.command == "list":
        for name in named_environments():
            stamp = read_stamp(where / name)
            print(f"{name:12} {where / name}  {'digest ' + stamp['digest'][:12] if stamp else 'not built'}")
        return 0
    unknown = [name for name in args.names if name not in named_environments()]
    if unknown:
        parser.error(f"unknown environment {unknown[0]!r}; build any of {', '.join(named_environments())}")
    names = list(args.names) + (environments_of(args.assignments) if args.assignments else [])
    for name in dict.fromkeys(names or ([] if args.assignments else named_environments())):
        build_environment(name, environments_dir=where, force=args.force)
    return 0


if __name__ == "__main__":
    sys.exit(main())
