"""The docker backend's create arguments (pure: no engine) and the limits it reports."""
from __future__ import annotations

import os
import socket
import stat
from pathlib import Path

import pytest
from docker.types import Mount

from gradeflow_protocol.messages import Limits
from gradeflow_worker.sandbox.base import HOME, SandboxSpec
from gradeflow_worker.sandbox.docker_spec import (container_config, container_name, enforced_by_docker, sandbox_argv,
                                                  write_files)

HOST_PYTHON = "/root/.pyenv/versions/3.11.7/bin/python3"
KERNEL_ARGV = [HOST_PYTHON, "-m", "ipykernel_launcher", "-f", "{ipc}/kernel.json"]
LIMITS = Limits(memory_mb=2048, max_processes=100, cpus=2.0, scratch_mb=64, max_open_files=128, time_limit_s=100)
IMAGE = "gradeflow-sandbox:latest"


def make_spec(tmp_path: Path, *, limits: Limits = LIMITS, public: bool = True, argv: list[str] | None = None,
              files: dict[str, bytes] | None = None) -> SandboxSpec:
    run_root = tmp_path / "run1"
    (run_root / "ipc").mkdir(parents=True, exist_ok=True)
    public_dir = tmp_path / "bundle" / "data" / "public"
    if public:
        public_dir.mkdir(parents=True, exist_ok=True)
    return SandboxSpec(run_id="abc123", argv=argv or KERNEL_ARGV, ipc_dir=run_root / "ipc",
                       files=files if files is not None else {"sub.ipynb": b"SECRET-SUBMISSION-BYTES"},
                       public_dir=public_dir, limits=limits, env={"IPYTHONDIR": "/tmp/.ipython"})


def config_for(spec: SandboxSpec) -> dict:
    return container_config(spec, image=IMAGE, uid=65534, name="gf-abc123", file_dir=spec.ipc_dir.parent / "files")


def bind(source: Path, target: str, *, readonly: bool) -> Mount:
    return Mount(target=target, source=str(source), type="bind", read_only=readonly)


def test_security_settings(tmp_path):
    config = config_for(make_spec(tmp_path))
    assert config["image"] == IMAGE
    assert config["network_mode"] == "none"
    assert config["read_only"] is True
    assert config["cap_drop"] == ["ALL"]
    assert config["security_opt"] == ["no-new-privileges"]
    assert config["user"] == "65534:65534"
    assert config["ipc_mode"] == "private"
    assert "auto_remove" not in config  # removed in cleanup, after the state is read
    assert "privileged" not in config and "cap_add" not in config


def test_limits_from_limits(tmp_path):
    config = config_for(make_spec(tmp_path))
    assert config["pids_limit"] == 100
    assert config["mem_limit"] == 2048 << 20
    assert config["memswap_limit"] == 2048 << 20  # equal: no swap
    assert config["nano_cpus"] == 2_000_000_000
    ulimits = {u["Name"]: (u["Soft"], u["Hard"]) for u in config["ulimits"]}
    assert ulimits == {"nofile": (128, 128), "core": (0, 0), "fsize": (64 << 20, 64 << 20), "cpu": (105, 105)}


def test_tmpfs_scratch_and_workdir(tmp_path):
    config = config_for(make_spec(tmp_path))
    assert set(config["tmpfs"]) == {"/tmp", HOME}
    for opts in config["tmpfs"].values():
        assert {"rw", "exec", "size=64m", "mode=1777", "nosuid", "nodev"} <= set(opts.split(","))
    assert config["working_dir"] == HOME


def test_identity_name_label(tmp_path):
    config = config_for(make_spec(tmp_path))
    assert config["name"] == "gf-abc123"
    assert config["labels"] == {"gradeflow.run": "abc123", "gradeflow.owner": f"{socket.gethostname()}:{os.getpid()}"}
    assert config["init"] is True
    assert config["hostname"] == "sandbox"


def test_the_containers_own_output_is_size_capped(tmp_path):
    log_config = config_for(make_spec(tmp_path))["log_config"]
    assert log_config["Type"] == "json-file" and log_config["Config"]["max-size"] == "1m"


def test_mounts(tmp_path):
    spec = make_spec(tmp_path)
    mounts = config_for(spec)["mounts"]
    assert bind(spec.ipc_dir.resolve(), "/gf", readonly=False) in mounts
    assert bind((spec.ipc_dir.parent / "files").resolve(), "/gf-files", readonly=True) in mounts
    assert bind(spec.public_dir.resolve(), f"{HOME}/data", readonly=True) in mounts
    assert len(mounts) == 3


@pytest.mark.parametrize("public_dir", [None, "missing"])
def test_no_public_mount_without_public_dir(tmp_path, public_dir):
    spec = make_spec(tmp_path, public=False)
    if public_dir is None:
        spec = SandboxSpec(**{**spec.__dict__, "public_dir": None})
    mounts = config_for(spec)["mounts"]
    assert not any(m["Target"] == f"{HOME}/data" for m in mounts)
    assert len(mounts) == 2


def test_relative_paths_become_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    spec = make_spec(tmp_path)
    spec = SandboxSpec(**{**spec.__dict__, "ipc_dir": Path("run1/ipc")})
    assert bind(tmp_path / "run1" / "ipc", "/gf", readonly=False) in config_for(spec)["mounts"]


def test_path_with_odd_characters_is_refused(tmp_path):
    spec = make_spec(tmp_path)
    spec = SandboxSpec(**{**spec.__dict__, "ipc_dir": tmp_path / "a,b" / "ipc"})
    with pytest.raises(ValueError):
        config_for(spec)


def test_gpu_only_when_asked(tmp_path):
    assert "device_requests" not in config_for(make_spec(tmp_path))
    gpu = make_spec(tmp_path, limits=LIMITS.model_copy(update={"gpu": True}))
    [request] = config_for(gpu)["device_requests"]
    assert request["Count"] == -1 and request["Capabilities"] == [["gpu"]]  # what `--gpus all` asks for
    assert "gpu" in enforced_by_docker(gpu.limits, 65534)
    assert "gpu" not in enforced_by_docker(LIMITS, 65534)


def test_environment(tmp_path):
    spec = make_spec(tmp_path)
    spec = SandboxSpec(**{**spec.__dict__, "env": {"IPYTHONDIR": "/tmp/.ipython", "HOME": "/elsewhere"}})
    env = config_for(spec)["environment"]
    assert env["HOME"] == HOME  # the scratch home wins over anything passed in
    assert env["IPYTHONDIR"] == "/tmp/.ipython"
    assert env["OMP_NUM_THREADS"] == "2"
    assert env["MPLBACKEND"] == "Agg"
    assert env["USER"] == "student"


def test_files_are_not_passed_inline(tmp_path):
    config = config_for(make_spec(tmp_path))
    assert "SECRET-SUBMISSION-BYTES" not in repr(config) and "sub.ipynb" not in repr(config)


def test_command_copies_files_then_execs_kernel(tmp_path):
    config = config_for(make_spec(tmp_path))
    assert config["entrypoint"] == ["sh"]
    command = config["command"]
    assert command[0] == "-c"
    assert "cp -R /gf-files/." in command[1] and 'exec "$@"' in command[1]
    assert command[2:] == ["sh", "python3", "-m", "ipykernel_launcher", "-f", "/gf/kernel.json"]


def test_argv_rewriting():
    assert sandbox_argv([HOST_PYTHON, "-c", "{home}/x"]) == ["python3", "-c", f"{HOME}/x"]
    assert sandbox_argv(["python3.11", "-V"]) == ["python3.11", "-V"]  # a relative argv[0] is the image's own


@pytest.mark.parametrize("bad", ["a/b", "-x", "", "x y", "a;b"])
def test_container_name_refuses_odd_run_ids(bad):
    with pytest.raises(ValueError):
        container_name(bad)


def test_write_files_modes(tmp_path):
    write_files({"sub.py": b"print(1)"}, tmp_path / "files")
    assert stat.S_IMODE((tmp_path / "files").stat().st_mode) == 0o755
    assert stat.S_IMODE((tmp_path / "files" / "sub.py").stat().st_mode) == 0o644
    assert (tmp_path / "files" / "sub.py").read_bytes() == b"print(1)"
    with pytest.raises(ValueError):
        write_files({"../escape.py": b""}, tmp_path / "files")


def test_every_wanted_limit_is_enforced():
    enforced = enforced_by_docker(LIMITS, 65534)
    assert {"memory", "processes", "network", "disk", "cpu_time", "open_files"} <= set(enforced)
    assert enforced["cpu_time"] == "RLIMIT_CPU=105s (docker --ulimit)"
