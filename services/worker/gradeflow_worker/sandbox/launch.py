"""Tiny launcher run between the harness and a sandbox: join cgroups, set rlimits, exec.

    python -m gradeflow_worker.sandbox.launch '<json>' -- argv...

Doing this in a fresh process (not a preexec_fn in the threaded worker) keeps
fork-then-exec safe; cgroup membership and rlimits are inherited by everything
the sandbox starts.
"""
from __future__ import annotations

import ctypes
import json
import os
import signal
import resource
import sys

_RLIMITS = {
    "as": resource.RLIMIT_AS,
    "core": resource.RLIMIT_CORE,
    "cpu": resource.RLIMIT_CPU,
    "fsize": resource.RLIMIT_FSIZE,
    "nofile": resource.RLIMIT_NOFILE,
    "nproc": resource.RLIMIT_NPROC,
}


PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """SIGKILL this process (and so the sandbox it becomes) when the worker that started it dies.

    bwrap's own --die-with-parent covers the sandbox's children; this covers bwrap itself.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() == 1:  # the parent died before prctl took effect
        os._exit(1)


def main(argv: list[str]) -> None:
    config = json.loads(argv[1])
    die_with_parent()
    command = argv[argv.index("--") + 1 :]
    pid = str(os.getpid())
    for tasks in config.get("cgroups", []):
        with open(tasks, "w") as fh:
            fh.write(pid)
    for name, value in config.get("rlimits", {}).items():
        resource.setrlimit(_RLIMITS[name], (value, value))
    if config.get("setsid"):
        os.setsid()
    os.execvpe(command[0], command, config.get("env", dict(os.environ)))


if __name__ == "__main__":
    main(sys.argv)
