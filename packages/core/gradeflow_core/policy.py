"""Late-policy arithmetic, pure: deadlines, grace, extensions, penalties, daily limits, which submission counts.

Rules (docs/staff.md says the same in words for instructors):
- A student's deadline is the later of the due date and their extension.
- A submission is on time when it arrives at or before deadline + grace (the deadline instant itself is on time).
- Past that, it is late by (arrival - deadline), counted in started days: 1 s late and 24 h late are both
  1 day; 24 h and 1 s late is 2 days. The grace period forgives lateness, it does not move the day boundaries.
- PENALTY mode: a late submission keeps (100 - min(days x percent_per_day, cap)) % of the score it earned.
- CUTOFF mode: nothing is accepted after deadline + grace; a late submission found later (the policy changed
  after it arrived) does not count at all.
- Which graded submission counts: LAST, the latest accepted one; BEST, the highest after penalties (ties: the
  later one); CHOSEN, the one the student picked while picks were open (until their deadline plus grace; always
  when there is no deadline), else the latest. Every score computation asks `counted`.
- The daily limit is a rolling 24 hours: the (max+1)-th upload inside any 24 h window is refused, and the
  next one is allowed 24 h after the oldest upload in the window.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from gradeflow_protocol.enums import CountedSubmission, LateMode, PickRefusal, UploadRefusal

DAY = timedelta(days=1)


@dataclass(frozen=True)
class Policy:
    """An assignment's rules; the defaults mean: always open, no deadline, last submission counts, no limit."""

    opens_at: datetime | None = None
    due_at: datetime | None = None
    grace: timedelta = timedelta(0)
    late_mode: LateMode = LateMode.PENALTY
    penalty_percent_per_day: float = 0.0
    penalty_cap_percent: float = 100.0
    counted: CountedSubmission = CountedSubmission.LAST
    max_per_day: int | None = None


@dataclass(frozen=True)
class Lateness:
    """How late one submission is for one student, and what it costs."""

    deadline: datetime | None  # the student's own deadline (extension applied); None: no deadline
    late_by: timedelta  # zero when on time (including inside the grace period)
    days_late: int
    penalty_percent: float
    accepted: bool  # False: past a hard cutoff, so it does not count

    @property
    def is_late(self) -> bool:
        return self.days_late > 0


ON_TIME = Lateness(deadline=None, late_by=timedelta(0), days_late=0, penalty_percent=0.0, accepted=True)


@dataclass(frozen=True)
class Graded:
    """A graded submission as the policy sees it: when it arrived and its raw score."""

    submission_id: int
    submitted_at: datetime
    raw: float


@dataclass(frozen=True)
class Scored:
    """A graded submission with its lateness and the score after the late penalty."""

    submission_id: int
    submitted_at: datetime
    raw: float
    lateness: Lateness
    final: float


@dataclass(frozen=True)
class UploadVerdict:
    """Why an upload must be refused now, and from when it would be allowed (None: not by waiting)."""

    refusal: UploadRefusal
    retry_at: datetime | None


def student_deadline(policy: Policy, *, extension: datetime | None) -> datetime | None:
    """The later of the due date and the student's extension (an extension never shortens a deadline)."""
    if policy.due_at is None:
        return None
    return max(policy.due_at, extension) if extension is not None else policy.due_at


def lateness(policy: Policy, *, submitted_at: datetime, extension: datetime | None = None) -> Lateness:
    """How late a submission that arrived at `submitted_at` is, and its penalty under `policy`."""
    deadline = student_deadline(policy, extension=extension)
    if deadline is None:
        return ON_TIME
    if submitted_at <= deadline + policy.grace:
        return Lateness(deadline=deadline, late_by=timedelta(0), days_late=0, penalty_percent=0.0, accepted=True)
    late_by = submitted_at - deadline
    days = math.ceil(late_by / DAY)
    if policy.late_mode is LateMode.CUTOFF:
        return Lateness(deadline=deadline, late_by=late_by, days_late=days, penalty_percent=100.0, accepted=False)
    penalty = min(days * policy.penalty_percent_per_day, policy.penalty_cap_percent, 100.0)
    return Lateness(deadline=deadline, late_by=late_by, days_late=days, penalty_percent=round(penalty, 6),
                    accepted=True)


def apply_penalty(raw: float, late: Lateness) -> float:
    """The score kept after the late penalty (a percentage of the score earned; never below zero)."""
    if not late.accepted:
        return 0.0
    return round(max(raw, 0.0) * (100.0 - late.penalty_percent) / 100.0, 6)


def score(policy: Policy, graded: Graded, *, extension: datetime | None = None) -> Scored:
    late = lateness(policy, submitted_at=graded.submitted_at, extension=extension)
    return Scored(submission_id=graded.submission_id, submitted_at=graded.submitted_at, raw=graded.raw,
                  lateness=late, final=apply_penalty(graded.raw, late))


@dataclass(frozen=True)
class Pick:
    """The submission a student chose to count (policy CHOSEN), and when they chose it."""

    submission_id: int
    picked_at: datetime


def picks_close_at(policy: Policy, *, extension: datetime | None = None) -> datetime | None:
    """Until when a student may choose (their deadline plus grace, inclusive); None: no deadline, always."""
    deadline = student_deadline(policy, extension=extension)
    return deadline + policy.grace if deadline is not None else None


def pick_refusal(policy: Policy, *, now: datetime, extension: datetime | None = None) -> PickRefusal | None:
    """None when the policy lets a student choose now; otherwise why not (ownership and grading are the caller's)."""
    if policy.counted is not CountedSubmission.CHOSEN:
        return PickRefusal.NOT_CHOOSABLE
    closes = picks_close_at(policy, extension=extension)
    return PickRefusal.CLOSED if closes is not None and now > closes else None


def counted(policy: Policy, graded: Sequence[Graded], *, extension: datetime | None = None,
            pick: Pick | None = None) -> Scored | None:
    """The submission that counts (see the module's rules): the one place every score computation asks."""
    scored = [s for s in (score(policy, g, extension=extension) for g in graded) if s.lateness.accepted]
    if not scored:
        return None
    if policy.counted is CountedSubmission.BEST:
        return max(scored, key=lambda s: (s.final, s.submitted_at, s.submission_id))
    if policy.counted is CountedSubmission.CHOSEN and pick is not None:
        closes = picks_close_at(policy, extension=extension)
        if closes is None or pick.picked_at <= closes:  # a pick stored after the deadline moved earlier is void
            chosen = [s for s in scored if s.submission_id == pick.submission_id]
            if chosen:
                return chosen[0]
    return max(scored, key=lambda s: (s.submitted_at, s.submission_id))


def upload_verdict(policy: Policy, *, now: datetime, extension: datetime | None = None,
                   recent: Sequence[datetime] = ()) -> UploadVerdict | None:
    """None when a student may upload now; otherwise why not. `recent`: their uploads' times (any age)."""
    if policy.opens_at is not None and now < policy.opens_at:
        return UploadVerdict(UploadRefusal.NOT_OPEN, retry_at=policy.opens_at)
    deadline = student_deadline(policy, extension=extension)
    if policy.late_mode is LateMode.CUTOFF and deadline is not None and now > deadline + policy.grace:
        return UploadVerdict(UploadRefusal.CLOSED, retry_at=None)
    if policy.max_per_day is not None:
        window = sorted(t for t in recent if now - DAY < t <= now)
        if len(window) >= policy.max_per_day:
            return UploadVerdict(UploadRefusal.DAILY_LIMIT, retry_at=window[len(window) - policy.max_per_day] + DAY)
    return None


def uploads_left(policy: Policy, *, now: datetime, recent: Sequence[datetime] = ()) -> int | None:
    """How many uploads the daily limit still allows now (None: no limit)."""
    if policy.max_per_day is None:
        return None
    return max(policy.max_per_day - sum(1 for t in recent if now - DAY < t <= now), 0)
