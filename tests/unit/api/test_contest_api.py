"""The contest's HTTP surface: GET /api/v1/assignments/{id}/leaderboard?board=public|private, the standing, final
picks and the reveal, with the private board 403 for students until the instructor reveals it."""
from __future__ import annotations

from datetime import timedelta

import pytest

from gradeflow_core.deadlines import PolicySettings, save_policy
from gradeflow_core.models import Assignment, AssignmentVersion, User, utcnow
from tests.unit.api.staff_app import make_staff_app
from tests.unit.core.test_contest_board import scored


@pytest.fixture
def api(tmp_path):
    staff_app = make_staff_app(tmp_path)
    with staff_app.client:
        yield staff_app


@pytest.fixture
def contest(api):
    """alice 0.9 public / 0.6 private, bob 0.7 / 0.95: bob wins the private board."""
    with api.session() as session:
        version = session.get(AssignmentVersion, api.world.version.id)
        version.config = {**version.config, "contest": {"metric": "macro_f1", "digits": 3}}
        ids = {"alice": scored(session, api.world, "alice", 0.9, 0.6).id,
               "bob": scored(session, api.world, "bob", 0.7, 0.95).id}
        session.commit()
    return ids


def board(api, user, which="public"):
    return api.client.get(f"/api/v1/assignments/{api.world.assignment_id}/leaderboard", params={"board": which},
                          headers=api.headers(user))


def close(api, delta=timedelta(minutes=-5)):
    """Set the contest's deadline `delta` from now (in the past by default: the contest is closed)."""
    with api.session() as session:
        save_policy(session, assignment=session.get(Assignment, api.world.assignment_id),
                    user=session.get(User, api.world.users["prof"].id),
                    settings=PolicySettings(due_at=utcnow() + delta))
        session.commit()


def test_the_public_board_has_the_documented_shape(api, contest):
    r = board(api, "carol")
    assert r.status_code == 200
    body = r.json()
    assert body["board"] == "public" and body["revealed"] is False and body["metric"] == "macro_f1"
    assert [(e["rank"], e["team"], e["score"], e["submissions"], e["interval"]) for e in body["entries"]] == [
        (1, "alice", 0.9, 1, None), (2, "bob", 0.7, 1, None)]
    assert set(body["entries"][0]) == {"rank", "team", "score", "submissions", "last_at", "interval"}


def test_the_private_board_is_403_for_students_until_revealed_and_then_shows_intervals(api, contest):
    hidden = board(api, "alice", "private")
    assert hidden.status_code == 403 and "hidden until the instructor reveals it" in hidden.json()["detail"]
    assert "0.95" not in hidden.text and "0.6" not in hidden.text
    assert board(api, "tina", "private").status_code == 200  # staff preview it
    reveal = f"/api/v1/assignments/{api.world.assignment_id}/contest/reveal"
    close(api, timedelta(days=1))
    early = api.client.post(reveal, headers=api.headers("prof"))
    assert early.status_code == 409 and "after the contest closes" in early.json()["detail"]
    close(api)
    assert api.client.post(reveal, headers=api.headers("tina")).status_code == 403  # instructors only
    assert api.client.post(reveal, headers=api.headers("prof")).json()["revealed"] is True
    shown = board(api, "alice", "private").json()
    assert shown["revealed"] and [(e["team"], e["score"]) for e in shown["entries"]] == [("bob", 0.95),
                                                                                            ("alice", 0.6)]
    assert shown["entries"][0]["interval"] == [0.9, 1.0]


def test_picks_through_the_api_two_at_most_own_only(api, contest):
    with api.session() as session:
        extra = [scored(session, api.world, "alice", 0.5, 0.5).id for _ in range(2)]
        session.commit()
    url = "/api/v1/submissions/{}/final-pick"
    assert api.client.put(url.format(contest["bob"]), headers=api.headers("alice")).status_code == 404
    assert api.client.put(url.format(contest["alice"]), headers=api.headers("alice")).json()["picks"] == 1
    assert api.client.put(url.format(extra[0]), headers=api.headers("alice")).json()["picks"] == 2
    third = api.client.put(url.format(extra[1]), headers=api.headers("alice"))
    assert third.status_code == 409 and "unpick one first" in third.json()["detail"]
    standing = api.client.delete(url.format(extra[0]), headers=api.headers("alice")).json()
    assert standing["picks"] == 1 and standing["rank"] == 1
    assert [e["picked"] for e in standing["entries"]] == [False, False, True]
    assert set(standing["entries"][0]) == {"submission_id", "submitted_at", "filename", "sent_by", "public", "picked"}


def test_a_non_contest_assignment_has_no_leaderboard(api):
    r = board(api, "alice")
    assert r.status_code == 404 and "not a contest" in r.json()["detail"]
