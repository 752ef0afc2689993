"""An API app over the staff world (tests/unit/core/world.py), with a fake queue and minted tokens."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from gradeflow_api.main import create_app
from gradeflow_api.queue import ListEnqueuer
from gradeflow_core.migrate import upgrade
from gradeflow_core.models import Submission
from gradeflow_core.security import make_user_token
from gradeflow_api.settings import ApiSettings
from tests.unit.core.world import World, build_world, result_for

SECRET = "unit-test-secret-0123456789abcdef"


@dataclass
class StaffApp:
    app: FastAPI
    client: TestClient
    queue: ListEnqueuer
    world: World

    def headers(self, username: str | None) -> dict[str, str]:
        if username is None:
            return {}
        token = make_user_token(user_id=self.world.users[username].id, secret=SECRET, minutes=60)
        return {"Authorization": f"Bearer {token}"}

    def session(self):
        return self.app.state.session_factory()

    def work_one(self, score: float | None = None, scores: dict[str, float] | None = None) -> bool:
        """Play the worker for the oldest queued task: claim it and post a result (score by file name)."""
        task, _ = self.queue.sent.pop(0)
        worker = {"Authorization": f"Bearer {task.token}"}
        claimed = self.client.post("/api/v1/worker/claim", json={"worker": "fake@test"}, headers=worker)
        if claimed.status_code != 200:
            return False
        with self.session() as session:
            sub = session.get(Submission, claimed.json()["submission_id"])
            post = result_for(sub, score if score is not None else (scores or {}).get(sub.filename, 2.0))
        stored = self.client.post("/api/v1/worker/result", json=post.model_dump(mode="json"), headers=worker)
        assert stored.json() == {"stored": True}
        return True

    def work_queue(self, scores: dict[str, float] | None = None, default: float = 2.0) -> int:
        """Play the worker for everything queued."""
        done = 0
        while self.queue.sent:
            done += self.work_one(score=None if scores else default, scores=scores)
        return done


def make_staff_app(tmp_path: Path) -> StaffApp:
    settings = ApiSettings(var_dir=tmp_path / "var", secret_key=SECRET, max_upload_bytes=200_000,
                        redis_url="redis://127.0.0.1:1/0")
    settings.var_dir.mkdir(parents=True)
    upgrade(settings.effective_database_url)
    queue = ListEnqueuer()
    app = create_app(settings, enqueuer=queue, sweeper=False)
    with app.state.session_factory() as session:
        world = build_world(session, app.state.blobs, tmp_path / "toy")
        session.commit()
        session.expunge_all()
    client = TestClient(app)
    return StaffApp(app=app, client=client, queue=queue, world=world)
