"""The sandbox interface shared by every backend."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from gradeflow_protocol.messages import Limits

if TYPE_CHECKING:
    from gradeflow_worker.environments import StudentEnvironment

IPC_MOUNT = "/gf"  # where the run's IPC directory (kernel sockets, data files) appears inside
HOME = "/home/student"  # the working directory inside: scratch plus the submission
STUDENT_ENV = {"USER": "student", "LANG": "C.UTF-8"}  # the identity every backend gives the sandbox
# The limits every backend must account for: each is in `enforced` (with its mechanism) or in `not_enforced`.
REPORTABLE_LIMITS = ("memory", "processes", "network", "disk", "cpu_time", "open_files")
_CPU_TIME_GRACE_S = 5  # RLIMIT_CPU is a backstop behind the harness's wall clock, never the first limit to bite


@dataclass(frozen=True)
class SandboxSpec:
    """What to run and what the sandbox may see: nothing else is visible inside.

    `files` are copied into HOME (the submission); `public_dir` appears read-only
    at HOME/data; `ipc_dir` is the only host directory the sandbox can write. `python`: the interpreter argv
    runs when it is not the backend's own (a student environment's venv): bwrap binds that installation
    read-only instead of its own (gradeflow_worker.environments). `image`: the container image a container
    backend runs (a student environment's own image); None: the backend's default image.
    """

    run_id: str
    argv: list[str]  # may contain "{ipc}" and "{home}", replaced by the backend's paths
    ipc_dir: Path
    files: dict[str, bytes]
    public_dir: Path | None
    limits: Limits
    env: dict[str, str] = field(default_factory=dict)
    python: str | None = None
    image: str | None = None


@dataclass
class SandboxUsage:
    """What the backend observed when the run ended."""

    memory_exceeded: bool = False
    processes_exceeded: bool = False
    exit_code: int | None = None
    detail: str = ""


class SandboxProcess(Protocol):
    run_id: str
    ipc_inside: str  # how the sandbox names spec.ipc_dir
    enforced: dict[str, str]  # limit -> mechanism
    not_enforced: list[str]

    def poll(self) -> int | None: ...
    def wait(self, timeout: float | None = None) -> int | None: ...
    def kill(self) -> None: ...
    def usage(self) -> SandboxUsage: ...
    def cleanup(self) -> None: ...
    def stderr_tail(self, limit: int = 4000) -> str: ...


class Sandbox(Protocol):
    name: str

    def container_environment(self, name: str) -> "StudentEnvironment | None":
        """A container backend's image for the named student environment (raises EnvironmentMissing when that
        image is not built); None for a backend that binds the environment's venv instead."""
        ...

    def ipc_path(self, spec: SandboxSpec) -> str:
        """How the sandbox will name spec.ipc_dir (known before start, so the kernel's files can be written first)."""
        ...

    def start(self, spec: SandboxSpec) -> SandboxProcess: ...


def reportable_limits(limits: Limits) -> set[str]:
    """The limits a backend must report on for this run: REPORTABLE_LIMITS, plus "gpu" when the job asks for one."""
    return set(REPORTABLE_LIMITS) | ({"gpu"} if limits.gpu else set())


def not_enforced_of(limits: Limits, enforced: dict[str, str]) -> list[str]:
    """The reportable limits a backend could not enforce (sorted, for a stable report)."""
    return sorted(reportable_limits(limits) - set(enforced))


def cpu_time_limit_s(limits: Limits) -> int:
    """RLIMIT_CPU for a run, in seconds: the whole run's time limit plus a grace (same in every backend)."""
    return int(limits.time_limit_s) + _CPU_TIME_GRACE_S


def log_path(spec: SandboxSpec) -> Path:
    """Where a backend keeps the sandbox's own output (stdout and stderr outside the kernel's messages)."""
    return spec.ipc_dir.parent / "sandbox.log"


def hand_ipc_dir_to(spec: SandboxSpec, uid: int) -> None:
    """Make the IPC directory the sandbox uid's alone: the kernel creates its sockets there."""
    os.chown(spec.ipc_dir, uid, uid)
    os.chmod(spec.ipc_dir, 0o700)


def render_argv(argv: list[str], *, ipc: str, home: str) -> list[str]:
    return [a.replace("{ipc}", ipc).replace("{home}", home) for a in argv]


def limits_env(limits: Limits) -> dict[str, str]:
    """Environment that keeps numeric libraries within the CPU and thread budget."""
    threads = str(max(1, int(limits.cpus)))
    return {
        "OMP_NUM_THREADS": threads,
        "OPENBLAS_NUM_THREADS": threads,
        "MKL_NUM_THREADS": threads,
        "NUMEXPR_NUM_THREADS": threads,
        "MPLBACKEND": "Agg",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
        "JUPYTER_PLATFORM_DIRS": "1",
    }


def tail_file(path: Path, limit: int) -> str:
    """The last `limit` bytes of a log, read without loading the whole file."""
    try:
        with open(path, "rb") as log:
            log.seek(0, 2)
            log.seek(max(0, log.tell() - limit))
            return log.read().decode("utf-8", "replace")
    except OSError:
        return ""


def pid_alive(pid: int) -> bool:
    """Whether a process exists (a process we may not signal still exists)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
