"""The staff's work through the real stack (API process, Redis, Celery worker, bubblewrap): publishing validated
in the sandbox, a regrade diff on real re-runs, activation, policy at upload, and the gradebook export."""
from __future__ import annotations

import csv
import io
import os
import shutil
import signal
import time
from pathlib import Path

import httpx
import pytest

from gradeflow_protocol.bundles import pack
from tests.conftest import ASSIGNMENTS, require
from tests.stack import start_stack
from tests.unit.core.world import write_bundle

pytestmark = [pytest.mark.integration, pytest.mark.bwrap, pytest.mark.redis]
ODE = ASSIGNMENTS / "ode-theta"
# v2 moves half a point from 'shape' and 'stiff' to 'exact slopes' and 'best_theta' (total still 10):
# off_by_one.py 4 -> 3.5 (down), ignores_theta.py 4.5 -> 5 (up).
V2_POINTS = [('@check(points=1.5, name="shape and first value")', '@check(points=1, name="shape and first value")'),
             ("@check(points=1, name=\"exact for y' = 0", "@check(points=1.5, name=\"exact for y' = 0"),
             ('@check(points=1.5, name="implicit Euler is stable', '@check(points=1, name="implicit Euler is stable'),
             ('@check(points=1, name="best_theta")', '@check(points=1.5, name="best_theta")')]
V2_EXPECTED = '[scores]\n"ignores_theta.py" = 5\n"off_by_one.py" = 3.5\n"explicit_everywhere.py" = 5\n'


@pytest.fixture(scope="module")
def stack(tmp_path_factory, redis_url):
    require(shutil.which("bwrap") is not None, "bubblewrap is not installed")
    db = redis_url.rsplit("/", 1)[0] + "/6"  # this module's own Redis database
    stack = start_stack(tmp_path_factory.mktemp("staff"), redis_url=db)
    yield stack
    stack.stop()


def api(stack, method: str, path: str, user: str = "ta1", **kwargs) -> httpx.Response:
    return httpx.request(method, f"{stack.base_url}/api/v1{path}", headers=stack.headers(user), timeout=60, **kwargs)


def copy_ode(tmp_path: Path, name: str = "ode") -> Path:
    return Path(shutil.copytree(ODE, tmp_path / name))


def publish(stack, folder: Path) -> dict:
    r = api(stack, "POST", "/courses/mathdl/assignments", files={"bundle": ("b.tar.gz", pack(folder))})
    assert r.status_code == 202, r.text
    return r.json()


def wait_version(stack, version: dict, timeout: float = 120) -> dict:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        body = api(stack, "GET", f"/assignments/{version['assignment_id']}/versions/{version['sha256']}").json()
        if body["state"] != "validating":
            return body
        time.sleep(0.3)
    raise TimeoutError(body)


def test_a_wrong_recorded_score_breaks_the_version_with_the_mismatch(stack, tmp_path):
    folder = copy_ode(tmp_path)
    (folder / "wrong" / "expected.toml").write_text(
        '[scores]\n"ignores_theta.py" = 4.5\n"off_by_one.py" = 3\n"explicit_everywhere.py" = 4.5\n')
    version = wait_version(stack, publish(stack, folder))
    assert version["state"] == "broken" and not version["current"]
    assert len(version["problems"]) == 1 and version["problems"][0].startswith("wrong/off_by_one.py scored 4 but "
                                                                               "must score 3")
    assert [r["matches"] for r in version["runs"]] == [True, True, True, False]


def test_checks_that_do_not_import_are_reported_not_run_in_the_api(stack, tmp_path):
    folder = copy_ode(tmp_path)
    checks = folder / "checks" / "ode_checks.py"
    text = checks.read_text()
    assert "from __future__ import annotations\n" in text
    checks.write_text(text.replace("from __future__ import annotations\n",
                                   "from __future__ import annotations\nimport gradeflow_no_such_module\n", 1))
    version = wait_version(stack, publish(stack, folder))
    assert version["state"] == "broken"
    assert "solution.ipynb could not be graded" in version["problems"][0]
    assert "failed to import" in version["problems"][0] and "gradeflow_no_such_module" in version["problems"][0]


def test_regrade_diff_on_a_real_rerun_then_activate(stack, tmp_path):
    low = stack.grade("off_by_one.py", (ODE / "wrong" / "off_by_one.py").read_bytes(), username="student1")
    mid = stack.grade("ignores_theta.py", (ODE / "wrong" / "ignores_theta.py").read_bytes(), username="student2")
    assert (low["score"], mid["score"]) == (4, 4.5)
    folder = copy_ode(tmp_path)
    checks = folder / "checks" / "ode_checks.py"
    text = checks.read_text()
    for old, new in V2_POINTS:
        assert old in text
        text = text.replace(old, new)
    checks.write_text(text)
    (folder / "wrong" / "expected.toml").write_text(V2_EXPECTED)
    version = wait_version(stack, publish(stack, folder))
    assert version["state"] == "ready" and not version["current"], version["problems"]
    aid, sha = version["assignment_id"], version["sha256"]
    run = api(stack, "POST", f"/assignments/{aid}/versions/{sha}/regrade").json()
    end = time.monotonic() + 90
    while run["pending"] and time.monotonic() < end:
        time.sleep(0.3)
        run = api(stack, "GET", f"/regrades/{run['id']}").json()
    changes = {s["username"]: (s["before"], s["after"], s["delta"], s["state"]) for s in run["students"]}
    assert changes == {"student1": (4, 3.5, -0.5, "done"), "student2": (4.5, 5, 0.5, "done")}
    assert (run["up"], run["down"]) == (1, 1)
    assert stack.get(low["id"], username="student1").json()["score"] == 4  # nothing changes before activation
    done = api(stack, "POST", f"/assignments/{aid}/versions/{sha[:10]}/activate", json={"regrade_run_id": run["id"]})
    assert done.status_code == 200 and (done.json()["adopted"], done.json()["kept"]) == (2, 0), done.text
    after = stack.get(low["id"], username="student1").json()
    assert after["score"] == 3.5 and after["checks"][0]["max_score"] == 1
    canvas = list(csv.reader(io.StringIO(api(stack, "GET", "/courses/mathdl/gradebook?format=canvas").text)))
    assert canvas == [["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "The theta method for ODEs",
                       "Final Points"],
                      ["    Points Possible", "", "", "", "", "10", "(read only)"],
                      ["student1", "", "", "student1", "", "3.5", "3.5"],
                      ["student2", "", "", "student2", "", "5", "5"],
                      ["student3", "", "", "student3", "", "", "0"],  # the demo's other students, with no work
                      ["student4", "", "", "student4", "", "", "0"]]


def test_policy_is_enforced_at_upload_by_the_real_api(stack, tmp_path):
    version = wait_version(stack, publish(stack, write_bundle(tmp_path / "toy")))
    assert version["state"] == "ready" and version["current"]  # a first version goes live once validated
    aid = version["assignment_id"]
    assert api(stack, "PUT", f"/assignments/{aid}/policy", user="prof", json={"max_per_day": 1}).status_code == 200
    assert api(stack, "PUT", f"/assignments/{aid}/policy", user="ta1", json={}).status_code == 403
    first = stack.submit("a.py", b"answer = 42\n", username="student2", slug="toy")
    assert first.status_code == 202
    second = stack.submit("a.py", b"answer = 42\n", username="student2", slug="toy")
    assert second.status_code == 429 and "next submission is allowed at" in second.json()["detail"]
    assert stack.wait(first.json()["id"], username="student2")["score"] == 2
    book = api(stack, "GET", "/courses/mathdl/gradebook?format=csv").text
    header, *rows = list(csv.reader(io.StringIO(book)))
    student2 = dict(zip(header, next(r for r in rows if r[0] == "student2")))
    assert (student2["toy"], student2["toy raw"], student2["toy late days"]) == ("2", "2", "0")
    assert api(stack, "GET", "/courses/mathdl/gradebook", user="student1").status_code == 403


def test_a_static_problem_is_refused_at_once(stack, tmp_path):
    folder = copy_ode(tmp_path)
    (folder / "solution.ipynb").unlink()
    r = api(stack, "POST", "/courses/mathdl/assignments", files={"bundle": ("b.tar.gz", pack(folder))})
    assert r.status_code == 422 and "no reference solution: add solution.ipynb or solution.py" in r.json()["detail"]


def stop_workers(stack) -> None:
    """Stop the stack's running workers (SIGTERM: a warm shutdown, nothing is running between tests)."""
    for proc in stack.workers:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(60)


def test_a_student_upload_goes_before_queued_validation_runs(stack, tmp_path):
    """Priorities in Redis: the 4 validation runs of a publish are queued first, yet a student's upload sent
    just after is graded next (FIFO would grade it fifth)."""
    import sqlite3

    from tests.integration.test_spine import reference_script

    folder = copy_ode(tmp_path, "priority")
    (folder / "README.md").write_text((folder / "README.md").read_text() + "\nA new version.\n")
    stop_workers(stack)  # all five wait in Redis together: what is served first is the priorities' doing, not a race
    version = publish(stack, folder)
    upload = stack.submit("solution.py", reference_script(), username="student2")
    assert upload.status_code == 202, upload.text
    stack.start_worker("priority")
    assert stack.wait(upload.json()["id"], username="student2")["score"] == 10
    assert wait_version(stack, version)["state"] == "ready"
    with sqlite3.connect(stack.var_dir / "gradeflow.db") as db:
        order = [row[0] for row in db.execute(
            "SELECT purpose FROM submissions WHERE id >= (SELECT min(id) FROM submissions WHERE purpose = "
            "'validation' AND version_id = (SELECT id FROM assignment_versions WHERE sha256 = ?)) "
            "ORDER BY started_at", (version["sha256"],))]
    assert order.count("validation") == 4 and order.count("student") == 1, order
    assert order.index("student") == 0, order


def test_one_students_burst_delays_anothers_first_upload_by_at_most_one_slot(stack):
    """Fair share through the real Redis and worker: student1 queues six, then student2 uploads once;
    student2's is started after at most one of student1's (FIFO would start it seventh)."""
    import sqlite3

    from tests.integration.test_spine import reference_script

    # each of the burst's runs lasts 3 s, so the worker is still on the first when student2's upload arrives
    # (a warm kernel grades the plain reference in ~0.4 s: under load, faster than the burst's six uploads)
    slow = b"import time\ntime.sleep(3)\n\n" + reference_script()
    burst = [stack.submit("solution.py", slow, username="student1") for _ in range(6)]
    assert all(r.status_code == 202 for r in burst), [r.text for r in burst]
    late = stack.submit("solution.py", reference_script(), username="student2")
    assert late.status_code == 202, late.text
    for r in burst:
        stack.wait(r.json()["id"])
    assert stack.wait(late.json()["id"], username="student2")["score"] == 10
    ids = [r.json()["id"] for r in burst] + [late.json()["id"]]
    with sqlite3.connect(stack.var_dir / "gradeflow.db") as db:
        order = [row[0] for row in db.execute(
            f"SELECT id FROM submissions WHERE id IN ({','.join('?' * len(ids))}) ORDER BY started_at", ids)]
    assert order.index(late.json()["id"]) <= 1, order
