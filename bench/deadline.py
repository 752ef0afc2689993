"""Deadline night on the embedded default: N uploads at once, graded/min against the rate the CPU allows.

The stack runs with the shipped defaults (bench/_stack.embedded_defaults: SQLite, a private local Redis,
bubblewrap, one grading process per core, one warm kernel per process). The worker is started inside a cgroup
v1 cpuacct group of its own, so the CPU time of its whole process tree (Celery, the harness, every sandboxed
kernel, the ones that ended included) is read from one counter over the run: CPU-seconds per submission =
that / N, and the ideal rate = cores / CPU-seconds per submission. --n uploads (alternately student1 and
student2; the demo course sets no policy, so no daily limit) go in from --uploaders threads at once, after the
worker's first warm kernels are up. Latency is the API's created_at -> graded_at; lost and duplicated are read
from the SQLite file (every accepted upload graded; runs == 1 and one grading_results row each); rows given a
new attempt (re-sent by the sweeper: a new message, the old one refused at claim) are counted apart, with why.
The machine may be shared: the load average and the CPU used by everything else are printed beside it.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import httpx
from _stack import (
    NOTEBOOK,
    CpuAccount,
    bench_stack,
    count_lines,
    embedded_defaults,
    loadavg,
    percentile,
    start_worker_in,
)

STUDENTS = ("student1", "student2")
READY = "warm pool: a kernel is ready"
TICK = os.sysconf("SC_CLK_TCK")


def machine_busy_s() -> float:
    """CPU-seconds the whole machine has spent busy (all but idle and iowait) since boot."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / TICK


def process_s(pid: int) -> float:
    """A live process's own CPU-seconds plus those of its children it has reaped (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(x) for x in fields[11:15]) / TICK


def redis_pid(port: str) -> int | None:
    """The bench's private redis-server (it renames itself "redis-server *:PORT" once up)."""
    for entry in Path("/proc").iterdir():
        try:
            argv = (entry / "cmdline").read_text().split("\0") if entry.name.isdigit() else []
        except OSError:
            continue
        words = " ".join(argv).split()
        if words and "redis-server" in words[0] and (f"*:{port}" in words or f"127.0.0.1:{port}" in words
                                                     or ("--port" in words and port in words)):
            return int(entry.name)
    return None


def utc(text: str) -> float:
    moment = datetime.fromisoformat(text)
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def daily_limit(db: Path, slug: str) -> str:
    with sqlite3.connect(db) as conn:
        row = conn.execute("select p.max_per_day from assignment_policies p join assignments a on a.id = p.assignment_id "
                           "where a.slug = ?", (slug,)).fetchone()
    if row is None:
        return "none (the demo course sets no policy for ode-theta)"
    return "none (policy without one)" if row[0] is None else f"{row[0]} per student per day"


def upload_all(stack, n: int, uploaders: int) -> tuple[list[int], list[str], int]:
    """n uploads from `uploaders` threads, one kept-alive client per thread and student; a 503 (shed) is retried
    after its Retry-After. Returns (accepted ids, refusals, retries)."""
    data, url = NOTEBOOK.read_bytes(), f"/api/v1/assignments/{stack.assignment_id()}/submissions"
    tokens = {name: stack.token(name) for name in STUDENTS}
    local, retries, lock, opened = threading.local(), [0], threading.Lock(), []

    def one(index: int) -> tuple[int | None, str]:
        student = STUDENTS[index % len(STUDENTS)]
        clients = local.__dict__.setdefault("clients", {})
        if student not in clients:
            clients[student] = httpx.Client(base_url=stack.base_url, timeout=60,
                                            headers={"Authorization": f"Bearer {tokens[student]}"})
            with lock:
                opened.append(clients[student])
        http = clients[student]
        for _ in range(30):
            response = http.post(url, files={"file": (f"solution-{index}.ipynb", data)})
            if response.status_code == 202:
                return response.json()["id"], ""
            if response.status_code != 503:
                return None, f"{student}: {response.status_code} {response.text[:200]}"
            with lock:
                retries[0] += 1
            time.sleep(float(response.headers.get("retry-after", "1")))
        return None, f"{student}: still shed after 30 tries"

    with ThreadPoolExecutor(uploaders) as pool:
        answers = list(pool.map(one, range(n)))
    for http in opened:
        http.close()
    return [sid for sid, _ in answers if sid is not None], [why for sid, why in answers if sid is None], retries[0]


def wait_final(db: Path, ids: list[int], timeout: float) -> None:
    """Until every accepted submission is graded or failed (or the timeout), a line a minute meanwhile."""
    began, last = time.monotonic(), time.monotonic()
    marks = ",".join("?" * len(ids))
    while True:
        with sqlite3.connect(db, timeout=10) as conn:
            done = conn.execute(f"select count(*) from submissions where id in ({marks}) and status in "
                                "('graded', 'failed')", ids).fetchone()[0]
        if done == len(ids) or time.monotonic() - began > timeout:
            return
        if time.monotonic() - last >= 60:
            print(f"  {done}/{len(ids)} final after {time.monotonic() - began:.0f} s; load average {loadavg()}",
                  flush=True)
            last = time.monotonic()
        time.sleep(1.0)


def read_rows(db: Path, ids: list[int]) -> tuple[list[tuple], dict[int, int]]:
    marks = ",".join("?" * len(ids))
    with sqlite3.connect(db, timeout=10) as conn:
        rows = conn.execute(f"select id, status, runs, attempt, score, created_at, graded_at, error from submissions "
                            f"where id in ({marks})", ids).fetchall()
        results = dict(conn.execute(f"select submission_id, count(*) from grading_results where submission_id in "
                                    f"({marks}) group by submission_id", ids).fetchall())
    return rows, results


def report(*, n: int, ids: list[int], refused: list[str], retries: int, rows: list[tuple], results: dict[int, int],
           cpu: dict[str, float], cores: int, pool: str) -> None:
    graded = [r for r in rows if r[1] == "graded"]
    if not graded:
        print(f"nothing graded of {len(ids)} accepted uploads ({len(refused)} refused): {refused[:3]}")
        return
    latencies = [utc(r[6]) - utc(r[5]) for r in graded]
    window = max(utc(r[6]) for r in graded) - min(utc(r[5]) for r in rows) if graded else float("nan")
    rate = len(graded) / window * 60
    per_sub = cpu["ours"] / len(ids)
    ideal = cores / per_sub * 60
    left = max(cores - cpu["others"] / cpu["wall"], 1e-9)
    duplicated = [r[0] for r in rows if r[2] != 1 or results.get(r[0], 0) != 1]
    resent = Counter(r[7] or "?" for r in rows if r[3] != 1)
    print(f"{n} uploads at once ({', '.join(f'{s}: {len(range(i, n, len(STUDENTS)))}' for i, s in enumerate(STUDENTS))}), "
          f"{len(ids)} accepted, {len(refused)} refused, {retries} shed and retried")
    print(f"graded/min: {rate:.1f} ({len(graded)} graded in {window:.1f} s, first created -> last graded)")
    print(f"CPU-seconds per submission: {per_sub:.2f} (worker tree incl. sandboxes: {cpu['ours']:.1f} s over "
          f"{cpu['wall']:.1f} s); ideal rate = {cores} cores / {per_sub:.2f} s = {ideal:.1f}/min; "
          f"ratio {rate / ideal:.0%} (target >= 90%)")
    print(f"the rest of the machine meanwhile: API + Redis {cpu['api'] / cpu['wall']:.2f} cores, this bench "
          f"{cpu['bench'] / cpu['wall']:.2f}, everything else (other users) {cpu['others'] / cpu['wall']:.2f} of "
          f"{cores}; ideal on the {left:.2f} cores others left = {left / per_sub * 60:.1f}/min, "
          f"ratio {rate / (left / per_sub * 60):.0%}")
    print(f"latency created -> graded: p50 {percentile(latencies, 0.5):.1f} s, p95 {percentile(latencies, 0.95):.1f} s, "
          f"p99 {percentile(latencies, 0.99):.1f} s, max {max(latencies):.1f} s")
    print(f"lost: {len(ids) - len(graded)} (not graded: {sorted({r[1] for r in rows} - {'graded'}) or 'none'}; "
          f"rows missing: {len(ids) - len(rows)}); duplicated: {len(duplicated)} (runs != 1 or result rows != 1)"
          f"{': ' + str(duplicated[:10]) if duplicated else ''}; scores {sorted({r[4] for r in graded})}")
    print(f"re-sent (attempt > 1, a new message; runs still counted above): {sum(resent.values())}"
          + "".join(f"\n  {count} x {reason}" for reason, count in resent.items()))
    print(f"warm pool: {pool}")
    for why in refused[:5]:
        print(f"  refused: {why}")


def measure(stack, account: CpuAccount, args) -> dict:
    db, log, cores = stack.var_dir / "gradeflow.db", stack.var_dir / "worker-w1.log", os.cpu_count() or 1
    end = time.monotonic() + 300
    while count_lines(log, READY) < cores and time.monotonic() < end:  # the worker was up before the deadline
        time.sleep(0.2)
    print(f"daily limit: {daily_limit(db, 'ode-theta')}; {count_lines(log, READY)} warm kernels ready", flush=True)
    others = [stack.api.pid, redis_pid(stack.env["GRADEFLOW_REDIS_URL"].rsplit(":", 1)[1].split("/")[0])]
    before = (account.seconds(), machine_busy_s(), sum(process_s(p) for p in others if p), time.monotonic(),
              sum(os.times()[:2]))
    ids, refused, retries = upload_all(stack, args.n, args.uploaders)
    wait_final(db, ids, args.timeout or 60 + 10 * args.n)
    after = (account.seconds(), machine_busy_s(), sum(process_s(p) for p in others if p), time.monotonic(),
             sum(os.times()[:2]))
    ours, busy, api, wall, bench = (b - a for a, b in zip(before, after))
    cpu = {"ours": ours, "api": api, "bench": bench, "wall": wall, "others": max(busy - ours - api - bench, 0.0)}
    rows, results = read_rows(db, ids)
    return {"n": args.n, "ids": ids, "refused": refused, "retries": retries, "rows": rows, "results": results,
            "cpu": cpu, "cores": cores,
            "pool": f"{count_lines(log, 'warm pool: hit')} hits, {count_lines(log, 'warm pool: miss')} misses"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=500, help="uploads")
    parser.add_argument("--uploaders", type=int, default=8, help="threads uploading at once")
    parser.add_argument("--keep", default="", help="copy the database and logs to this folder before stopping")
    parser.add_argument("--timeout", type=float, default=0, help="seconds to wait for the last grade (0: 60 + 10 n)")
    args = parser.parse_args()
    print(f"load average at start: {loadavg()} ({os.cpu_count()} cores)", flush=True)
    account = CpuAccount.create()
    if account is None:
        raise SystemExit("needs a writable cgroup v1 cpuacct hierarchy (/sys/fs/cgroup/cpuacct) to count CPU time")
    try:
        with bench_stack(workers=0, **embedded_defaults()) as stack:
            start_worker_in(stack, account)
            figures = measure(stack, account, args)
            if args.keep:  # the database and the logs, for a look afterwards
                shutil.copytree(stack.var_dir, args.keep, dirs_exist_ok=True,
                                ignore=shutil.ignore_patterns("runs", "blobs"))
    finally:
        account.remove()
    report(**figures)
    print(f"load average at end: {loadavg()}")


if __name__ == "__main__":
    main()
