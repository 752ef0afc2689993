"""DockerSandbox: the production backend, driven through the `docker` CLI.

One container per run: no network, read-only root, all capabilities dropped,
no-new-privileges, an unprivileged uid, pids/memory/CPU limits, rlimits, and
size-capped tmpfs scratch. The harness talks to the kernel over Unix sockets in
the run's IPC directory, bind-mounted at /gf, so the daemon must run on the
same host (same kernel, same paths) as the worker: a remote DOCKER_HOST over
TCP cannot work, and a worker that itself runs in a container must see the
run directory at the same path as the host does (see docker-compose.yml).

`container_args` is pure (the whole `docker run` command line) so the security
flags can be unit-tested without a Docker engine; `DockerProcess` owns the
container's life: kill and remove by name, never by signalling the CLI.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
from pathlib import Path

from gradeflow_protocol.messages import Limits
from gradeflow_worker.sandbox.base import (HOME, IPC_MOUNT, PopenHandle, SandboxSpec, SandboxUsage, limits_env, pid_alive,
                                    render_argv, tail_file)
from gradeflow_worker.sandbox.cgroups import event_count

FILES_MOUNT = "/gf-files"  # read-only staging of the submission, copied into HOME before the kernel starts
_SAFE_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,100}$")  # what docker accepts in a container name
_CLI_TIMEOUT_S = 30.0  # a daemon that does not answer a kill/inspect in this long is broken, not busy
# The script the container runs first: copy the submission into the tmpfs home
# (a tmpfs is empty until the container starts), then become the real argv.
_COPY_THEN_EXEC = (f'cp -R {FILES_MOUNT}/. {HOME}/ '
                   '|| { echo "gradeflow: could not copy the submission into the sandbox home" >&2; exit 1; }; '
                   'exec "$@"')
_WANTED = {"memory", "processes", "network", "disk", "cpu_time", "open_files"}


OWNER_LABEL = "gradeflow.owner"


def owner_label() -> str:
    """host:pid of the worker process that starts a container, so its orphans can be found."""
    return f"{socket.gethostname()}:{os.getpid()}"


    return True


def orphaned(listing: str, *, host: str) -> list[str]:
    """Names of containers (from `docker ps` lines "name host:pid") whose worker on this host is gone."""
    names = []
    for line in listing.splitlines():
        name, _, owner = line.partition(" ")
        owner_host, _, pid = owner.rpartition(":")
        if owner_host == host and pid.isdigit() and not pid_alive(int(pid)):
            names.append(name)
    return names


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


def _bind(src: Path, dst: str, *, readonly: bool) -> list[str]:
    """A --mount bind argument; docker parses it as CSV, so refuse paths that would need quoting."""
    source = str(src.resolve())  # docker wants absolute host paths; settings.run_dir may be relative
    if any(c in source for c in ',"\n'):
        raise ValueError(f"path not usable in a docker --mount: {source!r}")
    return ["--mount", f"type=bind,src={source},dst={dst}" + (",readonly" if readonly else "")]


def _tmpfs(path: str, scratch_mb: int) -> list[str]:
    # Docker's tmpfs defaults to noexec; `exec` keeps parity with bwrap (compiled
    # extensions and JIT caches in scratch), nosuid/nodev stay on.
    return ["--tmpfs", f"{path}:rw,exec,nosuid,nodev,size={scratch_mb}m,mode=1777"]


def _limit_args(limits: Limits, uid: int) -> list[str]:
    """Resource limits, identity and privileges."""
    return ["--network", "none", "--read-only", "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
            "--ipc", "private", "--pids-limit", str(limits.max_processes),
            "--memory", f"{limits.memory_mb}m", "--memory-swap", f"{limits.memory_mb}m",  # equal: no swap
            "--cpus", f"{limits.cpus:g}", "--user", f"{uid}:{uid}",
            "--ulimit", f"nofile={limits.max_open_files}:{limits.max_open_files}",
            "--ulimit", "core=0:0",
            "--ulimit", f"fsize={limits.scratch_mb * 1024 * 1024}:{limits.scratch_mb * 1024 * 1024}",
            "--ulimit", f"cpu={_cpu_seconds(limits)}:{_cpu_seconds(limits)}"]


def _cpu_seconds(limits: Limits) -> int:
    return int(limits.time_limit_s) + 5  # same as the bwrap backend's RLIMIT_CPU


def _env_args(spec: SandboxSpec) -> list[str]:
    env = {"USER": "student", "LANG": "C.UTF-8"} | limits_env(spec.limits) | spec.env | {"HOME": HOME}
    return [arg for key, value in env.items() for arg in ("--env", f"{key}={value}")]


def container_args(spec: SandboxSpec, *, image: str, uid: int, name: str, file_dir: Path) -> list[str]:
    """The full `docker run` command line for a run (pure: touches neither Docker nor the disk).

    Not `--rm`: the container is removed in cleanup, after its state (OOM kill,
    exit code) has been read. `--init` puts docker's tiny init at pid 1 so zombies
    of the student's subprocesses are reaped (they would otherwise count against
    --pids-limit) and the exit status is passed through; it costs one pid.
    """
    args = ["docker", "run", "--name", name, "--label", f"gradeflow.run={spec.run_id}",
            "--label", f"{OWNER_LABEL}={owner_label()}", "--init",
            "--pull", "never", "--log-driver", "none",  # output reaches sandbox.log through the attached CLI
            "--hostname", "sandbox", "--workdir", HOME, "--entrypoint", "sh"]
    args += _limit_args(spec.limits, uid)
    args += _tmpfs("/tmp", spec.limits.scratch_mb) + _tmpfs(HOME, spec.limits.scratch_mb)
    args += _bind(spec.ipc_dir, IPC_MOUNT, readonly=False) + _bind(file_dir, FILES_MOUNT, readonly=True)
    if spec.public_dir is not None and spec.public_dir.is_dir():
        args += _bind(spec.public_dir, f"{HOME}/data", readonly=True)
    if spec.limits.gpu:
        args += ["--gpus", "all"]
    args += _env_args(spec)
    return args + [image, "-c", _COPY_THEN_EXEC, "sh", *sandbox_argv(spec.argv)]


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
        "cpu_time": f"RLIMIT_CPU={_cpu_seconds(limits)}s (docker --ulimit)",
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


CGROUP_ROOT = Path("/sys/fs/cgroup")


def pids_events_paths(container_id: str, root: Path = CGROUP_ROOT) -> list[Path]:
    """Where a local daemon keeps a container's pids.events: cgroup v1 (cgroupfs), v2 (cgroupfs or systemd)."""
    return [root / "pids" / "docker" / container_id / "pids.events",
            root / "docker" / container_id / "pids.events",
            root / "system.slice" / f"docker-{container_id}.scope" / "pids.events"]


def pids_limit_hit(container_id: str, root: Path = CGROUP_ROOT) -> bool:
    """True when the container's pids limit refused a fork; False when it did not or cannot be read here."""
    if not re.fullmatch(r"[0-9a-f]{12,64}", container_id):
        return False
    for path in pids_events_paths(container_id, root):
        try:
            text = path.read_text()
        except OSError:
            continue
        return event_count(text, "max") > 0
    return False


class DockerProcess(PopenHandle):
    """One container, started by an attached `docker run` whose output goes to sandbox.log."""

    ipc_inside = IPC_MOUNT

    def __init__(self, popen: subprocess.Popen, *, run_id: str, name: str, cli_env: dict[str, str],
                 log_path: Path, enforced: dict[str, str]) -> None:
        self.popen = popen
        self.run_id = run_id
        self.name = name
        self.cli_env = cli_env
        self.log_path = log_path
        self.enforced = enforced
        self.not_enforced = sorted(_WANTED - set(enforced))
        self._final_state: dict | None = None  # kept from before `docker rm`, so usage() works after cleanup
        self._container_id: str | None = None
        self._pids_hit = False  # the pids limit refused a fork (seen in the container's cgroup, when local)

    @classmethod
    def spawn(cls, argv: list[str], *, spec: SandboxSpec, name: str, cli_env: dict[str, str],
              enforced: dict[str, str]) -> "DockerProcess":
        """Start `docker run` (attached, so its exit status is the container's)."""
        log_path = spec.ipc_dir.parent / "sandbox.log"
        with open(log_path, "wb") as log:
            # A session of its own: a signal to the worker's group never reaches the CLI (which would
            # proxy it into the container); the container is stopped only through `docker kill`.
            popen = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                     env=cli_env, start_new_session=True)
        return cls(popen, run_id=spec.run_id, name=name, cli_env=cli_env, log_path=log_path, enforced=enforced)

    def _docker(self, *args: str) -> subprocess.CompletedProcess:
        try:
            return subprocess.run(["docker", *args], env=self.cli_env, capture_output=True, text=True,
                                  timeout=_CLI_TIMEOUT_S, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired as exc:
            return subprocess.CompletedProcess(exc.cmd, 124, "", f"docker {args[0]} timed out")

    def _note_pids_limit(self) -> None:
        """Read the container's pids.events while its cgroup still exists (the daemon does not report it)."""
        if self._pids_hit or self._final_state is not None:
            return
        if self._container_id is None:
            out = self._docker("inspect", "--format", "{{.Id}}", self.name)
            self._container_id = out.stdout.strip() if out.returncode == 0 else None
        if self._container_id:
            self._pids_hit = pids_limit_hit(self._container_id)

    def kill(self) -> None:
        """Kill the container through the daemon (its whole pid namespace goes), then reap the CLI."""
        self._note_pids_limit()  # the cgroup goes with the container
        if self._final_state is None:  # not yet seen stopped; the CLI exiting alone proves nothing
            self._docker("kill", self.name)  # fails harmlessly when it has already exited or never started
        if self.wait(10) is None:
            self.popen.kill()  # the daemon did not answer: at least do not leak the local CLI process
            self.wait(5)

    def _inspect(self) -> dict | None:
        if self._final_state is not None:
            return self._final_state
        out = self._docker("inspect", "--format", "{{json .State}}", self.name)
        if out.returncode != 0:
            return None
        try:
            state = json.loads(out.stdout)
        except ValueError:
            return None
        if not state.get("Running"):
            self._final_state = state
        return state

    def usage(self) -> SandboxUsage:
        """What the daemon saw (an OOM kill, the exit code), and pids-limit hits read from the container's
        cgroup when the daemon runs on this host (docker itself does not report them)."""
        self._note_pids_limit()
        state = self._inspect()
        if state is None:
            return SandboxUsage(exit_code=self.popen.poll(), processes_exceeded=self._pids_hit,
                                detail="docker inspect failed")
        running = bool(state.get("Running"))
        return SandboxUsage(memory_exceeded=bool(state.get("OOMKilled")), processes_exceeded=self._pids_hit,
                            exit_code=None if running else state.get("ExitCode"),
                            detail=str(state.get("Error") or ""))

    def cleanup(self) -> None:
        """Kill, keep the final state for usage(), remove the container."""
        self.kill()
        self._inspect()
        self._docker("rm", "-f", self.name)

    def stderr_tail(self, limit: int = 4000) -> str:
        return tail_file(self.log_path, limit)


class DockerSandbox:
    """Runs each sandbox as a container of `image` through the docker CLI (DOCKER_HOST from docker_host)."""

    name = "docker"

    def __init__(self, image: str, docker_host: str | None = None, uid: int = 65534) -> None:
        self.image = image
        self.docker_host = docker_host
        self.uid = uid
        if not shutil.which("docker"):
            raise RuntimeError("the docker CLI is not installed (the docker sandbox backend drives it)")

    def _cli_env(self) -> dict[str, str]:
        env = dict(os.environ)
        if self.docker_host:
            env["DOCKER_HOST"] = self.docker_host
        return env

    def ipc_path(self, spec: SandboxSpec) -> str:
        return IPC_MOUNT

    def reap_orphans(self) -> list[str]:
        """Remove containers left by a worker on this host that died mid-run (no parent-death signal crosses docker)."""
        out = subprocess.run(["docker", "ps", "-a", "--filter", f"label={OWNER_LABEL}", "--format",
                              "{{.Names}} {{.Label \"" + OWNER_LABEL + "\"}}"], env=self._cli_env(), capture_output=True,
                             text=True, timeout=_CLI_TIMEOUT_S, stdin=subprocess.DEVNULL)
        names = orphaned(out.stdout, host=socket.gethostname()) if out.returncode == 0 else []
        if names:
            subprocess.run(["docker", "rm", "-f", *names], env=self._cli_env(), capture_output=True,
                           timeout=_CLI_TIMEOUT_S, stdin=subprocess.DEVNULL)
        return names

    def start(self, spec: SandboxSpec) -> DockerProcess:
        """Stage the files, hand the IPC directory to the sandbox uid, and start the container."""
        self.reap_orphans()
        name = container_name(spec.run_id)
        os.chown(spec.ipc_dir, self.uid, self.uid)  # the kernel creates its sockets here
        os.chmod(spec.ipc_dir, 0o700)
        file_dir = spec.ipc_dir.parent / "files"
        write_files(spec.files, file_dir)
        argv = container_args(spec, image=self.image, uid=self.uid, name=name, file_dir=file_dir)
        return DockerProcess.spawn(argv, spec=spec, name=name, cli_env=self._cli_env(),
                                   enforced=enforced_by_docker(spec.limits, self.uid))


__all__ = ["DockerProcess", "DockerSandbox", "container_args", "container_name", "enforced_by_docker",
           "sandbox_argv", "write_files"]
