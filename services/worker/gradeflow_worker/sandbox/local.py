"""Pieces shared by the backends that start a local process (bwrap, process)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from gradeflow_protocol.messages import Limits
from gradeflow_worker.sandbox.base import (SandboxSpec, SandboxUsage, cpu_time_limit_s, log_path, not_enforced_of,
                                           tail_file)
from gradeflow_worker.sandbox.cgroupfs import RunCgroup

_AS_OVERHEAD_MB = 2048  # address space is not memory: leave room for shared libraries and arenas


class PopenHandle:
    """poll/wait over the local process that stands for a sandbox (the launcher that becomes bwrap or the run)."""

    popen: subprocess.Popen

    def poll(self) -> int | None:
        return self.popen.poll()

    def wait(self, timeout: float | None = None) -> int | None:
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            return None


def launcher_argv(config: dict, argv: list[str]) -> list[str]:
    return [sys.executable, "-m", "gradeflow_worker.sandbox.launch", json.dumps(config), "--", *argv]


def rlimits_for(limits: Limits, enforced: dict[str, str]) -> tuple[dict[str, int], dict[str, str]]:
    """rlimits for the run, and the limits they enforce that cgroups did not."""
    rlimits = {
        "core": 0,
        "nofile": limits.max_open_files,
        "fsize": limits.scratch_mb * 1024 * 1024,
        "cpu": cpu_time_limit_s(limits),
    }
    by_rlimit = {"core_dumps": "RLIMIT_CORE=0", "open_files": f"RLIMIT_NOFILE={limits.max_open_files}",
                 "cpu_time": f"RLIMIT_CPU={rlimits['cpu']}s", "file_size": "RLIMIT_FSIZE"}
    if "memory" not in enforced:
        rlimits["as"] = (limits.memory_mb + _AS_OVERHEAD_MB) * 1024 * 1024
        by_rlimit["memory"] = "RLIMIT_AS (address space, approximate)"
    if "processes" not in enforced:
        rlimits["nproc"] = limits.max_processes
        by_rlimit["processes"] = "RLIMIT_NPROC (per uid, approximate)"
    return rlimits, by_rlimit


class LaunchedProcess(PopenHandle):
    """A sandboxed process tree started through the launcher."""

    def __init__(self, popen: subprocess.Popen, *, run_id: str, ipc_inside: str, stderr_path: Path,
                 cgroup: RunCgroup | None, enforced: dict[str, str], not_enforced: list[str]) -> None:
        self.popen = popen
        self.run_id = run_id
        self.ipc_inside = ipc_inside
        self.stderr_path = stderr_path
        self.cgroup = cgroup
        self.enforced = enforced
        self.not_enforced = not_enforced

    @classmethod
    def spawn(cls, argv: list[str], *, spec: SandboxSpec, pass_fds: tuple[int, ...], ipc_inside: str,
              cgroup: RunCgroup | None, enforced: dict[str, str], cwd: Path | None = None) -> "LaunchedProcess":
        stderr_path = log_path(spec)
        with open(stderr_path, "wb") as log:
            popen = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                     pass_fds=pass_fds, start_new_session=True, cwd=cwd)
        return cls(popen, run_id=spec.run_id, ipc_inside=ipc_inside, stderr_path=stderr_path, cgroup=cgroup,
                   enforced=enforced, not_enforced=not_enforced_of(spec.limits, enforced))

    def kill(self) -> None:
        """Kill the whole tree: the session group, then anything left in the cgroups."""
        try:
            os.killpg(self.popen.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if self.cgroup is not None:
            self.cgroup.kill_all()
        self.wait(5)

    def usage(self) -> SandboxUsage:
        if self.cgroup is None:
            return SandboxUsage(exit_code=self.popen.poll())
        return SandboxUsage(memory_exceeded=self.cgroup.memory_exceeded(),
                            processes_exceeded=self.cgroup.processes_exceeded(), exit_code=self.popen.poll())

    def cleanup(self) -> None:
        self.kill()
        if self.cgroup is not None:
            self.cgroup.remove()

    def stderr_tail(self, limit: int = 4000) -> str:
        return tail_file(self.stderr_path, limit)
