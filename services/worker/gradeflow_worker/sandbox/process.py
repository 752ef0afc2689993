"""ProcessSandbox: a plain subprocess with rlimits. For a quick local look only: no isolation."""
from __future__ import annotations

import os

from gradeflow_worker.sandbox.base import SandboxSpec, limits_env, render_argv
from gradeflow_worker.sandbox.local import LaunchedProcess, launcher_argv, rlimits_for


class ProcessSandbox:
    name = "process"

    def container_environment(self, name: str) -> None:
        """None: the environment's venv is bound in (gradeflow_worker.environments resolves it)."""
        return None

    def ipc_path(self, spec: SandboxSpec) -> str:
        return str(spec.ipc_dir)

    def start(self, spec: SandboxSpec) -> LaunchedProcess:
        home = spec.ipc_dir.parent / "home"
        home.mkdir(parents=True, exist_ok=True)
        for name, data in spec.files.items():
            (home / name).write_bytes(data)
        if spec.public_dir is not None and spec.public_dir.is_dir():
            os.symlink(spec.public_dir, home / "data")
        rlimits, enforced = rlimits_for(spec.limits, {})
        env = {"HOME": str(home), "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}
        env |= limits_env(spec.limits) | spec.env
        argv = render_argv(spec.argv, ipc=str(spec.ipc_dir), home=str(home))
        config = {"rlimits": rlimits, "env": env}
        proc = LaunchedProcess.spawn(launcher_argv(config, argv), spec=spec, pass_fds=(), ipc_inside=str(spec.ipc_dir),
                                     cgroup=None, enforced=enforced, cwd=home)
        proc.not_enforced = sorted(set(proc.not_enforced) | {"network", "filesystem isolation"})
        return proc
