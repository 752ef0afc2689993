"""The bubblewrap command line: what the sandbox can see (the bwrap integration tests run it for real)."""
import shutil
import sys

import pytest

from gradeflow_protocol.messages import Limits
from gradeflow_worker.sandbox import bwrap
from gradeflow_worker.sandbox.base import SandboxSpec

pytestmark = pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is not installed")


def argv_for(tmp_path, **limits):
    spec = SandboxSpec(run_id="1-x", argv=[sys.executable, "-f", "{ipc}/kernel.json"], ipc_dir=tmp_path / "ipc",
                       files={"a.py": b"x"}, public_dir=None, limits=Limits(**limits))
    return bwrap.BubblewrapSandbox().bwrap_argv(spec, {"a.py": 9})


def pairs(argv, flag):
    return [argv[i + 1] for i, a in enumerate(argv) if a == flag]


def test_isolation_flags_and_an_unprivileged_user(tmp_path):
    argv = argv_for(tmp_path)
    for flag in ("--unshare-pid", "--unshare-net", "--unshare-ipc", "--die-with-parent", "--new-session", "--clearenv"):
        assert flag in argv
    assert argv[argv.index("setpriv") + 1: argv.index("setpriv") + 3] == ["--reuid", "65534"]
    assert "--no-new-privs" in argv and "--bounding-set=-all" in argv
    assert argv[-2:] == ["-f", "/gf/kernel.json"]


def test_only_the_ipc_directory_is_writable_and_scratch_is_sized(tmp_path):
    argv = argv_for(tmp_path, scratch_mb=32)
    assert pairs(argv, "--bind") == [str(tmp_path / "ipc")]
    assert pairs(argv, "--size") == [str(32 * 1024 * 1024)] * 2
    prefix = str(bwrap.python_prefix(sys.executable))
    assert set(pairs(argv, "--ro-bind")) <= {"/usr", "/etc/ld.so.cache", "/etc/localtime", "/etc/alternatives", prefix}
    assert pairs(argv, "--file") == ["9"]


def test_gpu_devices_only_for_gpu_jobs(tmp_path, monkeypatch):
    monkeypatch.setattr(bwrap, "gpu_devices", lambda: ["/dev/nvidia0", "/dev/nvidiactl"])
    assert pairs(argv_for(tmp_path, gpu=True), "--dev-bind") == ["/dev/nvidia0", "/dev/nvidiactl"]
    assert pairs(argv_for(tmp_path), "--dev-bind") == []
