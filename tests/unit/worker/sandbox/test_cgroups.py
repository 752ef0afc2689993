"""cgroup bookkeeping against fake hierarchies (v2 is not mounted on this machine; v1 is, and the
bwrap integration tests use it for real)."""
import ast
import os
from pathlib import Path

from gradeflow_worker.sandbox import cgroups, cgroups_v1, cgroups_v2
from gradeflow_worker.sandbox.cgroups_v1 import CgroupV1
from gradeflow_worker.sandbox.cgroups_v2 import CgroupV2, unified


def fake_v2(root):
    (root / "cgroup.controllers").write_text("cpuset cpu io memory pids\n")
    (root / "cgroup.subtree_control").write_text("")
    return root


def test_unified_needs_memory_and_pids(tmp_path):
    assert not unified(tmp_path)
    (tmp_path / "cgroup.controllers").write_text("cpu io\n")
    assert not unified(tmp_path)
    fake_v2(tmp_path)
    assert unified(tmp_path)


def test_v2_limits_are_written_and_reported(tmp_path):
    group = CgroupV2("123-abc", root=fake_v2(tmp_path))
    enforced = group.create(memory_mb=512, max_processes=32, cpus=1.5)
    leaf = tmp_path / "gradeflow" / "123-abc"
    assert (leaf / "memory.max").read_text() == str(512 * 1024 * 1024)
    assert (leaf / "memory.swap.max").read_text() == "0"
    assert (leaf / "pids.max").read_text() == "32"
    assert (leaf / "cpu.max").read_text() == "150000 100000"
    assert (tmp_path / "cgroup.subtree_control").read_text() == "+memory +pids +cpu"
    assert set(enforced) == {"memory", "processes", "cpu"}
    assert group.join_paths() == [str(leaf / "cgroup.procs")]


def test_v2_reads_oom_and_pids_events(tmp_path):
    group = CgroupV2("1-a", root=fake_v2(tmp_path))
    group.create(memory_mb=64, max_processes=8, cpus=1)
    (group.path / "memory.events").write_text("low 0\nhigh 0\nmax 3\noom 1\noom_kill 0\n")
    (group.path / "pids.events").write_text("max 0\n")
    assert not group.memory_exceeded() and not group.processes_exceeded()
    (group.path / "memory.events").write_text("low 0\nhigh 0\nmax 9\noom 2\noom_kill 1\n")
    (group.path / "pids.events").write_text("max 5\n")
    assert group.memory_exceeded() and group.processes_exceeded()


def test_v2_remove_with_no_processes(tmp_path):
    group = CgroupV2("1-b", root=fake_v2(tmp_path))
    group.create(memory_mb=64, max_processes=8, cpus=1)
    (group.path / "cgroup.procs").write_text("")
    assert group.pids() == []
    for name in os.listdir(group.path):
        (group.path / name).unlink()
    group.remove()
    assert not group.path.exists()


def fake_v1(root):
    for controller in ("memory", "pids", "cpu"):
        (root / controller).mkdir(parents=True)
        (root / controller / "tasks").write_text("")
    return root


def test_v1_limits_are_written_and_reported(tmp_path):
    group = CgroupV1("123-abc", root=fake_v1(tmp_path))
    enforced = group.create(memory_mb=512, max_processes=32, cpus=1.5)
    assert (tmp_path / "memory" / "gradeflow" / "123-abc" / "memory.limit_in_bytes").read_text() == str(512 << 20)
    assert (tmp_path / "pids" / "gradeflow" / "123-abc" / "pids.max").read_text() == "32"
    assert (tmp_path / "cpu" / "gradeflow" / "123-abc" / "cpu.cfs_quota_us").read_text() == "150000"
    assert set(enforced) == {"memory", "processes", "cpu"}
    assert sorted(group.join_paths()) == sorted(str(tmp_path / c / "gradeflow" / "123-abc" / "tasks")
                                                for c in ("memory", "pids", "cpu"))


DEAD_PID = 2**22 + 12345  # above pid_max on most hosts: no such process


def test_orphans_of_dead_workers_are_reaped_in_either_version(tmp_path):
    (tmp_path / "v2").mkdir()
    v1_root, v2_root = fake_v1(tmp_path / "v1"), fake_v2(tmp_path / "v2")
    for run_id in (f"{DEAD_PID}-a", f"{os.getpid()}-b"):
        CgroupV1(run_id, root=v1_root).create(memory_mb=64, max_processes=8, cpus=1)
        CgroupV2(run_id, root=v2_root).create(memory_mb=64, max_processes=8, cpus=1)
    for leaf in [*v1_root.glob("*/gradeflow/*"), *v2_root.glob("gradeflow/*-*")]:
        for name in os.listdir(leaf):
            (leaf / name).unlink()  # a real cgroupfs group has no files to remove
    assert cgroups_v1.reap_orphans(v1_root) == [f"{DEAD_PID}-a"]
    assert cgroups_v2.reap_orphans(v2_root) == [f"{DEAD_PID}-a"]
    assert sorted(p.name for p in v1_root.glob("*/gradeflow/*")) == [f"{os.getpid()}-b"] * 3
    assert [p.name for p in v2_root.glob("gradeflow/*-*")] == [f"{os.getpid()}-b"]


def test_one_module_picks_the_version(monkeypatch):
    monkeypatch.setattr(cgroups_v2, "unified", lambda: True)
    assert isinstance(cgroups.make_cgroup("1-a"), CgroupV2)
    monkeypatch.setattr(cgroups_v2, "unified", lambda: False)
    assert isinstance(cgroups.make_cgroup("1-a"), CgroupV1)


def test_the_two_versions_do_not_know_each_other():
    for module, other in ((cgroups_v1, "cgroups_v2"), (cgroups_v2, "cgroups_v1")):
        tree = ast.parse(Path(module.__file__).read_text())
        imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        assert not any(name and name.endswith((other, ".cgroups")) for name in imported), module
