"""The permission matrix: every staff endpoint, every role, the exact status code.

Outsiders (enrolled elsewhere) get 404 - nothing about the course is revealed; members without the role get
403; anonymous callers 401. Allowed calls are built to succeed the same way every time they run.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from gradeflow_protocol.bundles import pack
from gradeflow_core.deadlines import PolicySettings, grant_extension, save_policy
from gradeflow_core.models import Assignment, RegradeRun, User
from tests.unit.api.staff_app import StaffApp, make_staff_app
from tests.unit.core.world import fail_now, submit, write_bundle

ROLES = {"anonymous": None, "outsider": "olga", "student": "alice", "ta": "tina", "instructor": "prof",
         "admin": "admin"}


def codes(anonymous=401, outsider=404, student=403, ta=200, instructor=200, admin=None) -> dict[str, int]:
    return dict(anonymous=anonymous, outsider=outsider, student=student, ta=ta, instructor=instructor,
                admin=instructor if admin is None else admin)


def staff(ok: int = 200) -> dict[str, int]:
    return codes(ta=ok, instructor=ok)


def instructors(ok: int = 200) -> dict[str, int]:
    return codes(ta=403, instructor=ok)


def members(ok: int = 200) -> dict[str, int]:
    return codes(student=ok, ta=ok, instructor=ok)


POLICY = {"due_at": "2026-06-01T00:00:00Z", "grace_minutes": 5}


@pytest.fixture(scope="module")
def api(tmp_path_factory) -> StaffApp:
    staff_app = make_staff_app(tmp_path_factory.mktemp("permissions"))
    with staff_app.session() as session:
        save_policy(session, assignment=session.get(Assignment, staff_app.world.assignment_id),
                    settings=PolicySettings(**POLICY), user=session.get(User, staff_app.world.users["prof"].id))
        session.commit()
    return staff_app


def _aid(api: StaffApp) -> int:
    return api.world.assignment_id


def _sha(api: StaffApp) -> str:
    return api.world.version.sha256


def _run_id(api: StaffApp) -> int:
    with api.session() as session:
        run = RegradeRun(assignment_id=_aid(api), version_id=api.world.version.id, started_by=None)
        session.add(run)
        session.commit()
        return run.id


def _failed_submission(api: StaffApp) -> int:
    with api.session() as session:
        world = api.world
        sub = submit(session, world, "bob")
        fail_now(session, sub)
        session.commit()
        return sub.id


def _extension(api: StaffApp) -> None:
    with api.session() as session:
        grant_extension(session, assignment=session.get(Assignment, _aid(api)),
                        student=session.get(User, api.world.users["bob"].id),
                        due_at=datetime(2027, 1, 1, tzinfo=UTC), reason="x",
                        granted_by=session.get(User, api.world.users["prof"].id))
        session.commit()


def _bundle(tmp) -> bytes:
    folder = tmp / uuid.uuid4().hex
    return pack(write_bundle(folder, readme=folder.name))


@dataclass(frozen=True)
class Case:
    name: str
    call: Callable
    expected: dict[str, int]


CASES = [
    # the toy assignment is no contest: access is decided first (401/404/403), then "not a contest" (404)
    Case("reveal contest", lambda a, h, t: a.client.post(f"/api/v1/assignments/{_aid(a)}/contest/reveal", headers=h),
         codes(ta=403, instructor=404)),
    Case("hide contest", lambda a, h, t: a.client.delete(f"/api/v1/assignments/{_aid(a)}/contest/reveal", headers=h),
         codes(ta=403, instructor=404)),
    Case("leaderboard", lambda a, h, t: a.client.get(f"/api/v1/assignments/{_aid(a)}/leaderboard", headers=h),
         codes(student=404, ta=404, instructor=404)),
    Case("me", lambda a, h, t: a.client.get("/api/v1/me", headers=h), codes(outsider=200, student=200)),
    Case("list courses", lambda a, h, t: a.client.get("/api/v1/courses", headers=h),
         codes(outsider=200, student=200)),
    Case("create course", lambda a, h, t: a.client.post("/api/v1/courses", headers=h,
                                                       json={"slug": "k" + uuid.uuid4().hex[:8], "title": "K"}),
         codes(outsider=403, ta=403, instructor=403, admin=201)),
    Case("get course", lambda a, h, t: a.client.get("/api/v1/courses/c1", headers=h), members()),
    Case("roster", lambda a, h, t: a.client.get("/api/v1/courses/c1/roster", headers=h), staff()),
    Case("import roster", lambda a, h, t: a.client.post(
        "/api/v1/courses/c1/roster", headers=h, files={"file": ("r.csv", b"username,role\nalice,student\n")}),
        instructors()),
    Case("publish", lambda a, h, t: a.client.post("/api/v1/courses/c1/assignments", headers=h,
                                                 files={"bundle": ("b.tar.gz", _bundle(t))}), staff(202)),
    Case("course assignments", lambda a, h, t: a.client.get("/api/v1/courses/c1/assignments", headers=h), staff()),
    Case("versions", lambda a, h, t: a.client.get(f"/api/v1/assignments/{_aid(a)}/versions", headers=h), staff()),
    Case("version", lambda a, h, t: a.client.get(f"/api/v1/assignments/{_aid(a)}/versions/{_sha(a)}", headers=h),
         staff()),
    Case("activations", lambda a, h, t: a.client.get(f"/api/v1/assignments/{_aid(a)}/activations", headers=h),
         staff()),
    Case("activate", lambda a, h, t: a.client.post(f"/api/v1/assignments/{_aid(a)}/versions/{_sha(a)}/activate",
                                                  headers=h, json={"skip_regrade": True}), staff()),
    Case("start regrade", lambda a, h, t: a.client.post(
        f"/api/v1/assignments/{_aid(a)}/versions/{_sha(a)}/regrade", headers=h), staff(202)),
    Case("get regrade", lambda a, h, t: a.client.get(f"/api/v1/regrades/{_run_id(a)}", headers=h), staff()),
    Case("list regrades", lambda a, h, t: a.client.get(f"/api/v1/assignments/{_aid(a)}/regrades", headers=h),
         staff()),
    Case("get policy", lambda a, h, t: a.client.get(f"/api/v1/assignments/{_aid(a)}/policy", headers=h), members()),
    Case("put policy", lambda a, h, t: a.client.put(f"/api/v1/assignments/{_aid(a)}/policy", headers=h,
                                                   json=POLICY), instructors()),
    Case("list extensions", lambda a, h, t: a.client.get(f"/api/v1/assignments/{_aid(a)}/extensions", headers=h),
         staff()),
    Case("grant extension", lambda a, h, t: a.client.put(
        f"/api/v1/assignments/{_aid(a)}/extensions/bob", headers=h,
        json={"due_at": "2027-01-01T00:00:00Z", "reason": "ill"}), instructors()),
    Case("revoke extension", lambda a, h, t: (_extension(a), a.client.delete(
        f"/api/v1/assignments/{_aid(a)}/extensions/bob", headers=h))[1], instructors(204)),
    Case("override log", lambda a, h, t: a.client.get(f"/api/v1/assignments/{_aid(a)}/overrides", headers=h),
         staff()),
    Case("set override", lambda a, h, t: a.client.post(f"/api/v1/assignments/{_aid(a)}/overrides", headers=h,
                                                      json={"username": "bob", "score": 1, "reason": "matrix"}),
         staff(201)),
    *[Case(f"gradebook {fmt}", lambda a, h, t, fmt=fmt: a.client.get(f"/api/v1/courses/c1/gradebook?format={fmt}",
                                                                     headers=h), staff())
      for fmt in ("json", "csv", "canvas")],
    Case("queue", lambda a, h, t: a.client.get("/api/v1/queue", headers=h), codes(outsider=403)),
    Case("staff submissions", lambda a, h, t: a.client.get(f"/api/v1/assignments/{_aid(a)}/submissions",
                                                          headers=h), staff()),
    Case("retry", lambda a, h, t: a.client.post(f"/api/v1/submissions/{_failed_submission(a)}/retry", headers=h),
         codes(student=404, ta=202, instructor=202)),
]


@pytest.mark.parametrize("role", list(ROLES))
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_permission_matrix(api, tmp_path, case, role):
    response = case.call(api, api.headers(ROLES[role]), tmp_path)
    assert response.status_code == case.expected[role], (case.name, role, response.text[:300])
    if response.status_code in (401, 403, 404):
        assert response.json()["detail"]


def test_every_staff_route_is_in_the_matrix(api):
    """A new endpoint must be added to the matrix (spine and worker routes have their own tests)."""
    spine = {"/api/v1/auth/token", "/api/v1/assignments", "/api/v1/submissions", "/api/v1/submissions/{submission_id}",
             "/api/v1/auth/set-password"}
    paths = {p for p in api.client.get("/openapi.json").json()["paths"] if p.startswith("/api/v1")}
    covered = {"/api/v1/me", "/api/v1/courses", "/api/v1/courses/{course}", "/api/v1/courses/{course}/roster",
               "/api/v1/courses/{course}/assignments", "/api/v1/assignments/{assignment_id}/versions",
               "/api/v1/assignments/{assignment_id}/versions/{sha}",
               "/api/v1/assignments/{assignment_id}/versions/{sha}/activate",
               "/api/v1/assignments/{assignment_id}/activations",
               "/api/v1/assignments/{assignment_id}/versions/{sha}/regrade", "/api/v1/regrades/{run_id}",
               "/api/v1/assignments/{assignment_id}/regrades", "/api/v1/assignments/{assignment_id}/policy",
               "/api/v1/assignments/{assignment_id}/extensions",
               "/api/v1/assignments/{assignment_id}/extensions/{username}",
               "/api/v1/assignments/{assignment_id}/overrides", "/api/v1/courses/{course}/gradebook",
               "/api/v1/queue", "/api/v1/assignments/{assignment_id}/submissions",
               "/api/v1/submissions/{submission_id}/retry"}
    covered |= {"/api/v1/courses/{course}/team-settings", "/api/v1/courses/{course}/teams",  # test_teams_api.py
                "/api/v1/teams/{team_id}", "/api/v1/teams/{team_id}/members",
                "/api/v1/teams/{team_id}/members/{username}", "/api/v1/courses/{course}/invitations",
                "/api/v1/invitations/{invitation_id}/accept", "/api/v1/invitations/{invitation_id}/decline",
                "/api/v1/courses/{course}/team/leave"}
    covered |= {"/api/v1/assignments/{assignment_id}/rubric", "/api/v1/rubric/questions/{question_id}/items",
                "/api/v1/rubric/items/{item_id}", "/api/v1/submissions/{submission_id}/rubric",  # test_rubric_api.py
                "/api/v1/assignments/{assignment_id}/rubric/release",
                "/api/v1/assignments/{assignment_id}/rubric/unrelease", "/api/v1/submissions/{submission_id}/report.pdf"}
    covered |= {"/api/v1/assignments/{assignment_id}/leaderboard", "/api/v1/assignments/{assignment_id}/contest/reveal",
                "/api/v1/assignments/{assignment_id}/contest/standing",  # and test_contest_api.py
                "/api/v1/submissions/{submission_id}/final-pick"}
    assert paths - spine - {p for p in paths if p.startswith("/api/v1/worker/")} == covered


def test_unknown_course_and_assignment_are_404_for_staff_too(api):
    prof = api.headers("prof")
    assert api.client.get("/api/v1/courses/nope/roster", headers=prof).status_code == 404
    assert api.client.get("/api/v1/assignments/999/versions", headers=prof).status_code == 404
    assert api.client.get("/api/v1/regrades/999", headers=prof).status_code == 404
    assert api.client.post("/api/v1/submissions/999/retry", headers=prof).status_code == 404


def test_a_student_cannot_reach_another_students_work_through_staff_routes(api):
    alice = api.headers("alice")
    sid = _failed_submission(api)  # bob's
    assert api.client.post(f"/api/v1/submissions/{sid}/retry", headers=alice).status_code == 404
    assert api.client.get(f"/api/v1/submissions/{sid}", headers=alice).status_code == 404
    listing = api.client.get(f"/api/v1/assignments/{_aid(api)}/submissions?username=bob", headers=alice)
    assert listing.status_code == 403
