"""Reports graded with a rubric: questions from assignment.toml, scores computed from the items as they are now
(clamped per question), edits that change every submission, progress, release, and the gradebook's sum."""
from __future__ import annotations

import csv
import io

import pytest

from gradeflow_core import grading
from gradeflow_core.gradebook import build_gradebook, cell_for
from gradeflow_core.gradebook_export import to_csv
from gradeflow_core.models import Assignment, RubricQuestion, Submission, Team, TeamMembership
from gradeflow_core.publishing import publish_folder
from gradeflow_core.rubric import (RubricError, add_item, delete_item, edit_item, grade_question, live_items,
                                   question_score, questions, rubric_for)
from gradeflow_core.rubric_grades import graded_reports, is_released, progress, release, unrelease
from gradeflow_protocol.enums import RunOutcome, SubmissionKind
from gradeflow_protocol.messages import CheckResult, ResultPost, RunReport
from tests.db_helpers import CHECKS
from tests.unit.core.world import TIMING, grade_now

REPORT_TOML = """id = "essay"
title = "Essay with code"
kind = "report"
points = 12
accepts = [".pdf", ".py"]

[[report.questions]]
title = "Method"
points = 4
items = [{ points = 4, text = "Complete" }, { points = 2, text = "Partial" }, { points = -1, text = "No figure" }]

[[report.questions]]
title = "Results"
points = 6
items = [{ points = 6, text = "All results" }, { points = 3, text = "Some results" }]
"""


def publish_report(session, blobs, world, tmp_path, toml: str = REPORT_TOML) -> Assignment:
    folder = tmp_path / "essay"
    (folder / "checks").mkdir(parents=True, exist_ok=True)
    (folder / "assignment.toml").write_text(toml)
    (folder / "checks" / "checks.py").write_text(CHECKS)
    version = publish_folder(session, blobs, course=world.course, folder=folder)
    return session.get(Assignment, version.assignment_id)


def upload(session, assignment, user, *, kind=SubmissionKind.REPORT, team_id=None) -> Submission:
    sub = Submission(user_id=user.id, assignment_id=assignment.id, version_id=assignment.current_version_id,
                     filename="r.pdf" if kind is SubmissionKind.REPORT else "a.py", kind=kind, blob_sha256="0" * 64,
                     size=1, seed=1, team_id=team_id)
    session.add(sub)
    session.flush()
    return sub


def received(session, sub: Submission) -> Submission:
    """The worker's verdict on a PDF: one 0-point check."""
    assert grading.claim(session, submission=sub, attempt=sub.attempt, worker="fake", timing=TIMING) is None
    post = ResultPost(submission_id=sub.id, attempt=sub.attempt, run=RunReport(outcome=RunOutcome.COMPLETED,
                                                                               wall_seconds=0.1),
                      checks=[CheckResult(name="Report received: 3 pages", score=0, max_score=0, passed=True)])
    assert grading.record_result(session, submission=sub, post=post)
    session.flush()
    return sub


def items_of(session, question: RubricQuestion) -> dict[str, int]:
    return {i.text: i.id for i in live_items(session, [question.id])}


def test_question_score_is_clamped_to_zero_and_the_questions_points():
    assert question_score([4, 2], adjustment=0, points=4) == 4
    assert question_score([-1], adjustment=-2, points=4) == 0
    assert question_score([2, -1], adjustment=0.5, points=4) == 1.5


def test_publishing_creates_the_questions_once_and_adds_missing_ones_by_title(staff_db, tmp_path):
    session, blobs, world = staff_db
    assignment = publish_report(session, blobs, world, tmp_path)
    method, results = questions(session, assignment.id)
    assert (method.title, method.points, results.title) == ("Method", 4, "Results")
    assert list(items_of(session, method)) == ["Complete", "Partial", "No figure"]
    add_item(session, question=method, points=1, text="Staff's own item")
    grade_question(session, submission=received(session, upload(session, assignment, world.users["alice"])),
                   question=results, item_ids=[], comment="", adjustment=0, grader=world.users["tina"])
    toml = REPORT_TOML.replace('title = "Results"', 'title = "Discussion"') + \
        '\n[[report.questions]]\ntitle = "Writing"\npoints = 2\n'
    publish_report(session, blobs, world, tmp_path, toml.replace("points = 12", "points = 14"))
    titles = [q.title for q in questions(session, assignment.id)]
    assert titles == ["Method", "Results", "Discussion", "Writing"]  # Results: dropped from the config, but graded
    assert "Staff's own item" in items_of(session, method)  # staff's edits are kept
    publish_report(session, blobs, world, tmp_path, REPORT_TOML)  # back: Discussion and Writing were never graded
    assert {q.title for q in questions(session, assignment.id)} == {"Method", "Results"}


def test_scores_follow_items_edits_and_clamps_for_every_submission(staff_db, tmp_path):
    session, blobs, world = staff_db
    assignment = publish_report(session, blobs, world, tmp_path)
    method, _ = questions(session, assignment.id)
    ids = items_of(session, method)
    tina = world.users["tina"]
    a = received(session, upload(session, assignment, world.users["alice"]))
    b = received(session, upload(session, assignment, world.users["bob"]))
    grade_question(session, submission=a, question=method, item_ids=[ids["Partial"]], comment="ok", adjustment=0.5,
                   grader=tina)
    grade_question(session, submission=b, question=method, item_ids=[ids["Partial"], ids["No figure"]],
                   comment="", adjustment=0, grader=tina)
    assert (rubric_for(session, submission=a).score, rubric_for(session, submission=b).score) == (2.5, 1)
    partial = next(i for i in live_items(session, [method.id]) if i.text == "Partial")
    assert edit_item(session, item=partial, points=3) == 2  # applied to both: both change
    assert (rubric_for(session, submission=a).score, rubric_for(session, submission=b).score) == (3.5, 2)
    edit_item(session, item=partial, points=10)  # clamped to the question's 4
    assert rubric_for(session, submission=a).score == 4
    grade_question(session, submission=a, question=method, item_ids=[ids["No figure"]], comment="", adjustment=-5,
                   grader=tina)  # unapplies Partial; clamped at 0
    graded = rubric_for(session, submission=a)
    assert graded.score == 0 and [i.applied for i in graded.questions[0].items] == [False, False, True]
    assert delete_item(session, item=partial) == 1 and rubric_for(session, submission=b).score == 0  # b: -1 only
    assert not graded.complete and graded.max_score == 10


def test_bad_grading_input_is_refused_with_the_fix(staff_db, tmp_path):
    session, blobs, world = staff_db
    assignment = publish_report(session, blobs, world, tmp_path)
    method, results = questions(session, assignment.id)
    a = received(session, upload(session, assignment, world.users["alice"]))
    other = items_of(session, results)["All results"]
    with pytest.raises(RubricError, match="not items of \"Method\""):
        grade_question(session, submission=a, question=method, item_ids=[other], comment="", adjustment=0,
                       grader=world.users["tina"])
    with pytest.raises(RubricError, match="needs a text"):
        add_item(session, question=method, points=1, text="  ")
    code = upload(session, assignment, world.users["alice"], kind=SubmissionKind.SCRIPT)
    with pytest.raises(RubricError, match="Only a report"):
        grade_question(session, submission=code, question=method, item_ids=[], comment="", adjustment=0,
                       grader=world.users["tina"])


def test_progress_counts_the_latest_report_per_student_or_team(staff_db, tmp_path):
    session, blobs, world = staff_db
    assignment = publish_report(session, blobs, world, tmp_path)
    method, results = questions(session, assignment.id)
    team = Team(course_id=world.course.id, name="T")
    session.add(team)
    session.flush()
    for name in ("alice", "bob"):
        session.add(TeamMembership(team_id=team.id, user_id=world.users[name].id))
    session.flush()
    received(session, upload(session, assignment, world.users["alice"], team_id=team.id))
    latest_team = received(session, upload(session, assignment, world.users["bob"], team_id=team.id))
    carol = received(session, upload(session, assignment, world.users["carol"]))
    upload(session, assignment, world.users["carol"])  # still queued: not graded, not counted
    assert [s.id for s in graded_reports(session, assignment.id)] == [latest_team.id, carol.id]
    start = progress(session, assignment.id)
    assert (start.graded, start.total, start.next_ungraded) == (0, 2, latest_team.id)
    for question in (method, results):
        grade_question(session, submission=latest_team, question=question, item_ids=[], comment="", adjustment=1,
                       grader=world.users["tina"])
    after = progress(session, assignment.id, after=latest_team.id)
    assert (after.graded, after.total, after.next_ungraded) == (1, 2, carol.id)


def test_release_puts_the_rubric_in_the_gradebook_beside_the_autograded_part(staff_db, tmp_path):
    session, blobs, world = staff_db
    assignment = publish_report(session, blobs, world, tmp_path)
    method, results = questions(session, assignment.id)
    alice = world.users["alice"]
    grade_now(session, upload(session, assignment, alice, kind=SubmissionKind.SCRIPT), 2)  # the code: 2 points
    report = received(session, upload(session, assignment, alice))
    grade_question(session, submission=report, question=method, item_ids=[items_of(session, method)["Complete"]],
                   comment="", adjustment=0, grader=world.users["tina"])
    grade_question(session, submission=report, question=results,
                   item_ids=[items_of(session, results)["Some results"]], comment="figures", adjustment=0.5,
                   grader=world.users["tina"])
    before = cell_for(session, assignment=assignment, student=alice)
    assert (before.raw, before.rubric, before.rubric_pending, before.final) == (2, None, True, 2)  # report's 0 not counted
    release(session, assignment=assignment, by=world.users["tina"])
    assert is_released(session, assignment.id)
    after = cell_for(session, assignment=assignment, student=alice)
    assert (after.rubric, after.rubric_pending, after.final) == (7.5, False, 9.5)
    rows = list(csv.reader(io.StringIO(to_csv(build_gradebook(session, world.course)))))
    alice_row = next(r for r in rows if r[0] == "alice")
    assert alice_row[rows[0].index("essay")] == "9.5"
    unrelease(session, assignment=assignment)
    assert cell_for(session, assignment=assignment, student=alice).final == 2
