"""DockerSandbox: the production backend, driven through the Docker SDK for Python (the engine's HTTP API).

One container per run: no network, read-only root, all capabilities dropped,
no-new-privileges, an unprivileged uid, pids/memory/CPU limits, rlimits, and
size-capped tmpfs scratch (see docker_spec.py, which builds the create
arguments). The harness talks to the kernel over Unix sockets in the run's IPC
directory, bind-mounted at /gf, so the daemon must run on the same host (same
kernel, same paths) as the worker: a remote DOCKER_HOST over TCP cannot work,
and a worker that itself runs in a container must see the run directory at the
same path as the host does (see docker-compose.yml).

`DockerProcess` owns the container's life: exit status from the engine's wait,
OOM kill and exit state from its inspect answer, kill and removal through the
engine, output from the engine's (size-capped) log.
"""
from __future__ import annotations

import re
import socket
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import docker
from docker.errors import DockerException, ImageNotFound
from requests.exceptions import RequestException

from gradeflow_protocol.environments import DEFAULT_ENVIRONMENT

from gradeflow_worker.environments import (DIGEST_LABEL, ENVIRONMENT_LABEL, FINGERPRINT_LABEL, IMAGE_BUILD_COMMAND,
                                           EnvironmentMissing, StudentEnvironment, environment_image)
from gradeflow_worker.sandbox.base import (IPC_MOUNT, SandboxSpec, SandboxUsage, hand_ipc_dir_to, log_path,
                                           not_enforced_of, pid_alive, tail_file)
from gradeflow_worker.sandbox.cgroupfs import CGROUP_ROOT, event_count
from gradeflow_worker.sandbox.docker_spec import (OWNER_LABEL, container_config, container_name, enforced_by_docker,
                                                  sandbox_argv, write_files)

_API_TIMEOUT_S = 30.0  # a daemon that does not answer a kill/inspect in this long is broken, not busy
_ENGINE_ERRORS = (DockerException, RequestException)  # the engine refused, or could not be reached
_ENGINE_FAILED = 125  # the exit status `docker run` gives when the engine, not the command, failed
_LOG_TAIL_LINES = 2000  # the most of the container's output fetched for the sandbox log


def make_client(docker_host: str | None) -> docker.DockerClient:
    """A client of the engine at `docker_host`, or the one the environment names (DOCKER_HOST, as the CLI does)."""
    if docker_host:
        return docker.DockerClient(base_url=docker_host, timeout=_API_TIMEOUT_S)
    return docker.from_env(timeout=_API_TIMEOUT_S)


def quietly(call: Callable[..., Any], *args: Any, **kwargs: Any) -> bool:
    """Run one engine call whose failure changes nothing (a kill of a container already gone, say)."""
    try:
        call(*args, **kwargs)
        return True
    except _ENGINE_ERRORS:
        return False


def orphaned(owners: Iterable[tuple[str, str]], *, host: str) -> list[str]:
    """Names of containers (given as (name, "host:pid" owner label)) whose worker on this host is gone."""
    names = []
    for name, owner in owners:
        owner_host, _, pid = owner.rpartition(":")
        if owner_host == host and pid.isdigit() and not pid_alive(int(pid)):
            names.append(name)
    return names


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


class DockerProcess:
    """One started container. A watcher thread holds the engine's wait, so poll() costs no request."""

    ipc_inside = IPC_MOUNT

    def __init__(self, container: Any, *, run_id: str, log_path: Path, enforced: dict[str, str],
                 not_enforced: list[str], cgroup_root: Path = CGROUP_ROOT) -> None:
        self.container = container
        self.run_id = run_id
        self.name = container.name
        self.log_path = log_path
        self.enforced = enforced
        self.not_enforced = not_enforced
        self.cgroup_root = cgroup_root
        self._final_state: dict | None = None  # kept from before removal, so usage() works after cleanup
        self._exit_code: int | None = None  # from the engine's wait
        self._exited = threading.Event()
        self._pids_hit = False  # the pids limit refused a fork (seen in the container's cgroup, when local)
        self._removed = False
        threading.Thread(target=self._watch, name=f"gf-docker-wait-{run_id}", daemon=True).start()

    def _watch(self) -> None:
        """Block on the engine's wait until the container stops (as the attached `docker run` did)."""
        try:
            code = self.container.wait(timeout=None).get("StatusCode")
            self._exit_code = code if isinstance(code, int) else None
        except _ENGINE_ERRORS:
            pass  # poll() falls back on the inspect answer
        finally:
            self._exited.set()

    def poll(self) -> int | None:
        """The container's exit status once it has stopped; None while it runs."""
        if not self._exited.is_set():
            return None
        if self._exit_code is not None:
            return self._exit_code
        state = self._inspect()
        if state is None:
            return _ENGINE_FAILED
        return None if state.get("Running") else state.get("ExitCode", _ENGINE_FAILED)

    def wait(self, timeout: float | None = None) -> int | None:
        """The exit status, waiting at most `timeout` seconds for it (None: not stopped yet)."""
        self._exited.wait(timeout)
        return self.poll()

    def _note_pids_limit(self) -> None:
        """Read the container's pids.events while its cgroup still exists (the engine does not report it)."""
        if self._pids_hit or self._final_state is not None:
            return
        self._pids_hit = pids_limit_hit(self.container.id, self.cgroup_root)

    def kill(self) -> None:
        """Kill the container through the engine (its whole pid namespace goes) and wait for it to stop."""
        self._note_pids_limit()  # the cgroup goes with the container
        if not self._exited.is_set():
            quietly(self.container.kill)  # fails harmlessly when it has already exited
        self._exited.wait(10)

    def _inspect(self) -> dict | None:
        """The engine's State of the container (None when it cannot be asked); kept once stopped."""
        if self._final_state is not None:
            return self._final_state
        if self._removed or not quietly(self.container.reload):
            return None
        state = self.container.attrs.get("State") or {}
        if not state.get("Running"):
            self._final_state = state
        return state

    def usage(self) -> SandboxUsage:
        """What the engine saw (an OOM kill, the exit code), and pids-limit hits read from the container's
        cgroup when the daemon runs on this host (docker itself does not report them)."""
        self._note_pids_limit()
        state = self._inspect()
        if state is None:
            return SandboxUsage(exit_code=self.poll(), processes_exceeded=self._pids_hit,
                                detail="docker inspect failed")
        running = bool(state.get("Running"))
        return SandboxUsage(memory_exceeded=bool(state.get("OOMKilled")), processes_exceeded=self._pids_hit,
                            exit_code=None if running else state.get("ExitCode"),
                            detail=str(state.get("Error") or ""))

    def _save_log(self) -> None:
        """Copy the tail of the container's output from the engine into sandbox.log."""
        if self._removed:
            return
        try:
            data = self.container.logs(stdout=True, stderr=True, tail=_LOG_TAIL_LINES)
        except _ENGINE_ERRORS:
            return
        self.log_path.write_bytes(data)

    def cleanup(self) -> None:
        """Kill, keep the final state for usage() and the output for stderr_tail(), remove the container."""
        self.kill()
        self._inspect()
        self._save_log()
        quietly(self.container.remove, force=True)
        self._removed = True

    def stderr_tail(self, limit: int = 4000) -> str:
        """The last `limit` bytes of the container's output (from the engine while the container exists)."""
        self._save_log()
        return tail_file(self.log_path, limit)


class DockerSandbox:
    """Runs each sandbox as a container of `image` (the engine at docker_host, else DOCKER_HOST's)."""

    name = "docker"

    def __init__(self, image: str, docker_host: str | None = None, uid: int = 65534, *,
                 client: Any = None, cgroup_root: Path = CGROUP_ROOT) -> None:
        self.image = image
        self.docker_host = docker_host
        self.uid = uid
        self.cgroup_root = cgroup_root
        self._client = client  # made on first use: making one asks the engine for its API version

    @property
    def client(self) -> Any:
        """The engine's client (a docker.DockerClient, or a fake with the same methods)."""
        if self._client is None:
            self._client = make_client(self.docker_host)
        return self._client

    def ipc_path(self, spec: SandboxSpec) -> str:
        return IPC_MOUNT

    def container_environment(self, name: str) -> StudentEnvironment:
        """The image of a student environment, with the digest its build recorded (the venv's, so a run records
        the same digest under Docker as under bubblewrap); EnvironmentMissing when it is not built on this engine."""
        image = environment_image(self.image, name)
        try:
            labels = self.client.images.get(image).labels or {}
        except ImageNotFound:
            how = (f"`{IMAGE_BUILD_COMMAND} {name}`" if name != DEFAULT_ENVIRONMENT
                   else "`services/worker/sandbox_image/build_image.sh`")
            raise EnvironmentMissing(f"sandbox_error: the Docker image {image} of the student environment {name!r} "
                                     f"is not on this worker's engine; build it with {how}") from None
        if name != DEFAULT_ENVIRONMENT and labels.get(ENVIRONMENT_LABEL) != name:
            raise EnvironmentMissing(f"sandbox_error: the Docker image {image} is not the student environment "
                                     f"{name!r} (its label says {labels.get(ENVIRONMENT_LABEL)!r}); rebuild it with "
                                     f"`{IMAGE_BUILD_COMMAND} {name}`")
        digest = labels.get(DIGEST_LABEL) or f"image {labels.get(FINGERPRINT_LABEL, image)}"
        return StudentEnvironment(name, python="python3", digest=digest, image=image)

    def reap_orphans(self) -> list[str]:
        """Remove containers left by a worker on this host that died mid-run (no parent-death signal crosses docker)."""
        try:
            containers = self.client.containers.list(all=True, filters={"label": OWNER_LABEL}, ignore_removed=True)
        except _ENGINE_ERRORS:
            return []
        names = orphaned(((c.name, c.labels.get(OWNER_LABEL, "")) for c in containers), host=socket.gethostname())
        for container in containers:
            if container.name in names:
                quietly(container.remove, force=True)
        return names

    def start(self, spec: SandboxSpec) -> DockerProcess:
        """Stage the files, hand the IPC directory to the sandbox uid, and create and start the container."""
        self.reap_orphans()
        name = container_name(spec.run_id)
        hand_ipc_dir_to(spec, self.uid)
        file_dir = spec.ipc_dir.parent / "files"
        write_files(spec.files, file_dir)
        container = self.client.containers.create(**container_config(spec, image=spec.image or self.image,
                                                                     uid=self.uid, name=name, file_dir=file_dir))
        try:
            container.start()
        except BaseException:
            quietly(container.remove, force=True)  # nobody else holds it: the caller gets no process to clean up
            raise
        enforced = enforced_by_docker(spec.limits, self.uid)
        return DockerProcess(container, run_id=spec.run_id, log_path=log_path(spec), enforced=enforced,
                             not_enforced=not_enforced_of(spec.limits, enforced), cgroup_root=self.cgroup_root)


__all__ = ["DockerProcess", "DockerSandbox", "container_config", "container_name", "enforced_by_docker",
           "make_client", "orphaned", "pids_limit_hit", "sandbox_argv", "write_files"]
