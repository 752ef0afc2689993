"""The teams API over the staff world: settings, teams and members (staff), a student's own team, invitations,
leaving, and the errors with their words; team submissions seen by members only."""
from __future__ import annotations

import re

import pytest
from gradeflow_core.models import Assignment

from tests.unit.api.staff_app import make_staff_app
from tests.unit.api.web.test_pages import app, client, csrf_of, sign_in  # noqa: F401


@pytest.fixture
def api(tmp_path):
    staff_app = make_staff_app(tmp_path)
    with staff_app.client:
        yield staff_app


def call(api, method, path, user, **kwargs):
    return api.client.request(method, f"/api/v1{path}", headers=api.headers(user), **kwargs)


def test_staff_manage_teams_and_students_only_see_their_own(api):
    assert call(api, "PUT", "/courses/c1/team-settings", "alice", json={"students_form": True}).status_code == 403
    assert call(api, "GET", "/courses/c1/teams", "olga").status_code == 404
    made = call(api, "POST", "/courses/c1/teams", "tina", json={"name": "Alpha"})
    assert made.status_code == 201 and made.json()["members"] == []
    tid = made.json()["id"]
    taken = call(api, "POST", "/courses/c1/teams", "prof", json={"name": "alpha"})
    assert taken.status_code == 409 and "called" in taken.json()["detail"]
    assert call(api, "POST", "/courses/c1/teams", "prof", json={"name": " "}).status_code == 422
    added = call(api, "POST", f"/teams/{tid}/members", "tina", json={"username": "alice"})
    assert [m["username"] for m in added.json()["members"]] == ["alice"]
    assert call(api, "POST", f"/teams/{tid}/members", "tina", json={"username": "olga"}).status_code == 404
    assert call(api, "POST", f"/teams/{tid}/members", "tina", json={"username": "tina"}).status_code == 403
    assert call(api, "POST", f"/teams/{tid}/members", "alice", json={"username": "bob"}).status_code == 403
    assert call(api, "POST", f"/teams/{tid}/members", "olga", json={"username": "bob"}).status_code == 404
    assert call(api, "PATCH", f"/teams/{tid}", "prof", json={"name": "Alpha One"}).json()["name"] == "Alpha One"
    assert [t["name"] for t in call(api, "GET", "/courses/c1/teams", "alice").json()] == ["Alpha One"]
    assert call(api, "GET", "/courses/c1/teams", "bob").json() == []
    beta = call(api, "POST", "/courses/c1/teams", "prof", json={"name": "Beta"}).json()["id"]
    assert len(call(api, "GET", "/courses/c1/teams", "tina").json()) == 2
    gone = call(api, "DELETE", f"/teams/{tid}/members/alice", "tina")
    assert gone.status_code == 200 and gone.json()["members"] == []
    assert call(api, "DELETE", f"/teams/{tid}/members/alice", "tina").status_code == 409
    assert call(api, "DELETE", f"/teams/{beta}", "tina").status_code == 204


def test_students_form_a_team_by_invitation(api):
    refused = call(api, "POST", "/courses/c1/teams", "alice", json={"name": "Mine"})
    assert refused.status_code == 403 and "instructors set the teams" in refused.json()["detail"]
    body = {"students_form": True, "max_size": 2, "form_until": None}
    assert call(api, "PUT", "/courses/c1/team-settings", "tina", json=body).json() == body
    assert call(api, "GET", "/courses/c1/team-settings", "prof").json() == body
    assert call(api, "PUT", "/courses/c1/team-settings", "tina", json={"max_size": 0}).status_code == 422
    mine = call(api, "POST", "/courses/c1/teams", "alice", json={"name": "Mine"})
    assert mine.status_code == 201 and [m["username"] for m in mine.json()["members"]] == ["alice"]
    invited = call(api, "POST", "/courses/c1/invitations", "alice", json={"username": "bob"})
    assert invited.status_code == 201 and invited.json()["invitee"] == "bob"
    iid = invited.json()["id"]
    assert [i["id"] for i in call(api, "GET", "/courses/c1/invitations", "bob").json()] == [iid]
    assert call(api, "POST", f"/invitations/{iid}/accept", "carol").status_code == 404  # not for her
    accepted = call(api, "POST", f"/invitations/{iid}/accept", "bob")
    assert accepted.status_code == 200 and accepted.json()["accepted"] is True
    assert call(api, "POST", f"/invitations/{iid}/decline", "bob").status_code == 409  # answered already
    full = call(api, "POST", "/courses/c1/invitations", "alice", json={"username": "carol"})
    assert full.status_code == 409 and "at most 2 members" in full.json()["detail"]
    left = call(api, "POST", "/courses/c1/team/leave", "bob")
    assert [m["username"] for m in left.json()["members"]] == ["alice"]
    assert call(api, "POST", "/courses/c1/team/leave", "bob").status_code == 409


def test_a_team_submission_is_seen_by_members_only(api):
    with api.session() as session:
        assignment = session.get(Assignment, api.world.assignment_id)
        assignment.current_version.config = {**assignment.current_version.config, "teams": True}
        session.commit()
    tid = call(api, "POST", "/courses/c1/teams", "prof", json={"name": "Alpha"}).json()["id"]
    for name in ("alice", "bob"):
        call(api, "POST", f"/teams/{tid}/members", "prof", json={"username": name})
    sent = api.client.post(f"/api/v1/assignments/{api.world.assignment_id}/submissions", headers=api.headers("alice"),
                           files={"file": ("a.py", b"answer = 42\n")})
    assert sent.status_code in (200, 201, 202), sent.text
    sid = sent.json()["id"]
    api.work_queue(default=2.0)
    assert call(api, "GET", f"/submissions/{sid}", "bob").json()["score"] == 2
    assert call(api, "GET", f"/submissions/{sid}", "carol").status_code == 404
    assert [s["id"] for s in call(api, "GET", "/submissions", "bob").json()] == [sid]
    book = {r["username"]: r for r in call(api, "GET", "/courses/c1/gradebook", "prof").json()["rows"]}
    assert book["alice"]["total"] == book["bob"]["total"] == 2 and book["carol"]["total"] == 0
    kept = call(api, "DELETE", f"/teams/{tid}", "prof")
    assert kept.status_code == 409 and "cannot be deleted" in kept.json()["detail"]  # a team with work stays


# --- The pages over HTTP (tests/unit/api/web/test_pages.py's course: alice and bob students, tina a TA)


def test_team_pages_form_a_team_by_invitation_and_show_refusals(client):  # noqa: F811
    sign_in(client, "tina")
    staff = client.get("/courses/1/teams")
    assert staff.status_code == 200 and "How teams are formed" in staff.text
    token = csrf_of(staff.text)
    assert client.post("/courses/1/teams", data={"csrf_token": token, "name": "Alpha"}).status_code == 303
    taken = client.post("/courses/1/teams", data={"csrf_token": token, "name": "alpha"})
    assert taken.status_code == 409 and "Another team of this course is called" in taken.text
    saved = client.post("/courses/1/teams/settings", data={"csrf_token": token, "students_form": "on",
                                                          "max_size": "2"})
    assert saved.status_code == 303
    assert client.post("/courses/1/teams/settings", data={"csrf_token": token, "max_size": "x"}).status_code == 422
    assert client.get("/courses/1/team").headers["location"] == "/courses/1/teams"  # staff go to the list
    client.cookies.clear()

    sign_in(client, "alice")
    assert client.get("/courses/1/teams").status_code == 403
    page = client.get("/courses/1/team")
    assert page.status_code == 200 and "No team" in page.text and "Alpha" not in page.text
    token = csrf_of(page.text)
    assert client.post("/courses/1/team/create", data={"csrf_token": token, "name": "Duo"}).status_code == 303
    nobody = client.post("/courses/1/team/invite", data={"csrf_token": token, "username": "nobody"})
    assert nobody.status_code == 404 and "nobody is not enrolled" in nobody.text
    assert client.post("/courses/1/team/invite", data={"csrf_token": token, "username": "bob"}).status_code == 303
    assert "Leave Duo?" in client.get("/courses/1/team?leave=1").text
    client.cookies.clear()

    sign_in(client, "bob")
    page = client.get("/courses/1/team")
    assert "alice invites you to <strong>Duo</strong>" in page.text
    invitation = int(re.search(r'data-invitation="(\d+)"', page.text).group(1))
    accepted = client.post(f"/courses/1/invitations/{invitation}/accept", data={"csrf_token": csrf_of(page.text)})
    assert accepted.status_code == 303
    mine = client.get("/courses/1/team").text
    assert "Duo" in mine and "alice" in mine and "invites you" not in mine
    again = client.post(f"/courses/1/invitations/{invitation}/decline", data={"csrf_token": csrf_of(mine)})
    assert again.status_code == 409 and "answered already" in again.text
    assert client.post("/courses/1/team/leave", data={"csrf_token": csrf_of(mine)}).status_code == 303
    assert "No team" in client.get("/courses/1/team").text
