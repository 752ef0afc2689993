"""The docker backend's command line (pure) and its process handling against a fake `docker` CLI."""
from __future__ import annotations

import os
import socket
import stat
from pathlib import Path

import pytest

from gradeflow_protocol.messages import Limits
from gradeflow_worker.sandbox.base import HOME, SandboxSpec
from gradeflow_worker.sandbox.docker import (
    orphaned,DockerSandbox, container_args, container_name, enforced_by_docker,
                                      sandbox_argv, write_files)

HOST_PYTHON = "/root/.pyenv/versions/3.11.7/bin/python3"
KERNEL_ARGV = [HOST_PYTHON, "-m", "ipykernel_launcher", "-f", "{ipc}/kernel.json"]
LIMITS = Limits(memory_mb=2048, max_processes=100, cpus=2.0, scratch_mb=64, max_open_files=128, time_limit_s=100)


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


def args_for(spec: SandboxSpec) -> list[str]:
    return container_args(spec, image="gradeflow-sandbox:latest", uid=65534, name="gf-abc123",
                          file_dir=spec.ipc_dir.parent / "files")


def options(args: list[str]) -> list[str]:
    """The `docker run` options: everything before the image."""
    return args[: args.index("gradeflow-sandbox:latest")]


def values(args: list[str], flag: str) -> list[str]:
    opts = options(args)
    return [opts[i + 1] for i, a in enumerate(opts) if a == flag]


def test_security_flags(tmp_path):
    args = args_for(make_spec(tmp_path))
    assert args[:2] == ["docker", "run"]
    assert values(args, "--network") == ["none"]
    assert "--read-only" in options(args)
    assert values(args, "--cap-drop") == ["ALL"]
    assert values(args, "--security-opt") == ["no-new-privileges"]
    assert values(args, "--user") == ["65534:65534"]
    assert values(args, "--pull") == ["never"]
    assert "--rm" not in args  # removed in cleanup, after the state is read
    assert "--privileged" not in args


def test_limits_from_limits(tmp_path):
    args = args_for(make_spec(tmp_path))
    assert values(args, "--pids-limit") == ["100"]
    assert values(args, "--memory") == ["2048m"]
    assert values(args, "--memory-swap") == ["2048m"]
    assert values(args, "--cpus") == ["2"]
    assert set(values(args, "--ulimit")) == {"nofile=128:128", "core=0:0", f"fsize={64 << 20}:{64 << 20}",
                                              "cpu=105:105"}


def test_tmpfs_scratch_and_workdir(tmp_path):
    args = args_for(make_spec(tmp_path))
    tmpfs = dict(v.split(":", 1) for v in values(args, "--tmpfs"))
    assert set(tmpfs) == {"/tmp", HOME}
    for opts in tmpfs.values():
        assert {"rw", "exec", "size=64m", "mode=1777", "nosuid", "nodev"} <= set(opts.split(","))
    assert values(args, "--workdir") == [HOME]


def test_identity_name_label(tmp_path):
    args = args_for(make_spec(tmp_path))
    assert values(args, "--name") == ["gf-abc123"]
    assert values(args, "--label") == ["gradeflow.run=abc123", f"gradeflow.owner={socket.gethostname()}:{os.getpid()}"]
    assert "--init" in options(args)


def test_mounts(tmp_path):
    spec = make_spec(tmp_path)
    mounts = values(args_for(spec), "--mount")
    assert f"type=bind,src={spec.ipc_dir.resolve()},dst=/gf" in mounts
    assert f"type=bind,src={(spec.ipc_dir.parent / 'files').resolve()},dst=/gf-files,readonly" in mounts
    assert f"type=bind,src={spec.public_dir.resolve()},dst={HOME}/data,readonly" in mounts
    assert len(mounts) == 3


@pytest.mark.parametrize("public_dir", [None, "missing"])
def test_no_public_mount_without_public_dir(tmp_path, public_dir):
    spec = make_spec(tmp_path, public=False)
    if public_dir is None:
        spec = SandboxSpec(**{**spec.__dict__, "public_dir": None})
    mounts = values(args_for(spec), "--mount")
    assert not any(m.endswith(f"dst={HOME}/data,readonly") for m in mounts)
    assert len(mounts) == 2


def test_relative_paths_become_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    spec = make_spec(tmp_path)
    spec = SandboxSpec(**{**spec.__dict__, "ipc_dir": Path("run1/ipc")})
    mounts = values(args_for(spec), "--mount")
    assert f"type=bind,src={tmp_path / 'run1' / 'ipc'},dst=/gf" in mounts


def test_path_needing_csv_quoting_is_refused(tmp_path):
    spec = make_spec(tmp_path)
    spec = SandboxSpec(**{**spec.__dict__, "ipc_dir": tmp_path / "a,b" / "ipc"})
    with pytest.raises(ValueError):
        args_for(spec)


def test_gpu_only_when_asked(tmp_path):
    assert "--gpus" not in args_for(make_spec(tmp_path))
    gpu = make_spec(tmp_path, limits=LIMITS.model_copy(update={"gpu": True}))
    assert values(args_for(gpu), "--gpus") == ["all"]
    assert "gpu" in enforced_by_docker(gpu.limits, 65534)
    assert "gpu" not in enforced_by_docker(LIMITS, 65534)


def test_environment(tmp_path):
    spec = make_spec(tmp_path)
    spec = SandboxSpec(**{**spec.__dict__, "env": {"IPYTHONDIR": "/tmp/.ipython", "HOME": "/elsewhere"}})
    env = dict(v.split("=", 1) for v in values(args_for(spec), "--env"))
    assert env["HOME"] == HOME  # the scratch home wins over anything passed in
    assert env["IPYTHONDIR"] == "/tmp/.ipython"
    assert env["OMP_NUM_THREADS"] == "2"
    assert env["MPLBACKEND"] == "Agg"


def test_files_are_not_passed_inline(tmp_path):
    args = args_for(make_spec(tmp_path))
    assert not any("SECRET-SUBMISSION-BYTES" in a or "sub.ipynb" in a for a in args)


def test_command_copies_files_then_execs_kernel(tmp_path):
    args = args_for(make_spec(tmp_path))
    assert values(args, "--entrypoint") == ["sh"]
    tail = args[args.index("gradeflow-sandbox:latest") + 1 :]
    assert tail[0] == "-c"
    assert "cp -R /gf-files/." in tail[1] and 'exec "$@"' in tail[1]
    assert tail[2:] == ["sh", "python3", "-m", "ipykernel_launcher", "-f", "/gf/kernel.json"]


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


# --- process handling, against a fake `docker` that records its calls ---

FAKE_DOCKER = """#!/bin/sh
echo "$*" >> "$GF_FAKE_LOG"
case "$1" in
  run) echo "host=$DOCKER_HOST" >> "$GF_FAKE_LOG"; echo $$ > "$GF_FAKE_PID"; echo "kernel says hi" >&2; exec sleep 30 ;;
  kill) kill -9 "$(cat "$GF_FAKE_PID")" ;;
  inspect) echo '{"Running": false, "OOMKilled": true, "ExitCode": 137, "Error": ""}' ;;
esac
"""


@pytest.fixture
def fake_docker(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "docker").write_text(FAKE_DOCKER)
    (bin_dir / "docker").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    monkeypatch.setenv("GF_FAKE_LOG", str(tmp_path / "calls.log"))
    monkeypatch.setenv("GF_FAKE_PID", str(tmp_path / "run.pid"))
    return tmp_path / "calls.log"


@pytest.mark.skipif(os.geteuid() != 0, reason="start() hands the IPC directory to the sandbox uid (needs root)")
def test_process_kills_through_docker_and_removes(tmp_path, fake_docker):
    spec = make_spec(tmp_path)
    proc = DockerSandbox(image="img:1", docker_host="unix:///run/x.sock").start(spec)
    for _ in range(100):
        if "kernel says hi" in proc.stderr_tail():
            break
        proc.wait(0.05)
    assert proc.poll() is None and proc.ipc_inside == "/gf" and proc.not_enforced == []
    assert spec.ipc_dir.stat().st_uid == 65534 and stat.S_IMODE(spec.ipc_dir.stat().st_mode) == 0o700
    assert (spec.ipc_dir.parent / "files" / "sub.ipynb").read_bytes() == b"SECRET-SUBMISSION-BYTES"
    proc.cleanup()
    assert proc.poll() is not None
    usage = proc.usage()
    assert usage.memory_exceeded and usage.exit_code == 137
    calls = fake_docker.read_text().splitlines()
    assert calls[0].startswith("ps -a --filter label=gradeflow.owner")  # orphans are reaped before each start
    assert calls[1].startswith("run --name gf-abc123")
    assert "host=unix:///run/x.sock" in calls
    assert "kill gf-abc123" in calls and "rm -f gf-abc123" in calls
    assert "kernel says hi" in proc.stderr_tail()


def test_orphans_are_containers_of_dead_workers_on_this_host():
    dead = 2**22 + 12345  # above pid_max on most hosts: no such process
    listing = "\n".join([f"gf-a vm:{os.getpid()}", f"gf-b vm:{dead}", f"gf-c other:{dead}", "gf-d garbage"])
    assert orphaned(listing, host="vm") == ["gf-b"]


def test_pids_limit_hits_are_read_from_the_containers_cgroup(tmp_path):
    from gradeflow_worker.sandbox.docker import pids_events_paths, pids_limit_hit

    cid = "ab12" * 16
    assert not pids_limit_hit(cid, root=tmp_path)  # not on this host (a remote daemon): nothing claimed
    v1, v2, systemd = pids_events_paths(cid, root=tmp_path)
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
