"""cgroup v1 control of one run: memory (with swap), pids, CPU quota; kill-all on cleanup.

A process joins the groups before it execs the sandbox (v1 moves only the pid
written, and children inherit), so everything the submission starts is inside.
"""
from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from gradeflow_worker.sandbox.base import pid_alive

ROOT = Path("/sys/fs/cgroup")
CONTROLLERS = ("memory", "pids", "cpu")


def _writable(controller: str) -> bool:
    base = ROOT / controller
    return base.is_dir() and (base / "tasks").exists() and os.access(base, os.W_OK)


class CgroupV1:
    """The groups of one run, created under gradeflow/<run_id> in each writable controller."""

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id
        self.paths: dict[str, Path] = {}

    @classmethod
    def existing(cls, run_id: str) -> "CgroupV1":
        group = cls(run_id)
        group.paths = {c: ROOT / c / "gradeflow" / run_id for c in CONTROLLERS if (ROOT / c / "gradeflow" / run_id).is_dir()}
        return group

    @staticmethod
    def available() -> list[str]:
        return [c for c in CONTROLLERS if _writable(c)]

    def create(self, *, memory_mb: int, max_processes: int, cpus: float) -> dict[str, str]:
        """Create the groups and set limits; returns limit -> mechanism for what is enforced."""
        enforced: dict[str, str] = {}
        for controller in self.available():
            path = ROOT / controller / "gradeflow" / self.run_id
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
            period = 100_000
            if self._write("cpu", "cpu.cfs_period_us", str(period)) and self._write(
                "cpu", "cpu.cfs_quota_us", str(int(period * cpus))
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
        """The tasks files a child writes its pid into before exec (used in preexec_fn)."""
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
            for _ in range(50):
                try:
                    path.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)


def event_count(text: str, key: str) -> int:
    """The count after `key` in a flat-keyed cgroup file ("max 3" in pids.events, "oom_kill 1" in
    memory.oom_control or memory.events); 0 when the key is missing."""
    for line in text.splitlines():
        field, _, value = line.partition(" ")
        if field == key and value.strip().isdigit():
            return int(value)
    return 0


def kill_until_empty(list_pids) -> None:  # noqa: ANN001 - a callable returning pids
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


def make_cgroup(run_id: str):  # -> CgroupV1 | CgroupV2
    """The run's cgroups: v2 where the unified hierarchy is mounted and writable, else v1."""
    from gradeflow_worker.sandbox.cgroups_v2 import CgroupV2, unified

    return CgroupV2(run_id) if unified() else CgroupV1(run_id)


    return True


def reap_orphans() -> list[str]:
    """Kill and remove the groups of runs whose worker died (run ids start with the worker's pid).

    The launcher's parent-death signal normally takes the sandbox down with its
    worker; this sweeps up anything that slipped through (e.g. a worker killed
    between fork and prctl).
    """
    from gradeflow_worker.sandbox.cgroups_v2 import PARENT, CgroupV2, unified

    reaped = []
    if unified():
        base = CgroupV2("x").root / PARENT
        for path in base.glob("*-*") if base.is_dir() else []:
            owner = path.name.split("-", 1)[0]
            if owner.isdigit() and not pid_alive(int(owner)):
                CgroupV2(path.name).remove()
                reaped.append(path.name)
        return reaped
    for controller in CgroupV1.available():
        base = ROOT / controller / "gradeflow"
        for path in base.glob("*-*") if base.is_dir() else []:
            owner = path.name.split("-", 1)[0]
            if owner.isdigit() and not pid_alive(int(owner)):
                CgroupV1.existing(path.name).remove()
                reaped.append(path.name)
    return sorted(set(reaped))
