"""BubblewrapSandbox: namespaces, no network, read-only system, size-capped tmpfs scratch,
an unprivileged uid with no capabilities, cgroups where writable, rlimits otherwise."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import lru_cache
import shutil
import subprocess
import sys
from pathlib import Path

from gradeflow_worker.sandbox.base import (HOME, IPC_MOUNT, STUDENT_ENV, SandboxSpec, SandboxUsage, hand_ipc_dir_to,
                                           limits_env, render_argv)
from gradeflow_worker.sandbox.cgroups import make_cgroup, reap_orphans
from gradeflow_worker.sandbox.local import LaunchedProcess, launcher_argv, rlimits_for

_SYSTEM_RO = ("/usr", "/etc/ld.so.cache", "/etc/localtime", "/etc/alternatives")


def gpu_devices() -> list[str]:
    """The host's NVIDIA device nodes (/dev/nvidia0, /dev/nvidiactl, /dev/nvidia-uvm, ...)."""
    return sorted(str(p) for p in Path("/dev").glob("nvidia*") if p.is_char_device())


@lru_cache(maxsize=8)  # asked once per interpreter, not once per run
def python_prefix(python: str) -> Path:
    """The installation directory of an interpreter (its sys.base_prefix)."""
    out = subprocess.run([python, "-c", "import sys; print(sys.base_prefix)"], capture_output=True, text=True, check=True)
    return Path(out.stdout.strip())


_LAYOUT = ("import json, site, sys, sysconfig; b = {'base': sys.base_prefix, 'platbase': sys.base_prefix}; "
           "d = {sysconfig.get_path(k, vars=b) for k in ('purelib', 'platlib')} | set(site.getsitepackages([sys.base_prefix])); "
           "print(json.dumps({'prefix': sys.prefix, 'base_prefix': sys.base_prefix, 'base_site': sorted(d)}))")


@dataclass(frozen=True)
class PythonLayout:
    """Where an interpreter lives: a venv (prefix) on top of an installation (base_prefix)."""

    prefix: Path
    base_prefix: Path
    base_site: tuple[Path, ...]  # the installation's own site-packages, hidden from a venv's kernel


@lru_cache(maxsize=8)
def python_layout(python: str) -> PythonLayout:
    """The layout of an interpreter, asked once per interpreter."""
    out = subprocess.run([python, "-c", _LAYOUT], capture_output=True, text=True, check=True)
    found = json.loads(out.stdout)
    return PythonLayout(Path(found["prefix"]), Path(found["base_prefix"]),
                        tuple(Path(p) for p in found["base_site"] if os.path.isdir(p)))


def bind_at_own_path(path: Path) -> list[str]:
    """Bind a host directory read-only at its own path, with world-traversable parents inside (none for /usr)."""
    if str(path).startswith("/usr/"):
        return []
    args: list[str] = []
    parts = path.parts[1:-1]
    for i in range(1, len(parts) + 1):
        args += ["--perms", "0755", "--dir", "/" + "/".join(parts[:i])]
    return args + ["--ro-bind", str(path), str(path)]


def venv_binds(layout: PythonLayout) -> list[str]:
    """A student environment: the venv and the installation it runs on, read-only, with the installation's own
    site-packages (the harness's packages, when it is the worker's interpreter) masked by empty read-only tmpfs."""
    args = bind_at_own_path(layout.prefix) + bind_at_own_path(layout.base_prefix)
    for site_dir in layout.base_site:
        if layout.prefix not in (site_dir, *site_dir.parents):
            args += ["--perms", "0755", "--tmpfs", str(site_dir), "--remount-ro", str(site_dir)]
    return args


class BubblewrapSandbox:
    name = "bwrap"

    def __init__(self, *, python: str | None = None, uid: int = 65534) -> None:
        self.python = python or sys.executable
        self.prefix = python_prefix(self.python)
        self.uid = uid
        if not shutil.which("bwrap"):
            raise RuntimeError("bubblewrap is not installed: apt-get install -y bubblewrap")
        if not shutil.which("setpriv"):
            raise RuntimeError("setpriv (util-linux) is not installed")

    def _python_binds(self, python: str | None) -> tuple[list[str], Path]:
        """The binds for the kernel's interpreter and its bin directory: the worker's own installation (the default
        environment, as always), or a student environment's venv, which never sees the worker's packages."""
        if python is None or python == self.python:
            return bind_at_own_path(self.prefix), self.prefix
        layout = python_layout(python)
        return venv_binds(layout), layout.prefix

    def bwrap_argv(self, spec: SandboxSpec, file_fds: dict[str, int]) -> list[str]:
        limits = spec.limits
        scratch = str(limits.scratch_mb * 1024 * 1024)
        args = ["bwrap", "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
                "--die-with-parent", "--new-session", "--hostname", "sandbox", "--clearenv"]
        for path in _SYSTEM_RO:
            if os.path.exists(path):
                args += ["--ro-bind", path, path]
        args += ["--symlink", "usr/bin", "/bin", "--symlink", "usr/lib", "/lib", "--symlink", "usr/sbin", "/sbin"]
        if os.path.exists("/usr/lib64"):
            args += ["--symlink", "usr/lib64", "/lib64"]
        args += ["--proc", "/proc", "--dev", "/dev"]
        if limits.gpu:
            for device in gpu_devices():  # the GPU queue's sandboxes see the NVIDIA devices, nothing else of /dev
                args += ["--dev-bind", device, device]
        args += ["--perms", "01777", "--size", scratch, "--tmpfs", "/tmp"]
        args += ["--perms", "0755", "--dir", "/home"]
        args += ["--perms", "01777", "--size", scratch, "--tmpfs", HOME]
        python_binds, python_home = self._python_binds(spec.python)
        args += python_binds
        args += ["--bind", str(spec.ipc_dir), IPC_MOUNT]
        if spec.public_dir is not None and spec.public_dir.is_dir():
            args += ["--ro-bind", str(spec.public_dir), f"{HOME}/data"]
        for name, fd in file_fds.items():
            args += ["--perms", "0644", "--file", str(fd), f"{HOME}/{name}"]
        env = {"HOME": HOME, "PATH": f"{python_home}/bin:/usr/bin:/bin"} | STUDENT_ENV
        env |= limits_env(limits) | spec.env
        for key, value in env.items():
            args += ["--setenv", key, value]
        args += ["--chdir", HOME, "setpriv", "--reuid", str(self.uid), "--regid", str(self.uid), "--clear-groups",
                 "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"]
        return args + render_argv(spec.argv, ipc=IPC_MOUNT, home=HOME)

    def container_environment(self, name: str) -> None:
        """None: the environment's venv is bound in (gradeflow_worker.environments resolves it)."""
        return None

    def ipc_path(self, spec: SandboxSpec) -> str:
        return IPC_MOUNT

    def start(self, spec: SandboxSpec) -> LaunchedProcess:
        reap_orphans()
        hand_ipc_dir_to(spec, self.uid)
        cgroup = make_cgroup(spec.run_id)
        enforced = cgroup.create(memory_mb=spec.limits.memory_mb, max_processes=spec.limits.max_processes,
                                 cpus=spec.limits.cpus)
        rlimits, by_rlimit = rlimits_for(spec.limits, enforced)
        enforced |= by_rlimit
        if spec.limits.gpu and gpu_devices():
            enforced["gpu"] = f"bwrap --dev-bind of {len(gpu_devices())} NVIDIA device nodes"
        enforced |= {"network": "none (network namespace)", "filesystem": "read-only system, private tmpfs scratch",
                     "disk": f"tmpfs size {spec.limits.scratch_mb} MB (home and /tmp)",
                     "user": f"uid {self.uid}, no capabilities, no_new_privs", "processes_outlive_run": "pid namespace + cgroup kill"}
        file_fds = {}
        for name, data in spec.files.items():
            fd = os.memfd_create(f"gf-{name}")
            os.write(fd, data)
            os.lseek(fd, 0, os.SEEK_SET)
            file_fds[name] = fd
        argv = self.bwrap_argv(spec, file_fds)
        config = {"cgroups": cgroup.join_paths(), "rlimits": rlimits, "env": {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}}
        try:
            proc = LaunchedProcess.spawn(launcher_argv(config, argv), spec=spec, pass_fds=tuple(file_fds.values()),
                                         ipc_inside=IPC_MOUNT, cgroup=cgroup, enforced=enforced)
        finally:
            for fd in file_fds.values():
                os.close(fd)
        return proc


__all__ = ["BubblewrapSandbox", "SandboxUsage"]
