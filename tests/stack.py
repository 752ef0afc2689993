"""A real gradeflow stack for integration tests: API and Celery worker as separate processes."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.conftest import ASSIGNMENTS, REPO, free_port, require, wait_port

PASSWORD = "demo-pass-123"
FINAL = ("graded", "failed")


@dataclass
class Stack:
    """Handles on the running processes plus a small HTTP client for the public API."""

    base_url: str
    env: dict[str, str]
    var_dir: Path
    api: subprocess.Popen
    workers: list[subprocess.Popen] = field(default_factory=list)
    tokens: dict[str, str] = field(default_factory=dict)

    def token(self, username: str) -> str:
        if username not in self.tokens:
            r = httpx.post(f"{self.base_url}/api/v1/auth/token", data={"username": username, "password": PASSWORD})
            r.raise_for_status()
            self.tokens[username] = r.json()["access_token"]
        return self.tokens[username]

    def headers(self, username: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(username)}"}

    def assignment_id(self, slug: str = "ode-theta", username: str = "student1") -> int:
        r = httpx.get(f"{self.base_url}/api/v1/assignments", headers=self.headers(username))
        r.raise_for_status()
        return next(a["id"] for a in r.json() if a["slug"] == slug)

    def submit(self, filename: str, data: bytes, *, username: str = "student1", slug: str = "ode-theta") -> httpx.Response:
        url = f"{self.base_url}/api/v1/assignments/{self.assignment_id(slug, username)}/submissions"
        return httpx.post(url, files={"file": (filename, data)}, headers=self.headers(username), timeout=30)

    def get(self, submission_id: int, *, username: str = "student1") -> httpx.Response:
        return httpx.get(f"{self.base_url}/api/v1/submissions/{submission_id}", headers=self.headers(username))

    def wait(self, submission_id: int, *, username: str = "student1", timeout: float = 120.0) -> dict:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            body = self.get(submission_id, username=username).json()
            if body["status"] in FINAL:
                return body
            time.sleep(0.2)
        raise TimeoutError(f"submission {submission_id} not graded in {timeout} s: {body}")

    def grade(self, filename: str, data: bytes, **kwargs) -> dict:
        r = self.submit(filename, data, **kwargs)
        assert r.status_code == 202, r.text
        return self.wait(r.json()["id"], username=kwargs.get("username", "student1"))

    def start_worker(self, name: str = "w1") -> subprocess.Popen:
        log = open(self.var_dir / f"worker-{name}.log", "ab")
        proc = subprocess.Popen([sys.executable, "-m", "gradeflow_cli.main", "worker", "--hostname", f"{name}@%h"],
                                env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.workers.append(proc)
        _wait_for_line(self.var_dir / f"worker-{name}.log", "ready", proc)
        return proc

    @property
    def port(self) -> int:
        return int(self.base_url.rsplit(":", 1)[1])

    def stop_api(self, sig: int = signal.SIGKILL) -> None:
        """Stop the API's process group (SIGKILL: a crash; SIGTERM: a deploy); the workers keep running."""
        os.killpg(self.api.pid, sig)
        try:
            self.api.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(self.api.pid, signal.SIGKILL)
            self.api.wait(15)

    def restart_api(self) -> subprocess.Popen:
        """Start the API again on the same port with the same environment; returns once it listens."""
        self.api = _start_api(self.env, self.var_dir, self.port)
        return self.api

    def stop(self) -> None:
        for proc in [*self.workers, self.api]:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in [*self.workers, self.api]:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


def _wait_for_line(path: Path, needle: str, proc: subprocess.Popen, timeout: float = 30.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if path.exists() and needle in path.read_text(errors="replace"):
            return
        if proc.poll() is not None:
            raise RuntimeError(f"process exited early:\n{path.read_text(errors='replace')[-3000:]}")
        time.sleep(0.1)
    raise TimeoutError(f"'{needle}' never appeared in {path}:\n{path.read_text(errors='replace')[-3000:]}")


def stack_env(var_dir: Path, *, port: int, redis_url: str, database_url: str = "",
              extra_env: dict | None = None) -> dict[str, str]:
    """The environment every process of a test stack runs with (short timeouts, a fixed demo password)."""
    return dict(os.environ) | {
        # the student environments built once for the repository (scripts/test.sh), not in each stack's var dir
        "GRADEFLOW_ENVIRONMENTS_DIR": os.environ.get("GRADEFLOW_ENVIRONMENTS_DIR", str(REPO / "var" / "environments")),
        "GRADEFLOW_VAR_DIR": str(var_dir), "GRADEFLOW_REDIS_URL": redis_url, "GRADEFLOW_DATABASE_URL": database_url,
        "GRADEFLOW_API_URL": f"http://127.0.0.1:{port}", "GRADEFLOW_SECRET_KEY": "integration-test-secret",
        "GRADEFLOW_DEMO_PASSWORD": PASSWORD, "GRADEFLOW_SWEEP_INTERVAL_S": "1", "GRADEFLOW_HEARTBEAT_INTERVAL_S": "1",
        "GRADEFLOW_HEARTBEAT_TIMEOUT_S": "6", "GRADEFLOW_CONCURRENCY": "1", "GRADEFLOW_CAP_CELL_TIMEOUT_S": "6", "GRADEFLOW_CAP_TIME_LIMIT_S": "40",
        "GRADEFLOW_WARM_KERNELS": "1",  # one waiting kernel per grading process: what the leftover counts expect
    } | (extra_env or {})


def start_stack(var_dir: Path, *, redis_url: str, database_url: str = "", extra_env: dict | None = None,
                workers: int = 1, demo_only: tuple[str, ...] = ("ode-theta",)) -> Stack:
    port = free_port()
    env = stack_env(var_dir, port=port, redis_url=redis_url, database_url=database_url, extra_env=extra_env)
    cli = [sys.executable, "-m", "gradeflow_cli.main"]
    subprocess.run([*cli, "db", "upgrade"], env=env, check=True, capture_output=True)
    # ode-theta alone, the world the integration tests were written against (tests/integration/test_course.py
    # publishes the rest of the course through validation)
    demo = [arg for slug in demo_only for arg in ("--only", slug)]
    subprocess.run([*cli, "demo", "--assignments", str(ASSIGNMENTS), *demo], env=env, check=True, capture_output=True)
    api_log = open(var_dir / "api.log", "ab")
    api = subprocess.Popen([*cli, "serve", "--port", str(port)], env=env, stdout=api_log, stderr=subprocess.STDOUT,
                           start_new_session=True)
    wait_port(port)
    stack = Stack(base_url=f"http://127.0.0.1:{port}", env=env, var_dir=var_dir, api=api)
    for index in range(workers):
        stack.start_worker(f"w{index + 1}")
    return stack


def _start_api(env: dict[str, str], var_dir: Path, port: int) -> subprocess.Popen:
    """The API process as start_stack starts it (its log appended to), for a restart."""
    api_log = open(var_dir / "api.log", "ab")
    api = subprocess.Popen([sys.executable, "-m", "gradeflow_cli.main", "serve", "--port", str(port)], env=env,
                           stdout=api_log, stderr=subprocess.STDOUT, start_new_session=True)
    wait_port(port)
    return api


def descendants(roots: list[int]) -> dict[int, tuple[int, int]]:
    """pid -> (parent pid, uid) of every process below `roots` (read from /proc: only what we started)."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        table[int(entry.name)] = (int(fields["PPid"].strip()), int(fields["Uid"].split()[0]))
    found, frontier = {}, set(roots)
    while frontier:
        children = {pid for pid, (ppid, _) in table.items() if ppid in frontier and pid not in found}
        found.update({pid: table[pid] for pid in children})
        frontier = children
    return found


def leftover_sandbox_processes(stack: Stack, uid: int = 65534) -> list[int]:
    """Student processes of this stack that outlived their run. A warm kernel waiting for the next submission
    (one per worker process, with no child of its own) is expected; anything else is a leftover."""
    tree = descendants([w.pid for w in stack.workers])
    student = [pid for pid, (_, owner) in tree.items() if owner == uid]
    parents_of_student = {tree[pid][0] for pid in student}
    waiting = [pid for pid in student if tree[pid][0] not in student and pid not in parents_of_student]
    allowed = len(stack.workers) * int(stack.env.get("GRADEFLOW_WARM_KERNELS", "1") or 0)
    leftovers = [pid for pid in student if pid not in waiting]
    return leftovers + (waiting[allowed:] if len(waiting) > allowed else [])


def module_stack(tmp_path_factory, redis_url: str, *, name: str, db: int, demo_only: tuple[str, ...] = ("ode-theta",),
                 **kwargs) -> Iterator[Stack]:
    """A test module's own stack on its own Redis database `db`, for `yield from` in a module-scoped fixture:
    what the module changes (policies, reveals, teams) reaches no other module."""
    require(shutil.which("bwrap") is not None, "bubblewrap is not installed")
    stack = start_stack(tmp_path_factory.mktemp(name), redis_url=f"{redis_url.rsplit('/', 1)[0]}/{db}",
                        demo_only=demo_only, **kwargs)
    try:
        yield stack
    finally:
        stack.stop()
