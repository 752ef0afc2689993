"""cgroup bookkeeping against fake hierarchies (v2 is not mounted on this machine; v1 is, and the
bwrap integration tests use it for real)."""
import os

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
