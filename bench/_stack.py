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
