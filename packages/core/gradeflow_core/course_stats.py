"""What staff read on a course's page: per assignment, how many students submitted, are graded, failing or late,
and the mean score. Scores come from the gradebook's own cells (late penalties and manual scores applied), so
these numbers always agree with the gradebook.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from gradeflow_core.deadlines import load_policy
from gradeflow_core.gradebook import Cell, build_cells, course_students
from gradeflow_core.models import Assignment, Course, Submission
from gradeflow_protocol.enums import SubmissionPurpose, SubmissionStatus


@dataclass(frozen=True)
class AssignmentStats:
    """One assignment's numbers over the course's enrolled students (each counts once)."""

    assignment: Assignment
    due_at: datetime | None
    students: int  # enrolled students
    submitted: int  # students with at least one submission
    graded: int  # students with a score that counts (a graded submission or a manual score)
    failing: int  # students whose latest submission failed to grade, or whose counted score is zero
    late: int  # students whose counted submission is late
    pending: int  # students with a submission still queued or running
    mean: float | None  # mean counted score over the graded students; None when nobody is graded


def _latest_status(session: Session, assignment_ids: list[int],
                   user_ids: list[int]) -> dict[tuple[int, int], SubmissionStatus]:
    """(assignment, student) -> status of the student's newest submission."""
    if not assignment_ids or not user_ids:
        return {}
    rows = session.execute(select(Submission.assignment_id, Submission.user_id, Submission.status)
                           .where(Submission.assignment_id.in_(assignment_ids), Submission.user_id.in_(user_ids),
                                  Submission.purpose == SubmissionPurpose.STUDENT)
                           .order_by(Submission.id))
    return {(a, u): status for a, u, status in rows}  # ordered by id: the newest one is written last


def _is_failing(cell: Cell, latest: SubmissionStatus | None) -> bool:
    return latest is SubmissionStatus.FAILED or cell.final == 0


def assignment_stats(assignment: Assignment, *, due_at: datetime | None, cells: list[Cell],
                     latest: list[SubmissionStatus | None]) -> AssignmentStats:
    """The numbers from each student's cell and newest submission status (pure; None: never submitted)."""
    pairs = list(zip(cells, latest, strict=True))
    finals = [cell.final for cell in cells if cell.final is not None]
    return AssignmentStats(
        assignment=assignment, due_at=due_at, students=len(cells),
        submitted=sum(1 for _, status in pairs if status is not None),
        graded=len(finals),
        failing=sum(1 for cell, status in pairs if status is not None and _is_failing(cell, status)),
        late=sum(1 for cell in cells if cell.submission_id is not None and cell.days_late > 0),
        pending=sum(1 for cell in cells if cell.pending),
        mean=round(sum(finals) / len(finals), 6) if finals else None)


def course_stats(session: Session, course: Course) -> list[AssignmentStats]:
    """Every assignment of the course (published or not), in course order, with its numbers."""
    assignments = list(session.scalars(select(Assignment).where(Assignment.course_id == course.id)
                                       .order_by(Assignment.id)))
    students = [user for user, _ in course_students(session, course.id)]
    cells = build_cells(session, assignments, students)
    latest = _latest_status(session, [a.id for a in assignments], [u.id for u in students])
    return [assignment_stats(a, due_at=load_policy(session, a.id).due_at,
                             cells=[cells[(a.id, u.id)] for u in students],
                             latest=[latest.get((a.id, u.id)) for u in students]) for a in assignments]
