"""What the Docker backend asks the engine for, as pure data: the container's create arguments and the limits report.

`container_config` touches neither Docker nor the disk, so every security
setting can be unit-tested without an engine; docker.py hands it to the
Docker SDK's `containers.create`.
"""
from __future__ import annotations

import os
import re
import socket
from pathlib import Path

from docker.types import DeviceRequest, LogConfig, Mount, Ulimit

from gradeflow_protocol.messages import Limits
from gradeflow_worker.sandbox.base import (HOME, IPC_MOUNT, STUDENT_ENV, SandboxSpec, cpu_time_limit_s, limits_env,
                                           render_argv)

FILES_MOUNT = "/gf-files"  # read-only staging of the submission, copied into HOME before the kernel starts
OWNER_LABEL = "gradeflow.owner"
RUN_LABEL = "gradeflow.run"
LOG_MAX_BYTES = "1m"  # the engine keeps at most this much of the container's own output (twice: one rotation)
_SAFE_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,100}$")  # what docker accepts in a container name
# The script the container runs first: copy the submission into the tmpfs home
# (a tmpfs is empty until the container starts), then become the real argv.
_COPY_THEN_EXEC = (f'cp -R {FILES_MOUNT}/. {HOME}/ '
                   '|| { echo "gradeflow: could not copy the submission into the sandbox home" >&2; exit 1; }; '
                   'exec "$@"')


def owner_label() -> str:
    """host:pid of the worker process that starts a container, so its orphans can be found."""
    return f"{socket.gethostname()}:{os.getpid()}"


def container_name(run_id: str) -> str:
    """The container's name for a run; refuses ids docker would reject or misparse."""
    if not _SAFE_RUN_ID.match(run_id):
        raise ValueError(f"run id not usable in a container name: {run_id!r}")
    return f"gf-{run_id}"


def sandbox_argv(argv: list[str]) -> list[str]:
    """The kernel's argv as the container sees it.

    The harness passes its own interpreter's absolute host path first; that path
    does not exist in the image, whose interpreter is `python3` on the image's
    PATH (see services/worker/sandbox_image/build_image.sh). A relative argv[0] is kept.
    """
    rendered = render_argv(argv, ipc=IPC_MOUNT, home=HOME)
    if rendered and os.path.isabs(rendered[0]):
        rendered[0] = "python3"
    return rendered


def _bind(src: Path, dst: str, *, readonly: bool) -> Mount:
    """A bind mount of an absolute host path (settings.run_dir may be relative).

    The API takes mounts as JSON, so no character needs quoting; paths with a
    comma, quote or newline are still refused, as the CLI backend did: the run
    directories are ours, and such a name means a misconfigured run_dir.
    """
    source = str(src.resolve())
    if any(c in source for c in ',"\n'):
        raise ValueError(f"path not usable in a docker mount: {source!r}")
    return Mount(target=dst, source=source, type="bind", read_only=readonly)


def _tmpfs_options(scratch_mb: int) -> str:
    # Docker's tmpfs defaults to noexec; `exec` keeps parity with bwrap (compiled
    # extensions and JIT caches in scratch), nosuid/nodev stay on.
    return f"rw,exec,nosuid,nodev,size={scratch_mb}m,mode=1777"


def _ulimits(limits: Limits) -> list[Ulimit]:
    """rlimits set by the engine: open files, no core dumps, file size = scratch, CPU seconds."""
    fsize = limits.scratch_mb * 1024 * 1024
    cpu = cpu_time_limit_s(limits)
    return [Ulimit(name="nofile", soft=limits.max_open_files, hard=limits.max_open_files),
            Ulimit(name="core", soft=0, hard=0), Ulimit(name="fsize", soft=fsize, hard=fsize),
            Ulimit(name="cpu", soft=cpu, hard=cpu)]


def _limit_config(limits: Limits, uid: int) -> dict:
    """Resource limits, identity and privileges."""
    memory = limits.memory_mb * 1024 * 1024
    return {"network_mode": "none", "read_only": True, "cap_drop": ["ALL"], "security_opt": ["no-new-privileges"],
            "ipc_mode": "private", "pids_limit": limits.max_processes,
            "mem_limit": memory, "memswap_limit": memory,  # equal: no swap
            "nano_cpus": int(limits.cpus * 1e9), "user": f"{uid}:{uid}", "ulimits": _ulimits(limits)}


def _mounts(spec: SandboxSpec, file_dir: Path) -> list[Mount]:
    mounts = [_bind(spec.ipc_dir, IPC_MOUNT, readonly=False), _bind(file_dir, FILES_MOUNT, readonly=True)]
    if spec.public_dir is not None and spec.public_dir.is_dir():
        mounts.append(_bind(spec.public_dir, f"{HOME}/data", readonly=True))
    return mounts


def _environment(spec: SandboxSpec) -> dict[str, str]:
    return STUDENT_ENV | limits_env(spec.limits) | spec.env | {"HOME": HOME}  # the scratch home always wins


def container_config(spec: SandboxSpec, *, image: str, uid: int, name: str, file_dir: Path) -> dict:
    """The keyword arguments of `client.containers.create` for a run (pure).

    Not auto-removed: the container is removed in cleanup, after its state (OOM
    kill, exit code) has been read. `init` puts docker's tiny init at pid 1 so
    zombies of the student's subprocesses are reaped (they would otherwise count
    against the pids limit) and the exit status is passed through; it costs one pid.
    `create` never pulls: an image missing on the engine is an error.
    """
    config = {"image": image, "name": name, "labels": {RUN_LABEL: spec.run_id, OWNER_LABEL: owner_label()},
              "init": True, "hostname": "sandbox", "working_dir": HOME, "entrypoint": ["sh"],
              "command": ["-c", _COPY_THEN_EXEC, "sh", *sandbox_argv(spec.argv)],
              "log_config": LogConfig(type="json-file", config={"max-size": LOG_MAX_BYTES, "max-file": "2"}),
              "tmpfs": {"/tmp": _tmpfs_options(spec.limits.scratch_mb), HOME: _tmpfs_options(spec.limits.scratch_mb)},
              "mounts": _mounts(spec, file_dir), "environment": _environment(spec)}
    config |= _limit_config(spec.limits, uid)
    if spec.limits.gpu:
        config["device_requests"] = [DeviceRequest(count=-1, capabilities=[["gpu"]])]  # `--gpus all`
    return config


def enforced_by_docker(limits: Limits, uid: int) -> dict[str, str]:
    """Limit -> the docker mechanism that enforces it (reported with every run)."""
    scratch = limits.scratch_mb
    enforced = {
        "memory": f"docker --memory={limits.memory_mb}m (=--memory-swap, no swap)",
        "processes": f"docker --pids-limit={limits.max_processes} (includes the init process)",
        "network": "docker --network none",
        "filesystem": "docker --read-only root, private tmpfs scratch",
        "disk": f"tmpfs size {scratch} MB (home and /tmp), RLIMIT_FSIZE",
        "cpu": f"docker --cpus={limits.cpus:g}",
        "cpu_time": f"RLIMIT_CPU={cpu_time_limit_s(limits)}s (docker --ulimit)",
        "open_files": f"RLIMIT_NOFILE={limits.max_open_files} (docker --ulimit)",
        "core_dumps": "RLIMIT_CORE=0 (docker --ulimit)",
        "file_size": "RLIMIT_FSIZE (docker --ulimit)",
        "user": f"uid {uid}, --cap-drop ALL, no-new-privileges",
        "processes_outlive_run": "container killed and removed (docker kill, docker rm -f)",
    }
    if limits.gpu:
        enforced["gpu"] = "docker --gpus all"
    return enforced


def write_files(files: dict[str, bytes], file_dir: Path) -> None:
    """Stage the submission on the host: world-readable, read-only inside, copied into HOME at start."""
    file_dir.mkdir(parents=True, exist_ok=True)
    file_dir.chmod(0o755)  # explicit: the worker's umask must not hide the files from the sandbox uid
    for name, data in files.items():
        if Path(name).name != name or name in (".", ".."):
            raise ValueError(f"submission file name is not a plain name: {name!r}")
        path = file_dir / name
        path.write_bytes(data)
        path.chmod(0o644)
