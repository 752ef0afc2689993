"""The run's cgroups, whichever version the host mounts: the one module that picks v1 or v2.

cgroups_v1 and cgroups_v2 implement the same interface (cgroupfs.RunCgroup) and
do not know each other; the local backends (bwrap, process) ask only this module.
"""
from __future__ import annotations

from gradeflow_worker.sandbox import cgroups_v1, cgroups_v2
from gradeflow_worker.sandbox.cgroupfs import RunCgroup


def make_cgroup(run_id: str) -> RunCgroup:
    """The run's cgroups: v2 where the unified hierarchy is mounted and writable, else v1."""
    return cgroups_v2.CgroupV2(run_id) if cgroups_v2.unified() else cgroups_v1.CgroupV1(run_id)


def reap_orphans() -> list[str]:
    """Kill and remove the groups of runs whose worker died (run ids start with the worker's pid).

    The launcher's parent-death signal normally takes the sandbox down with its
    worker; this sweeps up anything that slipped through (e.g. a worker killed
    between fork and prctl).
    """
    return cgroups_v2.reap_orphans() if cgroups_v2.unified() else cgroups_v1.reap_orphans()
