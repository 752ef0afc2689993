"""A worker host needs nothing but the broker's and the API's addresses, and losing one mid-run loses nothing.

Three private machines, each a network namespace (tests/netns.py):

    host (this test) --veth 10.254.H.0/30-- svc: redis :6379, PostgreSQL (its loopback only), API :8000
                                             |-- veth 10.254.1.0/30 -- w1: one Celery worker
                                             `-- veth 10.254.2.0/30 -- w2: one Celery worker

A worker's only route is its own link to svc; its environment names the broker and the API at svc's address
on that link and nothing else (no database URL, no secret). The test uploads the reference notebook eight
times from the host, lets both workers grade, then destroys w1 (link cut, every process killed, namespace
deleted) while it is running one: every submission must end graded once with full marks, the lost one by w2
within RECOVERY_BUDGET_S of the teardown.
"""
from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.conftest import ASSIGNMENTS, require
from tests.netns import Lab, Link, Machine, free_link_subnet, ip, unavailable_reason
from tests.stack import PASSWORD

# a slow start on a shared 2-core machine: three machines, a database and ~8 notebook runs
pytestmark = [pytest.mark.integration, pytest.mark.redis, pytest.mark.bwrap, pytest.mark.timeout(600)]

REDIS_PORT, PG_PORT, API_PORT = 6379, 5432, 8000  # svc is a fresh namespace: the usual ports are free there
HEARTBEAT_TIMEOUT_S = 6
RECOVERY_BUDGET_S = 30
SUBMISSIONS = 8
MAX_EXTRA = 6  # uploads added if both workers fall idle before w1 can be caught mid-run
MID_RUN = ("running", "cell ", "check ")  # progress a worker reports once the kernel is up


def _slow_notebook() -> bytes:
    """The reference with a first cell that takes 3 s: a warm kernel grades the reference alone in ~0.4 s, too
    quickly for a 0.2 s poll through the API (and a heartbeat a second) to catch w1 inside a run."""
    import nbformat

    notebook = nbformat.reads((ASSIGNMENTS / "ode-theta" / "solution.ipynb").read_text(), as_version=4)
    notebook.cells.insert(0, nbformat.v4.new_code_cell("import time\ntime.sleep(3)"))
    return nbformat.writes(notebook).encode()


NOTEBOOK = _slow_notebook()


@dataclass
class Worker:
    machine: Machine
    link: Link  # a: svc, b: the worker
    hostname: str
    proc: subprocess.Popen


@dataclass
class Site:
    lab: Lab
    svc: Machine
    host_link: Link  # a: the host (this test), b: svc
    tmp: Path
    pg_dir: Path | None = None
    workers: dict[str, Worker] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"http://{self.host_link.b_addr}:{API_PORT}"


def _clean_env() -> dict[str, str]:
    """This process's environment without any gradeflow setting or proxy: each process gets only what it names."""
    return {k: v for k, v in os.environ.items() if not k.startswith("GRADEFLOW_") and "proxy" not in k.lower()}


def _wait(what: str, ready, *, timeout: float = 60.0, proc: subprocess.Popen | None = None, log: Path | None = None):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if ready():
            return
        if proc is not None and proc.poll() is not None:
            break
        time.sleep(0.1)
    tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
    raise TimeoutError(f"{what} not ready after {timeout:.0f} s:\n{tail}")


def _listening(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex((host, port)) == 0


def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[4]))
    return Path(found[-1]).parent if found else None


def _as_postgres(argv: list[str]) -> list[str]:
    return ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", *argv]


def _start_postgres(site: Site, bin_dir: Path) -> str:
    """A throwaway trust-auth cluster on svc's loopback (workers cannot reach it); the test reads it over its
    Unix socket, which no network namespace hides."""
    site.pg_dir = Path(tempfile.mkdtemp(prefix=f"{site.lab.prefix}-pg-"))  # /tmp: the postgres user can enter it
    shutil.chown(site.pg_dir, "postgres", "postgres")
    data = site.pg_dir / "data"
    subprocess.run(_as_postgres([str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-N"]),
                   check=True, capture_output=True, cwd=site.pg_dir, timeout=120)
    options = (f"-p {PG_PORT} -k {site.pg_dir} -c listen_addresses=127.0.0.1 -c fsync=off "
               "-c synchronous_commit=off -c full_page_writes=off")
    site.lab.run(site.svc, _as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(site.pg_dir / "log"),
                                         "-w", "-t", "60", "-o", options, "start"]), cwd=site.pg_dir)
    import psycopg

    with psycopg.connect(host=str(site.pg_dir), port=PG_PORT, user="postgres", dbname="postgres",
                         autocommit=True) as conn:
        conn.execute("CREATE DATABASE gradeflow")
    return f"postgresql://postgres@127.0.0.1:{PG_PORT}/gradeflow"


def _stop_postgres(site: Site) -> None:
    bin_dir = _pg_bin()
    if site.pg_dir is None or bin_dir is None:
        return
    if (site.pg_dir / "data" / "postmaster.pid").exists():
        subprocess.run(_as_postgres([str(bin_dir / "pg_ctl"), "-D", str(site.pg_dir / "data"), "-m", "immediate",
                                     "-w", "stop"]), capture_output=True, cwd=site.pg_dir, timeout=60)
    shutil.rmtree(site.pg_dir, ignore_errors=True)


def _start_services(site: Site, *, worker_addrs: list[str]) -> str:
    """redis, the database and the API on svc; returns which database the API uses."""
    lab, svc, tmp = site.lab, site.svc, site.tmp
    binds = " ".join(["127.0.0.1", site.host_link.b_addr, *worker_addrs])
    redis = lab.start(svc, [shutil.which("redis-server"), "--port", str(REDIS_PORT), "--bind", binds,
                            "--protected-mode", "no", "--save", "", "--appendonly", "no", "--dir", str(tmp)],
                      env=_clean_env(), log=tmp / "redis.log")
    bin_dir = _pg_bin()
    if bin_dir is not None and _has_user("postgres"):
        database_url, database = _start_postgres(site, bin_dir), "postgresql"
    else:  # the database is the API's alone; the property under test does not depend on which one
        database_url, database = f"sqlite:///{tmp / 'api' / 'gradeflow.db'}", "sqlite"
    env = _clean_env() | {
        "GRADEFLOW_VAR_DIR": str(tmp / "api"), "GRADEFLOW_DATABASE_URL": database_url,
        "GRADEFLOW_REDIS_URL": f"redis://127.0.0.1:{REDIS_PORT}/0", "GRADEFLOW_SECRET_KEY": "many-machines-secret",
        "GRADEFLOW_DEMO_PASSWORD": PASSWORD, "GRADEFLOW_SWEEP_INTERVAL_S": "1",
        "GRADEFLOW_HEARTBEAT_INTERVAL_S": "1", "GRADEFLOW_HEARTBEAT_TIMEOUT_S": str(HEARTBEAT_TIMEOUT_S),
        "GRADEFLOW_CAP_TIME_LIMIT_S": "90",
    }
    (tmp / "api").mkdir()
    _wait("redis on svc", lambda: _listening(site.host_link.b_addr, REDIS_PORT), proc=redis, log=tmp / "redis.log")
    api = [sys.executable, "-m", "gradeflow_api"]
    lab.run(svc, [*api, "db-upgrade"], env=env)
    lab.run(svc, [*api, "demo", "--assignments", str(ASSIGNMENTS)], env=env)
    proc = lab.start(svc, [*api, "serve", "--host", "0.0.0.0", "--port", str(API_PORT)], env=env,
                     log=tmp / "api.log")
    _wait("the API on svc", lambda: _listening(site.host_link.b_addr, API_PORT), proc=proc, log=tmp / "api.log")
    return database


def _has_user(name: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def _worker_env(site: Site, name: str, svc_addr: str) -> dict[str, str]:
    """All a worker host is told: where the broker and the API are (svc's address on its own link)."""
    return _clean_env() | {
        "GRADEFLOW_REDIS_URL": f"redis://{svc_addr}:{REDIS_PORT}/0", "GRADEFLOW_API_URL": f"http://{svc_addr}:{API_PORT}",
        "GRADEFLOW_VAR_DIR": str(site.tmp / name), "GRADEFLOW_HEARTBEAT_INTERVAL_S": "1",
    }


def _start_worker(site: Site, name: str, link: Link) -> Worker:
    hostname = f"{site.lab.prefix}-{name}"
    log = site.tmp / f"{name}.log"
    env = _worker_env(site, name, link.a_addr)
    assert not {"GRADEFLOW_DATABASE_URL", "GRADEFLOW_SECRET_KEY"} & env.keys()
    proc = site.lab.start(link.b, [sys.executable, "-m", "gradeflow_worker", "--queues", "cpu",
                                   "--hostname", f"{name}@{hostname}"], env=env, log=log, hostname=hostname)
    _wait(f"worker {name}", lambda: "ready" in log.read_text(errors="replace"), proc=proc, log=log)
    return Worker(machine=link.b, link=link, hostname=hostname, proc=proc)


@pytest.fixture
def site(tmp_path):
    reason = unavailable_reason()
    require(reason is None, f"network namespaces unavailable: {reason}")
    require(shutil.which("bwrap") is not None, "bubblewrap is not installed")
    require(shutil.which("redis-server") is not None, "redis-server is not installed")
    lab, site, started = Lab(), None, time.monotonic()
    try:
        svc = lab.machine("svc")
        site = Site(lab=lab, svc=svc, host_link=lab.link(None, svc, subnet=free_link_subnet()), tmp=tmp_path)
        links = {name: lab.link(svc, lab.machine(name), subnet=f"10.254.{index}.0")
                 for index, name in enumerate(("w1", "w2"), start=1)}
        database = _start_services(site, worker_addrs=[link.a_addr for link in links.values()])
        print(f"\n[many machines] prefix {lab.prefix}; database of the API: {database}")
        _assert_isolated(site, links)
        for name, link in links.items():
            site.workers[name] = _start_worker(site, name, link)
        print(f"[many machines] three machines up in {time.monotonic() - started:.1f} s")
        yield site
    finally:
        lab.close()
        if site is not None:
            _stop_postgres(site)
        left = lab.leftovers()
        assert not left, f"left behind: {left}"


def _assert_isolated(site: Site, links: dict[str, Link]) -> None:
    """Each worker machine reaches svc's broker and API over its own link and nothing else."""
    with socket.socket() as host_only:  # a service on the host's loopback, the kind a worker must not need
        host_only.bind(("127.0.0.1", 0))
        host_only.listen()
        host_port = host_only.getsockname()[1]
        assert _listening("127.0.0.1", host_port)
        for name, link in links.items():
            worker, others = link.b, [other for other in links.values() if other is not link]
            routes = worker.routes()  # one: its own link; no default route
            assert len(routes) == 1 and routes[0].startswith(f"{link.a_addr.rsplit('.', 1)[0]}.0/30 dev {link.b_dev} "), routes
            assert worker.can_connect(link.a_addr, REDIS_PORT), f"{name} cannot reach svc's redis"
            assert worker.can_connect(link.a_addr, API_PORT), f"{name} cannot reach svc's API"
            assert not worker.can_connect("127.0.0.1", host_port), f"{name} reached the host's loopback"
            assert not worker.can_connect("127.0.0.1", REDIS_PORT), f"{name} reached a redis on its loopback"
            assert worker.has_route(link.a_addr)
            assert not worker.has_route(site.host_link.a_addr), f"{name} has a route to the host"
            assert not worker.has_route(site.host_link.b_addr), f"{name} has a route past its link on svc"
            assert not any(worker.has_route(o.b_addr) for o in others), f"{name} has a route to another worker"
            if site.pg_dir is not None:
                assert not worker.can_connect(link.a_addr, PG_PORT), f"{name} reached the database"


class Client:
    """The public API from the host, over the host's link to svc (no proxy, whatever the environment says)."""

    def __init__(self, base_url: str) -> None:
        self.http = httpx.Client(base_url=base_url, trust_env=False, timeout=30)
        self.headers = {user: {"Authorization": f"Bearer {self._token(user)}"} for user in ("student1", "student2",
                                                                                           "ta1")}
        assignments = self.http.get("/api/v1/assignments", headers=self.headers["ta1"]).json()
        self.assignment_id = next(a["id"] for a in assignments if a["slug"] == "ode-theta")

    def _token(self, user: str) -> str:
        r = self.http.post("/api/v1/auth/token", data={"username": user, "password": PASSWORD})
        r.raise_for_status()
        return r.json()["access_token"]

    def submit(self, user: str) -> int:
        r = self.http.post(f"/api/v1/assignments/{self.assignment_id}/submissions", headers=self.headers[user],
                           files={"file": ("solution.ipynb", NOTEBOOK)})
        assert r.status_code == 202, r.text
        return r.json()["id"]

    def rows(self, ids: set[int]) -> dict[int, dict]:
        """The staff view of these submissions: status, attempt, runs, worker, progress."""
        r = self.http.get(f"/api/v1/assignments/{self.assignment_id}/submissions", headers=self.headers["ta1"])
        r.raise_for_status()
        return {row["id"]: row for row in r.json() if row["id"] in ids}


def _ran_by(row: dict, worker: Worker) -> bool:
    return row["worker"].startswith(f"{worker.hostname}:")


def _catch_mid_run(client: Client, ids: set[int], w1: Worker, w2: Worker, *, timeout: float = 400.0) -> dict:
    """Wait until the queue is empty, w1 is inside a run and w2 is free, so the lost run is all w2 has left.

    When both fall idle first, one more upload goes out: the worker that has waited longest on the broker takes
    it, and that is w1 whenever w1 finished first, which is the only way this moment is missed."""
    extra, end = 0, time.monotonic() + timeout
    while time.monotonic() < end:
        rows = client.rows(ids)
        queued = [r for r in rows.values() if r["status"] == "queued"]
        running = [r for r in rows.values() if r["status"] == "running"]
        mine = [r for r in running if _ran_by(r, w1)]
        if not queued and len(running) == len(mine) == 1 and mine[0]["progress"].startswith(MID_RUN):
            return mine[0]
        if not queued and not running and extra < MAX_EXTRA:
            ids.add(client.submit("student1"))
            extra += 1
        time.sleep(0.2)
    raise TimeoutError(f"w1 was never caught mid-run with w2 free: {client.rows(ids)}")


def _tear_down(site: Site, worker: Worker) -> None:
    """The machine vanishes: its link goes down first (svc hears nothing more), then it is destroyed."""
    assert _processes_naming(str(site.tmp / worker.machine.role)), "w1's sandbox should be running"
    ip("-n", site.svc.name, "link", "set", "dev", worker.link.a_dev, "down")
    site.lab.destroy(worker.machine)
    worker.proc.wait(10)
    # its sandbox (own namespaces, --die-with-parent) goes with it: no process still names w1's run folder
    _wait("w1's sandbox gone", lambda: not _processes_naming(str(site.tmp / worker.machine.role)), timeout=10)


def _processes_naming(text: str) -> list[int]:
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if text.encode() in cmdline.read_bytes():
                found.append(int(cmdline.parent.name))
        except OSError:  # gone meanwhile
            pass
    return found


def _results(site: Site, ids: set[int]) -> list[tuple[int, int]]:
    """(submission, attempt) of every stored result, read from the database itself."""
    if site.pg_dir is not None:
        import psycopg

        with psycopg.connect(host=str(site.pg_dir), port=PG_PORT, user="postgres", dbname="gradeflow") as conn:
            rows = conn.execute("SELECT submission_id, attempt FROM grading_results").fetchall()
    else:
        import sqlite3

        with sqlite3.connect(site.tmp / "api" / "gradeflow.db") as conn:
            rows = conn.execute("SELECT submission_id, attempt FROM grading_results").fetchall()
    return sorted((s, a) for s, a in rows if s in ids)


def test_a_worker_machine_lost_mid_run_is_regraded_once_by_the_other(site):
    w1, w2 = site.workers["w1"], site.workers["w2"]
    client = Client(site.base_url)
    ids = {client.submit("student1" if i % 2 else "student2") for i in range(SUBMISSIONS)}
    victim = _catch_mid_run(client, ids, w1, w2)

    torn = time.monotonic()
    _tear_down(site, w1)
    teardown_s = time.monotonic() - torn
    assert not w1.machine.path.exists() and w2.proc.poll() is None

    requeued_s = graded_s = None
    end = torn + RECOVERY_BUDGET_S + 60  # look past the budget, to report how late it was
    while time.monotonic() < end:
        rows = client.rows(ids)
        lost = rows[victim["id"]]
        if requeued_s is None and lost["attempt"] > victim["attempt"]:
            requeued_s = time.monotonic() - torn
        if graded_s is None and lost["status"] == "graded":
            graded_s = time.monotonic() - torn
        if all(r["status"] in ("graded", "failed") for r in rows.values()):
            break
        time.sleep(0.2)
    print(f"[many machines] {len(ids)} submissions; w1 caught at '{victim['progress']}' on #{victim['id']}; "
          f"teardown {teardown_s:.2f} s; re-queued after {requeued_s} s; graded by w2 after {graded_s} s")

    rows = client.rows(ids)
    assert all(r["status"] == "graded" and r["score"] == 10 == r["max_score"] for r in rows.values()), rows
    lost = rows[victim["id"]]
    assert lost["attempt"] == victim["attempt"] + 1 and lost["runs"] == 2, lost
    assert _ran_by(lost, w2) and "stopped sending heartbeats" in (lost["error"] or ""), lost
    others = [r for i, r in rows.items() if i != victim["id"]]
    assert all(r["attempt"] == 1 and r["runs"] == 1 for r in others), others
    assert any(_ran_by(r, w1) for r in others) and any(_ran_by(r, w2) for r in others), "both workers graded"
    assert _results(site, ids) == sorted((i, rows[i]["attempt"]) for i in ids), "one stored result each"
    rerun = client.http.get(f"/api/v1/submissions/{victim['id']}", headers=client.headers["ta1"]).json()["run"]
    print(f"[many machines] w2's run of the lost submission took {rerun['wall_seconds']:.1f} s")
    assert graded_s is not None and graded_s <= RECOVERY_BUDGET_S, \
        f"graded {graded_s} s after the teardown (heartbeat timeout {HEARTBEAT_TIMEOUT_S} s, w2's run {rerun} s)"
    assert w2.proc.poll() is None, "w2 kept running"
