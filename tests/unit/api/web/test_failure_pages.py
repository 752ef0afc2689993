"""A failed run on the submission page (fake queue, a result stored as a worker would post it): the failure said once
at the top with its traceback open, the checks it blocked under one collapsed line, values in monospace; an old
result without the new fields renders as before."""
import re

from markupsafe import escape

from gradeflow_core import grading
from gradeflow_core.models import AssignmentVersion, Submission, User
from gradeflow_protocol.enums import RunFailureKind, RunOutcome
from gradeflow_protocol.messages import CheckResult, ResultPost, RunFailure, RunReport
from tests.db_helpers import add_submission
from tests.unit.api.web.test_pages import app, client, sign_in  # noqa: F401
from tests.unit.core.world import TIMING

FAILURE = RunFailure(kind=RunFailureKind.SYNTAX_ERROR, filename="my_theta.py", line=7, ename="SyntaxError",
                     message="expected ':'", traceback='  File "my_theta.py", line 7\n    def f(x)\n'
                                                        "            ^\nSyntaxError: expected ':'")
SAID = "Your file my_theta.py has a syntax error at line 7: expected ':'. Python could not read the file."


def graded(app, checks: list[CheckResult], run: RunReport) -> int:
    with app.state.session_factory() as session:
        version = session.query(AssignmentVersion).first()
        sub: Submission = add_submission(session, user=session.query(User).filter_by(username="alice").one(),
                                         version=version)
        sub.blob_sha256 = app.state.blobs.put(b"def f(x)\n")
        assert grading.claim(session, submission=sub, attempt=sub.attempt, worker="fake", timing=TIMING) is None
        post = ResultPost(submission_id=sub.id, attempt=sub.attempt, checks=checks, run=run)
        assert grading.record_result(session, submission=sub, post=post)
        session.commit()
        return sub.id


def blocked(name: str) -> CheckResult:
    return CheckResult(name=name, score=0, max_score=1, passed=False, blocked=True,
                       message="Your code raised NameError: name 'theta_method' is not defined")


def test_the_failure_is_said_once_at_the_top_and_the_blocked_checks_are_one_line(app, client):
    wrong = CheckResult(name="values", score=0, max_score=2, passed=False,
                        message="y at index (88, 1): expected 1.234, got 1.891 (off by 0.657)")
    sid = graded(app, [wrong, blocked("shape"), blocked("order")],
                 RunReport(outcome=RunOutcome.COMPLETED, wall_seconds=1, message=SAID, failure=FAILURE))
    sign_in(client, "alice")
    html = client.get(f"/submissions/{sid}/status").text
    assert html.count(str(escape(SAID))) == 1
    assert html.index('class="failure" data-failure') < html.index("data-score>") < html.index('class="checks"')
    assert re.search(r'<pre class="traceback"[^>]*>  File &#34;my_theta.py&#34;, line 7', html), html
    summary = re.search(r'<details class="blocked">\s*<summary>([^<]*)</summary>', html)
    assert summary and summary.group(1) == "2 checks could not run because your code stopped at line 7."
    assert html.count("theta_method&#39;</code> is not defined") == 2  # inside the collapsed group only
    assert html.index("values") < html.index('<details class="blocked">') < html.index("shape")
    assert '<code class="value">1.234</code>, got <code class="value">1.891</code>' in html
    assert "ran to the end" not in html


def test_the_api_gives_the_failure_as_data(app, client):
    sid = graded(app, [blocked("shape")],
                 RunReport(outcome=RunOutcome.COMPLETED, wall_seconds=1, message=SAID, failure=FAILURE))
    sign_in(client, "alice")
    token = client.post("/api/v1/auth/token", data={"username": "alice", "password": "pw-alice"}).json()
    body = client.get(f"/api/v1/submissions/{sid}", headers={"Authorization": f"Bearer {token['access_token']}"}).json()
    assert body["run"]["failure"]["line"] == 7 and body["run"]["failure"]["filename"] == "my_theta.py"
    assert body["checks"][0]["blocked"] is True and body["run"]["blocked_text"].startswith("1 check could not run")


def test_an_old_result_renders_as_before(app, client):
    plain = CheckResult(name="answer", score=0, max_score=1, passed=False, message="expected 42, got 41")
    sid = graded(app, [plain], RunReport(outcome=RunOutcome.COMPLETED, wall_seconds=1, message="Your code ran."))
    sign_in(client, "alice")
    html = client.get(f"/submissions/{sid}/status").text
    assert "data-failure" not in html and "details class=\"blocked\"" not in html
    assert 'class="run-message muted">Your code ran.</p>' in html and 'class="check fail"' in html
