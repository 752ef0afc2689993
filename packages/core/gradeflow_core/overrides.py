"""Manual scores: an append-only audit log in which the newest entry per (assignment, student) is in force."""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from gradeflow_core.models import Assignment, ScoreOverride, User


class OverrideError(ValueError):
    """An override that cannot be recorded; the message says why."""


def overrides_in_force(session: Session, assignment_ids: Iterable[int]) -> dict[tuple[int, int], ScoreOverride]:
    """(assignment_id, user_id) -> the override in force (cleared overrides are left out)."""
    ids = list(assignment_ids)
    if not ids:
        return {}
    rows = session.scalars(select(ScoreOverride).where(ScoreOverride.assignment_id.in_(ids))
                           .order_by(ScoreOverride.id))
    newest: dict[tuple[int, int], ScoreOverride] = {}
    for row in rows:
        newest[(row.assignment_id, row.user_id)] = row
    return {key: row for key, row in newest.items() if row.score is not None}


def override_log(session: Session, assignment_id: int) -> list[ScoreOverride]:
    """Every override ever set or cleared on the assignment, newest first."""
    return list(session.scalars(select(ScoreOverride).where(ScoreOverride.assignment_id == assignment_id)
                                .order_by(ScoreOverride.id.desc())))


def record_override(session: Session, *, assignment: Assignment, student: User, score: float | None, reason: str,
                    author: User, previous: float | None) -> ScoreOverride:
    """Append an override (score None clears it). `previous`: the score the student had just before."""
    reason = reason.strip()
    if len(reason) < 3:
        raise OverrideError("Give a reason (a few words) for the override; it is kept in the audit log.")
    if score is not None and not 0 <= score <= assignment.max_score:
        raise OverrideError(f"The score must be between 0 and {assignment.max_score:g} (the assignment's points).")
    if score is None and (assignment.id, student.id) not in overrides_in_force(session, [assignment.id]):
        raise OverrideError(f"{student.username} has no override on {assignment.slug} to clear.")
    row = ScoreOverride(assignment_id=assignment.id, user_id=student.id, score=score, previous_score=previous,
                        reason=reason[:2000], created_by=author.id)
    session.add(row)
    session.flush()
    return row
