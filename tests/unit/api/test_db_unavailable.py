"""With the database unreachable or locked past its timeout, uploads and reads answer 503 with Retry-After and a
clear message, and nothing is half written."""
import sqlite3

import pytest
from fastapi.testclient import TestClient

from gradeflow_api.main import create_app
from gradeflow_api.queue import ListEnqueuer
from gradeflow_api.settings import ApiSettings
from gradeflow_api.web.session import COOKIE_NAME, encode_session, new_session
from gradeflow_core.migrate import upgrade
from gradeflow_core.models import Submission
from gradeflow_core.security import make_user_token
from tests.conftest import free_port
from tests.unit.api.test_api import SECRET, login
from tests.db_helpers import make_course


def _bearer(user_id: int = 1) -> dict:
    return {"Authorization": f"Bearer {make_user_token(user_id=user_id, secret=SECRET, minutes=5)}"}


def test_an_unreachable_database_is_a_503_with_retry_after(tmp_path):
    url = f"postgresql://nobody@127.0.0.1:{free_port()}/gradeflow"  # nothing listens there
    settings = ApiSettings(var_dir=tmp_path / "var", secret_key=SECRET, database_url=url, db_busy_timeout_s=1)
    with TestClient(create_app(settings, enqueuer=ListEnqueuer(), sweeper=False)) as client:
        for r in (client.get("/api/v1/submissions/1", headers=_bearer()),
                  client.get("/api/v1/submissions/1", headers=_bearer() | {"If-None-Match": 'W/"x"'}),
                  client.post("/api/v1/assignments/1/submissions", headers=_bearer(),
                              files={"file": ("a.py", b"answer = 42\n")})):
            assert r.status_code == 503 and r.headers["retry-after"] == "2"
            assert r.json()["detail"].startswith("The database is not answering right now")
        signed_in = new_session().signed_in_as(1, "")
        client.cookies.set(COOKIE_NAME, encode_session(signed_in, secret=SECRET))
        page = client.get("/submissions/1/status", headers={"Accept": "text/html"})
        assert page.status_code == 503 and "text/html" in page.headers["content-type"]
        assert client.get("/healthz").status_code == 200


@pytest.fixture
def locked_api(tmp_path):
    settings = ApiSettings(var_dir=tmp_path / "var", secret_key=SECRET, db_busy_timeout_s=0.3)
    settings.var_dir.mkdir()
    upgrade(settings.effective_database_url)
    queue = ListEnqueuer()
    app = create_app(settings, enqueuer=queue, sweeper=False)
    with app.state.session_factory() as session:
        make_course(session, app.state.blobs, tmp_path / "toy")
        session.commit()
    with TestClient(app) as client:
        yield client, queue, app, settings.var_dir / "gradeflow.db"


def test_a_write_locked_out_past_its_timeout_is_a_503_and_leaves_no_row(locked_api):
    client, queue, app, path = locked_api
    alice = login(client, "alice")
    other = sqlite3.connect(path, isolation_level=None)  # another process holding SQLite's write lock
    other.execute("BEGIN IMMEDIATE")
    try:
        r = client.post("/api/v1/assignments/1/submissions", headers=alice, files={"file": ("a.py", b"answer = 42\n")})
        assert r.status_code == 503 and r.headers["retry-after"] == "2" and "nothing was saved" in r.json()["detail"]
        assert client.get("/api/v1/assignments", headers=alice).status_code == 200  # WAL: reads go on meanwhile
    finally:
        other.execute("ROLLBACK")
        other.close()
    with app.state.session_factory() as session:
        assert session.query(Submission).count() == 0
    assert queue.sent == []
    r = client.post("/api/v1/assignments/1/submissions", headers=alice, files={"file": ("a.py", b"answer = 42\n")})
    assert r.status_code == 202  # the lock was given back: the next upload goes through
