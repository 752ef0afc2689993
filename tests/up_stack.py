"""`gradeflow up` (or its fault-test twin, tests/fault_up.py) as a test's stack: one supervisor process that
owns the API and the workers, on private ports, var dir and Redis."""
from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import ASSIGNMENTS, REPO, free_port, wait_port
from tests.stack import Stack, _wait_for_line, stack_env


@dataclass
class UpStack(Stack):
    """Stack.api is the supervisor here: stopping it (SIGTERM) stops everything it started."""

    def programs(self) -> dict:
        return json.loads((self.var_dir / "up.json").read_text())["programs"]

    def pid(self, name: str) -> int | None:
        return self.programs()[name]["pid"]

    def worker_log(self, name: str) -> Path:
        return self.var_dir / "logs" / f"{name}.log"

    def supervisor_log(self) -> str:
        return (self.var_dir / "up.log").read_text(errors="replace")

    def wait_ready(self, name: str, times: int = 1, timeout: float = 60.0) -> None:
        """Until the worker's log says Celery is ready `times` times (once per start)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            log = self.worker_log(name)
            if log.exists() and log.read_text(errors="replace").count(" ready.") >= times:
                return
            assert self.api.poll() is None, self.supervisor_log()[-3000:]
            time.sleep(0.1)
        raise TimeoutError(f"{name} not ready {times} time(s):\n{self.worker_log(name).read_text()[-3000:]}")


def start_up(var_dir: Path, *, redis_url: str, workers: int = 1, faulty: bool = False,
             extra_env: dict | None = None) -> UpStack:
    """The supervisor with `workers` workers, ready to grade; faulty: tests/fault_worker.py workers."""
    import subprocess

    var_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = stack_env(var_dir, port=port, redis_url=redis_url, extra_env=extra_env)
    command = ["tests.fault_up"] if faulty else ["gradeflow_cli.main", "up"]
    argv = [sys.executable, "-m", *command, "--port", str(port), "--workers", str(workers),
            "--assignments", str(ASSIGNMENTS)]
    log = open(var_dir / "up.log", "ab")
    proc = subprocess.Popen(argv, env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    stack = UpStack(base_url=f"http://127.0.0.1:{port}", env=env, var_dir=var_dir, api=proc)
    try:
        _wait_for_line(var_dir / "up.log", "api started", proc, timeout=60)
        wait_port(port, timeout=60)
        for index in range(1, workers + 1):
            stack.wait_ready(f"worker-{index}")
    except BaseException:
        stack.stop()
        raise
    return stack
