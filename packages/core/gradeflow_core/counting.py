"""The submission a student chooses to count (policy `chosen`): the picks in the database and the one way to make one.

Which submission counts is decided by `gradeflow_core.policy.counted`, given the student's pick; the gradebook,
regrades and every page read the picks from here.
"""
from __future__ import annotations

from datetime import datetime

from gradeflow_protocol.enums import PickRefusal, SubmissionPurpose, SubmissionStatus
from gradeflow_protocol.words import describe_pick_refusal
from sqlalchemy import select
from sqlalchemy.orm import Session

from gradeflow_core.deadlines import extensions_by_student, load_policy
from gradeflow_core.models import Submission, SubmissionPick, User, utcnow
from gradeflow_core.policy import Pick, pick_refusal, picks_close_at
from gradeflow_core.teams import was_member_when_sent


class PickRefused(Exception):
    """A choice the rules do not allow; `message` says why in a student's words."""

    def __init__(self, refusal: PickRefusal, message: str) -> None:
        super().__init__(message)
        self.refusal, self.message = refusal, message


def picks_by_student(session: Session, assignment_id: int) -> dict[int, Pick]:
    """user id -> their pick on one assignment."""
    rows = session.scalars(select(SubmissionPick).where(SubmissionPick.assignment_id == assignment_id))
    return {row.user_id: Pick(submission_id=row.submission_id, picked_at=row.picked_at) for row in rows}


def pick_for(session: Session, *, assignment_id: int, user_id: int) -> Pick | None:
    row = session.scalar(select(SubmissionPick).where(SubmissionPick.assignment_id == assignment_id,
                                                      SubmissionPick.user_id == user_id))
    return Pick(submission_id=row.submission_id, picked_at=row.picked_at) if row is not None else None


def pick_problem(session: Session, *, submission: Submission, user: User,
                 now: datetime | None = None) -> tuple[PickRefusal, str] | None:
    """Why `user` may not choose `submission` to count now (with the words), or None when they may."""
    policy = load_policy(session, submission.assignment_id)
    extension = extensions_by_student(session, submission.assignment_id).get(user.id)
    ours = submission.user_id == user.id or was_member_when_sent(session, user_id=user.id, submission=submission)
    if not ours or submission.purpose != SubmissionPurpose.STUDENT:
        refusal = PickRefusal.NOT_YOURS
    else:
        refusal = pick_refusal(policy, now=now or utcnow(), extension=extension)
        if refusal is None and (submission.status != SubmissionStatus.GRADED or submission.score is None):
            refusal = PickRefusal.NOT_GRADED
    if refusal is None:
        return None
    return refusal, describe_pick_refusal(refusal, closed_at=picks_close_at(policy, extension=extension),
                                          counted=policy.counted)


def pick_submission(session: Session, *, submission: Submission, user: User,
                    now: datetime | None = None) -> SubmissionPick:
    """Record that `user` wants `submission` to count (replacing an earlier pick); raises PickRefused."""
    now = now or utcnow()
    problem = pick_problem(session, submission=submission, user=user, now=now)
    if problem is not None:
        raise PickRefused(*problem)
    row = session.scalar(select(SubmissionPick).where(SubmissionPick.assignment_id == submission.assignment_id,
                                                      SubmissionPick.user_id == user.id))
    if row is None:
        row = SubmissionPick(assignment_id=submission.assignment_id, user_id=user.id)
        session.add(row)
    row.submission_id, row.picked_at = submission.id, now
    session.flush()
    return row
