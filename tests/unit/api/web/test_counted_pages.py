"""The student's pages say which submission counts, warn before an upload replaces a counted score, let a student
choose under policy `chosen` (refused past their deadline), page long lists, and keep the live status honest
without JavaScript."""
from __future__ import annotations

import re
from datetime import timedelta

from gradeflow_core.deadlines import PolicySettings, grant_extension, save_policy
from gradeflow_core.models import Assignment, Submission, User, utcnow
from gradeflow_protocol.enums import CountedSubmission, SubmissionKind

from tests.unit.api.web.test_pages import app, client, csrf_of, sign_in  # noqa: F401 (fixtures)
from tests.unit.core.world import grade_now


def add(app, username: str, *, score: float | None, minutes_ago: int = 0) -> int:
    """A stored upload by `username`, graded with `score` out of 2 (None: still queued)."""
    with app.state.session_factory() as session:
        user = session.query(User).filter_by(username=username).one()
        assignment = session.query(Assignment).one()
        sha = app.state.blobs.put(b"answer = 42\n")
        sub = Submission(user_id=user.id, assignment_id=assignment.id, version_id=assignment.current_version_id,
                         filename="a.py", kind=SubmissionKind.SCRIPT, blob_sha256=sha, size=12)
        sub.created_at = sub.queued_at = utcnow() - timedelta(minutes=minutes_ago)
        session.add(sub)
        session.flush()
        if score is not None:
            grade_now(session, sub, score)
        session.commit()
        return sub.id


def set_policy(app, *, due_in: timedelta | None = None, counted=CountedSubmission.LAST, extend: timedelta | None = None):
    with app.state.session_factory() as session:
        assignment = session.query(Assignment).one()
        tina = session.query(User).filter_by(username="tina").one()
        due = utcnow() + due_in if due_in is not None else None
        save_policy(session, assignment=assignment, user=tina, settings=PolicySettings(due_at=due, counted=counted))
        if extend is not None:
            alice = session.query(User).filter_by(username="alice").one()
            grant_extension(session, assignment=assignment, student=alice, due_at=due + extend, reason="ill",
                            granted_by=tina)
        session.commit()
        return assignment.id


def counted_rows(html: str) -> list[str]:
    """The submission ids whose row carries the 'counts' mark."""
    return re.findall(r'<tr>\s*<td data-label="#"><a href="/submissions/(\d+)">(?:(?!</tr>).)*badge counted', html,
                      flags=re.DOTALL)


def test_the_assignment_page_says_the_rule_marks_the_counted_one_and_warns_before_replacing_it(app, client):
    aid = set_policy(app)
    good = add(app, "alice", score=2, minutes_ago=5)
    sign_in(client, "alice")
    html = client.get(f"/assignments/{aid}").text
    assert "Your last graded submission counts." in html
    assert "Uploading replaces your counted score of 2 / 2 even if the new one is lower." in html
    assert "data-confirm-replace" in html and "data-confirm-panel" in html
    assert counted_rows(html) == [str(good)]
    broken = add(app, "alice", score=0)
    html = client.get(f"/assignments/{aid}").text
    assert counted_rows(html) == [str(broken)]  # the broken one counts now: the page says so
    assert "Uploading replaces" not in html  # a score of 0 has nothing to lose
    assert counted_rows(client.get("/history").text) == [str(broken)]


def test_best_needs_no_warning(app, client):
    aid = set_policy(app, counted=CountedSubmission.BEST)
    good = add(app, "alice", score=2, minutes_ago=5)
    add(app, "alice", score=0)
    sign_in(client, "alice")
    html = client.get(f"/assignments/{aid}").text
    assert "Your best score counts (after late penalties)." in html and "Uploading replaces" not in html
    assert counted_rows(html) == [str(good)]


def test_the_submission_page_says_whether_it_counts(app, client):
    set_policy(app)
    good = add(app, "alice", score=2, minutes_ago=5)
    broken = add(app, "alice", score=0)
    sign_in(client, "alice")
    assert "This is the submission that counts." in client.get(f"/submissions/{broken}").text
    assert f"Not counted: your submission #{broken} counts." in client.get(f"/submissions/{good}").text
    assert "pick-form" not in client.get(f"/submissions/{good}").text  # nothing to choose under `last`


def test_a_student_chooses_the_submission_that_counts_before_the_deadline(app, client):
    aid = set_policy(app, due_in=timedelta(days=1), counted=CountedSubmission.CHOSEN)
    good = add(app, "alice", score=2, minutes_ago=5)
    broken = add(app, "alice", score=0)
    sign_in(client, "alice")
    html = client.get(f"/assignments/{aid}").text
    assert "The submission you choose counts; until you choose, your last graded one." in html
    page = client.get(f"/submissions/{good}").text
    assert 'id="pick-form"' in page
    r = client.post(f"/submissions/{good}/pick", data={"csrf_token": csrf_of(page)})
    assert r.status_code == 303 and r.headers["location"].startswith(f"/submissions/{good}?picked=1")
    assert "This is the submission that counts." in client.get(f"/submissions/{good}").text
    html = client.get(f"/assignments/{aid}").text
    assert counted_rows(html) == [str(good)] and "2 / 2" in html
    assert client.post(f"/submissions/{broken}/pick").status_code == 403  # no CSRF token: refused


def test_a_pick_after_the_deadline_is_refused_with_a_message(app, client):
    set_policy(app, due_in=-timedelta(hours=1), counted=CountedSubmission.CHOSEN)
    good = add(app, "alice", score=2, minutes_ago=120)
    add(app, "alice", score=0, minutes_ago=90)
    sign_in(client, "alice")
    page = client.get(f"/submissions/{good}").text
    assert 'id="pick-form"' not in page and "Choosing closed at" in page
    r = client.post(f"/submissions/{good}/pick", data={"csrf_token": csrf_of(page)})
    assert r.status_code == 403 and "Choosing closed at" in r.text and 'id="pick-error"' in r.text


def test_the_students_extension_keeps_choosing_open(app, client):
    set_policy(app, due_in=-timedelta(hours=1), counted=CountedSubmission.CHOSEN, extend=timedelta(days=2))
    good = add(app, "alice", score=2, minutes_ago=120)
    add(app, "alice", score=0, minutes_ago=90)
    sign_in(client, "alice")
    page = client.get(f"/submissions/{good}").text
    assert client.post(f"/submissions/{good}/pick", data={"csrf_token": csrf_of(page)}).status_code == 303


def test_no_one_chooses_another_students_submission_or_an_ungraded_one(app, client):
    set_policy(app, due_in=timedelta(days=1), counted=CountedSubmission.CHOSEN)
    waiting = add(app, "alice", score=None)
    sign_in(client, "alice")
    page = client.get(f"/submissions/{waiting}").text
    r = client.post(f"/submissions/{waiting}/pick", data={"csrf_token": csrf_of(page)})
    assert r.status_code == 409 and "Only a graded submission can count" in r.text
    theirs = add(app, "bob", score=2)
    assert client.post(f"/submissions/{theirs}/pick", data={"csrf_token": csrf_of(page)}).status_code == 404


def test_long_lists_are_paged(app, client):
    aid = set_policy(app)
    ids = [add(app, "alice", score=1, minutes_ago=100 - i) for i in range(25)]
    sign_in(client, "alice")
    first = client.get("/history").text
    assert "page 1 of 2" in first and 'href="?page=2"' in first and "Older" in first
    assert f'/submissions/{ids[-1]}"' in first and f'/submissions/{ids[0]}"' not in first  # newest first
    second = client.get("/history?page=2").text
    assert "page 2 of 2" in second and "Newer" in second and f'/submissions/{ids[0]}"' in second
    assert len(re.findall(r'<td data-label="#">', second)) == 5
    assignment = client.get(f"/assignments/{aid}?page=2").text
    assert "page 2 of 2" in assignment and 'href="?page=1#history-h"' in assignment
    assert client.get("/history?page=0").status_code == 400
    assert "not a page number" in client.get("/history?page=abc").text


def test_the_status_page_promises_updates_only_where_javascript_runs(app, client):
    queued = add(app, "alice", score=None)
    graded = add(app, "alice", score=2)
    sign_in(client, "alice")
    page = client.get(f"/submissions/{queued}").text
    assert '<p class="muted" data-live-note hidden>This page updates by itself.</p>' in page
    assert "<noscript><p class=\"muted\">Reload the page to see the result.</p></noscript>" in page
    assert 'id="live" aria-live' not in page  # the swapped block is not a live region
    assert re.search(r'<p id="status-said"[^>]*aria-live="polite"', page)
    done = client.get(f"/submissions/{graded}").text
    assert "<title>Graded 2/2 · Submission" in done and 'data-score-text="2/2"' in done
