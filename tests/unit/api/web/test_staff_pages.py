"""Staff pages over HTTP with a fake queue: who may open them, forms that refuse bad input with a message."""
import csv
import io

from gradeflow_core.models import AssignmentPolicy, Enrollment, User
from tests.unit.api.web.test_pages import app, client, csrf_of, sign_in  # noqa: F401


def make_instructor(app, name: str = "ivy") -> None:
    from gradeflow_core.demo import ensure_user
    from gradeflow_protocol.enums import Role

    with app.state.session_factory() as session:
        user = ensure_user(session, username=name, password="pw-" + name)
        session.add(Enrollment(user_id=user.id, course_id=1, role=Role.INSTRUCTOR))
        session.commit()


def test_ta_pages_render_and_students_are_refused(client):
    sign_in(client, "tina")
    for url in ("/courses/1/queue", "/courses/1/queue/live", "/courses/1/submissions", "/assignments/1/versions",
                "/courses/1/publish", "/courses/1/gradebook"):
        assert client.get(url).status_code == 200, url
    assert client.get("/courses/1/roster").status_code == 403  # instructors only
    assert client.get("/assignments/1/policy").status_code == 403
    client.cookies.clear()
    sign_in(client, "alice")
    for url in ("/courses/1/queue", "/assignments/1/versions", "/courses/1/gradebook/download?format=csv"):
        r = client.get(url)
        assert r.status_code == 403 and "TAs and instructors" in r.text, url


def test_a_broken_bundle_is_refused_with_what_to_fix(client):
    sign_in(client, "tina")
    token = csrf_of(client.get("/courses/1/publish").text)
    r = client.post("/courses/1/publish", data={"csrf_token": token}, files={"bundle": ("b.tar.gz", b"nope")})
    assert r.status_code == 422 and "not a tar.gz archive" in r.text


def test_roster_preview_changes_nothing_and_import_reports(client, app):
    make_instructor(app)
    sign_in(client, "ivy")
    token = csrf_of(client.get("/courses/1/roster").text)
    rows = "username,name,role\nnewbie,New Person,student\n"
    r = client.post("/courses/1/roster", data={"csrf_token": token, "text": rows, "preview": "true"})
    assert r.status_code == 200 and "Preview (nothing changed)" in r.text
    with app.state.session_factory() as session:
        assert session.query(User).filter_by(username="newbie").count() == 0
    r = client.post("/courses/1/roster", data={"csrf_token": token, "text": rows})
    assert "Imported" in r.text and "/invite?token=" in r.text
    r = client.post("/courses/1/roster", data={"csrf_token": token, "text": "name\nx\n"})
    assert r.status_code == 422 and "username" in r.text


def test_policy_form_saves_utc_and_refuses_nonsense(client, app):
    make_instructor(app)
    sign_in(client, "ivy")
    token = csrf_of(client.get("/assignments/1/policy").text)
    r = client.post("/assignments/1/policy", data={"csrf_token": token, "due_at": "2030-01-15T18:00",
                                                   "due_at_utc": "2030-01-15T17:00:00.000Z",
                                                   "penalty_percent_per_day": "10", "max_per_day": "3"})
    assert r.status_code == 303
    with app.state.session_factory() as session:
        row = session.query(AssignmentPolicy).one()
        assert row.due_at.isoformat() == "2030-01-15T17:00:00+00:00" and row.max_per_day == 3
    r = client.post("/assignments/1/policy", data={"csrf_token": token, "opens_at": "2031-01-01T00:00",
                                                   "due_at": "2030-01-01T00:00"})
    assert r.status_code == 422 and "opens_at must be before due_at" in r.text
    r = client.post("/assignments/1/extensions", data={"csrf_token": token, "username": "nobody",
                                                       "due_at": "2030-02-01T00:00"})
    assert r.status_code == 422 and "Pick an enrolled student." in r.text
    r = client.post("/assignments/1/extensions", data={"csrf_token": token, "username": "alice",
                                                       "due_at": "2030-02-01T00:00", "reason": "ill"})
    assert r.status_code == 303
    client.cookies.clear()
    sign_in(client, "alice")
    page = client.get("/assignments/1").text
    assert "extended" in page and "2030-02-01" in page and "3 of 3" in page


def test_gradebook_downloads(client, app):
    sign_in(client, "tina")
    r = client.get("/courses/1/gradebook/download?format=csv")
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    assert {row["username"] for row in csv.DictReader(io.StringIO(r.text))} == {"alice", "bob"}
    assert client.get("/courses/1/gradebook/download?format=canvas").text.startswith("Student,ID,SIS User ID")
    assert client.get("/courses/1/gradebook/download?format=json").json()["course"] == "c1"


def test_an_unexpected_error_is_a_page_not_a_trace(app, monkeypatch):
    from fastapi.testclient import TestClient

    from gradeflow_api.web.pages import student

    def broken(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(student, "own_page", broken)  # what /history reads
    with TestClient(app, follow_redirects=False, raise_server_exceptions=False) as client:
        sign_in(client, "alice")
        r = client.get("/history")
    assert r.status_code == 500 and "Something went wrong on our side" in r.text
    assert "secret internals" not in r.text and "Traceback" not in r.text


def test_versions_page_shows_the_official_version_history(client):
    sign_in(client, "tina")
    page = client.get("/assignments/1/versions").text
    assert "Official version history" in page and "made official when published" in page


def test_overrides_page_records_clears_and_refuses_bad_input(client, app):
    sign_in(client, "tina")
    page = client.get("/assignments/1/overrides")
    assert page.status_code == 200 and "No manual scores yet" in page.text
    token = csrf_of(page.text)
    form = {"csrf_token": token, "username": "alice", "score": "1.5", "reason": "graded by hand"}
    saved = client.post("/assignments/1/overrides", data=form, follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"].endswith("/overrides?saved=1")
    log = client.get("/assignments/1/overrides").text
    assert "graded by hand" in log and "1.5" in log and ">tina<" in log
    refused = client.post("/assignments/1/overrides", data=form | {"score": "99"})
    assert refused.status_code == 422 and "between 0 and" in refused.text and 'value="graded by hand"' in refused.text
    assert client.post("/assignments/1/overrides", data=form | {"reason": ""}).status_code == 422
    assert "No student" in client.post("/assignments/1/overrides", data=form | {"username": "nobody"}).text
    assert "as a number" in client.post("/assignments/1/overrides", data=form | {"score": "ten"}).text
    cleared = client.post("/assignments/1/overrides", data=form | {"score": "", "clear": "1", "reason": "regraded"})
    assert cleared.status_code == 303 and "cleared" in client.get("/assignments/1/overrides").text
    with app.state.session_factory() as session:
        from gradeflow_core.models import ScoreOverride

        assert [o.score for o in session.query(ScoreOverride).order_by(ScoreOverride.id)] == [1.5, None]
    missing_csrf = client.post("/assignments/1/overrides", data={k: v for k, v in form.items() if k != "csrf_token"})
    assert missing_csrf.status_code == 403
    client.cookies.clear()
    sign_in(client, "alice")
    assert client.get("/assignments/1/overrides").status_code == 403


def test_a_fresh_overrides_form_is_not_a_clear_request(client):
    sign_in(client, "tina")
    page = client.get("/assignments/1/overrides").text
    assert 'name="clear" value="1">' in page  # not ticked (a dict's .clear method once read as true)


def test_removing_someone_from_the_roster_asks_first_and_signs_them_out_everywhere(client, app):
    from fastapi.testclient import TestClient

    from gradeflow_api.web.session import COOKIE_NAME

    with TestClient(app, follow_redirects=False) as bobs_browser:
        sign_in(bobs_browser, "bob")
        assert bobs_browser.get("/history").status_code == 200
        make_instructor(app)
        sign_in(client, "ivy")
        roster = client.get("/courses/1/roster").text
        assert 'href="/courses/1/roster/bob/remove"' in roster and "/roster/ivy/remove" not in roster
        confirm = client.get("/courses/1/roster/bob/remove")
        assert confirm.status_code == 200 and "Yes, remove bob" in confirm.text  # a step before anything changes
        with app.state.session_factory() as session:
            assert session.query(Enrollment).filter_by(user_id=session.query(User).filter_by(
                username="bob").one().id).count() == 1
        token = csrf_of(confirm.text)
        assert client.post("/courses/1/roster/bob/remove", data={}).status_code == 403  # no CSRF token
        done = client.post("/courses/1/roster/bob/remove", data={"csrf_token": token})
        assert done.status_code == 200 and "Removed bob from the course and signed them out everywhere" in done.text
        assert "/roster/bob/remove" not in done.text
        r = bobs_browser.get("/history")
        assert r.status_code == 303 and r.headers["location"].startswith("/login"), bobs_browser.cookies[COOKIE_NAME]
        assert client.get("/courses/1/roster/bob/remove").status_code == 404  # not enrolled any more
        assert client.post("/courses/1/roster/ivy/remove", data={"csrf_token": token}).status_code == 400
        client.cookies.clear()
        sign_in(client, "tina")
        assert client.get("/courses/1/roster/alice/remove").status_code == 403  # instructors only
