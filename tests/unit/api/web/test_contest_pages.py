"""The leaderboard page: the public board with the student's team marked, their scored submissions with pick
buttons (two at most, refusals in words), the private tab hidden (403) until the reveal, a staff preview."""
from __future__ import annotations

import re
from types import SimpleNamespace

from gradeflow_core.models import Assignment, AssignmentVersion, User

from tests.unit.api.web.test_pages import app, client, csrf_of, sign_in  # noqa: F401 (fixtures)
from tests.unit.core.test_contest_board import scored


def contest(app) -> tuple[int, dict[str, list[int]]]:
    """The toy assignment as a contest: alice 0.91 and 0.5 and 0.4 public (0.3 private), bob 0.8 (0.97 private)."""
    with app.state.session_factory() as session:
        assignment = session.query(Assignment).one()
        version = session.get(AssignmentVersion, assignment.current_version_id)
        version.config = {**version.config, "contest": {"metric": "accuracy", "digits": 3}}
        world = SimpleNamespace(users={u.username: u for u in session.query(User)}, assignment_id=assignment.id,
                                version=version)
        ids = {"alice": [scored(session, world, "alice", p, 0.3).id for p in (0.91, 0.5, 0.4)],
               "bob": [scored(session, world, "bob", 0.8, 0.97).id]}
        session.commit()
        return assignment.id, ids


def test_a_student_sees_the_public_board_their_rank_and_no_private_score(app, client):
    aid, _ = contest(app)
    sign_in(client, "alice")
    assignment_page = client.get(f"/assignments/{aid}").text
    assert 'id="leaderboard-link"' in assignment_page and 'id="data-link"' in assignment_page
    assert "final picks (at most two), or else its best public submission" in assignment_page
    assert "Your last graded submission counts" not in assignment_page
    html = client.get(f"/assignments/{aid}/leaderboard").text
    assert re.search(r'<tr class="mine" aria-current="true">\s*<td data-label="Rank">1</td>', html)
    assert "0.910" in html and "0.800" in html and "#1</strong> of 2" in html
    assert "0.970" not in html and "0.300" not in html and "Private: hidden until the reveal" in html
    hidden = client.get(f"/assignments/{aid}/leaderboard?board=private")
    assert hidden.status_code == 403 and "0.970" not in hidden.text and "hidden until the instructor" in hidden.text


def test_picking_two_final_submissions_and_the_third_refused_in_words(app, client):
    aid, ids = contest(app)
    sign_in(client, "alice")
    token = csrf_of(client.get(f"/assignments/{aid}/leaderboard").text)
    for sub in ids["alice"][:2]:
        r = client.post(f"/submissions/{sub}/final-pick", data={"csrf_token": token, "action": "pick"})
        assert r.status_code == 303
    r = client.post(f"/submissions/{ids['alice'][2]}/final-pick", data={"csrf_token": token, "action": "pick"})
    html = client.get(r.headers["location"]).text
    assert "You have already picked 2 final submissions; unpick one first." in html
    assert html.count('class="badge counted">final') == 2 and "Final submissions: 2 of 2 picked" in html
    other = client.post(f"/submissions/{ids['bob'][0]}/final-pick", data={"csrf_token": token, "action": "pick"})
    assert other.status_code == 404


def test_staff_preview_the_private_board_and_only_an_instructor_may_reveal(app, client):
    aid, _ = contest(app)
    sign_in(client, "tina")
    html = client.get(f"/assignments/{aid}/leaderboard?board=private").text
    assert "Private (staff preview)" in html and "0.970" in html and "95% interval" in html
    assert 'id="reveal"' not in html  # a TA sees no reveal button
    r = client.post(f"/assignments/{aid}/contest/reveal", data={"csrf_token": csrf_of(html), "action": "reveal"})
    assert r.status_code == 403
