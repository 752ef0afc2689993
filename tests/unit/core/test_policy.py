"""Late-policy arithmetic: the deadline second, grace, extensions, day boundaries, caps, cutoffs, daily limits,
which submission counts."""
from datetime import UTC, datetime, timedelta

import pytest

from gradeflow_protocol.enums import CountedSubmission, LateMode, UploadRefusal
from gradeflow_core.policy import (DAY, Graded, Policy, apply_penalty, counted, lateness, student_deadline,
                                   upload_verdict, uploads_left)

DUE = datetime(2026, 12, 1, 23, 59, 59, tzinfo=UTC)
SECOND = timedelta(seconds=1)
MICRO = timedelta(microseconds=1)
PENALTY = Policy(due_at=DUE, penalty_percent_per_day=10, penalty_cap_percent=30)


def late(policy: Policy, delta: timedelta, extension: datetime | None = None):
    return lateness(policy, submitted_at=DUE + delta, extension=extension)


# --- the deadline itself -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("delta", "days"), [
    (-DAY, 0), (-SECOND, 0), (timedelta(0), 0),  # at the deadline instant: on time
    (MICRO, 1), (SECOND, 1), (DAY - SECOND, 1), (DAY, 1),  # any part of the first day is one day
    (DAY + MICRO, 2), (2 * DAY, 2), (2 * DAY + SECOND, 3), (10 * DAY, 10),
], ids=lambda v: str(v))
def test_days_late_are_started_days_after_the_deadline(delta, days):
    assert late(PENALTY, delta).days_late == days


def test_no_deadline_is_never_late():
    result = lateness(Policy(), submitted_at=DUE + 100 * DAY)
    assert result.days_late == 0 and result.penalty_percent == 0 and result.accepted and result.deadline is None


def test_an_on_time_submission_records_its_deadline_and_no_lateness():
    result = late(PENALTY, -SECOND)
    assert result.deadline == DUE and result.late_by == timedelta(0) and not result.is_late


def test_late_by_is_measured_from_the_deadline():
    assert late(PENALTY, 90 * SECOND).late_by == 90 * SECOND


# --- grace --------------------------------------------------------------------------------------------------

GRACE = Policy(due_at=DUE, grace=timedelta(minutes=15), penalty_percent_per_day=10, penalty_cap_percent=100)


@pytest.mark.parametrize(("delta", "days"), [
    (timedelta(minutes=15), 0),  # the last instant of the grace period is on time
    (timedelta(minutes=15) + MICRO, 1),  # one microsecond past grace: one day late (counted from the deadline)
    (DAY, 1), (DAY + MICRO, 2),  # grace forgives lateness, it does not shift the day boundaries
])
def test_grace_period(delta, days):
    assert late(GRACE, delta).days_late == days


def test_grace_longer_than_a_day_forgives_the_whole_first_day():
    policy = Policy(due_at=DUE, grace=timedelta(hours=30), penalty_percent_per_day=10)
    assert late(policy, timedelta(hours=30)).days_late == 0
    assert late(policy, timedelta(hours=30) + SECOND).days_late == 2


# --- penalties and caps -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("days", "percent"), [(1, 10), (2, 20), (3, 30), (4, 30), (30, 30)])
def test_penalty_grows_per_day_up_to_the_cap(days, percent):
    assert late(PENALTY, days * DAY).penalty_percent == percent


def test_penalty_never_exceeds_100_percent_even_with_a_larger_cap_arithmetic():
    policy = Policy(due_at=DUE, penalty_percent_per_day=60, penalty_cap_percent=100)
    assert late(policy, 2 * DAY).penalty_percent == 100
    assert apply_penalty(10, late(policy, 2 * DAY)) == 0


def test_zero_percent_per_day_marks_late_without_a_penalty():
    result = late(Policy(due_at=DUE), 3 * DAY)
    assert result.days_late == 3 and result.penalty_percent == 0 and result.accepted


def test_cap_of_zero_means_no_penalty():
    policy = Policy(due_at=DUE, penalty_percent_per_day=25, penalty_cap_percent=0)
    assert late(policy, 5 * DAY).penalty_percent == 0


@pytest.mark.parametrize(("raw", "days", "kept"), [(10, 0, 10), (10, 1, 9), (10, 2, 8), (10, 9, 7), (7.5, 1, 6.75),
                                                   (0, 3, 0)])
def test_the_penalty_is_a_percentage_of_the_score_earned(raw, days, kept):
    delta = days * DAY if days else timedelta(0)
    assert apply_penalty(raw, late(PENALTY, delta)) == pytest.approx(kept)


def test_fractional_percentages_are_kept_exactly():
    policy = Policy(due_at=DUE, penalty_percent_per_day=12.5, penalty_cap_percent=100)
    assert late(policy, 3 * DAY).penalty_percent == 37.5
    assert apply_penalty(8, late(policy, 3 * DAY)) == 5


# --- hard cutoff --------------------------------------------------------------------------------------------

CUTOFF = Policy(due_at=DUE, grace=timedelta(minutes=5), late_mode=LateMode.CUTOFF)


@pytest.mark.parametrize(("delta", "accepted"), [(timedelta(0), True), (timedelta(minutes=5), True),
                                                 (timedelta(minutes=5) + MICRO, False), (DAY, False)])
def test_cutoff_accepts_nothing_after_deadline_plus_grace(delta, accepted):
    result = late(CUTOFF, delta)
    assert result.accepted is accepted
    assert apply_penalty(10, result) == (10 if accepted else 0)


def test_cutoff_refuses_uploads_after_deadline_plus_grace():
    assert upload_verdict(CUTOFF, now=DUE + timedelta(minutes=5)) is None
    verdict = upload_verdict(CUTOFF, now=DUE + timedelta(minutes=5) + MICRO)
    assert verdict.refusal is UploadRefusal.CLOSED and verdict.retry_at is None


def test_penalty_mode_never_refuses_late_uploads():
    assert upload_verdict(PENALTY, now=DUE + 100 * DAY) is None


# --- extensions ---------------------------------------------------------------------------------------------

def test_an_extension_moves_the_students_deadline():
    extended = DUE + 2 * DAY
    assert student_deadline(PENALTY, extension=extended) == extended
    assert late(PENALTY, 2 * DAY, extension=extended).days_late == 0
    assert late(PENALTY, 2 * DAY + SECOND, extension=extended).days_late == 1


def test_an_extension_never_shortens_the_deadline():
    assert student_deadline(PENALTY, extension=DUE - DAY) == DUE
    assert late(PENALTY, -SECOND, extension=DUE - DAY).days_late == 0


def test_an_extension_without_a_due_date_changes_nothing():
    assert student_deadline(Policy(), extension=DUE) is None


def test_grace_applies_after_an_extension_too():
    extended = DUE + DAY
    assert late(GRACE, DAY + timedelta(minutes=15), extension=extended).days_late == 0
    assert late(GRACE, DAY + timedelta(minutes=16), extension=extended).days_late == 1


def test_an_extension_reopens_a_cutoff_for_that_student_only():
    extended = DUE + DAY
    assert upload_verdict(CUTOFF, now=DUE + timedelta(hours=2), extension=extended) is None
    assert upload_verdict(CUTOFF, now=DUE + timedelta(hours=2)).refusal is UploadRefusal.CLOSED


# --- opening ------------------------------------------------------------------------------------------------

def test_uploads_before_opening_are_refused_until_it_opens():
    opens = DUE - 7 * DAY
    policy = Policy(opens_at=opens, due_at=DUE)
    verdict = upload_verdict(policy, now=opens - MICRO)
    assert verdict.refusal is UploadRefusal.NOT_OPEN and verdict.retry_at == opens
    assert upload_verdict(policy, now=opens) is None


# --- daily limit (rolling 24 hours) -------------------------------------------------------------------------

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
LIMITED = Policy(max_per_day=3)


def test_under_the_limit_uploads_are_allowed():
    recent = [NOW - timedelta(hours=h) for h in (1, 2)]
    assert upload_verdict(LIMITED, now=NOW, recent=recent) is None
    assert uploads_left(LIMITED, now=NOW, recent=recent) == 1


def test_at_the_limit_the_next_upload_waits_for_the_oldest_in_the_window_to_expire():
    recent = [NOW - timedelta(hours=h) for h in (20, 5, 1)]
    verdict = upload_verdict(LIMITED, now=NOW, recent=recent)
    assert verdict.refusal is UploadRefusal.DAILY_LIMIT
    assert verdict.retry_at == NOW - timedelta(hours=20) + DAY
    assert uploads_left(LIMITED, now=NOW, recent=recent) == 0


def test_over_the_limit_it_waits_until_enough_have_expired():
    recent = [NOW - timedelta(hours=h) for h in (23, 22, 3, 2, 1)]  # five (staff uploads or a lowered limit)
    verdict = upload_verdict(LIMITED, now=NOW, recent=recent)
    assert verdict.retry_at == NOW - timedelta(hours=3) + DAY  # the 3rd newest must expire


def test_an_upload_exactly_24_hours_old_has_left_the_window():
    recent = [NOW - DAY, NOW - timedelta(hours=5), NOW - timedelta(hours=1)]
    assert upload_verdict(LIMITED, now=NOW, recent=recent) is None
    recent = [NOW - DAY + MICRO, NOW - timedelta(hours=5), NOW - timedelta(hours=1)]
    assert upload_verdict(LIMITED, now=NOW, recent=recent).retry_at == NOW + MICRO


def test_no_limit_means_no_count():
    assert uploads_left(Policy(), now=NOW, recent=[NOW] * 50) is None
    assert upload_verdict(Policy(), now=NOW, recent=[NOW] * 50) is None


def test_opening_is_checked_before_the_limit_and_the_cutoff():
    policy = Policy(opens_at=NOW + DAY, due_at=NOW + 2 * DAY, late_mode=LateMode.CUTOFF, max_per_day=1)
    assert upload_verdict(policy, now=NOW, recent=[NOW]).refusal is UploadRefusal.NOT_OPEN


# --- which submission counts --------------------------------------------------------------------------------

def graded(sid: int, delta: timedelta, raw: float) -> Graded:
    return Graded(submission_id=sid, submitted_at=DUE + delta, raw=raw)


def test_last_counts_the_latest_even_when_it_is_lower_and_late():
    work = [graded(1, -DAY, 10), graded(2, DAY, 6)]
    chosen = counted(PENALTY, work)
    assert chosen.submission_id == 2 and chosen.raw == 6 and chosen.final == pytest.approx(5.4)


def test_best_counts_the_best_after_penalties():
    policy = Policy(due_at=DUE, penalty_percent_per_day=50, penalty_cap_percent=100, counted=CountedSubmission.BEST)
    work = [graded(1, -DAY, 6), graded(2, DAY, 10)]  # 10 late by a day keeps 5 < 6
    assert counted(policy, work).submission_id == 1


def test_best_breaks_ties_with_the_later_submission():
    policy = Policy(counted=CountedSubmission.BEST)
    assert counted(policy, [graded(1, -DAY, 7), graded(2, -SECOND, 7)]).submission_id == 2


def test_submissions_past_a_cutoff_never_count():
    work = [graded(1, -DAY, 4), graded(2, DAY, 10)]
    assert counted(CUTOFF, work).submission_id == 1
    assert counted(CUTOFF, [graded(2, DAY, 10)]) is None


def test_nothing_graded_counts_nothing():
    assert counted(PENALTY, []) is None


def test_same_instant_submissions_are_ordered_by_id():
    assert counted(PENALTY, [graded(5, -DAY, 1), graded(4, -DAY, 9)]).submission_id == 5
