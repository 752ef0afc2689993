"""With the broker down, nothing answers 500 and nothing is lost: rows stay queued for the sweeper."""
from gradeflow_core.models import Submission
from gradeflow_protocol.enums import SubmissionStatus
from tests.unit.api.test_api import api, login  # noqa: F401  (fixture)


class SwitchableBroker:
    """The fake queue of the fixture, which can be made unreachable."""

    def __init__(self, inner) -> None:
        self.inner, self.down = inner, False

    def enqueue(self, task, *, queue, priority=0):
        if self.down:
            raise ConnectionError("Error 111 connecting to redis: Connection refused")
        self.inner.enqueue(task, queue=queue, priority=priority)


def _upload(client, headers):
    [assignment] = client.get("/api/v1/assignments", headers=headers).json()
    return client.post(f"/api/v1/assignments/{assignment['id']}/submissions", headers=headers,
                       files={"file": ("a.py", b"answer = 42\n")})


def test_an_upload_with_the_broker_down_is_accepted_and_stays_queued(api):
    client, queue, app = api
    app.state.enqueuer = broker = SwitchableBroker(queue)
    broker.down = True
    r = _upload(client, login(client, "alice"))
    assert r.status_code == 202 and r.json()["status"] == "queued"
    with app.state.session_factory() as session:
        assert session.get(Submission, r.json()["id"]).status == SubmissionStatus.QUEUED


def test_a_release_with_the_broker_down_requeues_in_the_database_and_answers(api):
    """Before the one commit-then-send, this route committed and then raised: a 500 for the worker."""
    client, queue, app = api
    app.state.enqueuer = broker = SwitchableBroker(queue)
    sid = _upload(client, login(client, "alice")).json()["id"]
    [(task, _)] = queue.sent
    worker = {"Authorization": f"Bearer {task.token}"}
    assert client.post("/api/v1/worker/claim", headers=worker, json={"worker": "w1"}).status_code == 200
    broker.down = True
    r = client.post("/api/v1/worker/release", headers=worker, json={"error": "sandbox could not start"})
    assert r.status_code == 200 and r.json()["requeued"] is True
    with app.state.session_factory() as session:
        row = session.get(Submission, sid)
        assert row.status == SubmissionStatus.QUEUED and row.attempt == 2  # the sweeper will send attempt 2


def test_a_too_large_upload_names_its_real_size_in_the_pages_units(api):
    client, _, _ = api
    [assignment] = client.get("/api/v1/assignments", headers=login(client, "alice")).json()
    r = client.post(f"/api/v1/assignments/{assignment['id']}/submissions", headers=login(client, "alice"),
                    files={"file": ("a.py", b"x = 1\n" * 10_000)})
    assert r.status_code == 413
    assert r.json()["detail"].startswith("The file is 59 KB; the limit is 20 KB.")
