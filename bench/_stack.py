"""Start a private Redis and a gradeflow stack for a benchmark (the same helpers the tests use)."""
from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import free_port, wait_port  # noqa: E402
from tests.stack import Stack, start_stack  # noqa: E402


@contextmanager
def bench_stack(workers: int = 1, **extra_env: str):
    tmp = Path(tempfile.mkdtemp(prefix="gf-bench-"))
    port = free_port()
    redis = subprocess.Popen([shutil.which("redis-server"), "--port", str(port), "--save", "", "--dir", str(tmp)],
                             stdout=subprocess.DEVNULL)
    wait_port(port)
    stack: Stack | None = None
    try:
        stack = start_stack(tmp, redis_url=f"redis://127.0.0.1:{port}/0", workers=workers, extra_env=extra_env)
        yield stack
    finally:
        if stack is not None:
            stack.stop()
        redis.terminate()
        shutil.rmtree(tmp, ignore_errors=True)


def reference_script() -> bytes:
    import nbformat

    nb = nbformat.read(ROOT / "assignments" / "ode-theta" / "solution.ipynb", as_version=4)
    return "\n\n".join(c.source for c in nb.cells if c.cell_type == "code").encode()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


NOTEBOOK = ROOT / "assignments" / "ode-theta" / "solution.ipynb"


def loadavg() -> str:
    """The 1, 5 and 15 minute load averages (the machine may be shared: print them beside every figure)."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def embedded_defaults() -> dict[str, str]:
    """Environment putting back the shipped defaults that tests/stack.py shortens for fast tests (heartbeats,
    sweeper, caps on cell and run time, one grading process, one warm kernel): for benches of the embedded default deployment."""
    from gradeflow_api.settings import ApiSettings
    from gradeflow_worker.settings import WorkerSettings

    fields = ApiSettings.model_fields | WorkerSettings.model_fields
    names = ("heartbeat_interval_s", "heartbeat_timeout_s", "sweep_interval_s", "cap_cell_timeout_s",
             "cap_time_limit_s", "concurrency", "warm_kernels")
    return {f"GRADEFLOW_{name.upper()}": str(fields[name].default) for name in names}


def count_lines(path: Path, needle: str) -> int:
    """How many lines of a log contain `needle` (0 while the file does not exist)."""
    if not path.exists():
        return 0
    return sum(needle in line for line in path.read_text(errors="replace").splitlines())


class CpuAccount:
    """A cgroup v1 cpuacct group: a process put in it before it forks takes every descendant with it (the
    sandboxes' own cgroups are in the cpu, memory and pids hierarchies, not this one), so `seconds()` is the
    CPU time of a whole process tree, the processes that ended included. None from `create` where the
    hierarchy is not there or not writable."""

    ROOT = Path("/sys/fs/cgroup/cpuacct")

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def create(cls) -> CpuAccount | None:
        import uuid

        if cls.ROOT.resolve() == (cls.ROOT.parent / "cpu").resolve():
            return None  # cpu and cpuacct mounted together: each sandbox moves into a cpu group of its own, out of ours
        path = cls.ROOT / f"gf-bench-{uuid.uuid4().hex[:8]}"
        try:
            path.mkdir()
        except OSError:
            return None
        return cls(path)

    @property
    def procs(self) -> Path:
        return self.path / "cgroup.procs"

    def seconds(self) -> float:
        return int((self.path / "cpuacct.usage").read_text()) / 1e9

    def remove(self) -> None:
        for pid in self.procs.read_text().split():  # stragglers go back to the root group so the rmdir works
            try:
                (self.ROOT / "cgroup.procs").write_text(pid)
            except OSError:
                pass
        try:
            self.path.rmdir()
        except OSError:
            pass


def start_worker_in(stack: Stack, account: CpuAccount | None, *, name: str = "w1", timeout: float = 120.0):
    """Like Stack.start_worker, but the worker joins `account`'s cgroup before it execs (so before it forks its
    pool and sandboxes). The process is added to stack.workers, so stack.stop() ends it."""
    import time

    log_path = stack.var_dir / f"worker-{name}.log"
    command = [sys.executable, "-m", "gradeflow_cli.main", "worker", "--hostname", f"{name}@%h"]
    if account is not None:
        command = ["sh", "-c", 'echo $$ > "$0" && exec "$@"', str(account.procs), *command]
    log = open(log_path, "ab")  # noqa: SIM115 - the worker writes to it for as long as it runs
    proc = subprocess.Popen(command, env=stack.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    stack.workers.append(proc)
    end = time.monotonic() + timeout
    while count_lines(log_path, "ready.") == 0:  # Celery's "celery@w1 ready."
        if proc.poll() is not None or time.monotonic() > end:
            raise RuntimeError(f"worker did not start:\n{log_path.read_text(errors='replace')[-3000:]}")
        time.sleep(0.1)
    return proc
