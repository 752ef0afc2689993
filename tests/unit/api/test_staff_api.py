"""The staff API end to end over a fake queue: the test plays the worker through the real worker endpoints."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest

from gradeflow_protocol.bundles import pack
from gradeflow_core.models import Submission, User, utcnow
from tests.unit.api.staff_app import make_staff_app
from tests.unit.core.world import write_bundle


@pytest.fixture
def api(tmp_path):
    staff_app = make_staff_app(tmp_path)
    with staff_app.client:
        yield staff_app


def publish(api, folder, user="tina", **data):
    return api.client.post("/api/v1/courses/c1/assignments", headers=api.headers(user), data=data,
                           files={"bundle": ("b.tar.gz", pack(folder))})


def upload(api, user, code=b"answer = 42\n", aid=None):
    aid = aid or api.world.assignment_id
    return api.client.post(f"/api/v1/assignments/{aid}/submissions", headers=api.headers(user),
                           files={"file": ("a.py", code)})


def test_publish_validates_in_the_queue_and_a_first_version_goes_live(api, tmp_path):
    folder = write_bundle(tmp_path / "fresh")
    (folder / "assignment.toml").write_text('id = "fresh"\ntitle = "Fresh"\nkind = "script"\npoints = 2\n')
    r = publish(api, folder)
    assert r.status_code == 202 and r.json()["state"] == "validating"
    assert api.queue.priorities == [3, 3]  # validation waits behind students' uploads (priority 0)
    assert [run["label"] for run in r.json()["runs"]] == ["solution.py", "wrong/zero.py"]
    assert "fresh" not in [a["slug"] for a in api.client.get("/api/v1/assignments", headers=api.headers("alice")).json()]
    assert api.work_queue({"solution.py": 2, "zero.py": 0}) == 2
    version = api.client.get(f"/api/v1/assignments/{r.json()['assignment_id']}/versions/{r.json()['sha256'][:10]}",
                             headers=api.headers("tina")).json()
    assert version["state"] == "ready" and version["current"] and all(run["matches"] for run in version["runs"])
    assert "fresh" in [a["slug"] for a in api.client.get("/api/v1/assignments", headers=api.headers("alice")).json()]
    assert publish(api, folder).status_code == 200  # the same content again: nothing new
    # the publisher's validation runs are not their own submissions
    assert api.client.get("/api/v1/submissions", headers=api.headers("tina")).json() == []


def test_a_broken_version_says_what_to_fix_and_cannot_be_activated(api, tmp_path):
    r = publish(api, write_bundle(tmp_path / "v2", readme="v2", wrong_score=1.5))
    api.work_queue({"solution.py": 2, "zero.py": 0})
    aid, sha = r.json()["assignment_id"], r.json()["sha256"]
    version = api.client.get(f"/api/v1/assignments/{aid}/versions/{sha}", headers=api.headers("tina")).json()
    assert version["state"] == "broken"
    assert version["problems"] == ["wrong/zero.py scored 0 but must score 1.5 (answer is 42: answer should be 42)"]
    activated = api.client.post(f"/api/v1/assignments/{aid}/versions/{sha}/activate", headers=api.headers("tina"))
    assert activated.status_code == 409 and "only a ready version" in activated.json()["detail"]


@pytest.mark.parametrize(("data", "code", "text"), [(b"junk", 422, "not a tar.gz"),
                                                    (b"x" * (50 * 2**20 + 2), 413, "over 50 MB")])
def test_unusable_uploads_are_refused_and_nothing_is_stored(api, data, code, text):
    r = api.client.post("/api/v1/courses/c1/assignments", headers=api.headers("tina"),
                        files={"bundle": ("b.tar.gz", data)})
    assert r.status_code == code and text in r.json()["detail"]
    assert api.queue.sent == []


def test_a_bundle_with_problems_lists_them_all(api, tmp_path):
    folder = write_bundle(tmp_path / "bad")
    (folder / "solution.py").unlink()
    (folder / "checks" / "checks.py").write_text("def (:\n")
    r = publish(api, folder)
    assert r.status_code == 422
    assert "checks/checks.py line 1" in r.json()["detail"] and "no reference solution" in r.json()["detail"]
    with api.session() as session:
        assert session.query(Submission).count() == 0


def test_regrade_diff_then_activate_updates_students(api, tmp_path):
    for user in ("alice", "bob"):
        assert upload(api, user).status_code == 202
    api.work_queue(default=2)
    r = publish(api, write_bundle(tmp_path / "v2", readme="stricter"))
    api.work_queue({"solution.py": 2, "zero.py": 0})
    aid, sha = r.json()["assignment_id"], r.json()["sha256"]
    api.queue.priorities.clear()
    started = api.client.post(f"/api/v1/assignments/{aid}/versions/{sha}/regrade", headers=api.headers("tina"))
    assert started.status_code == 202 and started.json()["pending"] == 2
    assert api.queue.priorities == [6, 6]  # a regrade is background work, after validation
    api.work_one(1.0)  # alice's twin (students in section, then username order)
    api.work_one(2.0)  # bob's
    diff = api.client.get(f"/api/v1/regrades/{started.json()['id']}", headers=api.headers("tina")).json()
    assert diff["pending"] == 0 and diff["total"] == 2
    alice = next(s for s in diff["students"] if s["username"] == "alice")
    assert (alice["before"], alice["after"], alice["delta"], alice["state"]) == (2, 1, -1, "done")
    assert (diff["down"], diff["up"]) == (1, 0)
    # students see nothing until the version is made official
    mine = api.client.get("/api/v1/submissions", headers=api.headers("alice")).json()
    assert [s["score"] for s in mine] == [2]
    done = api.client.post(f"/api/v1/assignments/{aid}/versions/{sha[:8]}/activate", headers=api.headers("tina"),
                           json={"regrade_run_id": started.json()["id"]})
    assert done.status_code == 200 and done.json()["adopted"] == 2
    mine = api.client.get("/api/v1/submissions", headers=api.headers("alice")).json()
    assert [s["score"] for s in mine] == [1] and mine[0]["checks"][0]["message"] == "answer should be 42"
    log = api.client.get(f"/api/v1/assignments/{aid}/activations", headers=api.headers("prof")).json()
    newest = log[0]
    assert (newest["version"], newest["by"], newest["regrade_run_id"]) == (sha, "tina", started.json()["id"])
    assert newest["previous_version"] == log[1]["version"] != sha
    assert newest["text"] == f"activated by hand, adopting regrade {started.json()['id']}'s results"


def test_daily_limit_is_a_429_that_says_when_and_stores_nothing(api):
    aid = api.world.assignment_id
    api.client.put(f"/api/v1/assignments/{aid}/policy", headers=api.headers("prof"), json={"max_per_day": 2})
    assert [upload(api, "alice").status_code for _ in range(2)] == [202, 202]
    refused = upload(api, "alice")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 23 * 3600
    assert "all 2 submissions allowed in 24 hours" in refused.json()["detail"]
    assert "next submission is allowed at" in refused.json()["detail"]
    with api.session() as session:
        assert session.query(Submission).count() == 2
    assert upload(api, "tina").status_code == 202  # staff are never limited
    me = api.client.get(f"/api/v1/assignments/{aid}/policy", headers=api.headers("alice")).json()["me"]
    assert me["uploads_left"] == 0 and me["next_upload_at"] and me["refusal"]


def test_cutoff_and_opening_are_403_with_the_reason(api):
    aid = api.world.assignment_id
    past = (utcnow() - timedelta(hours=1)).isoformat()
    api.client.put(f"/api/v1/assignments/{aid}/policy", headers=api.headers("prof"),
                   json={"due_at": past, "late_mode": "cutoff"})
    refused = upload(api, "alice")
    assert refused.status_code == 403 and "takes no late submissions" in refused.json()["detail"]
    granted = api.client.put(f"/api/v1/assignments/{aid}/extensions/alice", headers=api.headers("prof"),
                             json={"due_at": (utcnow() + timedelta(days=1)).isoformat(), "reason": "flu"})
    assert granted.status_code == 200 and granted.json()["granted_by"] == "prof"
    assert upload(api, "alice").status_code == 202 and upload(api, "bob").status_code == 403


def test_extensions_must_extend_a_due_date(api):
    aid, prof = api.world.assignment_id, api.headers("prof")
    body = {"due_at": "2026-12-05T00:00:00Z", "reason": "ill"}
    r = api.client.put(f"/api/v1/assignments/{aid}/extensions/bob", headers=prof, json=body)
    assert r.status_code == 422 and "no due date" in r.json()["detail"]
    api.client.put(f"/api/v1/assignments/{aid}/policy", headers=prof, json={"due_at": "2026-12-06T00:00:00Z"})
    r = api.client.put(f"/api/v1/assignments/{aid}/extensions/bob", headers=prof, json=body)
    assert r.status_code == 422 and "must end after the due date (2026-12-06 00:00:00 UTC)" in r.json()["detail"]
    r = api.client.put(f"/api/v1/assignments/{aid}/extensions/olga", headers=prof, json=body)
    assert r.status_code == 404
    assert api.client.delete(f"/api/v1/assignments/{aid}/extensions/bob", headers=prof).status_code == 404


def test_policy_validation_errors_are_422(api):
    aid = api.world.assignment_id
    for body in ({"due_at": "2026-12-01T23:59"}, {"penalty_percent_per_day": 300}, {"counted": "first"}):
        r = api.client.put(f"/api/v1/assignments/{aid}/policy", headers=api.headers("prof"), json=body)
        assert r.status_code == 422, body


def test_overrides_through_the_api_reach_the_gradebook_and_the_log(api):
    upload(api, "bob")
    api.work_queue(default=1)
    aid = api.world.assignment_id
    r = api.client.post(f"/api/v1/assignments/{aid}/overrides", headers=api.headers("tina"),
                        json={"username": "bob", "score": 2, "reason": "check bug"})
    assert r.status_code == 201 and (r.json()["previous_score"], r.json()["by"]) == (1, "tina")
    bad = api.client.post(f"/api/v1/assignments/{aid}/overrides", headers=api.headers("tina"),
                          json={"username": "olga", "score": 2, "reason": "not hers"})
    assert bad.status_code == 404
    book = api.client.get("/api/v1/courses/c1/gradebook", headers=api.headers("tina")).json()
    bob = next(r for r in book["rows"] if r["username"] == "bob")
    assert bob["cells"]["toy"]["final"] == 2 and bob["cells"]["toy"]["raw"] == 1
    log = api.client.get(f"/api/v1/assignments/{aid}/overrides", headers=api.headers("prof")).json()
    assert [(e["username"], e["score"], e["reason"]) for e in log] == [("bob", 2, "check bug")]


def test_gradebook_csv_download(api):
    r = api.client.get("/api/v1/courses/c1/gradebook?format=canvas", headers=api.headers("prof"))
    assert r.headers["content-type"].startswith("text/csv")
    assert 'filename="c1-gradebook-canvas.csv"' in r.headers["content-disposition"]
    table = list(csv.reader(io.StringIO(r.text)))
    assert table[0][:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
    assert [row[3] for row in table[2:]] == ["alice", "bob", "carol"]
    assert api.client.get("/api/v1/courses/c1/gradebook?format=xls", headers=api.headers("prof")).status_code == 422


def test_roster_import_report_and_invitation(api):
    csv_text = b"username,name,email,section,role\nnew1,New One,new1@uni.example,A,student\nalice,,,,student\n"
    r = api.client.post("/api/v1/courses/c1/roster", headers=api.headers("prof"), files={"file": ("r.csv", csv_text)})
    assert r.status_code == 200 and r.json()["counts"]["created"] == 1 and r.json()["applied"]
    token = next(line["invite_token"] for line in r.json()["lines"] if line["username"] == "new1")
    again = api.client.post("/api/v1/courses/c1/roster", headers=api.headers("prof"),
                            files={"file": ("r.csv", csv_text)})
    assert again.json()["counts"]["unchanged"] == 2
    set_pw = api.client.post("/api/v1/auth/set-password", json={"token": token, "password": "a fine password"})
    assert set_pw.status_code == 200 and set_pw.json()["courses"][0]["slug"] == "c1"
    login = api.client.post("/api/v1/auth/token", data={"username": "new1", "password": "a fine password"})
    assert login.status_code == 200
    reused = api.client.post("/api/v1/auth/set-password", json={"token": token, "password": "another password"})
    assert reused.status_code == 400 and "already used" in reused.json()["detail"]


def test_a_roster_with_bad_rows_is_422_with_the_report_and_writes_nothing(api):
    r = api.client.post("/api/v1/courses/c1/roster", headers=api.headers("prof"),
                        files={"file": ("r.csv", b"username,role\nok1,student\nbad,wizard\n")})
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert "nothing was imported" in detail["message"]
    assert [line["action"] for line in detail["report"]["lines"]] == ["created", "error"]
    with api.session() as session:
        assert session.query(User).filter_by(username="ok1").count() == 0
    assert api.client.post("/api/v1/courses/c1/roster", headers=api.headers("prof"),
                           files={"file": ("r.csv", b"\xff\xfe")}).status_code == 422


def test_courses_admin_and_me(api):
    r = api.client.post("/api/v1/courses", headers=api.headers("admin"), json={"slug": "mathdl", "title": "M"})
    assert r.status_code == 201
    assert api.client.post("/api/v1/courses", headers=api.headers("admin"),
                           json={"slug": "mathdl", "title": "M"}).status_code == 409
    assert api.client.post("/api/v1/courses", headers=api.headers("admin"),
                           json={"slug": "Bad Slug"}).status_code == 422
    me = api.client.get("/api/v1/me", headers=api.headers("tina")).json()
    assert me["courses"] == [{"id": api.world.course.id, "slug": "c1", "title": "Course One", "role": "ta"}]
    assert api.client.get(f"/api/v1/courses/{api.world.course.id}", headers=api.headers("alice")).json()["role"] == \
        "student"


def test_queue_and_retry(api):
    upload(api, "alice")
    assert api.queue.priorities == [0]  # students first
    snap = api.client.get("/api/v1/queue", headers=api.headers("tina")).json()
    assert snap["waiting"] == {"cpu": 1} and snap["queued"][0]["user"] == "alice"
    assert snap["broker"]["cpu"] is None  # the unit tests' broker address is unreachable
    task, _ = api.queue.sent.pop()
    worker = {"Authorization": f"Bearer {task.token}"}
    for _ in range(3):  # max_runs = 3: the third release fails it
        api.client.post("/api/v1/worker/claim", json={"worker": "w"}, headers=worker)
        api.client.post("/api/v1/worker/release", json={"error": "boom"}, headers=worker)
        if api.queue.sent:
            task, _ = api.queue.sent.pop()
            worker = {"Authorization": f"Bearer {task.token}"}
    failed = api.client.get("/api/v1/queue", headers=api.headers("tina")).json()["failed"]
    assert [f["user"] for f in failed] == ["alice"]
    retried = api.client.post(f"/api/v1/submissions/{failed[0]['id']}/retry", headers=api.headers("tina"))
    assert retried.status_code == 202 and retried.json()["status"] == "queued" and api.queue.sent
    again = api.client.post(f"/api/v1/submissions/{failed[0]['id']}/retry", headers=api.headers("tina"))
    assert again.status_code == 409


def test_staff_submission_listing_filters(api):
    upload(api, "alice")
    upload(api, "bob")
    rows = api.client.get(f"/api/v1/assignments/{api.world.assignment_id}/submissions?username=bob",
                          headers=api.headers("tina")).json()
    assert [r["user"] for r in rows] == ["bob"]
    rows = api.client.get(f"/api/v1/assignments/{api.world.assignment_id}/submissions?status=graded",
                          headers=api.headers("tina")).json()
    assert rows == []
