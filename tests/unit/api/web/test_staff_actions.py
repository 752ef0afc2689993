"""A TA's actions over HTTP with a fake queue: the submission desk (regrade one, manual score, previous / next,
the student's other work), the staff course numbers, the paged submission list, regrade rows, extension revoking,
the current page in the navigation, the kernel banner left out of the log."""
import re

from gradeflow_core import grading
from gradeflow_core.models import AssignmentVersion, Submission, User
from gradeflow_protocol.enums import RunOutcome, SubmissionStatus
from gradeflow_protocol.messages import CheckResult, ResultPost, RunReport
from tests.db_helpers import add_submission
from tests.unit.api.test_logs import BANNER
from tests.unit.api.web.test_pages import app, client, csrf_of, sign_in  # noqa: F401
from tests.unit.api.web.test_staff_pages import make_instructor
from tests.unit.core.world import TIMING


def _grade(session, sub: Submission, score: float, *, log: str = "fake grader") -> None:
    assert grading.claim(session, submission=sub, attempt=sub.attempt, worker="fake", timing=TIMING) is None
    check = CheckResult(name="answer is 42", score=score, max_score=2.0, passed=score == 2.0)
    post = ResultPost(submission_id=sub.id, attempt=sub.attempt, checks=[check], log=log,
                      run=RunReport(outcome=RunOutcome.COMPLETED, wall_seconds=0.1))
    assert grading.record_result(session, submission=sub, post=post)


def make_work(web, plan: list[tuple[str, float | None]], *, log: str = "fake grader") -> list[int]:
    """Student submissions in order: (username, score) graded, (username, None) left queued."""
    ids = []
    with web.state.session_factory() as session:
        version = session.query(AssignmentVersion).first()
        blob = web.state.blobs.put(b"answer = 42\n")
        for name, score in plan:
            sub = add_submission(session, user=session.query(User).filter_by(username=name).one(), version=version)
            sub.blob_sha256 = blob
            if score is not None:
                _grade(session, sub, score, log=log)
            ids.append(sub.id)
        session.commit()
    return ids


def test_the_ta_desk_on_a_graded_submission(client, app):  # noqa: F811
    ids = make_work(app, [("alice", 0.0), ("bob", 2.0), ("alice", 2.0), ("bob", None)])
    sign_in(client, "tina")
    page = client.get(f"/submissions/{ids[2]}").text
    assert f'href="/submissions/{ids[3]}" rel="prev"' in page and f'href="/submissions/{ids[1]}" rel="next"' in page
    assert f'action="/submissions/{ids[2]}/regrade"' in page and 'action="/assignments/1/overrides"' in page
    others = page[page.index('id="other-submissions"'):]
    assert f'href="/submissions/{ids[0]}"' in others[:600] and f'href="/submissions/{ids[1]}"' not in others[:600]
    first = client.get(f"/submissions/{ids[3]}").text  # the newest: no previous; still queued: no regrade yet
    assert 'rel="prev"' not in first and "regrade it once it is done" in first
    client.cookies.clear()
    sign_in(client, "alice")
    assert 'id="desk"' not in client.get(f"/submissions/{ids[2]}").text


def test_regrading_one_submission_queues_a_new_attempt(client, app):  # noqa: F811
    [sid] = make_work(app, [("alice", 0.0)])
    sign_in(client, "tina")
    token = csrf_of(client.get(f"/submissions/{sid}").text)
    assert client.post(f"/submissions/{sid}/regrade").status_code == 403  # no CSRF token
    r = client.post(f"/submissions/{sid}/regrade", data={"csrf_token": token})
    assert r.status_code == 303 and r.headers["location"] == f"/submissions/{sid}?regraded=1"
    with app.state.session_factory() as session:
        sub = session.get(Submission, sid)
        assert (sub.status, sub.attempt) == (SubmissionStatus.QUEUED, 2)
    assert [task.submission_id for task, _ in app.state.enqueuer.sent] == [sid]
    assert "Sent to be graded again" in client.get(r.headers["location"]).text
    again = client.post(f"/submissions/{sid}/regrade", data={"csrf_token": token})
    assert again.status_code == 409 and "still queued" in again.text
    client.cookies.clear()
    sign_in(client, "alice")
    token = csrf_of(client.get(f"/submissions/{sid}").text)
    assert client.post(f"/submissions/{sid}/regrade", data={"csrf_token": token}).status_code == 403


def test_a_manual_score_from_the_submission_page_comes_back_to_it(client, app):  # noqa: F811
    [sid] = make_work(app, [("alice", 0.0)])
    sign_in(client, "tina")
    token = csrf_of(client.get(f"/submissions/{sid}").text)
    form = {"csrf_token": token, "username": "alice", "score": "1.5", "reason": "graded by hand", "back": str(sid)}
    r = client.post("/assignments/1/overrides", data=form)
    assert r.status_code == 303 and r.headers["location"] == f"/submissions/{sid}?saved=score#desk"
    page = client.get(f"/submissions/{sid}?saved=score").text
    assert "Manual score recorded for alice" in page and "A manual score of 1.5 is in force" in page
    r = client.post("/assignments/1/overrides", data=form | {"username": "bob", "back": str(sid)})
    assert r.headers["location"] == "/assignments/1/overrides?saved=1"  # not bob's submission: the log page
    assert 'value="alice"' in client.get("/assignments/1/overrides?username=alice").text


def test_the_staff_course_page_shows_the_courses_numbers(client, app):  # noqa: F811
    make_work(app, [("alice", 2.0), ("bob", 0.0)])
    sign_in(client, "tina")
    page = client.get("/courses/1").text
    table = page[page.index('id="course-stats"'):]
    assert "Your score" not in page and "2 of 2 students" in table and "Mean score" in table
    assert re.search(r'data-label="Failing">(<a [^>]*>)?1<', table) and "1 / 2" in table  # mean 1 of 2 points
    client.cookies.clear()
    sign_in(client, "alice")
    assert "Your score" in client.get("/courses/1").text


def test_the_submission_list_is_paged_and_keeps_its_filters(client, app):  # noqa: F811
    make_work(app, [("alice", None)] * 51 + [("bob", None)] * 2)
    sign_in(client, "tina")
    page = client.get("/courses/1/submissions").text
    assert "53 submissions" in page and "page 1 of 2" in page
    assert 'href="/courses/1/submissions?page=2" rel="next"' in page
    filtered = client.get("/courses/1/submissions?student=alice&status=queued").text
    assert "51 submissions match" in filtered
    assert 'href="/courses/1/submissions?student=alice&amp;status=queued&amp;page=2"' in filtered
    last = client.get("/courses/1/submissions?student=alice&status=queued&page=2").text
    assert "page 2 of 2" in last and last.count('data-label="#"') == 1
    one = client.get("/courses/1/submissions?student=bob&status=queued&assignment=1").text
    assert "2 submissions match" in one and "page 1 of" not in one
    none = client.get("/courses/1/submissions?student=nobody").text
    assert "No submissions match these filters" in none and 'href="/courses/1/submissions">Clear the filters' in none
    bad = client.get("/courses/1/submissions?page=two")
    assert bad.status_code == 400 and "not a page number" in bad.text


def test_a_pending_regrade_row_says_pending_not_the_old_score(client, app):  # noqa: F811
    make_work(app, [("alice", 1.5)])
    sign_in(client, "tina")
    versions = client.get("/assignments/1/versions").text
    action = re.search(r'action="(/assignments/1/versions/\d+/regrade)"', versions).group(1)
    r = client.post(action, data={"csrf_token": csrf_of(versions)})
    assert r.status_code == 303, r.text
    row = re.search(r"<tr[^>]*>\s*<td data-label=\"Student\">alice.*?</tr>", client.get(r.headers["location"]).text,
                    re.S).group(0)
    assert re.search(r'data-label="After"><span class="muted">pending</span>', row)
    assert re.search(r'data-label="Before">1.5<', row) and 'data-label="After">1.5' not in row
    assert '<span class="big">1</span> student</div>' in client.get(r.headers["location"]).text  # singular


def test_revoking_an_extension_asks_first_and_says_it_was_done(client, app):  # noqa: F811
    make_instructor(app)
    sign_in(client, "ivy")
    token = csrf_of(client.get("/assignments/1/policy").text)
    saved = client.post("/assignments/1/policy", data={"csrf_token": token, "due_at": "2030-01-15T18:00"})
    granted = client.post("/assignments/1/extensions", data={"csrf_token": token, "username": "alice",
                                                             "due_at": "2030-02-01T00:00", "reason": "ill"})
    assert saved.status_code == granted.status_code == 303
    page = client.get("/assignments/1/policy").text
    confirm = page[page.index('<details class="confirm"'):]
    assert "Revoke alice's extension?" in confirm and "Yes, revoke" in confirm[:confirm.index("</details>")]
    r = client.post("/assignments/1/extensions/alice/revoke", data={"csrf_token": token})
    assert r.status_code == 303 and r.headers["location"] == "/assignments/1/policy?revoked=alice#extensions"
    after = client.get("/assignments/1/policy?revoked=alice").text
    assert "Extension revoked for alice" in after and "No extensions." in after
    again = client.post("/assignments/1/extensions/alice/revoke", data={"csrf_token": token})
    assert again.status_code == 404 and "has no extension on this assignment" in again.text


def test_the_current_page_is_marked_in_the_navigation(client):  # noqa: F811
    sign_in(client, "tina")
    page = client.get("/courses/1/gradebook").text
    assert re.findall(r'<a [^>]*aria-current="page"[^>]*>([^<]*)<', page) == ["Gradebook"]
    assert re.findall(r'<a [^>]*aria-current="page"[^>]*>([^<]*)<', client.get("/courses/1").text) == ["Course"]


def test_the_staff_log_leaves_out_the_kernel_banner(client, app):  # noqa: F811
    [sid] = make_work(app, [("alice", 2.0)], log=f"seed: 7\n--- sandbox log ---\n{BANNER}kernel died\n")
    sign_in(client, "tina")
    page = client.get(f"/submissions/{sid}").text
    assert "Ctrl-C will not work" not in page and "kernel died" in page and "--- sandbox log ---" in page
