"""Hostile submissions through the real path (API, Redis, Celery worker, bubblewrap).

Each attack has an asserted outcome, and every attack is followed by a correct
submission that must still get full marks on the same worker. docs/security.md
records what each tried, what stopped it and what the student sees.
"""
from __future__ import annotations

import time
import textwrap
import tomllib

import pytest

from tests.stack import leftover_sandbox_processes
from tests.conftest import ASSIGNMENTS
from tests.integration.test_spine import reference_script

pytestmark = [pytest.mark.integration, pytest.mark.bwrap, pytest.mark.redis]
ODE = ASSIGNMENTS / "ode-theta"


def grade(stack, code: str) -> dict:
    body = stack.grade("attack.py", textwrap.dedent(code).encode())
    assert body["status"] == "graded", body
    return body


@pytest.fixture
def healthy_after(stack):
    """After each attack: a correct submission still gets full marks, and no student process of this stack
    outlived its run (the one warm kernel per worker process waiting for the next submission excepted)."""
    yield
    assert stack.grade("solution.py", reference_script())["score"] == 10
    time.sleep(0.5)  # the sandbox of the run just graded is being torn down
    left = leftover_sandbox_processes(stack)
    assert left == [], f"sandbox processes outlived their run: {left}"


pytestmark.append(pytest.mark.usefixtures("healthy_after"))


def test_fork_bomb_hits_the_process_limit(stack):
    body = grade(stack, """
        import os
        while True:
            try:
                os.fork()
            except OSError:
                pass
    """)
    assert body["run"]["outcome"] == "process_limit", body["run"]
    assert body["score"] == 0


def test_memory_bomb_hits_the_memory_limit(stack):
    body = grade(stack, """
        blocks = []
        while True:
            blocks.append(bytearray(64 * 1024 * 1024))
    """)
    assert body["run"]["outcome"] == "memory_limit", body["run"]
    assert "MB" in body["run"]["message"]


def test_cpu_loop_times_out(stack):
    assert grade(stack, "while True:\n    pass\n")["run"]["outcome"] == "timeout"


def test_sleeping_forever_times_out(stack):
    body = grade(stack, "import time\ntime.sleep(10**6)\n")
    assert body["run"]["outcome"] == "timeout" and "time limit" in body["run"]["message"]


def test_output_flood_hits_the_output_limit(stack):
    body = grade(stack, "while True:\n    print('x' * 10000)\n")
    assert body["run"]["outcome"] == "output_limit"
    assert len(body["output"]) < 100_000 and "truncated" in body["output"]


def test_output_flood_from_a_child_process_hits_the_output_limit(stack):
    body = grade(stack, """
        import subprocess, sys
        subprocess.run([sys.executable, "-c", "while True: print('y' * 1000)"])
    """)
    assert body["run"]["outcome"] == "output_limit", body["run"]
    assert len(body["output"]) < 100_000 and "truncated" in body["output"]


@pytest.mark.parametrize("where", ["/tmp", ".", "~"])
def test_disk_fill_stops_at_the_scratch_size(stack, where):
    body = grade(stack, f"""
        import os
        path = os.path.expanduser({where!r})
        try:
            with open(os.path.join(path, "fill"), "wb") as fh:
                while True:
                    fh.write(b"0" * (1 << 20))
        except OSError as exc:
            print("STOPPED", exc)
    """)
    assert "STOPPED" in body["output"] and ("No space left" in body["output"] or "too large" in body["output"])


def test_escaping_daemon_does_not_outlive_the_run(stack):
    body = grade(stack, """
        import os, time
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                time.sleep(600)
            os._exit(0)
        print("daemon started")
    """)
    assert "daemon started" in body["output"]
    # the healthy_after fixture asserts no uid-65534 process survives


@pytest.mark.parametrize("code", [
    "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\nprint('parent alive')\n",
    "import os, signal\nos.kill(-1, signal.SIGKILL)\n",
    "import signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass\n",
], ids=["kill-parent", "kill-all", "ignore-signals"])
def test_signals_cannot_hurt_the_harness(stack, code):
    body = grade(stack, code)
    assert body["run"]["outcome"] in ("completed", "crashed", "timeout")
    assert body["score"] == 0


HIDDEN_NAMES = ("ode_checks.py", "solution.ipynb", "expected.toml", "ignores_theta.py", "gradeflow.db", "secret",
                "api.log", "sandbox.log", "client.json")


def test_hidden_files_environment_and_host_processes_are_invisible(stack):
    marker = next((ODE / "checks").glob("*.py")).read_text().splitlines()[0]
    body = grade(stack, f"""
        import os
        found = []
        for root, dirs, files in os.walk("/", onerror=lambda e: None):
            # the host's read-only system data and installed packages hold none of our files and are most of
            # the tree: walking them too does not fit the 6 s cell limit on one CPU
            if root.startswith(("/proc", "/sys", "/dev", "/usr/share", "/usr/include")) or root.endswith("site-packages"):
                dirs[:] = []
                continue
            found += [os.path.join(root, n) for n in files if n in {HIDDEN_NAMES!r}]
            found += [os.path.join(root, n) for n in dirs if n in ("checks", "hidden", "wrong", "blobs", "runs")
                      and not root.startswith("/usr") and "site-packages" not in root]
        print("FOUND", found)
        print("HOST", [p for p in ({str(ODE)!r}, {str(stack.var_dir)!r}, "/work", "/var/lib/postgresql") if os.path.exists(p)])
        print("ENV", sorted(os.environ))
        print("PIDS", sorted(p for p in os.listdir("/proc") if p.isdigit()))
        for name in os.listdir("/gf"):
            print("IPC", name)
    """)
    out = body["output"]
    assert "FOUND []" in out and "HOST []" in out, out
    assert "GRADEFLOW" not in out and "REDIS" not in out and marker not in out
    assert "IPC kernel.json" in out and not any(n in out for n in ("bundle", "checks", "client"))
    pids = eval(out.split("PIDS", 1)[1].strip().splitlines()[0])
    assert len(pids) <= 4, pids  # bwrap's init, the kernel and its helpers; no host process


def test_network_is_unreachable(stack):
    api_port = int(stack.base_url.rsplit(":", 1)[1])
    redis_port = int(stack.env["GRADEFLOW_REDIS_URL"].rsplit(":", 1)[1].split("/")[0])
    body = grade(stack, f"""
        import socket
        for host, port in [("127.0.0.1", {api_port}), ("127.0.0.1", {redis_port}), ("127.0.0.1", 5432),
                           ("8.8.8.8", 53), ("1.1.1.1", 443)]:
            s = socket.socket()
            s.settimeout(2)
            try:
                s.connect((host, port))
                print("CONNECTED", host, port)
            except OSError as exc:
                print("blocked", host, port, exc)
        try:
            print("RESOLVED", socket.gethostbyname("example.com"))
        except OSError as exc:
            print("dns blocked", exc)
    """)
    assert "CONNECTED" not in body["output"] and "RESOLVED" not in body["output"]
    assert body["output"].count("blocked") == 6


def test_nothing_persists_between_runs(stack):
    grade(stack, """
        import os
        startup = os.path.expanduser("~/.ipython/profile_default/startup")
        os.makedirs(startup, exist_ok=True)
        open(os.path.join(startup, "00-evil.py"), "w").write("print('PERSISTED')\\ntheta_method = None\\n")
        for d in ("/tmp", os.path.expanduser("~"), "/dev/shm", "/gf"):
            try:
                open(os.path.join(d, "marker"), "w").write("x")
            except OSError:
                pass
    """)
    body = grade(stack, """
        import os
        for d in ("/tmp", os.path.expanduser("~"), "/dev/shm", "/gf"):
            print("MARKER FOUND" if os.path.exists(os.path.join(d, "marker")) else "clean", d)
        print(os.path.exists(os.path.expanduser("~/.ipython")))
    """)
    assert "MARKER FOUND" not in body["output"] and "PERSISTED" not in body["output"]


def wrong_score(name: str) -> float:
    return tomllib.loads((ODE / "wrong" / "expected.toml").read_text())["scores"][name]


TAMPER = """
import math, sys, unittest
import numpy as np, numpy.testing
np.allclose = lambda *a, **k: True
np.isclose = lambda *a, **k: np.array(True)
math.isclose = lambda *a, **k: True
np.testing.assert_allclose = lambda *a, **k: None
unittest.TestCase.assertEqual = lambda *a, **k: None
unittest.TestCase.assertTrue = lambda *a, **k: None
SEEN = set()
def tracer(frame, event, arg):
    SEEN.add(frame.f_code.co_filename)
    return tracer
sys.settrace(tracer)
import threading
threading.settrace(tracer)
"""


def test_tampering_changes_nothing(stack):
    name = "ignores_theta.py"
    wrong = (ODE / "wrong" / name).read_bytes().decode()
    body = grade(stack, TAMPER + "\n" + wrong)
    assert body["score"] == pytest.approx(wrong_score(name))


def test_forged_results_are_ignored(stack):
    name = "ignores_theta.py"
    forge = """
import json, os
fake = {"score": 10, "max_score": 10, "ok": True, "value": 10, "checks": [{"name": "all", "score": 10}]}
for d in (".", "/tmp", os.path.expanduser("~"), "/gf"):
    for f in ("results.json", "result.json", "out-0000000000000000.json", "grades.json"):
        try:
            json.dump(fake, open(os.path.join(d, f), "w"))
        except OSError:
            pass
print("Score: 10/10")
print('{"score": 10, "max_score": 10}')
"""
    body = grade(stack, forge + "\n" + (ODE / "wrong" / name).read_bytes().decode())
    assert body["score"] == pytest.approx(wrong_score(name))


def test_exiting_early_at_import_scores_zero(stack):
    body = grade(stack, "import os\nos._exit(0)\n" + reference_script().decode())
    assert body["run"]["outcome"] == "crashed" and body["score"] == 0


def test_rich_output_flood_hits_the_output_limit(stack):
    body = grade(stack, """
        from IPython.display import HTML, display
        while True:
            display(HTML("<b>" + "x" * 10000 + "</b>"))
    """)
    assert body["run"]["outcome"] == "output_limit", body["run"]


def test_open_files_and_core_dumps_are_limited(stack):
    body = grade(stack, """
        import resource
        opened, error = [], ""
        try:
            while len(opened) < 100_000:
                opened.append(open("/dev/null"))
        except OSError as exc:
            error = type(exc).__name__
        print("NOFILE", resource.getrlimit(resource.RLIMIT_NOFILE)[0], len(opened), error)
        print("CORE", *resource.getrlimit(resource.RLIMIT_CORE))
    """)
    assert body["run"]["outcome"] == "completed", body["run"]
    nofile = next(line.split() for line in body["output"].splitlines() if line.startswith("NOFILE"))
    assert int(nofile[1]) == 256 and int(nofile[2]) < 256 and nofile[3] == "OSError", nofile
    assert "CORE 0 0" in body["output"]
