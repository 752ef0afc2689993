"""A small fake of the Docker SDK client: only the calls the docker backend makes, each one recorded.

`FakeDockerClient().containers` creates, lists and holds `FakeContainer`s; a
container "runs" from start() until kill() or finish(), and wait() blocks until
then, as the engine's wait does. `calls` keeps (verb, container name) in order.
"""
from __future__ import annotations

import threading

from docker.errors import APIError, NotFound


class FakeContainer:
    """One container as the SDK's Container object shows it: id, name, labels, attrs["State"]."""

    def __init__(self, client: FakeDockerClient, *, name: str, labels: dict[str, str], config: dict,
                 container_id: str) -> None:
        self.client = client
        self.name = name
        self.labels = labels
        self.config = config
        self.id = container_id
        self.attrs = {"Id": container_id, "Name": f"/{name}", "State": {"Status": "created", "Running": False}}
        self.output = b""
        self.oom_on_kill = False  # the kill ends a run the kernel's cgroup had already OOM-killed
        self._stopped = threading.Event()
        self._state = dict(self.attrs["State"])

    def _record(self, verb: str) -> None:
        self.client.calls.append((verb, self.name))

    def start(self) -> None:
        self._record("start")
        if self.client.fail_start:
            raise APIError("cannot start: no such image")
        self._state = {"Status": "running", "Running": True, "OOMKilled": False, "ExitCode": 0, "Error": ""}
        self.output += b"kernel says hi\n"

    def finish(self, exit_code: int, *, oom: bool = False) -> None:
        """The container stops (its command exited, or the engine killed it)."""
        self._state = {"Status": "exited", "Running": False, "OOMKilled": oom, "ExitCode": exit_code, "Error": ""}
        self._stopped.set()

    def wait(self, timeout: float | None = None) -> dict:
        self._record("wait")
        self._stopped.wait(timeout)
        return {"StatusCode": self._state["ExitCode"], "Error": None}

    def kill(self) -> None:
        self._record("kill")
        if not self._state.get("Running"):
            raise APIError(f"container {self.name} is not running")
        self.finish(137, oom=self.oom_on_kill)

    def reload(self) -> None:
        self._record("reload")
        if self.name not in self.client.containers.items or self.client.unreachable:
            raise NotFound(f"no such container: {self.name}")
        self.attrs["State"] = dict(self._state)

    def logs(self, *, stdout: bool = True, stderr: bool = True, tail: int | str = "all") -> bytes:
        self._record("logs")
        if self.name not in self.client.containers.items:
            raise NotFound(f"no such container: {self.name}")
        return self.output

    def remove(self, *, force: bool = False) -> None:
        self._record("remove-force" if force else "remove")
        if self._state.get("Running") and not force:
            raise APIError("cannot remove a running container")
        if self._state.get("Running"):
            self.finish(137)
        self.client.containers.items.pop(self.name, None)


class FakeContainers:
    """client.containers: create, list (label filter only), and the containers the fake engine holds."""

    def __init__(self, client: FakeDockerClient) -> None:
        self.client = client
        self.items: dict[str, FakeContainer] = {}

    def create(self, **config) -> FakeContainer:
        self.client.calls.append(("create", config["name"]))
        self.client.created.append(config)
        return self.add(config["name"], labels=dict(config.get("labels", {})), config=config)

    def add(self, name: str, *, labels: dict[str, str], config: dict | None = None) -> FakeContainer:
        """Put a container on the fake engine (created, not started), as another worker might have."""
        container_id = f"{len(self.items) + 1:064x}"
        container = FakeContainer(self.client, name=name, labels=labels, config=config or {}, container_id=container_id)
        self.items[name] = container
        return container

    def list(self, *, all: bool = False, filters: dict | None = None, ignore_removed: bool = False) -> list:
        self.client.calls.append(("list", str(filters)))
        key = (filters or {}).get("label")
        return [c for c in self.items.values() if key is None or key in c.labels]


class FakeDockerClient:
    """Stands for docker.DockerClient; `calls` records what the backend asked, in order."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.created: list[dict] = []  # the keyword arguments of each containers.create
        self.fail_start = False
        self.unreachable = False  # inspect (reload) fails, as with a daemon that went away
        self.containers = FakeContainers(self)
        self.images = FakeImages()


class FakeImage:
    def __init__(self, labels: dict[str, str]) -> None:
        self.labels = labels


class FakeImages:
    """The engine's images: tag -> labels; get() of another tag raises ImageNotFound, as the SDK does."""

    def __init__(self) -> None:
        self.labels: dict[str, dict[str, str]] = {}

    def get(self, tag: str) -> FakeImage:
        from docker.errors import ImageNotFound

        if tag not in self.labels:
            raise ImageNotFound(f"No such image: {tag}")
        return FakeImage(self.labels[tag])
