"""The docker backend's container handling, against a fake of the Docker SDK client (tests/.../fake_docker.py)."""
from __future__ import annotations

import os
import socket
import stat
from types import SimpleNamespace

import pytest

from gradeflow_protocol.enums import RunOutcome
from gradeflow_worker.harness import RunState, _refine_outcome
from gradeflow_worker.sandbox import docker as backend
from gradeflow_worker.sandbox.docker import DockerSandbox, orphaned, pids_events_paths, pids_limit_hit
from tests.unit.worker.sandbox.fake_docker import FakeDockerClient
from tests.unit.worker.sandbox.test_docker_spec import make_spec

needs_root = pytest.mark.skipif(os.geteuid() != 0,
                                reason="start() hands the IPC directory to the sandbox uid (needs root)")
DEAD_PID = 2**22 + 12345  # above pid_max on most hosts: no such process


@pytest.fixture
def client():
    return FakeDockerClient()


@pytest.fixture
def sandbox(client, tmp_path):
    return DockerSandbox(image="img:1", client=client, cgroup_root=tmp_path / "cgroup")


def started(sandbox, tmp_path):
    spec = make_spec(tmp_path)
    return spec, sandbox.start(spec)


@needs_root
def test_process_kills_through_the_engine_and_removes(sandbox, client, tmp_path):
    spec, proc = started(sandbox, tmp_path)
    assert proc.poll() is None and proc.wait(0.05) is None
    assert proc.ipc_inside == "/gf" and proc.not_enforced == []
    assert spec.ipc_dir.stat().st_uid == 65534 and stat.S_IMODE(spec.ipc_dir.stat().st_mode) == 0o700
    assert (spec.ipc_dir.parent / "files" / "sub.ipynb").read_bytes() == b"SECRET-SUBMISSION-BYTES"
    assert "kernel says hi" in proc.stderr_tail()
    client.containers.items["gf-abc123"].oom_on_kill = True
    proc.cleanup()
    assert proc.poll() == 137
    usage = proc.usage()  # after removal: the state read before it
    assert usage.memory_exceeded and usage.exit_code == 137
    assert client.calls[0][0] == "list"  # orphans are reaped before each start
    assert "gradeflow.owner" in client.calls[0][1]
    assert client.calls[1] == ("create", "gf-abc123") and client.calls[2] == ("start", "gf-abc123")
    assert ("kill", "gf-abc123") in client.calls and ("remove-force", "gf-abc123") in client.calls
    assert "gf-abc123" not in client.containers.items
    assert "kernel says hi" in proc.stderr_tail()  # kept in sandbox.log from before removal
    assert "kernel says hi" in (spec.ipc_dir.parent / "sandbox.log").read_text()


@needs_root
def test_exit_status_comes_from_the_engines_wait(sandbox, client, tmp_path):
    _, proc = started(sandbox, tmp_path)
    client.containers.items["gf-abc123"].finish(3)
    assert proc.wait(5) == 3 and proc.poll() == 3
    usage = proc.usage()
    assert usage.exit_code == 3 and not usage.memory_exceeded and not usage.processes_exceeded
    proc.cleanup()
    assert ("kill", "gf-abc123") not in client.calls  # already stopped: nothing to kill


@needs_root
def test_oom_kill_is_the_memory_limit(sandbox, client, tmp_path):
    _, proc = started(sandbox, tmp_path)
    client.containers.items["gf-abc123"].finish(137, oom=True)
    state = RunState(outcome=RunOutcome.CRASHED)
    _refine_outcome(SimpleNamespace(process=proc), state)
    assert proc.usage().memory_exceeded and state.outcome is RunOutcome.MEMORY_LIMIT
    proc.cleanup()


@needs_root
def test_pids_limit_hit_is_the_process_limit(sandbox, client, tmp_path):
    _, proc = started(sandbox, tmp_path)
    events = pids_events_paths(client.containers.items["gf-abc123"].id, root=tmp_path / "cgroup")[0]
    events.parent.mkdir(parents=True)
    events.write_text("max 0\n")
    assert not proc.usage().processes_exceeded
    events.write_text("max 12\n")
    state = RunState(outcome=RunOutcome.TIMEOUT)
    _refine_outcome(SimpleNamespace(process=proc), state)
    assert proc.usage().processes_exceeded and state.outcome is RunOutcome.PROCESS_LIMIT
    proc.kill()  # read before the kill: the container's cgroup goes with it
    events.unlink()
    assert proc.usage().processes_exceeded
    proc.cleanup()


@needs_root
def test_orphans_of_dead_workers_on_this_host_are_removed_before_each_start(sandbox, client, tmp_path):
    host = socket.gethostname()
    client.containers.add("gf-dead", labels={"gradeflow.owner": f"{host}:{DEAD_PID}"})
    client.containers.add("gf-alive", labels={"gradeflow.owner": f"{host}:{os.getpid()}"})
    client.containers.add("gf-elsewhere", labels={"gradeflow.owner": f"other-{host}:{DEAD_PID}"})
    client.containers.add("not-ours", labels={})
    _, proc = started(sandbox, tmp_path)
    assert set(client.containers.items) == {"gf-alive", "gf-elsewhere", "not-ours", "gf-abc123"}
    verbs = [verb for verb, _ in client.calls]
    assert verbs.index("remove-force") < verbs.index("create")
    proc.cleanup()


@needs_root
def test_a_container_that_cannot_start_is_removed(sandbox, client, tmp_path):
    client.fail_start = True
    with pytest.raises(backend.DockerException):
        started(sandbox, tmp_path)
    assert client.containers.items == {}


@needs_root
def test_an_engine_that_stops_answering_is_reported(sandbox, client, tmp_path):
    _, proc = started(sandbox, tmp_path)
    client.unreachable = True
    usage = proc.usage()
    assert usage.detail == "docker inspect failed" and usage.exit_code is None
    client.unreachable = False
    proc.cleanup()


def test_docker_host_is_honoured_and_the_client_made_on_first_use(monkeypatch):
    made = []
    monkeypatch.setattr(backend.docker, "DockerClient", lambda **kw: made.append(("url", kw["base_url"])) or "client")
    monkeypatch.setattr(backend.docker, "from_env", lambda **kw: made.append(("env", None)) or "env-client")
    sandbox = DockerSandbox(image="img:1", docker_host="unix:///run/x.sock")
    assert made == []  # making a client asks the engine for its version: not at construction
    assert sandbox.client == "client" and sandbox.client == "client"
    assert made == [("url", "unix:///run/x.sock")]
    assert DockerSandbox(image="img:1").client == "env-client"  # DOCKER_HOST from the environment, as the CLI did
    assert made[-1] == ("env", None)


def test_orphans_are_containers_of_dead_workers_on_this_host():
    owners = [("gf-a", f"vm:{os.getpid()}"), ("gf-b", f"vm:{DEAD_PID}"), ("gf-c", f"other:{DEAD_PID}"),
              ("gf-d", "garbage")]
    assert orphaned(owners, host="vm") == ["gf-b"]


def test_pids_limit_hits_are_read_from_the_containers_cgroup(tmp_path):
    cid = "ab12" * 16
    assert not pids_limit_hit(cid, root=tmp_path)  # not on this host (a remote daemon): nothing claimed
    v1, _, systemd = pids_events_paths(cid, root=tmp_path)
    v1.parent.mkdir(parents=True)
    v1.write_text("max 0\n")
    assert not pids_limit_hit(cid, root=tmp_path)
    v1.write_text("max 17\n")
    assert pids_limit_hit(cid, root=tmp_path)
    systemd.parent.mkdir(parents=True)
    systemd.write_text("max 2\n")
    v1.unlink()
    assert pids_limit_hit(cid, root=tmp_path)  # cgroup v2 under systemd
    assert not pids_limit_hit("../../etc", root=tmp_path)  # only a container id names a path


# --- student environments: an image each


def test_an_environment_image_is_named_after_the_default_one():
    from gradeflow_worker.environments import environment_image

    assert environment_image("gradeflow-sandbox:latest", "pytorch") == "gradeflow-sandbox-pytorch:latest"
    assert environment_image("registry:5000/gf/sandbox", "numpy") == "registry:5000/gf/sandbox-numpy:latest"
    assert environment_image("gradeflow-sandbox:v2", "default") == "gradeflow-sandbox:v2"


def test_the_environment_image_and_its_digest_come_from_the_engine():
    from tests.unit.worker.sandbox.fake_docker import FakeDockerClient
    from gradeflow_worker.sandbox.docker import DockerSandbox

    client = FakeDockerClient()
    client.images.labels["gf:latest"] = {"gradeflow.fingerprint": "abc"}
    client.images.labels["gf-numpy:latest"] = {"gradeflow.environment": "numpy",
                                               "gradeflow.environment_digest": "d" * 64}
    sandbox = DockerSandbox("gf:latest", client=client)
    numpy_env = sandbox.container_environment("numpy")
    assert (numpy_env.image, numpy_env.digest, numpy_env.python) == ("gf-numpy:latest", "d" * 64, "python3")
    assert sandbox.container_environment("default").digest == "image abc"


def test_a_missing_or_mislabelled_environment_image_says_how_to_build_it():
    from tests.unit.worker.sandbox.fake_docker import FakeDockerClient
    from gradeflow_worker.environments import EnvironmentMissing
    from gradeflow_worker.sandbox.docker import DockerSandbox

    client = FakeDockerClient()
    client.images.labels["gf-pytorch:latest"] = {"gradeflow.environment": "numpy"}
    sandbox = DockerSandbox("gf:latest", client=client)
    with pytest.raises(EnvironmentMissing, match="build_image.sh --environment scientific"):
        sandbox.container_environment("scientific")
    with pytest.raises(EnvironmentMissing, match="label says 'numpy'"):
        sandbox.container_environment("pytorch")


@needs_root
def test_a_run_starts_the_image_its_spec_names(sandbox, client, tmp_path):
    import dataclasses

    sandbox.start(make_spec(tmp_path))
    sandbox.start(dataclasses.replace(make_spec(tmp_path / "b"), run_id="r2", image="img-numpy:1"))
    assert [c["image"] for c in client.created] == ["img:1", "img-numpy:1"]
