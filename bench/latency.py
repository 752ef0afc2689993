"""One upload graded at a time, as the student sees it, beside a bare cold nbclient run of the same notebook.

Each round uploads assignments/ode-theta/solution.ipynb as student1 and polls GET /api/v1/submissions/{id}
every --poll seconds (20 ms) on one kept-alive connection: client-side is upload start -> the poll that saw it graded;
server-side is the API's created_at -> graded_at. In the same run, after each round, two baselines run the
same notebook unsandboxed and with no checks:
  bare nbclient  nbclient.NotebookClient(...).execute() with a fresh kernel each time (kernel start, the
                 cells, kernel shutdown; the start is reported apart from the rest)
  plain exec     "otter run"-style with no kernel at all: a fresh python process that execs the code cells
Before each round the bench waits until the worker's warm pool has refilled (its log says a kernel is ready)
and at least --pause seconds more: a student uploads once, and the kernel was started before. One warm-up
upload first (the worker's first kernel is started with the operator's default limits, not the assignment's).
The stack runs with the shipped defaults (bench/_stack.embedded_defaults) and one grading process;
--warm-kernels 0 turns the warm pool off (each run then starts its kernel cold, nothing starts beside it).

Where the time goes comes from the submission row (claimed at) and the harness's "timing:" lines in the TA
log. Then, in this process: a probe runs the checks in a bubblewrap kernel of its own and counts and times the
kernel requests they make; and harness.grade runs with a warm pool, alternately with the pool's refill held
until after the run and with the next kernel starting beside the run, as the worker does (--pairs).
"""
from __future__ import annotations

import argparse
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from _stack import NOTEBOOK, ROOT, bench_stack, count_lines, embedded_defaults, loadavg

POLL_S = 0.02
READY = "warm pool: a kernel is ready"
EXEC_CELLS = ("import json, sys\n"
              "cells = [c for c in json.load(open(sys.argv[1]))['cells'] if c['cell_type'] == 'code']\n"
              "scope = {'__name__': '__main__'}\n"
              "for cell in cells:\n"
              "    exec(compile(''.join(cell['source']), 'cell', 'exec'), scope)\n")
TIMING = {  # harness TA-log line -> the phases it gives (seconds; epochs for the two ends)
    "began": re.compile(r"harness began at epoch ([\d.]+); checks loaded in ([\d.]+) s"),
    "kernel": re.compile(r"kernel ready for the cells ([\d.]+) s"),
    "cells": re.compile(r"\d+ cells ran in ([\d.]+) s"),
    "checks": re.compile(r"\d+ checks ran in ([\d.]+) s"),
    "closed": re.compile(r"sandbox closed in ([\d.]+) s; harness ended at epoch ([\d.]+)"),
}
RECEIVED = re.compile(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}): INFO/MainProcess\] Task gradeflow\.grade\[.*\] received")
PHASES = (("upload", "upload POST (until the row exists)"), ("queue", "created -> Celery received (commit, Redis)"),
          ("claim", "received -> claimed (pool child, claim call)"),
          ("fetch", "claimed -> harness began (file, bundle, unpack)"), ("load", "checks loaded"),
          ("handover", "kernel: warm one taken + handed the file"), ("cells", "student's cells"),
          ("checks", "hidden checks"), ("close", "sandbox closed"), ("post", "harness end -> graded (post result)"),
          ("seen", "graded -> the student's poll saw it"))


def utc(text: str) -> float:
    """An epoch from the API's JSON or an SQLite column (naive there: UTC)."""
    moment = datetime.fromisoformat(text)
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def bare_nbclient(workdir: Path) -> tuple[float, float]:
    """(the whole run, of which the kernel start) for one nbclient execution in a fresh kernel."""
    import nbformat
    from nbclient import NotebookClient

    marks: dict[str, float] = {}
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(notebook, kernel_name="python3", timeout=120, resources={"metadata": {"path": str(workdir)}},
                            extra_arguments=["--IPKernelApp.log_level=ERROR"],  # not its TCP warning each round
                            on_notebook_start=lambda **_: marks.setdefault("started", time.perf_counter()))
    began = time.perf_counter()
    client.execute()
    return time.perf_counter() - began, marks["started"] - began


def plain_exec(workdir: Path) -> float:
    began = time.perf_counter()
    subprocess.run([sys.executable, "-c", EXEC_CELLS, str(NOTEBOOK)], cwd=workdir, check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - began


def graded_round(http: httpx.Client, upload_url: str, data: bytes, poll: float = POLL_S) -> dict:
    """Upload, poll until final; the client's epochs around it and the final JSON."""
    posted = time.time()
    response = http.post(upload_url, files={"file": ("solution.ipynb", data)}, timeout=60)
    response.raise_for_status()
    sid = response.json()["id"]
    while True:
        body = http.get(f"/api/v1/submissions/{sid}").json()
        if body["status"] in ("graded", "failed"):
            return {"id": sid, "posted": posted, "seen": time.time(), "body": body}
        time.sleep(poll)


def received_epochs(log: Path) -> list[float]:
    """When Celery's main process received each task, from the worker's log (local time, milliseconds)."""
    found = (RECEIVED.match(line) for line in log.read_text(errors="replace").splitlines())
    return [datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp() for m in found if m]


def breakdown(db: Path, graded: dict, received: float) -> dict[str, float]:
    """Seconds per phase (PHASES) from the row, the harness's timing lines and the client's clock."""
    with sqlite3.connect(db) as conn:
        created, started, finished = conn.execute(
            "select created_at, started_at, graded_at from submissions where id = ?", (graded["id"],)).fetchone()
        log = conn.execute("select log from grading_results where submission_id = ? order by attempt desc limit 1",
                           (graded["id"],)).fetchone()[0]
    found = {key: [float(x) for x in m.groups()] for key, rx in TIMING.items() if (m := rx.search(log))}
    if len(found) < len(TIMING):
        return {}
    created, started, finished = utc(created), utc(started), utc(finished)
    (began, load), (closed, ended) = found["began"], found["closed"]
    return {"upload": created - graded["posted"], "queue": received - created, "claim": started - received,
            "fetch": began - started,
            "load": load, "handover": found["kernel"][0], "cells": found["cells"][0], "checks": found["checks"][0],
            "close": closed, "post": finished - ended, "seen": graded["seen"] - finished,
            "warm": float("warm kernel (started in" in log)}


def wait_refill(log: Path, ready: int, *, pause: float, timeout: float = 120.0) -> float:
    """Until the worker's log shows `ready` started kernels, then `pause` more; the seconds waited."""
    began = time.monotonic()
    while count_lines(log, READY) < ready and time.monotonic() - began < timeout:
        time.sleep(0.1)
    time.sleep(pause)
    return time.monotonic() - began


def run_rounds(stack, rounds: int, pause: float, poll: float) -> tuple[list[dict], list[tuple[float, float]], list[float],
                                                                       list[float]]:
    data = NOTEBOOK.read_bytes()
    token = stack.token("student1")
    http = httpx.Client(base_url=stack.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    upload_url = f"/api/v1/assignments/{stack.assignment_id()}/submissions"
    log = stack.var_dir / "worker-w1.log"
    warm = "GRADEFLOW_WARM_KERNELS=0" not in " ".join(f"{k}={v}" for k, v in stack.env.items())
    wait_refill(log, 1 if warm else 0, pause=0)  # the kernel the worker started at launch (its default limits)
    graded_round(http, upload_url, data)  # warm-up: the pool then holds a kernel with this assignment's limits
    rows, nbclient_runs, execs, waits = [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(rounds):
            taken = count_lines(log, "warm pool: hit") + count_lines(log, "warm pool: miss")
            waits.append(wait_refill(log, taken + 1 if warm else 0, pause=pause))
            rows.append(graded_round(http, upload_url, data, poll))
            nbclient_runs.append(bare_nbclient(Path(tmp)))
            execs.append(plain_exec(Path(tmp)))
    http.close()
    received = received_epochs(log)[1:]  # one task per upload, in order; the first was the warm-up's
    for row, when in zip(rows, received if len(received) == len(rows) else [float("nan")] * len(rows)):
        row["phases"] = breakdown(stack.var_dir / "gradeflow.db", row, when)
    return rows, nbclient_runs, execs, waits


class CountingStudent:
    """A StudentHandle that times every request the checks make through it."""

    def __init__(self, inner) -> None:
        self.inner, self.seconds = inner, []

    def __getattr__(self, name: str):
        attr = getattr(self.inner, name)
        if name not in ("has", "get", "eval", "define", "call"):
            return attr

        def timed(*args, **kwargs):
            began = time.perf_counter()
            try:
                return attr(*args, **kwargs)
            finally:
                self.seconds.append(time.perf_counter() - began)
        return timed


def _probe_kernel(root: Path, name: str):
    from gradeflow_protocol.messages import Limits
    from gradeflow_worker.kernel import SandboxedKernel
    from gradeflow_worker.sandbox.base import SandboxSpec
    from gradeflow_worker.sandbox.bwrap import BubblewrapSandbox

    spec = SandboxSpec(run_id=f"bench-latency-{name}", argv=[], ipc_dir=root / name / "ipc", files={},
                       public_dir=None, limits=Limits())
    return SandboxedKernel(BubblewrapSandbox(), spec, python=sys.executable)


def _timed_checks(kernel, sink) -> tuple[float, list[float], float]:
    """(seconds, each request's seconds, score) of the assignment's checks against the kernel."""
    from gradeflow_graders.runner import load_checks, run_check
    from gradeflow_worker.student import KernelStudent

    student = CountingStudent(KernelStudent(kernel, sink=sink))
    began, score = time.perf_counter(), 0.0
    for spec in load_checks(ROOT / "assignments" / "ode-theta" / "checks"):
        score += run_check(spec, student, seed=1, timeout=30, log=lambda _: None).score
    return time.perf_counter() - began, student.seconds, score


def _held_pool(start):
    """A KernelPool whose refill can be held back, so a run can be timed with and without a kernel starting."""
    from gradeflow_worker.warm import KernelPool

    class HeldPool(KernelPool):
        held = False

        def refill(self, key) -> None:
            if not self.held:
                super().refill(key)
    return HeldPool(start, size=1)


def harness_ab(pairs: int) -> tuple[list[float], list[float]]:
    """harness.grade in this process with a warm pool, as the worker calls it, alternately with the pool's
    refill held back until after the run and with it starting the next kernel beside the run (what the worker
    does): the hidden checks' seconds of each."""
    import hashlib
    import tomllib

    from gradeflow_protocol.enums import SubmissionKind
    from gradeflow_protocol.messages import JobSpec, Limits
    from gradeflow_worker.harness import HarnessConfig, grade
    from gradeflow_worker.sandbox.bwrap import BubblewrapSandbox
    from gradeflow_worker.environments import resolve_environment
    from gradeflow_worker.warm import WarmKey, start_slot

    folder = ROOT / "assignments" / "ode-theta"
    resources = tomllib.loads((folder / "assignment.toml").read_text())["resources"]
    limits = Limits(**{k: v for k, v in resources.items() if k in Limits.model_fields})
    data, sandbox, checks = NOTEBOOK.read_bytes(), BubblewrapSandbox(), {False: [], True: []}
    with tempfile.TemporaryDirectory() as tmp:
        config = HarnessConfig(run_dir=Path(tmp), python=sys.executable)
        pool = _held_pool(lambda key: start_slot(sandbox, run_dir=config.run_dir, key=key))
        key = WarmKey(limits, resolve_environment("default", environments_dir=None, default_python=config.python))
        try:
            for index in range(2 * pairs):
                beside = index % 2 == 1
                pool.held = False
                pool.refill(key)
                pool.wait_ready(120)
                time.sleep(1.0)
                pool.held = not beside
                job = JobSpec(submission_id=index + 1, attempt=1, kind=SubmissionKind.NOTEBOOK, filename="solution.ipynb",
                              submission_sha256=hashlib.sha256(data).hexdigest(), bundle_sha256="0" * 64,
                              assignment_slug="ode-theta", limits=limits, seed=index)
                result = grade(job, submission=data, bundle_dir=folder, sandbox=sandbox, config=config, pool=pool)
                checks[beside].append(float(TIMING["checks"].search(result.log).group(1)))
        finally:
            pool.close()
    return checks[False], checks[True]


def probe_requests() -> str:
    """The checks run in a bubblewrap kernel of this process's own: how many kernel requests they make, what
    each costs, and what a bare execute costs."""
    from gradeflow_protocol.enums import SubmissionKind
    from gradeflow_worker.cells import submission_cells
    from gradeflow_worker.kernel import OutputSink

    with tempfile.TemporaryDirectory() as tmp:
        kernel = _probe_kernel(Path(tmp), "probe")
        began = time.perf_counter()
        kernel.start()
        started = time.perf_counter() - began
        try:
            sink = OutputSink(10 * 1024 * 1024)
            for source in submission_cells(SubmissionKind.NOTEBOOK, NOTEBOOK.read_bytes()):
                kernel.execute(source, timeout=60, sink=sink)
            bare = []
            for _ in range(20):
                began = time.perf_counter()
                kernel.execute("pass", timeout=10, sink=sink)
                bare.append(time.perf_counter() - began)
            alone, requests, score = _timed_checks(kernel, sink)
        finally:
            kernel.close()
    return (f"probe (a bwrap kernel started by this process): kernel start {started:.2f} s; the 8 checks made "
            f"{len(requests)} kernel requests in {alone:.2f} s: median {statistics.median(requests) * 1000:.0f} ms "
            f"each ({sum(requests):.2f} s in requests); a bare execute('pass') median "
            f"{statistics.median(bare) * 1000:.0f} ms; score {score:g}")


def report(rows: list[dict], nbclient_runs, execs, waits, pause: float, poll: float) -> None:
    med = statistics.median
    client = [r["seen"] - r["posted"] for r in rows]
    server = [utc(r["body"]["graded_at"]) - utc(r["body"]["created_at"]) for r in rows]
    bare = [total for total, _ in nbclient_runs]
    scores = {r["body"]["score"] for r in rows}
    print(f"{len(rows)} rounds, one at a time; before each, waited for the warm pool to refill + {pause:g} s "
          f"(median wait {med(waits):.1f} s); scores {sorted(scores)}")
    print(f"gradeflow, as the student sees it (upload -> poll saw graded, {poll * 1000:.0f} ms polls): "
          f"median {med(client):.3f} s (min {min(client):.3f}, max {max(client):.3f})")
    print(f"gradeflow, server-side (created_at -> graded_at): median {med(server):.3f} s "
          f"(min {min(server):.3f}, max {max(server):.3f})")
    print(f"bare nbclient, fresh kernel (start + cells + shutdown): median {med(bare):.3f} s "
          f"(kernel start median {med(s for _, s in nbclient_runs):.3f} s)")
    print(f"plain exec of the code cells in a fresh python process: median {med(execs):.3f} s")
    print(f"ratio gradeflow / bare nbclient: student-seen {med(client) / med(bare):.2f}x, "
          f"server-side {med(server) / med(bare):.2f}x (target <= 0.5x)")
    print(f"ratio gradeflow / plain exec: student-seen {med(client) / med(execs):.2f}x, "
          f"server-side {med(server) / med(execs):.2f}x")
    phases = [r["phases"] for r in rows if r["phases"]]
    if phases:
        print(f"where the time goes (medians over {len(phases)} rounds; warm kernel used in "
              f"{sum(p['warm'] for p in phases):.0f}):")
        for key, label in PHASES:
            print(f"  {label:<48} {med(p[key] for p in phases):7.3f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--poll", type=float, default=POLL_S, help="seconds between the student's status polls")
    parser.add_argument("--warm-kernels", type=int, default=1, help="the worker's GRADEFLOW_WARM_KERNELS (0: cold)")
    parser.add_argument("--pairs", type=int, default=4, help="runs of each kind in the in-process refill comparison")
    parser.add_argument("--pause", type=float, default=1.5, help="seconds after the pool refilled, before a round")
    args = parser.parse_args()
    print(f"load average at start: {loadavg()} ({Path('/proc/cpuinfo').read_text().count('processor')} cores)",
          flush=True)
    env = embedded_defaults() | {"GRADEFLOW_CONCURRENCY": "1", "GRADEFLOW_WARM_KERNELS": str(args.warm_kernels)}
    with bench_stack(**env) as stack:
        rows, nbclient_runs, execs, waits = run_rounds(stack, args.rounds, args.pause, args.poll)
    report(rows, nbclient_runs, execs, waits, args.pause, args.poll)
    print(probe_requests())
    alone, beside = harness_ab(args.pairs)
    print(f"harness.grade in this process, warm pool, {args.pairs} runs each: hidden checks median "
          f"{statistics.median(alone):.2f} s with the refill held until after the run, "
          f"{statistics.median(beside):.2f} s with the next kernel starting beside the run (as the worker does)")
    print(f"load average at end: {loadavg()}")


if __name__ == "__main__":
    main()
