"""A thousand students watching their submissions: GET /api/v1/submissions/{id} at a steady rate.

Starts its own stack (API on SQLite, Redis, no worker, so every status stays put), seeds --clients students
with one submission each (half queued, a fifth running, the rest graded with feedback), and drives the poll
with `wrk`: one keep-alive connection per student, each pausing about clients/rate seconds between polls
(a random pause in [0.5, 1.5] x that, so arrivals spread out), so the whole class sends --rate requests/s.
Requests carry the student's bearer token and, for --revalidate of them (95%), the ETag the student last saw
(If-None-Match), as a browser does; both servers get a 5 s warm-up run first. Then the same load, with the same uvicorn settings, on a trivial FastAPI
app that answers a constant JSON. Prints requests/s, p50/p99 latency and errors for both, and the p99 ratio.

Pacing: Debian ships wrk 4.x, which has no -R (that is wrk2, not packaged); the Lua `delay()` hook paces each
connection instead. This is a closed loop (a slow answer delays that student's next poll), so the rate
reached is printed beside the one asked for; at 1,000 students the pause (2 s) dwarfs the answer time, so the
two agree unless the server is in trouble.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import httpx
from _stack import ROOT, bench_stack

from tests.conftest import free_port, wait_port

HERE = Path(__file__).resolve().parent
LUA = """
local students = {%(students)s}
local low, high, revalidate = %(low)d, %(high)d, %(revalidate)f
local threads, count = {}, 0

function setup(thread)
  count = count + 1
  thread:set("index", count)
  table.insert(threads, thread)
end

function init(args)
  pos, step = index, %(threads)d
  ok2, ok3, bad4, bad5 = 0, 0, 0, 0
  math.randomseed(index * 7919 + os.time())
end

function delay()
  return math.random(low, high)
end

function request()
  local s = students[pos]
  pos = pos + step
  if pos > #students then pos = pos - #students end
  local headers = {Authorization = "Bearer " .. s[2]}
  if s[3] ~= "" and math.random() < revalidate then headers["If-None-Match"] = s[3] end
  return wrk.format("GET", s[1], headers)
end

function response(status, headers, body)
  if status < 300 then ok2 = ok2 + 1 elseif status < 400 then ok3 = ok3 + 1
  elseif status < 500 then bad4 = bad4 + 1 else bad5 = bad5 + 1 end
end

function done(summary, latency, requests)
  local s = {ok2 = 0, ok3 = 0, bad4 = 0, bad5 = 0}
  for _, thread in ipairs(threads) do
    for key, _ in pairs(s) do s[key] = s[key] + thread:get(key) end
  end
  local e = summary.errors
  io.write(string.format('RESULT {"requests": %%d, "duration_us": %%d, "p50_us": %%d, "p99_us": %%d, '
    .. '"max_us": %%d, "connect": %%d, "read": %%d, "write": %%d, "timeout": %%d, "status_errors": %%d, '
    .. '"s2xx": %%d, "s3xx": %%d, "s4xx": %%d, "s5xx": %%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.timeout, e.status, s.ok2, s.ok3, s.bad4, s.bad5))
end
"""


def seed_students(stack, count: int) -> list[tuple[int, str]]:
    """`count` students of mathdl with one ode-theta submission each; returns (submission id, bearer token)."""
    from sqlalchemy import select

    from gradeflow_core.db import make_engine, make_session_factory, session_scope
    from gradeflow_core.models import Assignment, Course, Enrollment, GradingResult, Submission, User, utcnow
    from gradeflow_core.security import make_user_token
    from gradeflow_protocol.enums import Role, SubmissionKind, SubmissionStatus

    engine = make_engine(f"sqlite:///{stack.var_dir / 'gradeflow.db'}")
    now, rows = utcnow(), []
    with session_scope(make_session_factory(engine)) as session:
        course = session.scalar(select(Course).where(Course.slug == "mathdl"))
        assignment = session.scalar(select(Assignment).where(Assignment.course_id == course.id))
        for index in range(count):
            user = User(username=f"bench{index:05d}", name=f"Student {index}")
            session.add(user)
            session.flush()
            session.add(Enrollment(user_id=user.id, course_id=course.id, role=Role.STUDENT))
            share = index % 10
            status = (SubmissionStatus.QUEUED if share < 5 else SubmissionStatus.RUNNING if share < 7
                      else SubmissionStatus.GRADED)
            sub = Submission(user_id=user.id, assignment_id=assignment.id, version_id=assignment.current_version_id,
                             filename="solution.ipynb", kind=SubmissionKind.NOTEBOOK, blob_sha256="0" * 64, size=1,
                             status=status, queued_at=now - timedelta(seconds=count - index), runs=int(share >= 5))
            if status is SubmissionStatus.RUNNING:
                sub.started_at = sub.last_heartbeat = now
                sub.worker, sub.progress = "w1@bench", "cell 3 of 7"
            session.add(sub)
            session.flush()
            if status is SubmissionStatus.GRADED:
                sub.score, sub.max_score, sub.graded_at = 7.0, 10.0, now
                checks = [dict(name=f"check {n}", score=1.0, max_score=1.0, passed=n % 3 > 0,
                               message="" if n % 3 else "observed order 1.02, expected 2") for n in range(10)]
                session.add(GradingResult(submission_id=sub.id, attempt=1, score=7.0, max_score=10.0, checks=checks,
                                          run={"outcome": "completed", "wall_seconds": 4.2, "message": ""},
                                          output="step 1 ok\n" * 40, log="harness log line\n" * 200))
            rows.append((sub.id, user.id))
    engine.dispose()
    secret = stack.env["GRADEFLOW_SECRET_KEY"]
    return [(sid, make_user_token(user_id=uid, secret=secret, minutes=600)) for sid, uid in rows]


def etags(base_url: str, students: list[tuple[int, str]]) -> list[str]:
    """Each student's first poll (a full answer): the ETag a browser would revalidate with, '' if none."""
    tags = []
    with httpx.Client(base_url=base_url, timeout=30) as client:
        for sid, token in students:
            r = client.get(f"/api/v1/submissions/{sid}", headers={"Authorization": f"Bearer {token}"})
            r.raise_for_status()
            tags.append(r.headers.get("etag", ""))
    return tags


def settled_etags(base_url: str, students: list[tuple[int, str]], *, sweep_s: float) -> list[str]:
    """The ETags once the statuses stand still: the sweeper's first passes re-send the seeded queued rows,
    which Redis never saw (a new attempt, so a new ETag); wait them out, at most three sweeps."""
    tags = etags(base_url, students)
    for _ in range(3):
        time.sleep(sweep_s + 1)
        again = etags(base_url, students)
        changed = sum(a != b for a, b in zip(tags, again))
        tags = again
        if changed == 0:
            break
    return tags


def write_script(path: Path, students, tags, *, clients: int, rate: float, threads: int, revalidate: float) -> None:
    pause_ms = clients / rate * 1000
    rows = ",".join(f'{{"/api/v1/submissions/{sid}","{token}",{json.dumps(tag)}}}'
                    for (sid, token), tag in zip(students, tags))
    path.write_text(LUA % dict(students=rows, low=int(pause_ms * 0.5), high=int(pause_ms * 1.5),
                               revalidate=revalidate, threads=threads))


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_wrk(url: str, script: Path, *, clients: int, seconds: int, threads: int, server_pid: int) -> dict:
    cpu = cpu_seconds(server_pid)
    out = subprocess.run(["wrk", "-t", str(threads), "-c", str(clients), "-d", f"{seconds}s", "--timeout", "10s",
                          "-s", str(script), url], capture_output=True, text=True, check=True).stdout
    line = next(line for line in out.splitlines() if line.startswith("RESULT "))
    result = json.loads(line.removeprefix("RESULT "))
    result["server_cpu_s"] = cpu_seconds(server_pid) - cpu
    return result


def trivial_server(var_dir: Path):
    port = free_port()
    log = open(var_dir / "trivial.log", "ab")
    proc = subprocess.Popen([sys.executable, str(HERE / "_trivial_app.py"), str(port)], stdout=log,
                            stderr=subprocess.STDOUT, cwd=ROOT)
    wait_port(port)
    return proc, f"http://127.0.0.1:{port}"


def describe(name: str, r: dict, asked: float) -> str:
    socket = r["connect"] + r["read"] + r["write"] + r["timeout"]
    errors = r["s4xx"] + r["s5xx"] + socket
    rps = r["requests"] / (r["duration_us"] / 1e6)
    return (f"{name:<10} {rps:7.1f} req/s (asked {asked:g}), p50 {r['p50_us'] / 1000:6.2f} ms, "
            f"p99 {r['p99_us'] / 1000:7.2f} ms, max {r['max_us'] / 1000:7.1f} ms; errors {errors} "
            f"(4xx {r['s4xx']}, 5xx {r['s5xx']}, socket {socket}); 2xx {r['s2xx']}, 304 {r['s3xx']}; "
            f"server CPU {r['server_cpu_s'] * 1000 / max(r['requests'], 1):.2f} ms/request")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=1000, help="simulated students (one connection each)")
    parser.add_argument("--seconds", type=int, default=60, help="length of each of the two runs")
    parser.add_argument("--rate", type=float, default=500.0, help="requests per second, all students together")
    parser.add_argument("--revalidate", type=float, default=0.95,
                        help="share of polls sending If-None-Match; the rest ask for the full answer, as a page load "
                             "or the poll after a status change does (a few of a submission's hundred polls)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("bench/status.py needs wrk: apt-get install -y wrk (scripts/install.sh installs it)")
    # the production sweep pace; statuses that stay put (no worker: running rows keep running, and the seeded
    # queued rows, which never went through Redis, are not re-sent as lost while the bench runs)
    env = {"GRADEFLOW_SWEEP_INTERVAL_S": "10", "GRADEFLOW_HEARTBEAT_TIMEOUT_S": "3600",
           "GRADEFLOW_LOST_MESSAGE_GRACE_S": "86400"}
    with bench_stack(workers=0, **env) as stack, tempfile.TemporaryDirectory(prefix="gf-status-") as tmp:
        students = seed_students(stack, args.clients)
        tags = settled_etags(stack.base_url, students, sweep_s=float(env["GRADEFLOW_SWEEP_INTERVAL_S"]))
        script = Path(tmp) / "students.lua"
        write_script(script, students, tags, clients=args.clients, rate=args.rate, threads=args.threads,
                     revalidate=args.revalidate)
        proc, trivial_url = trivial_server(stack.var_dir)
        try:
            run_wrk(trivial_url, script, clients=args.clients, seconds=5, threads=args.threads,
                    server_pid=proc.pid)  # warm up
            trivial = run_wrk(trivial_url, script, clients=args.clients, seconds=args.seconds, threads=args.threads,
                              server_pid=proc.pid)
        finally:
            proc.terminate()
            proc.wait(10)
        time.sleep(1)
        run_wrk(stack.base_url, script, clients=args.clients, seconds=5, threads=args.threads,
                server_pid=stack.api.pid)  # warm up, as for the trivial app: every student has polled once
        real = run_wrk(stack.base_url, script, clients=args.clients, seconds=args.seconds, threads=args.threads,
                       server_pid=stack.api.pid)
    print(f"{args.clients} students, {args.seconds} s each, asked {args.rate:g} req/s "
          f"({int(args.revalidate * 100)}% with If-None-Match); statuses: 50% queued, 20% running, 30% graded")
    print(describe("trivial", trivial, args.rate))
    print(describe("gradeflow", real, args.rate))
    ratio = real["p99_us"] / max(trivial["p99_us"], 1)
    print(f"p99 ratio gradeflow/trivial: {ratio:.2f} (target <= 2); load average {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} CPUs (other work on the machine inflates both)")


if __name__ == "__main__":
    main()
