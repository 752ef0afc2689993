"""Student environments at the API: an unknown name is refused at publish with the valid ones; a named one
reaches the worker in its JobSpec; the run's environment and digest are stored and shown to staff."""
from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from gradeflow_api.main import create_app
from gradeflow_api.queue import ListEnqueuer
from gradeflow_api.settings import ApiSettings
from gradeflow_core import grading
from gradeflow_core.migrate import upgrade
from gradeflow_core.models import GradingResult, Submission
from gradeflow_protocol.enums import RunOutcome
from gradeflow_protocol.messages import CheckResult, ResultPost, RunReport
from tests.db_helpers import add_submission, make_course
from tests.unit.api.staff_app import make_staff_app
from tests.unit.api.test_staff_api import publish
from tests.unit.core.world import TIMING, write_bundle

DIGEST = "ab" * 32
TOML = 'id = "envy"\ntitle = "Envy"\nkind = "script"\npoints = 2\nenvironment = "{name}"\n'


@pytest.fixture
def api(tmp_path):
    staff_app = make_staff_app(tmp_path)
    with staff_app.client:
        yield staff_app


def result_in(submission: Submission, environment: str) -> ResultPost:
    check = CheckResult(name="answer is 42", score=2, max_score=2, passed=True)
    run = RunReport(outcome=RunOutcome.COMPLETED, wall_seconds=0.1, enforced={"memory": "cgroup v2"},
                    environment=environment, environment_digest=DIGEST)
    return ResultPost(submission_id=submission.id, attempt=submission.attempt, checks=[check], run=run)


def test_publish_refuses_an_unknown_environment_and_lists_the_valid_ones(api, tmp_path):
    folder = write_bundle(tmp_path / "envy")
    (folder / "assignment.toml").write_text(TOML.format(name="tensorflow"))
    r = publish(api, folder)
    assert r.status_code == 422
    assert "unknown environment 'tensorflow'; use one of: default, numpy, scientific, pytorch" in r.json()["detail"]
    assert api.queue.sent == []


def test_a_named_environment_reaches_the_worker_and_its_digest_is_stored(api, tmp_path):
    folder = write_bundle(tmp_path / "envy")
    (folder / "assignment.toml").write_text(TOML.format(name="numpy"))
    assert publish(api, folder).status_code == 202
    task, _ = api.queue.sent.pop(0)
    worker = {"Authorization": f"Bearer {task.token}"}
    claimed = api.client.post("/api/v1/worker/claim", json={"worker": "fake@test"}, headers=worker).json()
    assert claimed["environment"] == "numpy"
    with api.session() as session:
        post = result_in(session.get(Submission, claimed["submission_id"]), "numpy")
    assert api.client.post("/api/v1/worker/result", json=post.model_dump(mode="json"), headers=worker).json() == \
        {"stored": True}
    with api.session() as session:
        run = session.query(GradingResult).filter_by(submission_id=claimed["submission_id"]).one().run
    assert (run["environment"], run["environment_digest"]) == ("numpy", DIGEST)


def test_an_old_result_without_an_environment_still_validates():
    old = {"submission_id": 1, "attempt": 1, "checks": [], "run": {"outcome": "completed", "wall_seconds": 1.0}}
    assert ResultPost(**old).run.environment is None


def test_staff_see_the_environment_and_its_digest_beside_the_limits(tmp_path):
    settings = ApiSettings(var_dir=tmp_path / "var", secret_key="unit-test-secret-0123456789abcdef")
    settings.var_dir.mkdir()
    upgrade(settings.effective_database_url)
    app = create_app(settings, enqueuer=ListEnqueuer(), sweeper=False)
    with app.state.session_factory() as session:
        world = make_course(session, app.state.blobs, tmp_path / "toy")
        submission = add_submission(session, user=world["alice"], version=world["version"])
        submission.blob_sha256 = app.state.blobs.put(b"answer = 42\n")
        assert grading.claim(session, submission=submission, attempt=submission.attempt, worker="w",
                             timing=TIMING) is None
        assert grading.record_result(session, submission=submission, post=result_in(submission, "pytorch"))
        session.commit()
        number = submission.id
    with TestClient(app, follow_redirects=False) as client:
        login = client.get("/login").text
        token = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', login).group(1)
        client.post("/login", data={"username": "tina", "password": "pw-tina", "csrf_token": token, "next": "/"})
        page = client.get(f"/submissions/{number}").text
    assert "<dt>Environment</dt><dd>pytorch" in page and DIGEST[:16] in page and "Limits the sandbox enforced" in page
