"""Inject faults into a real stack and print how long gradeflow takes to recover from each.

    python3 bench/faults.py                      # every fault
    python3 bench/faults.py --only redis poison  # some

Faults: redis (Redis restarted empty while uploads wait), worker (a worker SIGKILLed mid-run under the
`gradeflow up` supervisor), api (the API SIGKILLed while a run is in flight, back after a few seconds),
database (the SQLite file write-locked by another process for a few seconds), poison (a submission that kills
its worker every time; simulated by tests/fault_worker.py, since the sandbox makes it impossible for real).
Each runs on its own private Redis, var dir and ports.
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from _stack import ROOT, reference_script

from tests.conftest import wait_port  # noqa: E402
from tests.fault_worker import POISON  # noqa: E402
from tests.redis_server import RedisServer  # noqa: E402
from tests.stack import start_stack  # noqa: E402
from tests.up_stack import start_up  # noqa: E402

SLOW = b"import time\ntime.sleep(3)\n"


@contextmanager
def scratch(name: str):
    tmp = Path(tempfile.mkdtemp(prefix=f"gf-faults-{name}-"))
    redis = RedisServer(tmp / "redis").start()
    try:
        yield tmp, redis
    finally:
        redis.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def until(condition, timeout: float = 300.0, step: float = 0.1):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = condition()
        if value:
            return value
        time.sleep(step)
    raise TimeoutError


def staff(stack, sid: int) -> dict:
    return stack.get(sid, username="ta1").json()


def results_per_submission(var_dir: Path) -> dict[int, int]:
    with sqlite3.connect(var_dir / "gradeflow.db") as db:
        return dict(db.execute("SELECT submission_id, count(*) FROM grading_results GROUP BY submission_id"))


def once(stack, ids) -> str:
    counts = results_per_submission(stack.var_dir)
    runs = [staff(stack, sid)["runs"] for sid in ids]
    return "yes" if all(counts.get(sid) == 1 for sid in ids) and set(runs) == {1} else f"no (runs {runs})"


def redis_restart(uploads: int) -> str:
    with scratch("redis") as (tmp, redis):
        stack = start_stack(tmp / "stack", redis_url=redis.url, workers=1,
                            extra_env={"GRADEFLOW_SWEEP_INTERVAL_S": "10"})  # the default interval
        try:
            from gradeflow_api.reconciler import MARKER_KEY
            import redis as redis_py

            client = redis_py.Redis.from_url(redis.url)
            until(lambda: client.exists(MARKER_KEY), 30)
            client.close()
            ids = [stack.submit(f"s{i}.py", reference_script()).json()["id"] for i in range(uploads)]
            until(lambda: staff(stack, ids[0])["status"] != "queued")
            waiting = [sid for sid in ids if staff(stack, sid)["status"] == "queued"]
            redis.restart()
            t0 = time.monotonic()
            until(lambda: all(staff(stack, sid)["attempt"] == 2 or staff(stack, sid)["status"] != "queued"
                              for sid in waiting))
            resent = time.monotonic() - t0
            for sid in ids:
                stack.wait(sid, username="ta1", timeout=600)
            graded = time.monotonic() - t0
            return (f"{uploads} uploads, {len(waiting)} waiting in Redis when it restarted empty: all sent again "
                    f"{resent:.1f} s after the restart (sweep every 10 s), all graded {graded:.1f} s after it; "
                    f"each graded once: {once(stack, ids)}")
        finally:
            stack.stop()


def worker_kill() -> str:
    with scratch("worker") as (tmp, redis):
        stack = start_up(tmp / "up", redis_url=redis.url, workers=1)
        try:
            sid = stack.submit("slow.py", SLOW + reference_script()).json()["id"]
            until(lambda: staff(stack, sid)["status"] == "running")
            dead = stack.pid("worker-1")
            os.killpg(dead, signal.SIGKILL)
            t0 = time.monotonic()
            until(lambda: stack.pid("worker-1") not in (None, dead))
            restarted = time.monotonic() - t0
            stack.wait_ready("worker-1", times=2, timeout=120)
            ready = time.monotonic() - t0
            body = stack.wait(sid, username="ta1", timeout=300)
            graded = time.monotonic() - t0
            return (f"worker SIGKILLed mid-run under `gradeflow up`: restarted after {restarted:.1f} s, ready after "
                    f"{ready:.1f} s, the interrupted submission graded after {graded:.1f} s (heartbeat timeout 6 s); "
                    f"attempt {body['attempt']}, runs {body['runs']}, score {body['score']}")
        finally:
            stack.stop()


def api_restart(down_s: float) -> str:
    with scratch("api") as (tmp, redis):
        stack = start_stack(tmp / "stack", redis_url=redis.url, workers=1)
        try:
            sid = stack.submit("slow.py", SLOW + reference_script()).json()["id"]
            until(lambda: staff(stack, sid)["status"] == "running")
            os.killpg(stack.api.pid, signal.SIGKILL)
            stack.api.wait()
            t0 = time.monotonic()
            time.sleep(down_s)
            port = int(stack.base_url.rsplit(":", 1)[1])
            log = open(stack.var_dir / "api.log", "ab")
            stack.api = subprocess.Popen([sys.executable, "-m", "gradeflow_cli.main", "serve", "--port", str(port)],
                                         env=stack.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
            wait_port(port, timeout=60)
            back = time.monotonic() - t0
            body = stack.wait(sid, username="ta1", timeout=300)
            graded = time.monotonic() - t0
            return (f"API SIGKILLed mid-run, started again after {down_s:.0f} s (answering {back:.1f} s after the "
                    f"kill): the submission graded {graded:.1f} s after the kill; attempt {body['attempt']}, "
                    f"runs {body['runs']}, score {body['score']}")
        finally:
            stack.stop()


def database_locked(lock_s: float) -> str:
    with scratch("db") as (tmp, redis):
        stack = start_stack(tmp / "stack", redis_url=redis.url, workers=1)
        try:
            stack.token("student1"), stack.assignment_id()
            answers: list[tuple[float, int, float]] = []  # (sent, status, seconds)
            stop = threading.Event()

            def upload() -> None:
                sent = time.monotonic()
                try:
                    code = stack.submit("s.py", reference_script()).status_code
                except Exception:  # a timeout counts as no answer
                    code = 0
                answers.append((sent, code, time.monotonic() - sent))

            def upload_every_second() -> None:  # each upload on its own thread: students do not wait in line
                while not stop.wait(1.0):
                    threading.Thread(target=upload, daemon=True).start()

            lock = sqlite3.connect(stack.var_dir / "gradeflow.db", timeout=30, isolation_level=None)
            lock.execute("BEGIN EXCLUSIVE")
            thread = threading.Thread(target=upload_every_second, daemon=True)
            thread.start()
            time.sleep(lock_s)
            lock.execute("COMMIT")
            released = time.monotonic()
            lock.close()
            until(lambda: any(s >= released and c == 202 for s, c, _ in answers), 60)
            stop.set()
            thread.join(60)
            time.sleep(6)  # the last uploads' answers
            during = [(c, t) for s, c, t in answers if s < released]
            first_ok = min(s + t for s, c, t in answers if c == 202 and s + t >= released) - released
            codes = sorted({c for c, _ in during})
            accepted = [c for c, _ in during if c == 202]
            ids = [r["id"] for r in httpx_list(stack)]
            for sid in ids:
                stack.wait(sid, username="ta1", timeout=600)
            return (f"SQLite write-locked by another process for {lock_s:.0f} s: {len(during)} uploads sent meanwhile, "
                    f"{sum(1 for c, _ in during if c == 503)} answered 503, {len(accepted)} 202 (status codes "
                    f"{codes}, slowest answer {max(t for _, t in during):.1f} s); first upload accepted "
                    f"{first_ok:.1f} s after the lock was released; "
                    f"{len(ids)} accepted uploads all graded, each once: {once(stack, ids)}")
        finally:
            stack.stop()


def httpx_list(stack) -> list[dict]:
    with sqlite3.connect(stack.var_dir / "gradeflow.db") as db:
        return [{"id": row[0]} for row in db.execute("SELECT id FROM submissions ORDER BY id")]


def poison() -> str:
    with scratch("poison") as (tmp, redis):
        stack = start_up(tmp / "up", redis_url=redis.url, workers=2, faulty=True)
        try:
            t0 = time.monotonic()
            bad = stack.submit("poison.py", reference_script() + b"\n" + POISON + b"\n").json()["id"]
            good = [stack.submit(f"ok{i}.py", reference_script(), username=user).json()["id"]
                    for i, user in enumerate(["student2", "student1", "student2"])]
            bodies = [stack.wait(sid, username="ta1", timeout=600) for sid in good]
            others = time.monotonic() - t0
            failed = stack.wait(bad, username="ta1", timeout=600)
            ended = time.monotonic() - t0
            kills = stack.supervisor_log().count("killed by SIGKILL")
            return (f"a submission that kills its worker every time: {failed['status']} after {ended:.1f} s, "
                    f"runs {failed['runs']} (reason shown to TAs: {failed['error']!r}); {kills} worker deaths, "
                    f"each restarted; the 3 other uploads graded meanwhile ({others:.1f} s, scores "
                    f"{[b['score'] for b in bodies]}, each once: {once(stack, good)})")
        finally:
            stack.stop()


FAULTS = {"redis": lambda a: redis_restart(a.uploads), "worker": lambda a: worker_kill(),
          "api": lambda a: api_restart(a.api_down), "database": lambda a: database_locked(a.lock),
          "poison": lambda a: poison()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="*", choices=sorted(FAULTS), default=list(FAULTS))
    parser.add_argument("--uploads", type=int, default=8, help="uploads waiting when Redis restarts")
    parser.add_argument("--api-down", type=float, default=5.0, help="seconds the API stays down")
    parser.add_argument("--lock", type=float, default=8.0, help="seconds the database stays write-locked")
    args = parser.parse_args()
    os.chdir(ROOT)  # the fault workers are started as `python -m tests.fault_worker`
    for name in args.only:
        start = time.monotonic()
        try:
            line = FAULTS[name](args)
        except Exception as exc:  # a bench prints what happened, it does not stop at the first fault
            line = f"did not recover: {type(exc).__name__}: {exc}"
        print(f"{name:9s} {line}  [{time.monotonic() - start:.0f} s]", flush=True)


if __name__ == "__main__":
    main()
