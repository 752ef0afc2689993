"""Which submission counts: last, best, chosen (the pure rule in policy.counted, the picks in core/counting.py),
and the gradebook and regrades following the student's pick."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from gradeflow_core.counting import PickRefused, pick_for, pick_submission
from gradeflow_core.deadlines import PolicySettings, grant_extension, save_policy
from gradeflow_core.gradebook import cell_for
from gradeflow_core.models import Assignment
from gradeflow_core.policy import (
    Graded,
    Pick,
    Policy,
    counted,
    pick_refusal,
    picks_close_at,
)
from gradeflow_core.regrade import run_items, start_regrade
from gradeflow_protocol.enums import CountedSubmission, LateMode, PickRefusal
from gradeflow_protocol.words import describe_counted, describe_pick_refusal

from tests.unit.core.world import grade_now, submit

DUE = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
HOUR, DAY = timedelta(hours=1), timedelta(days=1)
TEN_THEN_ZERO = [Graded(1, DUE - 3 * HOUR, 10.0), Graded(2, DUE - 2 * HOUR, 0.0)]  # a full score, then a broken file
LAST, BEST = Policy(due_at=DUE), Policy(due_at=DUE, counted=CountedSubmission.BEST)
CHOSEN = Policy(due_at=DUE, counted=CountedSubmission.CHOSEN)


def counted_id(policy: Policy, graded=TEN_THEN_ZERO, **kwargs) -> int | None:
    found = counted(policy, graded, **kwargs)
    return found.submission_id if found else None


# --- the pure rule ------------------------------------------------------------------------------------------

def test_last_counts_the_broken_upload_after_a_full_score():
    assert counted_id(LAST) == 2


def test_best_keeps_the_full_score():
    assert counted_id(BEST) == 1


def test_chosen_without_a_pick_is_the_last_graded_one():
    assert counted_id(CHOSEN) == 2


def test_chosen_counts_the_pick_even_when_a_later_upload_exists():
    assert counted_id(CHOSEN, pick=Pick(1, DUE - HOUR)) == 1


def test_a_pick_is_ignored_under_last_and_best():
    assert counted_id(LAST, pick=Pick(1, DUE - HOUR)) == 2
    assert counted_id(BEST, pick=Pick(2, DUE - HOUR)) == 1


def test_a_pick_of_a_submission_not_among_the_graded_ones_falls_back_to_the_last():
    assert counted_id(CHOSEN, pick=Pick(99, DUE - HOUR)) == 2


def test_a_pick_made_after_the_deadline_is_void():
    assert counted_id(CHOSEN, pick=Pick(1, DUE + timedelta(seconds=1))) == 2


def test_a_pick_after_the_due_date_but_inside_the_extension_counts():
    extension = DUE + 2 * DAY
    assert counted_id(CHOSEN, pick=Pick(1, DUE + DAY), extension=extension) == 1


def test_picks_close_at_the_deadline_plus_grace_and_never_without_a_deadline():
    grace = Policy(due_at=DUE, grace=timedelta(minutes=10), counted=CountedSubmission.CHOSEN)
    assert picks_close_at(grace) == DUE + timedelta(minutes=10)
    assert picks_close_at(grace, extension=DUE + DAY) == DUE + DAY + timedelta(minutes=10)
    assert picks_close_at(Policy(counted=CountedSubmission.CHOSEN)) is None
    assert pick_refusal(Policy(counted=CountedSubmission.CHOSEN), now=DUE + 100 * DAY) is None


@pytest.mark.parametrize(("policy", "now", "extension", "refusal"), [
    (CHOSEN, DUE, None, None),  # the deadline instant itself is still in time
    (CHOSEN, DUE + timedelta(seconds=1), None, PickRefusal.CLOSED),
    (CHOSEN, DUE + DAY, DUE + 2 * DAY, None),  # the student's extension
    (CHOSEN, DUE + 3 * DAY, DUE + 2 * DAY, PickRefusal.CLOSED),
    (LAST, DUE - DAY, None, PickRefusal.NOT_CHOOSABLE),
    (BEST, DUE - DAY, None, PickRefusal.NOT_CHOOSABLE),
])
def test_pick_refusal(policy, now, extension, refusal):
    assert pick_refusal(policy, now=now, extension=extension) is refusal


def test_a_pick_past_a_hard_cutoff_does_not_count():
    cutoff = Policy(due_at=DUE, late_mode=LateMode.CUTOFF, counted=CountedSubmission.CHOSEN)
    graded = [Graded(1, DUE - HOUR, 5.0), Graded(2, DUE + HOUR, 10.0)]  # the second arrived past the cutoff
    assert counted_id(cutoff, graded, pick=Pick(2, DUE - HOUR)) == 1


def test_every_policy_has_words_for_students_and_staff():
    for mode in CountedSubmission:
        assert describe_counted(mode) and describe_counted(mode, staff=True)
    assert describe_counted(CountedSubmission.LAST) == "Your last graded submission counts."


# --- picks in the database, and the gradebook / regrade following them -------------------------------------

def graded_pair(session, world):
    """alice: 2/2 then 0/2, both before the deadline; the policy `chosen`."""
    assignment = session.get(Assignment, world.assignment_id)
    save_policy(session, assignment=assignment, user=world.users["prof"],
                settings=PolicySettings(due_at=DUE, counted=CountedSubmission.CHOSEN))
    good = submit(session, world, "alice", when=DUE - 3 * HOUR)
    grade_now(session, good, 2)
    broken = submit(session, world, "alice", when=DUE - 2 * HOUR)
    grade_now(session, broken, 0)
    return assignment, good, broken


def test_the_gradebook_counts_the_students_pick(any_db):
    session, _, world = any_db
    assignment, good, broken = graded_pair(session, world)
    alice = world.users["alice"]
    assert cell_for(session, assignment=assignment, student=alice).submission_id == broken.id
    pick_submission(session, submission=good, user=alice, now=DUE - HOUR)
    cell = cell_for(session, assignment=assignment, student=alice)
    assert (cell.submission_id, cell.final) == (good.id, 2)
    assert pick_for(session, assignment_id=assignment.id, user_id=alice.id).submission_id == good.id
    pick_submission(session, submission=broken, user=alice, now=DUE - HOUR)  # a second pick replaces the first
    assert cell_for(session, assignment=assignment, student=alice).submission_id == broken.id


def test_a_pick_after_the_deadline_is_refused_with_words(any_db):
    session, _, world = any_db
    _, good, _ = graded_pair(session, world)
    with pytest.raises(PickRefused) as refused:
        pick_submission(session, submission=good, user=world.users["alice"], now=DUE + HOUR)
    assert refused.value.refusal is PickRefusal.CLOSED
    assert "Choosing closed at 2026-12-01 12:00:00 UTC" in refused.value.message


def test_the_students_extension_keeps_picks_open(any_db):
    session, _, world = any_db
    assignment, good, _ = graded_pair(session, world)
    alice = world.users["alice"]
    grant_extension(session, assignment=assignment, student=alice, due_at=DUE + DAY, reason="ill",
                    granted_by=world.users["prof"])
    pick_submission(session, submission=good, user=alice, now=DUE + HOUR)
    assert cell_for(session, assignment=assignment, student=alice).submission_id == good.id


def test_a_submission_not_theirs_or_not_graded_cannot_be_picked(any_db):
    session, _, world = any_db
    _, good, _ = graded_pair(session, world)
    with pytest.raises(PickRefused) as refused:
        pick_submission(session, submission=good, user=world.users["bob"], now=DUE - HOUR)
    assert refused.value.refusal is PickRefusal.NOT_YOURS
    waiting = submit(session, world, "alice", when=DUE - HOUR)
    with pytest.raises(PickRefused) as refused:
        pick_submission(session, submission=waiting, user=world.users["alice"], now=DUE - HOUR)
    assert refused.value.refusal is PickRefusal.NOT_GRADED


def test_no_pick_under_the_last_policy(any_db):
    session, _, world = any_db
    assignment, good, _ = graded_pair(session, world)
    save_policy(session, assignment=assignment, user=world.users["prof"], settings=PolicySettings(due_at=DUE))
    with pytest.raises(PickRefused) as refused:
        pick_submission(session, submission=good, user=world.users["alice"], now=DUE - HOUR)
    assert refused.value.refusal is PickRefusal.NOT_CHOOSABLE
    assert "Your last graded submission counts." in refused.value.message


def test_a_regrade_re_runs_the_picked_submission(any_db):
    session, _, world = any_db
    assignment, good, _ = graded_pair(session, world)
    pick_submission(session, submission=good, user=world.users["alice"], now=DUE - HOUR)
    run, twins = start_regrade(session, assignment=assignment, version=world.version, user=world.users["tina"])
    assert len(twins) == 1
    assert [i.source_submission_id for i in run_items(session, run)] == [good.id]  # not the later, broken one


def test_every_pick_refusal_has_words():
    for refusal in PickRefusal:
        assert describe_pick_refusal(refusal, closed_at=DUE).endswith(".")
