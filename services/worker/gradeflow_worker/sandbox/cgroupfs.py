"""What both cgroup versions (and the Docker backend's pids read) share: paths, event counts, kill loops.

Neither cgroups_v1 nor cgroups_v2 imports the other; both import this. `cgroups` picks one.
"""
from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from gradeflow_worker.sandbox.base import pid_alive

CGROUP_ROOT = Path("/sys/fs/cgroup")
PARENT = "gradeflow"  # the group under which each run gets gradeflow/<run_id>
CONTROLLERS = ("memory", "pids", "cpu")
CPU_PERIOD_US = 100_000  # the CFS period both versions give a run's CPU quota


class RunCgroup(Protocol):
    """The cgroups of one run, whichever version the host mounts (what the local backends use)."""

    run_id: str

    def create(self, *, memory_mb: int, max_processes: int, cpus: float) -> dict[str, str]: ...
    def join_paths(self) -> list[str]: ...
    def memory_exceeded(self) -> bool: ...
    def processes_exceeded(self) -> bool: ...
    def kill_all(self) -> None: ...
    def remove(self) -> None: ...


def event_count(text: str, key: str) -> int:
    """The count after `key` in a flat-keyed cgroup file ("max 3" in pids.events, "oom_kill 1" in
    memory.oom_control or memory.events); 0 when the key is missing."""
    for line in text.splitlines():
        field, _, value = line.partition(" ")
        if field == key and value.strip().isdigit():
            return int(value)
    return 0


def kill_until_empty(list_pids: Callable[[], list[int]]) -> None:
    """SIGKILL every pid listed, repeatedly, until none is left (forks can race the kill)."""
    for _ in range(50):
        pids = list_pids()
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.02)


def rmdir_patiently(path: Path) -> None:
    """Remove an emptied group; the kernel may take a moment to let the last killed process go."""
    for _ in range(50):
        try:
            path.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.02)


def dead_runs(parent: Path) -> list[str]:
    """Run groups under `parent` whose worker died (a run id starts with its worker's pid: "<pid>-...")."""
    names = []
    for path in parent.glob("*-*") if parent.is_dir() else []:
        owner = path.name.split("-", 1)[0]
        if owner.isdigit() and not pid_alive(int(owner)):
            names.append(path.name)
    return sorted(names)
