"""Reports graded with a rubric: questions and their items, what staff apply to a submission, scores, release.

Scores are never stored per submission: a question's score is computed from the items applied to it as they are
now (so editing an item's points changes every submission it is applied to, as in Gradescope) plus the mark's
adjustment, clamped to [0, question points]. A mark (comment + adjustment) exists once a question is graded.
The submission graded per student (or per team) is their latest graded REPORT submission.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from gradeflow_core.models import (Assignment, RubricApplication, RubricItem, RubricMark, RubricQuestion, Submission,
                                   User, utcnow)
from gradeflow_protocol.bundles import AssignmentConfig
from gradeflow_protocol.enums import SubmissionKind

MAX_COMMENT_CHARS = 5000
MAX_ADJUSTMENT = 1000.0


class RubricError(ValueError):
    """A message for staff saying what to fix (HTTP 422 at the API, the form's message on a page)."""


@dataclass(frozen=True)
class ItemView:
    id: int
    points: float
    text: str
    applied: bool


@dataclass(frozen=True)
class QuestionGrade:
    """One question of one submission: its items (applied or not), the mark, and the computed score."""

    id: int
    title: str
    points: float
    items: list[ItemView]
    graded: bool
    comment: str
    adjustment: float

    @property
    def score(self) -> float:
        return question_score((i.points for i in self.items if i.applied), adjustment=self.adjustment,
                              points=self.points)


@dataclass(frozen=True)
class SubmissionRubric:
    submission_id: int
    questions: list[QuestionGrade]

    @property
    def score(self) -> float:
        return round(sum(q.score for q in self.questions), 6)

    @property
    def max_score(self) -> float:
        return round(sum(q.points for q in self.questions), 6)

    @property
    def complete(self) -> bool:
        """Every question graded."""
        return bool(self.questions) and all(q.graded for q in self.questions)


def question_score(applied: Iterable[float], *, adjustment: float, points: float) -> float:
    """clamp(sum of applied items + adjustment, 0, points)."""
    return round(min(max(sum(applied) + adjustment, 0.0), points), 6)


# --- The rubric itself


def questions(session: Session, assignment_id: int) -> list[RubricQuestion]:
    return list(session.scalars(select(RubricQuestion).where(RubricQuestion.assignment_id == assignment_id)
                                .order_by(RubricQuestion.position, RubricQuestion.id)))


def live_items(session: Session, question_ids: list[int]) -> list[RubricItem]:
    """The items not deleted, in their order."""
    if not question_ids:
        return []
    return list(session.scalars(select(RubricItem).where(RubricItem.question_id.in_(question_ids),
                                                         RubricItem.deleted_at.is_(None))
                                .order_by(RubricItem.position, RubricItem.id)))


def _was_graded(session: Session, question: RubricQuestion) -> bool:
    marked = session.scalar(select(func.count()).select_from(RubricMark).where(RubricMark.question_id == question.id))
    applied = session.scalar(select(func.count()).select_from(RubricApplication).join(RubricItem).where(
        RubricItem.question_id == question.id))
    return bool(marked or applied)


def sync_questions(session: Session, *, assignment: Assignment, config: AssignmentConfig) -> None:
    """Called when a version becomes current: questions of [report] missing by title are created with their
    starting items; existing ones take the config's points and order (their items are staff's, kept); a question
    the config dropped is deleted only if nobody graded it."""
    if config.report is None:
        return
    existing = {q.title: q for q in questions(session, assignment.id)}
    for position, wanted in enumerate(config.report.questions):
        question = existing.pop(wanted.title, None)
        if question is not None:
            question.position, question.points = position, wanted.points
            continue
        question = RubricQuestion(assignment_id=assignment.id, position=position, title=wanted.title,
                                  points=wanted.points)
        session.add(question)
        session.flush()
        session.add_all(RubricItem(question_id=question.id, position=i, points=item.points, text=item.text)
                        for i, item in enumerate(wanted.items))
    for question in existing.values():
        if not _was_graded(session, question):
            session.execute(delete(RubricItem).where(RubricItem.question_id == question.id))
            session.delete(question)
    session.flush()


def _checked_item(points: float, text: str) -> tuple[float, str]:
    text = (text or "").strip()
    if not text or len(text) > 2000:
        raise RubricError("An item needs a text of 1 to 2000 characters (what the student reads).")
    if not -MAX_ADJUSTMENT <= points <= MAX_ADJUSTMENT:
        raise RubricError(f"An item's points must be between -{MAX_ADJUSTMENT:g} and {MAX_ADJUSTMENT:g}.")
    return float(points), text


def add_item(session: Session, *, question: RubricQuestion, points: float, text: str) -> RubricItem:
    points, text = _checked_item(points, text)
    last = session.scalar(select(func.max(RubricItem.position)).where(RubricItem.question_id == question.id))
    item = RubricItem(question_id=question.id, position=(last or 0) + 1, points=points, text=text)
    session.add(item)
    session.flush()
    return item


def edit_item(session: Session, *, item: RubricItem, points: float | None = None, text: str | None = None) -> int:
    """Change an item's points and/or text; returns how many submissions it is applied to (all change)."""
    if item.deleted_at is not None:
        raise RubricError("This item was deleted; add a new one instead.")
    item.points, item.text = _checked_item(item.points if points is None else points,
                                           item.text if text is None else text)
    session.flush()
    return usage(session, item.id)


def delete_item(session: Session, *, item: RubricItem) -> int:
    """Delete an item (kept for the record, no longer counted anywhere); returns how many submissions had it."""
    used = usage(session, item.id)
    item.deleted_at = utcnow()
    session.flush()
    return used


def usage(session: Session, item_id: int) -> int:
    """How many submissions the item is applied to."""
    return session.scalar(select(func.count()).select_from(RubricApplication)
                          .where(RubricApplication.item_id == item_id)) or 0


def usage_counts(session: Session, item_ids: list[int]) -> dict[int, int]:
    if not item_ids:
        return {}
    rows = session.execute(select(RubricApplication.item_id, func.count()).where(
        RubricApplication.item_id.in_(item_ids)).group_by(RubricApplication.item_id))
    return {item_id: count for item_id, count in rows}


# --- Grading one submission


def grade_question(session: Session, *, submission: Submission, question: RubricQuestion, item_ids: Iterable[int],
                   comment: str, adjustment: float, grader: User) -> None:
    """Apply exactly `item_ids` (items of this question) and record the mark; the question is graded after."""
    if question.assignment_id != submission.assignment_id:
        raise RubricError("That question belongs to another assignment.")
    if submission.kind is not SubmissionKind.REPORT:
        raise RubricError("Only a report (PDF) submission is graded with the rubric.")
    if len(comment or "") > MAX_COMMENT_CHARS or not -MAX_ADJUSTMENT <= adjustment <= MAX_ADJUSTMENT:
        raise RubricError(f"A comment is at most {MAX_COMMENT_CHARS} characters; an adjustment between "
                          f"-{MAX_ADJUSTMENT:g} and {MAX_ADJUSTMENT:g}.")
    live = {item.id for item in live_items(session, [question.id])}
    wanted = set(item_ids)
    if wanted - live:
        raise RubricError(f"Items {sorted(wanted - live)} are not items of \"{question.title}\" (deleted, or of "
                          f"another question); reload the page.")
    current = set(session.scalars(select(RubricApplication.item_id).join(RubricItem).where(
        RubricApplication.submission_id == submission.id, RubricItem.question_id == question.id)))
    if current - wanted:
        session.execute(delete(RubricApplication).where(RubricApplication.submission_id == submission.id,
                                                        RubricApplication.item_id.in_(current - wanted)))
    session.add_all(RubricApplication(submission_id=submission.id, item_id=i, applied_by=grader.id)
                    for i in sorted(wanted - current))
    mark = session.scalar(select(RubricMark).where(RubricMark.submission_id == submission.id,
                                                   RubricMark.question_id == question.id))
    if mark is None:
        mark = RubricMark(submission_id=submission.id, question_id=question.id)
        session.add(mark)
    mark.comment, mark.adjustment, mark.graded_by, mark.graded_at = (comment or "").strip(), float(adjustment), \
        grader.id, utcnow()
    session.flush()


def rubric_for(session: Session, *, submission: Submission) -> SubmissionRubric:
    """The rubric as applied to one submission, scores computed from the items as they are now."""
    qs = questions(session, submission.assignment_id)
    items = live_items(session, [q.id for q in qs])
    applied = set(session.scalars(select(RubricApplication.item_id).where(
        RubricApplication.submission_id == submission.id)))
    marks = {m.question_id: m for m in session.scalars(select(RubricMark).where(
        RubricMark.submission_id == submission.id))}
    grades = []
    for q in qs:
        mark = marks.get(q.id)
        views = [ItemView(id=i.id, points=i.points, text=i.text, applied=i.id in applied)
                 for i in items if i.question_id == q.id]
        grades.append(QuestionGrade(id=q.id, title=q.title, points=q.points, items=views, graded=mark is not None,
                                    comment=mark.comment if mark else "", adjustment=mark.adjustment if mark else 0.0))
    return SubmissionRubric(submission_id=submission.id, questions=grades)
