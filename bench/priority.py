"""A student's upload while the staff's background work fills the queue: how long the student waits.

Publishes --publishes new versions of ode-theta (each queues its reference and 3 known-wrong files as
validation runs, priority 3) and then uploads one reference submission as a student (priority 0). Prints
the student's latency, how many validation runs were graded before it, and the time a FIFO queue would
have made the student wait (every run queued ahead of it, at the measured time per run).
"""
from __future__ import annotations

import argparse
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path

import httpx
from _stack import bench_stack, reference_script

from gradeflow_protocol.bundles import pack
from tests.conftest import ASSIGNMENTS


def _bundle(note: str) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(shutil.copytree(ASSIGNMENTS / "ode-theta", Path(tmp) / "ode"))
        (folder / "README.md").write_text((folder / "README.md").read_text() + f"\n{note}\n")
        return pack(folder)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--publishes", type=int, default=3, help="versions published ahead (4 runs each)")
    args = parser.parse_args()
    with bench_stack() as stack:
        stack.grade("warmup.py", reference_script())
        for index in range(args.publishes):
            r = httpx.post(f"{stack.base_url}/api/v1/courses/mathdl/assignments", headers=stack.headers("ta1"),
                           files={"bundle": ("b.tar.gz", _bundle(f"version {index}"))}, timeout=60)
            r.raise_for_status()
        start = time.perf_counter()
        sid = stack.submit("solution.py", reference_script(), username="student2").json()["id"]
        body = stack.wait(sid, username="student2", timeout=900)
        latency = time.perf_counter() - start
        with sqlite3.connect(stack.var_dir / "gradeflow.db") as db:
            rows = db.execute("SELECT purpose, started_at, graded_at FROM submissions WHERE purpose = 'validation' "
                              "ORDER BY id DESC LIMIT ?", (4 * args.publishes,)).fetchall()
            student_started = db.execute("SELECT started_at FROM submissions WHERE id = ?", (sid,)).fetchone()[0]
        before = sum(1 for _, started, _ in rows if started and started < student_started)
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline:  # let the background work finish, to time one run
            with sqlite3.connect(stack.var_dir / "gradeflow.db") as db:
                left = db.execute("SELECT count(*) FROM submissions WHERE purpose = 'validation' "
                                  "AND status IN ('queued', 'running')").fetchone()[0]
            if left == 0:
                break
            time.sleep(1)
        per_run = (time.perf_counter() - start) / (len(rows) + 1)
    print(f"{len(rows)} validation runs queued ahead; the student's upload was graded ({body['score']:g}/10) "
          f"in {latency:.1f} s after {before} of them; a FIFO queue would have made it wait about "
          f"{(len(rows) + 1) * per_run:.0f} s ({per_run:.1f} s per run)")


if __name__ == "__main__":
    main()
