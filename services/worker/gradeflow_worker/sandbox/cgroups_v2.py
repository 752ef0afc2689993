"""cgroup v2 control of one run (the unified hierarchy most current hosts mount at /sys/fs/cgroup).

The RunCgroup interface (cgroupfs): memory.max with memory.swap.max = 0, pids.max,
cpu.max; OOM kills and pids-limit hits read from memory.events / pids.events;
everything killed at once with cgroup.kill where the kernel has it.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

from gradeflow_worker.sandbox.cgroupfs import (CGROUP_ROOT, CONTROLLERS, CPU_PERIOD_US, PARENT, dead_runs, event_count,
                                               kill_until_empty, rmdir_patiently)

ROOT = CGROUP_ROOT


def unified(root: Path = ROOT) -> bool:
    """True when `root` is a writable cgroup v2 hierarchy with the controllers we need."""
    controllers = root / "cgroup.controllers"
    if not controllers.is_file() or not os.access(root, os.W_OK):
        return False
    return {"memory", "pids"} <= set(controllers.read_text().split())


class CgroupV2:
    """The leaf group gradeflow/<run_id>; the parent delegates memory, pids and cpu to its children."""

    def __init__(self, run_id: str, *, root: Path = ROOT) -> None:
        self.run_id = run_id
        self.root = root
        self.path = root / PARENT / run_id
        self.paths = {"unified": self.path}  # for the launcher: one group, one cgroup.procs

    def _enable_controllers(self) -> None:
        wanted = " ".join(f"+{c}" for c in CONTROLLERS if c in (self.root / "cgroup.controllers").read_text().split())
        for level in (self.root, self.root / PARENT):
            try:
                (level / "cgroup.subtree_control").write_text(wanted)
            except OSError:
                pass  # already enabled, or delegated by the host's init

    def create(self, *, memory_mb: int, max_processes: int, cpus: float) -> dict[str, str]:
        """Create the leaf group and set limits; returns limit -> mechanism for what is enforced."""
        (self.root / PARENT).mkdir(exist_ok=True)
        self._enable_controllers()
        self.path.mkdir(exist_ok=True)
        enforced: dict[str, str] = {}
        if self._write("memory.max", str(memory_mb * 1024 * 1024)):
            self._write("memory.swap.max", "0")
            enforced["memory"] = "cgroup v2 memory.max (no swap)"
        if self._write("pids.max", str(max_processes)):
            enforced["processes"] = "cgroup v2 pids.max"
        if self._write("cpu.max", f"{int(CPU_PERIOD_US * cpus)} {CPU_PERIOD_US}"):
            enforced["cpu"] = f"cgroup v2 cpu.max ({cpus:g} CPU)"
        return enforced

    def _write(self, name: str, value: str) -> bool:
        try:
            (self.path / name).write_text(value)
            return True
        except OSError:
            return False

    def _read(self, name: str) -> str:
        try:
            return (self.path / name).read_text()
        except OSError:
            return ""

    def join_paths(self) -> list[str]:
        """The one cgroup.procs file the launcher writes its pid into before exec."""
        return [str(self.path / "cgroup.procs")]

    def memory_exceeded(self) -> bool:
        return event_count(self._read("memory.events"), "oom_kill") > 0

    def processes_exceeded(self) -> bool:
        return event_count(self._read("pids.events"), "max") > 0

    def pids(self) -> list[int]:
        return sorted(int(t) for t in self._read("cgroup.procs").split())

    def kill_all(self) -> None:
        if (self.path / "cgroup.kill").exists() and self._write("cgroup.kill", "1"):  # Linux 5.14+
            time.sleep(0.02)
        kill_until_empty(self.pids)

    def remove(self) -> None:
        self.kill_all()
        rmdir_patiently(self.path)


def reap_orphans(root: Path = ROOT) -> list[str]:
    """Kill and remove the v2 groups of runs whose worker died."""
    reaped = dead_runs(root / PARENT)
    for run_id in reaped:
        CgroupV2(run_id, root=root).remove()
    return reaped
