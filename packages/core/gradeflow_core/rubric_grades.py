"""Reports graded with a rubric, per assignment: which submission is graded for whom, progress, release, and the
rubric part of the gradebook (gradeflow_core.rubric holds the rubric itself and one submission's grading)."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from gradeflow_core.models import Assignment, RubricMark, RubricQuestion, RubricRelease, Submission, User
from gradeflow_core.rubric import RubricError, questions, rubric_for
from gradeflow_core.teams import members_at
from gradeflow_protocol.enums import SubmissionKind, SubmissionPurpose, SubmissionStatus



def graded_reports(session: Session, assignment_id: int) -> list[Submission]:
    """The submissions to grade: per student (or per team, when team_id is set), the latest graded report."""
    query = select(Submission).where(Submission.assignment_id == assignment_id,
                                     Submission.kind == SubmissionKind.REPORT,
                                     Submission.status == SubmissionStatus.GRADED,
                                     Submission.purpose == SubmissionPurpose.STUDENT)
    latest: dict[tuple[str, int], Submission] = {}
    for sub in session.scalars(query.order_by(Submission.created_at, Submission.id)):
        latest[("team", sub.team_id) if sub.team_id is not None else ("user", sub.user_id)] = sub
    return sorted(latest.values(), key=lambda s: s.id)


def _graded_submission_ids(session: Session, assignment_id: int) -> set[int]:
    """Submissions with a mark on every question of the assignment."""
    count = len(questions(session, assignment_id))
    if not count:
        return set()
    rows = session.execute(select(RubricMark.submission_id, func.count()).join(RubricQuestion).where(
        RubricQuestion.assignment_id == assignment_id).group_by(RubricMark.submission_id))
    return {sid for sid, marked in rows if marked >= count}


@dataclass(frozen=True)
class Progress:
    graded: int
    total: int
    next_ungraded: int | None  # the first submission still to grade


def progress(session: Session, assignment_id: int, *, after: int | None = None) -> Progress:
    """How many of the submissions to grade have every question graded; the next ungraded one (after `after`
    when given, wrapping round)."""
    todo = graded_reports(session, assignment_id)
    done = _graded_submission_ids(session, assignment_id)
    left = [s.id for s in todo if s.id not in done]
    later = [sid for sid in left if after is None or sid > after]
    following = (later or [sid for sid in left if sid != after] or [None])[0]
    return Progress(graded=len(todo) - len(left), total=len(todo), next_ungraded=following)


def is_released(session: Session, assignment_id: int) -> bool:
    return session.scalar(select(RubricRelease.id).where(RubricRelease.assignment_id == assignment_id)) is not None


def release(session: Session, *, assignment: Assignment, by: User) -> None:
    """Students see their rubric grades (and the gradebook counts them) from now on."""
    if not questions(session, assignment.id):
        raise RubricError("This assignment has no rubric to release.")
    if not is_released(session, assignment.id):
        session.add(RubricRelease(assignment_id=assignment.id, released_by=by.id))
        session.flush()


def unrelease(session: Session, *, assignment: Assignment) -> None:
    session.execute(delete(RubricRelease).where(RubricRelease.assignment_id == assignment.id))
    session.flush()


def _members(session: Session, sub: Submission) -> set[int]:
    """Who a submission belongs to: its sender, and the team's members at the time it was sent."""
    return {sub.user_id} | (set(members_at(session, sub.team_id, sub.created_at)) if sub.team_id is not None else set())


def reports_by_student(session: Session, assignment_id: int) -> dict[int, Submission]:
    """user id -> the report graded for them (their own latest, or their team's; the newer when both)."""
    found: dict[int, Submission] = {}
    for sub in graded_reports(session, assignment_id):
        for user_id in _members(session, sub):
            if user_id not in found or found[user_id].created_at <= sub.created_at:
                found[user_id] = sub
    return found


def report_for(session: Session, *, assignment_id: int, user: User) -> Submission | None:
    return reports_by_student(session, assignment_id).get(user.id)


@dataclass(frozen=True)
class RubricPart:
    """A student's rubric standing on one assignment, for the gradebook."""

    score: float | None  # the rubric score of their graded report (None: nothing graded yet)
    released: bool


def rubric_parts(session: Session, *, assignment: Assignment, user_ids: list[int]) -> dict[int, RubricPart]:
    """user id -> RubricPart for an assignment with a rubric (an empty dict for one without)."""
    if not questions(session, assignment.id):
        return {}
    released = is_released(session, assignment.id)
    reports = reports_by_student(session, assignment.id)
    by_submission: dict[int, float | None] = {}
    for sub in {reports[uid].id: reports[uid] for uid in user_ids if uid in reports}.values():
        graded = rubric_for(session, submission=sub)
        by_submission[sub.id] = graded.score if any(q.graded for q in graded.questions) else None
    return {uid: RubricPart(score=by_submission[reports[uid].id] if uid in reports else None, released=released)
            for uid in user_ids}
