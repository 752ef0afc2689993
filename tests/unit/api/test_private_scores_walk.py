"""No endpoint or page a student can reach shows a private score or a hidden label before the reveal.

The walk takes every GET route of the composed app (the JSON API and the pages, read from the app's own route
table, so a route added later is walked too), fills its path with the contest's ids (the student's own
submissions, a classmate's, the course, the assignment) and asks as a student, with a bearer token and with a
browser session. Bodies are searched for the private scores, their interval ends and a label that only the
hidden solution file holds (gzip bodies are searched unpacked). After the reveal the same walk must find the
private score: the search can fail."""
from __future__ import annotations

import gzip
import io
import zipfile
from types import SimpleNamespace


from gradeflow_core.contest_actions import reveal
from gradeflow_core.deadlines import PolicySettings, save_policy
from gradeflow_core.models import Assignment, Course, User, utcnow
from gradeflow_core.publishing import publish_folder
from gradeflow_core.security import make_user_token
from tests.db_helpers import write_toy_assignment
from tests.unit.api.web.test_pages import SECRET, app, client, sign_in  # noqa: F401 (fixtures)
from tests.unit.core.test_contest_board import scored

PRIVATE = {"alice": 0.4271828, "bob": 0.3141593}
HIDDEN_LABEL = "HIDDENLABEL-7f3a"
SECRETS = ("0.427183", "0.377183", "0.477183", "0.314159", "0.264159", "0.364159", HIDDEN_LABEL)


def publish_contest(app, tmp_path) -> dict:
    """The toy assignment, republished as a contest whose bundle holds a hidden solution file."""
    folder = write_toy_assignment(tmp_path / "contest")
    (folder / "assignment.toml").write_text(
        'id = "toy"\ntitle = "Toy"\nkind = "script"\npoints = 2\n\n[contest]\nmetric = "accuracy"\ndigits = 6\n')
    (folder / "hidden").mkdir()
    (folder / "hidden" / "solution.csv").write_text(f"id,label,usage\n1,{HIDDEN_LABEL},Private\n2,ok,Public\n")
    (folder / "data" / "public").mkdir(parents=True)
    (folder / "data" / "public" / "test_ids.csv").write_text("id\n1\n2\n")
    with app.state.session_factory() as session:
        course = session.query(Course).one()
        version = publish_folder(session, app.state.blobs, course=course, folder=folder)
        world = SimpleNamespace(users={u.username: u for u in session.query(User)}, assignment_id=version.assignment_id,
                                version=version)
        subs = [scored(session, world, name, public, PRIVATE[name])
                for name, public in (("alice", 0.9), ("bob", 0.8))]
        for sub in subs:
            sub.blob_sha256 = app.state.blobs.put(b"id,label\n1,ok\n2,ok\n")
        session.commit()
        return {"assignment_id": version.assignment_id, "submission_id": [s.id for s in subs],
                "course_id": course.id, "course": course.slug, "sha": version.sha256, "run_id": 1,
                "username": "alice", "alice": world.users["alice"].id}


def get_paths(app) -> list[str]:
    def walk(routes):
        for route in routes:
            if hasattr(route, "original_router"):
                yield from walk(route.original_router.routes)
            elif "GET" in (getattr(route, "methods", None) or ()):
                yield route.path
    return sorted(set(walk(app.routes)))


def filled(path: str, ids: dict) -> list[str]:
    """The path with each parameter filled; one path per submission id (the student's own and a classmate's)."""
    paths = [path]
    for name, value in ids.items():
        values = value if isinstance(value, list) else [value]
        paths = [p.replace("{" + name + "}", str(v)) for p in paths for v in values]
    return [p for p in paths if "{" not in p]


def leaks(response) -> list[str]:
    body = response.content
    if body[:2] == b"\x1f\x8b":
        body = gzip.decompress(body)
    if body[:4] == b"PK\x03\x04":  # a zip (the public data): every member, unpacked
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            body = b"\n".join(archive.read(name) for name in archive.namelist())
    text = body.decode("utf-8", errors="replace")
    return [secret for secret in SECRETS if secret in text]


def walk_as_student(app, client, ids) -> dict[str, list[str]]:
    token = make_user_token(user_id=ids["alice"], secret=SECRET, minutes=60)
    found, walked = {}, 0
    for path in get_paths(app):
        for url in filled(path, ids):
            for query in ("", "?board=private", "?board=public&format=csv"):
                headers = {"Authorization": f"Bearer {token}"} if url.startswith("/api/") else {}
                response = client.get(url + query, headers=headers)
                walked += 1
                if leaks(response):
                    found[url + query] = leaks(response)
    assert walked > 100  # the walk reached the app's routes, not an empty table
    return found


def test_no_student_route_shows_a_private_score_or_a_hidden_label_before_the_reveal(app, client, tmp_path):
    ids = publish_contest(app, tmp_path)
    sign_in(client, "alice")
    assert walk_as_student(app, client, ids) == {}


def test_after_the_reveal_the_walk_finds_the_private_scores(app, client, tmp_path):
    ids = publish_contest(app, tmp_path)
    with app.state.session_factory() as session:
        assignment = session.get(Assignment, ids["assignment_id"])
        tina = session.query(User).filter_by(username="tina").one()
        save_policy(session, assignment=assignment, user=tina, settings=PolicySettings(due_at=utcnow()))
        reveal(session, assignment=assignment, user=tina)
        session.commit()
    sign_in(client, "alice")
    found = walk_as_student(app, client, ids)
    board = f"/api/v1/assignments/{ids['assignment_id']}/leaderboard?board=private"
    assert set(found[board]) >= {"0.427183", "0.314159"}
    assert not any(HIDDEN_LABEL in secrets for secrets in found.values())  # the labels stay hidden for good


def test_the_public_data_downloads_without_anything_hidden(app, client, tmp_path):
    ids = publish_contest(app, tmp_path)
    sign_in(client, "alice")
    page = client.get(f"/assignments/{ids['assignment_id']}").text
    assert 'id="data-link"' in page
    r = client.get(f"/assignments/{ids['assignment_id']}/data.zip")
    assert r.status_code == 200 and r.headers["content-disposition"].startswith("attachment")
    with zipfile.ZipFile(io.BytesIO(r.content)) as archive:
        assert archive.namelist() == ["data/test_ids.csv"]
        assert archive.read("data/test_ids.csv") == b"id\n1\n2\n"
