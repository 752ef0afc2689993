"""The gradebook and its exports, checked cell by cell."""
from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from gradeflow_core.deadlines import PolicySettings, grant_extension, save_policy
from gradeflow_protocol.enums import CountedSubmission
from gradeflow_core.gradebook import build_gradebook, cell_for, make_cell
from gradeflow_core.gradebook_export import points, to_canvas, to_csv
from gradeflow_core.models import Assignment
from gradeflow_core.overrides import record_override
from gradeflow_core.policy import Graded, Policy
from tests.unit.core.world import grade_now, submit

DUE = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def prepare(session, world):
    """alice: on time 2/2; bob: 2/2 two days late (-20%), then overridden to 1.5; carol: nothing.
    A second assignment 'extra' (published, nobody submitted) makes two columns."""
    assignment = session.get(Assignment, world.assignment_id)
    save_policy(session, assignment=assignment, user=world.users["prof"],
                settings=PolicySettings(due_at=DUE, penalty_percent_per_day=10, penalty_cap_percent=50))
    grade_now(session, submit(session, world, "alice", when=DUE - DAY), 2)
    grade_now(session, submit(session, world, "bob", when=DUE + DAY + timedelta(hours=1)), 2)
    extra = Assignment(course_id=world.course.id, slug="extra", title="Extra, with a comma", kind="script",
                       max_score=3, current_version_id=world.version.id)
    session.add(extra)
    session.flush()
    return assignment, extra


def test_json_model_applies_penalties_overrides_and_totals(any_db):
    session, _, world = any_db
    assignment, _ = prepare(session, world)
    record_override(session, assignment=assignment, student=world.users["carol"], score=1.5, reason="oral exam",
                    author=world.users["prof"], previous=None)
    book = build_gradebook(session, world.course)
    assert [c.slug for c in book.columns] == ["toy", "extra"] and book.max_total == 5
    assert [r.username for r in book.rows] == ["alice", "bob", "carol"]  # by section, then username
    alice, bob, carol = book.rows
    assert (alice.cells["toy"].raw, alice.cells["toy"].final, alice.total) == (2, 2, 2)
    assert (bob.cells["toy"].days_late, bob.cells["toy"].penalty_percent, bob.cells["toy"].final) == (2, 20, 1.6)
    assert carol.cells["toy"].raw is None and carol.cells["toy"].final == 1.5
    assert carol.cells["toy"].override_reason == "oral exam"
    assert bob.cells["extra"].final is None and bob.total == 1.6
    assert book.columns[0].due_at == DUE


def test_csv_export_cell_by_cell(staff_db):
    session, _, world = staff_db
    assignment, _ = prepare(session, world)
    record_override(session, assignment=assignment, student=world.users["bob"], score=1.5, reason="regrade request",
                    author=world.users["tina"], previous=1.6)
    assert rows(to_csv(build_gradebook(session, world.course))) == [
        ["username", "name", "email", "sis_id", "section",
         "toy", "toy raw", "toy late days", "toy penalty %", "toy override",
         "extra", "extra raw", "extra late days", "extra penalty %", "extra override", "total"],
        ["alice", "Alice", "alice@uni.example", "", "A", "2", "2", "0", "0", "", "", "", "", "", "", "2"],
        ["bob", "Bob", "bob@uni.example", "", "A", "1.5", "2", "2", "20", "1.5", "", "", "", "", "", "1.5"],
        ["carol", "Carol", "carol@uni.example", "", "B", "", "", "", "", "", "", "", "", "", "", "0"],
    ]


def test_canvas_export_cell_by_cell(staff_db):
    session, _, world = staff_db
    prepare(session, world)
    world.users["alice"].sis_id = "S-001"
    session.flush()
    assert rows(to_canvas(build_gradebook(session, world.course))) == [
        ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Toy", "Extra, with a comma", "Final Points"],
        ["    Points Possible", "", "", "", "", "2", "3", "(read only)"],
        ["Alice", "", "S-001", "alice", "A", "2", "", "2"],
        ["Bob", "", "", "bob", "A", "1.6", "", "1.6"],
        ["Carol", "", "", "carol", "B", "", "", "0"],
    ]


def test_canvas_names_duplicate_titles_apart(staff_db):
    session, _, world = staff_db
    _, extra = prepare(session, world)
    extra.title = "Toy"
    session.flush()
    header = rows(to_canvas(build_gradebook(session, world.course)))[0]
    assert header[5:7] == ["Toy [toy]", "Toy [extra]"]


def test_students_only_and_only_their_own_uploads(staff_db):
    session, _, world = staff_db
    grade_now(session, submit(session, world, "tina"), 2)  # a TA's trial upload is not a student's grade
    book = build_gradebook(session, world.course)
    assert "tina" not in [r.username for r in book.rows] and "olga" not in [r.username for r in book.rows]
    assert all(r.cells["toy"].raw is None for r in book.rows)


def test_extension_removes_the_penalty(staff_db):
    session, _, world = staff_db
    assignment, _ = prepare(session, world)
    grant_extension(session, assignment=assignment, student=world.users["bob"], due_at=DUE + 3 * DAY, reason="ill",
                    granted_by=world.users["prof"])
    assert cell_for(session, assignment=assignment, student=world.users["bob"]).final == 2


def test_best_policy_and_pending_work(staff_db):
    session, _, world = staff_db
    assignment, _ = prepare(session, world)
    save_policy(session, assignment=assignment, user=world.users["prof"],
                settings=PolicySettings(due_at=DUE, counted=CountedSubmission.BEST))
    grade_now(session, submit(session, world, "alice", when=DUE - timedelta(hours=1)), 1)
    submit(session, world, "alice")  # still queued
    cell = cell_for(session, assignment=assignment, student=world.users["alice"])
    assert cell.final == 2 and cell.submissions == 2 and cell.pending


def test_make_cell_is_pure():
    cell = make_cell(Policy(), [Graded(1, DUE, 1.25)], extension=None, override=None, pending=False)
    assert (cell.submission_id, cell.raw, cell.final, cell.days_late) == (1, 1.25, 1.25, 0)


@pytest.mark.parametrize(("value", "text"), [(None, ""), (0, "0"), (0.0, "0"), (10, "10"), (4.5, "4.5"),
                                             (1.6000000001, "1.6"), (3.333333, "3.33"), (2.005, "2"), (-0.001, "0")])
def test_points_formatting(value, text):
    assert points(value) == text
