"""`gradeflow up`'s supervisor: restarts what exits, with backoff and a log line; stops everything it started."""
from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

import pytest

from gradeflow_cli.app import CliError
from gradeflow_cli.supervise import Backoff, Program, Supervisor, describe_exit
from gradeflow_cli.up import UpOptions, default_workers, plan

FAST = Backoff(first_s=0.05, factor=2, max_s=0.2, healthy_s=5)


def test_backoff_doubles_up_to_its_cap():
    backoff = Backoff(first_s=1, factor=2, max_s=30)
    assert [backoff.delay(n) for n in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]


def test_exits_are_described_in_words():
    assert describe_exit(-9) == "killed by SIGKILL" and describe_exit(3) == "exited with code 3"


class Running:
    """A supervisor on a thread, as `gradeflow up` runs it on its main thread."""

    def __init__(self, programs, tmp_path: Path) -> None:
        self.lines: list[str] = []
        self.supervisor = Supervisor(programs, backoff=FAST, say=self.lines.append, state_file=tmp_path / "up.json",
                                     stop_timeout_s=3, poll_s=0.02)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.supervisor.run, args=(self.stop,), daemon=True)

    def __enter__(self) -> "Running":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join(15)

    def until(self, condition, timeout: float = 10.0) -> None:
        end = time.monotonic() + timeout
        while not condition():
            assert time.monotonic() < end, "\n".join(self.lines)
            time.sleep(0.02)

    def state(self, tmp_path: Path) -> dict:
        return json.loads((tmp_path / "up.json").read_text())["programs"]


def test_a_child_that_keeps_exiting_is_restarted_with_growing_delays(tmp_path):
    crash = Program(name="crash", argv=[sys.executable, "-c", "raise SystemExit(3)"])
    with Running([crash], tmp_path) as run:
        run.until(lambda: run.supervisor.children[0].restarts >= 3)
    exits = [line for line in run.lines if "exited with code 3" in line]
    assert len(exits) >= 3
    assert "restarting in 0.1 s" in exits[1] and "restarting in 0.2 s" in exits[2]


def test_a_sigkilled_child_comes_back_with_a_new_pid(tmp_path):
    sleeper = Program(name="worker-1", argv=[sys.executable, "-c", "import time; time.sleep(60)"], group="workers")
    with Running([sleeper], tmp_path) as run:
        run.until(lambda: (tmp_path / "up.json").exists() and run.state(tmp_path)["worker-1"]["pid"])
        first = run.state(tmp_path)["worker-1"]["pid"]
        os.kill(first, signal.SIGKILL)
        run.until(lambda: run.state(tmp_path)["worker-1"]["pid"] not in (None, first))
        assert run.state(tmp_path)["worker-1"]["restarts"] == 1
    assert any("worker-1" in line and "killed by SIGKILL" in line and "restarting" in line for line in run.lines)
    assert run.state(tmp_path)["worker-1"]["pid"] is None  # stopped at the end


def test_stopping_ends_every_child_and_what_it_started(tmp_path):
    """A Celery worker has pool processes, a sandbox has its own: the whole process group goes."""
    grandchild_pid = tmp_path / "grandchild"
    script = ("import subprocess, sys, time, pathlib; "
              "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
              f"pathlib.Path({str(grandchild_pid)!r}).write_text(str(p.pid)); time.sleep(60)")
    parent = Program(name="api", argv=[sys.executable, "-c", script], group="api")
    with Running([parent], tmp_path) as run:
        run.until(grandchild_pid.exists)
        pid = int(grandchild_pid.read_text())
    assert not run.thread.is_alive()
    assert any("api stopped (killed by SIGTERM)" in line for line in run.lines)
    deadline = time.monotonic() + 5
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(pid)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_worker_count_comes_from_the_cores_unless_overridden():
    assert default_workers({}) == (os.cpu_count() or 1)
    assert default_workers({"GRADEFLOW_WORKERS": "3"}) == 3
    with pytest.raises(CliError):
        default_workers({"GRADEFLOW_WORKERS": "many"})


def test_the_plan_supervises_the_api_and_one_named_process_per_worker(tmp_path):
    options = UpOptions(host="127.0.0.1", port=8123, workers=3, queues="cpu", var_dir=tmp_path)
    programs = plan(options, {"GRADEFLOW_VAR_DIR": str(tmp_path)})
    assert [p.name for p in programs] == ["api", "worker-1", "worker-2", "worker-3"]
    assert programs[0].argv[-4:] == ["--host", "127.0.0.1", "--port", "8123"]
    hostnames = [p.argv[p.argv.index("--hostname") + 1] for p in programs[1:]]
    assert hostnames == ["w1@%h", "w2@%h", "w3@%h"]
    assert all(p.argv[p.argv.index("--concurrency") + 1] == "1" for p in programs[1:])
    assert programs[1].log == tmp_path / "logs" / "worker-1.log"
