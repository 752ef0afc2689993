"""The HTTP contract, with a fake queue (the real one is exercised in tests/integration)."""
import nbformat
import pytest
from fastapi.testclient import TestClient

from gradeflow_api.main import create_app
from gradeflow_api.queue import ListEnqueuer
from gradeflow_core.migrate import upgrade
from gradeflow_core.models import Submission
from gradeflow_protocol.messages import CheckResult, ResultPost, RunReport
from gradeflow_api.settings import ApiSettings
from tests.db_helpers import make_course

SECRET = "unit-test-secret-0123456789abcdef"


@pytest.fixture
def api(tmp_path):
    settings = ApiSettings(var_dir=tmp_path / "var", secret_key=SECRET, max_upload_bytes=20_000)
    settings.var_dir.mkdir()
    upgrade(settings.effective_database_url)
    queue = ListEnqueuer()
    app = create_app(settings, enqueuer=queue, sweeper=False)
    with app.state.session_factory() as session:
        make_course(session, app.state.blobs, tmp_path / "toy")
        session.commit()
    with TestClient(app) as client:
        yield client, queue, app


def login(client, name):
    r = client.post("/api/v1/auth/token", data={"username": name, "password": "pw-" + name})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def test_wrong_password_is_401(api):
    client, _, _ = api
    r = client.post("/api/v1/auth/token", data={"username": "alice", "password": "nope"})
    assert r.status_code == 401 and "Wrong" in r.json()["detail"]
    assert client.get("/api/v1/assignments").status_code == 401


def test_submit_stores_then_queues_and_student_sees_only_their_own(api):
    client, queue, _ = api
    alice, bob, tina = login(client, "alice"), login(client, "bob"), login(client, "tina")
    [assignment] = client.get("/api/v1/assignments", headers=alice).json()
    r = client.post(f"/api/v1/assignments/{assignment['id']}/submissions", headers=alice,
                    files={"file": ("a.py", b"answer = 42\n")})
    assert r.status_code == 202 and r.json()["status"] == "queued"
    sid = r.json()["id"]
    [(task, queue_name)] = queue.sent
    assert task.submission_id == sid and task.attempt == 1 and queue_name == "cpu"
    assert client.get(f"/api/v1/submissions/{sid}", headers=alice).status_code == 200
    assert client.get(f"/api/v1/submissions/{sid}", headers=bob).status_code == 404
    assert client.get(f"/api/v1/submissions/{sid + 100}", headers=alice).status_code == 404
    staff_view = client.get(f"/api/v1/submissions/{sid}", headers=tina).json()
    assert staff_view["user"] == "alice" and "log" in staff_view
    assert [s["id"] for s in client.get("/api/v1/submissions", headers=alice).json()] == [sid]
    assert client.get("/api/v1/submissions", headers=bob).json() == []


@pytest.mark.parametrize(("name", "data", "code"), [
    ("a.ipynb", b"{broken", 422), ("a.py", b"\xff\xfe", 422), ("a.exe", b"x", 422), ("a.py", b"x" * 30_000, 413),
], ids=["bad-notebook", "not-utf8", "extension", "too-large"])
def test_bad_uploads_are_4xx_and_nothing_is_stored(api, name, data, code):
    client, queue, app = api
    alice = login(client, "alice")
    blobs_before = sorted(app.state.settings.blob_dir.rglob("*"))
    r = client.post("/api/v1/assignments/1/submissions", headers=alice, files={"file": (name, data)})
    assert r.status_code == code and r.json()["detail"]
    with app.state.session_factory() as session:
        assert session.query(Submission).count() == 0
    assert queue.sent == []
    assert sorted(app.state.settings.blob_dir.rglob("*")) == blobs_before


def test_valid_notebook_upload(api):
    client, _, _ = api
    nb = nbformat.writes(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("answer = 42")])).encode()
    r = client.post("/api/v1/assignments/1/submissions", headers=login(client, "alice"), files={"file": ("a.ipynb", nb)})
    assert r.status_code == 202 and r.json()["kind"] == "notebook"


def test_worker_endpoints_need_the_attempt_token_and_results_are_idempotent(api):
    client, queue, _ = api
    alice = login(client, "alice")
    sid = client.post("/api/v1/assignments/1/submissions", headers=alice, files={"file": ("a.py", b"answer=42")}).json()["id"]
    task, _ = queue.sent[0]
    worker = {"Authorization": f"Bearer {task.token}"}
    assert client.post("/api/v1/worker/claim", json={"worker": "w"}, headers=alice).status_code == 401
    job = client.post("/api/v1/worker/claim", json={"worker": "w"}, headers=worker).json()
    assert job["submission_id"] == sid and job["limits"]["memory_mb"] > 0
    assert client.get("/api/v1/worker/submission-file", headers=worker).content == b"answer=42"
    post = ResultPost(submission_id=sid, attempt=1, checks=[CheckResult(name="x", score=2, max_score=2, passed=True)],
                      run=RunReport(outcome="completed", wall_seconds=0.5), output="hi")
    body = post.model_dump(mode="json")
    assert client.post("/api/v1/worker/result", json=body, headers=worker).json() == {"stored": True}
    assert client.post("/api/v1/worker/result", json=body | {"output": "again"}, headers=worker).json() == {"stored": False}
    view = client.get(f"/api/v1/submissions/{sid}", headers=alice).json()
    assert view["status"] == "graded" and view["score"] == 2 and view["output"] == "hi"
    assert "log" not in view
    assert client.post("/api/v1/worker/claim", json={"worker": "w"}, headers=worker).status_code == 409


def test_release_requeues_as_a_new_attempt(api):
    client, queue, _ = api
    alice = login(client, "alice")
    client.post("/api/v1/assignments/1/submissions", headers=alice, files={"file": ("a.py", b"answer=42")})
    task, _ = queue.sent[0]
    worker = {"Authorization": f"Bearer {task.token}"}
    client.post("/api/v1/worker/claim", json={"worker": "w"}, headers=worker)
    assert client.post("/api/v1/worker/release", json={"error": "disk full"}, headers=worker).json() == {"requeued": True}
    assert queue.sent[1][0].attempt == 2
    assert client.post("/api/v1/worker/claim", json={"worker": "w"}, headers=worker).status_code == 409


def test_openapi_documents_the_contract(api):
    client, _, _ = api
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/api/v1/auth/token", "/api/v1/assignments", "/api/v1/assignments/{assignment_id}/submissions",
                 "/api/v1/submissions/{submission_id}", "/api/v1/submissions"):
        assert path in paths
