"""cgroup v1 control of one run: memory (with swap), pids, CPU quota; kill-all on cleanup.

A process joins the groups before it execs the sandbox (v1 moves only the pid
written, and children inherit), so everything the submission starts is inside.
"""
from __future__ import annotations

import os
from pathlib import Path

from gradeflow_worker.sandbox.cgroupfs import (CGROUP_ROOT, CONTROLLERS, CPU_PERIOD_US, PARENT, dead_runs, event_count,
                                               kill_until_empty, rmdir_patiently)


def _writable(controller: str, root: Path = CGROUP_ROOT) -> bool:
    base = root / controller
    return base.is_dir() and (base / "tasks").exists() and os.access(base, os.W_OK)


class CgroupV1:
    """The groups of one run, created under gradeflow/<run_id> in each writable controller."""

    def __init__(self, run_id: str, *, root: Path = CGROUP_ROOT) -> None:
        self.run_id = run_id
        self.root = root
        self.paths: dict[str, Path] = {}

    @classmethod
    def existing(cls, run_id: str, *, root: Path = CGROUP_ROOT) -> CgroupV1:
        """The groups a run already has (to remove them)."""
        group = cls(run_id, root=root)
        group.paths = {c: group._path(c) for c in CONTROLLERS if group._path(c).is_dir()}
        return group

    @staticmethod
    def available(root: Path = CGROUP_ROOT) -> list[str]:
        """The controllers this process may create groups in."""
        return [c for c in CONTROLLERS if _writable(c, root)]

    def _path(self, controller: str) -> Path:
        return self.root / controller / PARENT / self.run_id

    def create(self, *, memory_mb: int, max_processes: int, cpus: float) -> dict[str, str]:
        """Create the groups and set limits; returns limit -> mechanism for what is enforced."""
        enforced: dict[str, str] = {}
        for controller in self.available(self.root):
            path = self._path(controller)
            try:
                path.mkdir(parents=True, exist_ok=True)
            except OSError:
                continue
            self.paths[controller] = path
        if "memory" in self.paths and self._set_memory(memory_mb):
            enforced["memory"] = "cgroup v1 memory (swap included)"
        if "pids" in self.paths and self._write("pids", "pids.max", str(max_processes)):
            enforced["processes"] = "cgroup v1 pids.max"
        if "cpu" in self.paths:
            if self._write("cpu", "cpu.cfs_period_us", str(CPU_PERIOD_US)) and self._write(
                "cpu", "cpu.cfs_quota_us", str(int(CPU_PERIOD_US * cpus))
            ):
                enforced["cpu"] = f"cgroup v1 cpu quota ({cpus:g} CPU)"
        return enforced

    def _set_memory(self, memory_mb: int) -> bool:
        limit = str(memory_mb * 1024 * 1024)
        if not self._write("memory", "memory.limit_in_bytes", limit):
            return False
        self._write("memory", "memory.memsw.limit_in_bytes", limit)  # absent without swap accounting
        self._write("memory", "memory.swappiness", "0")
        return True

    def _write(self, controller: str, name: str, value: str) -> bool:
        try:
            (self.paths[controller] / name).write_text(value)
            return True
        except (OSError, KeyError):
            return False

    def _read(self, controller: str, name: str) -> str:
        try:
            return (self.paths[controller] / name).read_text()
        except (OSError, KeyError):
            return ""

    def join_paths(self) -> list[str]:
        """The tasks files the launcher writes its pid into before exec."""
        return [str(p / "tasks") for p in self.paths.values()]

    def memory_exceeded(self) -> bool:
        oom = self._read("memory", "memory.oom_control")
        if event_count(oom, "oom_kill") > 0:
            return True
        return int(self._read("memory", "memory.failcnt") or 0) > 0 and "under_oom 1" in oom

    def processes_exceeded(self) -> bool:
        return event_count(self._read("pids", "pids.events"), "max") > 0

    def pids(self) -> list[int]:
        found: set[int] = set()
        for controller in self.paths:
            for token in self._read(controller, "cgroup.procs").split():
                found.add(int(token))
        return sorted(found)

    def kill_all(self) -> None:
        kill_until_empty(self.pids)

    def remove(self) -> None:
        self.kill_all()
        for path in self.paths.values():
            rmdir_patiently(path)


def reap_orphans(root: Path = CGROUP_ROOT) -> list[str]:
    """Kill and remove the v1 groups of runs whose worker died."""
    reaped: set[str] = set()
    for controller in CgroupV1.available(root):
        for run_id in dead_runs(root / controller / PARENT):
            CgroupV1.existing(run_id, root=root).remove()
            reaped.add(run_id)
    return sorted(reaped)
