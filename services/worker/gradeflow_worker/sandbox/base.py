"""The sandbox interface shared by every backend."""
from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from gradeflow_protocol.messages import Limits

IPC_MOUNT = "/gf"  # where the run's IPC directory (kernel sockets, data files) appears inside
HOME = "/home/student"  # the working directory inside: scratch plus the submission


@dataclass(frozen=True)
class SandboxSpec:
    """What to run and what the sandbox may see: nothing else is visible inside.

    `files` are copied into HOME (the submission); `public_dir` appears read-only
    at HOME/data; `ipc_dir` is the only host directory the sandbox can write.
    """

    run_id: str
    argv: list[str]  # may contain "{ipc}" and "{home}", replaced by the backend's paths
    ipc_dir: Path
    files: dict[str, bytes]
    public_dir: Path | None
    limits: Limits
    env: dict[str, str] = field(default_factory=dict)


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

    def ipc_path(self, spec: SandboxSpec) -> str:
        """How the sandbox will name spec.ipc_dir (known before start, so the kernel's files can be written first)."""
        ...

    def start(self, spec: SandboxSpec) -> SandboxProcess: ...


class PopenHandle:
    """poll/wait over the local process that stands for a sandbox (bwrap's launcher, or `docker run`)."""

    popen: subprocess.Popen

    def poll(self) -> int | None:
        return self.popen.poll()

    def wait(self, timeout: float | None = None) -> int | None:
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            return None


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
