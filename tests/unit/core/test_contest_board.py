"""Contest boards from the database: owners, picks (two each), the hidden private board, the reveal after the
close, and the gradebook fed by rank or thresholds."""
from __future__ import annotations

from datetime import timedelta

import pytest

from gradeflow_core import grading
from gradeflow_core.contest_actions import contest_points, hide, pick, reveal, standing, unpick
from gradeflow_core.contest_board import ContestRefused, board_view
from gradeflow_core.deadlines import PolicySettings, grant_extension, revoke_extension, save_policy
from gradeflow_core.gradebook import build_gradebook
from gradeflow_core.models import Assignment, Team, TeamMembership, utcnow
from gradeflow_protocol.enums import Board, ContestGrading, ContestMetric, ContestRefusal, RunOutcome
from gradeflow_protocol.messages import CheckResult, ContestResult, ResultPost, RunReport
from tests.unit.core.world import TIMING, submit


def make_contest(session, world, **contest) -> Assignment:
    version = world.version
    version.config = {**version.config, "contest": {"metric": "accuracy", "digits": 3, **contest}}
    assignment = session.get(Assignment, world.assignment_id)
    assignment.max_score = 10.0
    session.flush()
    return assignment


def scored(session, world, user, public, private, *, when=None, problem=""):
    sub = submit(session, world, user, when=when, filename="predictions.csv")
    assert grading.claim(session, submission=sub, attempt=sub.attempt, worker="fake", timing=TIMING) is None
    contest = ContestResult(metric=ContestMetric.ACCURACY, public=public, private=private,
                            private_low=None if private is None else private - 0.05,
                            private_high=None if private is None else private + 0.05, problem=problem)
    check = CheckResult(name="Public score", score=public or 0.0, max_score=1.0, passed=True)
    post = ResultPost(submission_id=sub.id, attempt=sub.attempt, checks=[check],
                      run=RunReport(outcome=RunOutcome.COMPLETED, wall_seconds=0.0), contest=contest)
    assert grading.record_result(session, submission=sub, post=post)
    session.flush()
    return sub


def team(session, world, name, *members):
    row = Team(course_id=world.course.id, name=name)
    session.add(row)
    session.flush()
    for member in members:
        session.add(TeamMembership(team_id=row.id, user_id=world.users[member].id))
    session.flush()
    return row


def close(session, world, *, ago: timedelta = timedelta(hours=1)):
    save_policy(session, assignment=session.get(Assignment, world.assignment_id), user=world.users["prof"],
               settings=PolicySettings(due_at=utcnow() - ago))


def test_the_public_board_ranks_owners_by_best_public_score_and_ties_go_to_the_earlier(staff_db):
    session, _, world = staff_db
    assignment = make_contest(session, world)
    t0 = utcnow() - timedelta(hours=3)
    scored(session, world, "alice", 0.8, 0.9, when=t0)
    scored(session, world, "bob", 0.8, 0.5, when=t0 + timedelta(minutes=5))
    scored(session, world, "carol", 0.6, 0.99, when=t0)
    scored(session, world, "carol", 0.7, 0.99, when=t0 + timedelta(minutes=9))
    view = board_view(session, assignment=assignment, board=Board.PUBLIC, staff=False)
    assert [(r.rank, view.names[r.team], r.score, r.submissions) for r in view.rows] == [
        (1, "alice", 0.8, 1), (2, "bob", 0.8, 1), (3, "carol", 0.7, 2)]


def test_an_unscorable_file_is_void_and_not_on_the_board(staff_db):
    session, _, world = staff_db
    assignment = make_contest(session, world)
    bad = scored(session, world, "alice", None, None, problem="row 3: duplicate id 17")
    assert bad.void
    assert board_view(session, assignment=assignment, board=Board.PUBLIC, staff=False).rows == []


def test_the_private_board_is_hidden_from_students_until_the_reveal_and_only_after_the_close(staff_db):
    session, _, world = staff_db
    assignment = make_contest(session, world)
    scored(session, world, "alice", 0.8, 0.9)
    with pytest.raises(ContestRefused) as hidden:
        board_view(session, assignment=assignment, board=Board.PRIVATE, staff=False)
    assert hidden.value.refusal is ContestRefusal.HIDDEN
    assert board_view(session, assignment=assignment, board=Board.PRIVATE, staff=True).rows[0].score == 0.9
    save_policy(session, assignment=assignment, user=world.users["prof"],
               settings=PolicySettings(due_at=utcnow() + timedelta(days=1)))
    with pytest.raises(ContestRefused) as early:
        reveal(session, assignment=assignment, user=world.users["prof"])
    assert early.value.refusal is ContestRefusal.NOT_CLOSED and "after the contest closes" in early.value.message
    close(session, world)
    reveal(session, assignment=assignment, user=world.users["prof"])
    view = board_view(session, assignment=assignment, board=Board.PRIVATE, staff=False)
    assert view.revealed and view.rows[0].interval == (0.85, 0.95)
    assert hide(session, assignment=assignment)
    with pytest.raises(ContestRefused):
        board_view(session, assignment=assignment, board=Board.PRIVATE, staff=False)


def test_picks_decide_the_private_board_two_at_most_and_only_ones_own(staff_db):
    session, _, world = staff_db
    assignment = make_contest(session, world)
    t0 = utcnow() - timedelta(hours=3)
    best_public = scored(session, world, "alice", 0.9, 0.6, when=t0)
    steady = scored(session, world, "alice", 0.85, 0.8, when=t0 + timedelta(minutes=1))
    third = scored(session, world, "alice", 0.7, 0.7, when=t0 + timedelta(minutes=2))
    bobs = scored(session, world, "bob", 0.5, 0.5, when=t0)
    with pytest.raises(ContestRefused) as other:
        pick(session, submission=bobs, user=world.users["alice"])
    assert other.value.refusal is ContestRefusal.NOT_YOURS
    pick(session, submission=steady, user=world.users["alice"])
    pick(session, submission=third, user=world.users["alice"])
    with pytest.raises(ContestRefused) as many:
        pick(session, submission=best_public, user=world.users["alice"])
    assert many.value.refusal is ContestRefusal.TOO_MANY_PICKS and "unpick one first" in many.value.message
    rows = board_view(session, assignment=assignment, board=Board.PRIVATE, staff=True).rows
    assert rows[0].submission_id == steady.id and rows[0].score == 0.8
    assert unpick(session, submission=steady, user=world.users["alice"])
    rows = board_view(session, assignment=assignment, board=Board.PRIVATE, staff=True).rows
    assert rows[0].submission_id == third.id  # the remaining pick, not the best public one
    mine = standing(session, assignment=assignment, user=world.users["alice"])
    assert mine.rank == 1 and mine.picks == 1 and [e.picked for e in mine.entries] == [True, False, False]


def test_picks_close_with_the_deadline(staff_db):
    session, _, world = staff_db
    assignment = make_contest(session, world)
    sub = scored(session, world, "alice", 0.9, 0.6)
    close(session, world)
    with pytest.raises(ContestRefused) as closed:
        pick(session, submission=sub, user=world.users["alice"])
    assert closed.value.refusal is ContestRefusal.PICKS_CLOSED
    assert closed.value.message.startswith("Final submissions can no longer be changed")
    assert standing(session, assignment=assignment, user=world.users["alice"]).picks == 0


def test_a_team_is_one_entry_and_either_member_may_pick(staff_db):
    session, _, world = staff_db
    assignment = make_contest(session, world)
    crew = team(session, world, "Crew", "alice", "bob")
    first = scored(session, world, "alice", 0.6, 0.6)
    first.team_id = crew.id
    second = scored(session, world, "bob", 0.7, 0.9)
    second.team_id = crew.id
    session.flush()
    view = board_view(session, assignment=assignment, board=Board.PUBLIC, staff=False)
    assert [(view.names[r.team], r.submissions, r.score) for r in view.rows] == [("Crew", 2, 0.7)]
    pick(session, submission=first, user=world.users["bob"])
    with pytest.raises(ContestRefused):
        pick(session, submission=first, user=world.users["carol"])
    mine = standing(session, assignment=assignment, user=world.users["alice"])
    assert {e.sent_by for e in mine.entries} == {"alice", "bob"} and mine.picks == 1


@pytest.mark.parametrize("grading, expected", [
    ({"grading": "rank"}, {"alice": 5.0, "bob": 10.0, "carol": None}),  # private: bob 0.9 first, alice 0.8 last
    ({"grading": "thresholds", "thresholds": [[0.5, 0.3], [0.85, 0.9]]}, {"alice": 3.0, "bob": 9.0, "carol": None}),
])
def test_the_revealed_contest_feeds_the_gradebook(staff_db, grading, expected):
    session, _, world = staff_db
    assignment = make_contest(session, world, **grading)
    scored(session, world, "alice", 0.95, 0.8)
    scored(session, world, "bob", 0.5, 0.9)
    close(session, world)
    book = build_gradebook(session, world.course)
    assert all(row.cells["toy"].final is None for row in book.rows)  # a public score is not a grade
    assert contest_points(session, assignment=assignment) is None
    reveal(session, assignment=assignment, user=world.users["prof"])
    book = build_gradebook(session, world.course)
    finals = {row.username: row.cells["toy"].final for row in book.rows}
    assert finals == expected


def test_the_instructor_chooses_thresholds_at_the_reveal_and_thresholds_need_numbers(staff_db):
    session, _, world = staff_db
    assignment = make_contest(session, world, thresholds=[[0.5, 0.3], [0.85, 0.9]])  # the toml says rank
    scored(session, world, "alice", 0.95, 0.8)
    close(session, world)
    reveal(session, assignment=assignment, user=world.users["prof"], grading=ContestGrading.THRESHOLDS)
    assert contest_points(session, assignment=assignment)["user:%d" % world.users["alice"].id][0] == 3.0
    assert board_view(session, assignment=assignment, board=Board.PRIVATE, staff=False).grading == "thresholds"
    bare = make_contest(session, world, thresholds=[])
    hide(session, assignment=bare)
    with pytest.raises(ValueError, match="no thresholds"):
        reveal(session, assignment=bare, user=world.users["prof"], grading=ContestGrading.THRESHOLDS)


def test_no_reveal_while_a_students_extension_is_still_open(staff_db):
    session, _, world = staff_db
    assignment = make_contest(session, world)
    scored(session, world, "alice", 0.9, 0.8)
    close(session, world)
    grant_extension(session, assignment=assignment, student=world.users["bob"], due_at=utcnow() + timedelta(hours=2),
                    reason="ill", granted_by=world.users["prof"])
    with pytest.raises(ContestRefused) as early:
        reveal(session, assignment=assignment, user=world.users["prof"])
    assert early.value.refusal is ContestRefusal.NOT_CLOSED
    revoke_extension(session, assignment=assignment, student=world.users["bob"])
    assert reveal(session, assignment=assignment, user=world.users["prof"]).gradebook_mode == "rank"
