"""The course's student submissions as staff list them: newest first, filtered, a page at a time; and, from one
submission, its neighbours in that list and the same student's other work on the assignment.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from gradeflow_core.models import Assignment, Submission, User
from gradeflow_protocol.enums import SubmissionPurpose, SubmissionStatus

PER_PAGE = 50


@dataclass(frozen=True)
class Paging:
    """Page `page` (from 1) of `total` items, `per_page` at a time."""

    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def paginate(total: int, page: int, *, per_page: int = PER_PAGE) -> Paging:
    """The page to show: `page` kept within 1..last (a page past the end shows the last one)."""
    if per_page < 1:
        raise ValueError("per_page must be at least 1")
    last = max(1, -(-max(total, 0) // per_page))
    return Paging(page=min(max(page, 1), last), per_page=per_page, total=max(total, 0))


@dataclass(frozen=True)
class SubmissionFilters:
    assignment_id: int | None = None
    username: str = ""
    status: SubmissionStatus | None = None

    @property
    def active(self) -> bool:
        return bool(self.assignment_id or self.username or self.status)


def _course_submissions(course_id: int, filters: SubmissionFilters) -> Select:
    query = (select(Submission).join(Assignment, Assignment.id == Submission.assignment_id)
             .where(Assignment.course_id == course_id, Submission.purpose == SubmissionPurpose.STUDENT))
    if filters.assignment_id:
        query = query.where(Submission.assignment_id == filters.assignment_id)
    if filters.username:
        query = query.join(User, User.id == Submission.user_id).where(User.username == filters.username)
    if filters.status is not None:
        query = query.where(Submission.status == filters.status)
    return query


def list_page(session: Session, *, course_id: int, filters: SubmissionFilters, page: int,
              per_page: int = PER_PAGE) -> tuple[list[Submission], Paging]:
    """One page of the course's student submissions, newest first."""
    query = _course_submissions(course_id, filters)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    paging = paginate(total, page, per_page=per_page)
    rows = session.scalars(query.order_by(Submission.id.desc()).offset(paging.offset).limit(paging.per_page))
    return list(rows), paging


@dataclass(frozen=True)
class Neighbours:
    previous_id: int | None  # the row above in the list (newer)
    next_id: int | None  # the row below (older)


def neighbours(session: Session, submission: Submission, *, course_id: int) -> Neighbours:
    """The submissions either side of this one in the course's (unfiltered) list."""
    query = _course_submissions(course_id, SubmissionFilters()).with_only_columns(Submission.id)
    newer = session.scalar(query.where(Submission.id > submission.id).order_by(Submission.id).limit(1))
    older = session.scalar(query.where(Submission.id < submission.id).order_by(Submission.id.desc()).limit(1))
    return Neighbours(previous_id=newer, next_id=older)


def same_student_work(session: Session, submission: Submission, *, limit: int = 20) -> list[Submission]:
    """The student's other submissions for this assignment, newest first."""
    return list(session.scalars(select(Submission).where(
        Submission.assignment_id == submission.assignment_id, Submission.user_id == submission.user_id,
        Submission.purpose == SubmissionPurpose.STUDENT, Submission.id != submission.id)
        .order_by(Submission.id.desc()).limit(limit)))
