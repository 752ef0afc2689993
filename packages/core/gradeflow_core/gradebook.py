"""The gradebook: one row per student, one cell per published assignment, late penalties and overrides applied.

`build_gradebook` is what the API's exports and the web pages read; the file formats are in
core/gradebook_export.py.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from gradeflow_core.contest_actions import contest_points
from gradeflow_core.contest_board import contest_config, owner_of
from gradeflow_core.counting import picks_by_student
from gradeflow_core.deadlines import extensions_by_student, load_policy
from gradeflow_protocol.enums import Role, SubmissionKind, SubmissionPurpose, SubmissionStatus
from gradeflow_core.models import (Assignment, Course, Enrollment, ScoreOverride, Submission, TeamMembership,
                                   User, utcnow)
from gradeflow_core.overrides import overrides_in_force, record_override
from gradeflow_core.teams import members_in, membership_windows
from gradeflow_core.policy import Graded, Pick, Policy, counted
from gradeflow_core.rubric_grades import RubricPart, rubric_parts


@dataclass(frozen=True)
class Cell:
    """One student's standing on one assignment."""

    submission_id: int | None = None  # the submission that counts
    raw: float | None = None  # its score as graded
    days_late: int = 0
    penalty_percent: float = 0.0
    late_score: float | None = None  # raw after the late penalty
    override: float | None = None
    override_reason: str = ""
    pending: bool = False  # a newer submission is still being graded
    submissions: int = 0  # graded submissions considered
    rubric: float | None = None  # a report's released rubric score (gradeflow_core.rubric_grades)
    rubric_pending: bool = False  # the assignment has a rubric whose grades are not released yet

    @property
    def final(self) -> float | None:
        """What the gradebook records: the override when there is one, else the penalised score plus any released
        rubric score."""
        if self.override is not None:
            return self.override
        if self.rubric is None:
            return self.late_score
        return round((self.late_score or 0.0) + self.rubric, 6)


@dataclass(frozen=True)
class Column:
    assignment_id: int
    slug: str
    title: str
    max_score: float
    due_at: datetime | None


@dataclass(frozen=True)
class Row:
    user_id: int
    username: str
    name: str
    email: str
    sis_id: str
    section: str
    cells: dict[str, Cell] = field(default_factory=dict)  # by assignment slug

    @property
    def total(self) -> float:
        return round(sum(c.final or 0.0 for c in self.cells.values()), 6)


@dataclass(frozen=True)
class Gradebook:
    course_slug: str
    course_title: str
    generated_at: datetime
    columns: list[Column]
    rows: list[Row]

    @property
    def max_total(self) -> float:
        return round(sum(c.max_score for c in self.columns), 6)


def make_cell(policy: Policy, graded: list[Graded], *, extension: datetime | None, override: ScoreOverride | None,
              pending: bool, pick: Pick | None = None) -> Cell:
    """One cell from a student's graded submissions, their extension, their pick and any override (pure)."""
    chosen = counted(policy, graded, extension=extension, pick=pick)
    fields = dict(override=override.score if override else None, override_reason=override.reason if override else "",
                  pending=pending, submissions=len(graded))
    if chosen is None:
        return Cell(**fields)
    return Cell(submission_id=chosen.submission_id, raw=chosen.raw, days_late=chosen.lateness.days_late,
                penalty_percent=chosen.lateness.penalty_percent, late_score=chosen.final, **fields)


def course_students(session: Session, course_id: int) -> list[tuple[User, Enrollment]]:
    """The course's students, by section then username."""
    rows = session.execute(select(User, Enrollment).join(Enrollment, Enrollment.user_id == User.id)
                           .where(Enrollment.course_id == course_id, Enrollment.role == Role.STUDENT))
    return sorted(((u, e) for u, e in rows), key=lambda ue: (ue[1].section, ue[0].username))


def published_assignments(session: Session, course_id: int) -> list[Assignment]:
    return list(session.scalars(select(Assignment).where(Assignment.course_id == course_id,
                                                         Assignment.current_version_id.is_not(None))
                                .order_by(Assignment.id)))


def _student_work(session: Session, assignment_ids: list[int], user_ids: list[int]):
    """(assignment, user) -> graded submissions, and the pairs with work still in flight. A team's submission is
    every member's of the moment it was sent, as if their own (core/teams.py)."""
    graded: dict[tuple[int, int], list[Graded]] = defaultdict(list)
    pending: set[tuple[int, int]] = set()
    if not assignment_ids or not user_ids:
        return graded, pending
    wanted = set(user_ids)
    their_teams = select(TeamMembership.team_id).where(TeamMembership.user_id.in_(user_ids))
    query = select(Submission).where(Submission.assignment_id.in_(assignment_ids),
                                     or_(Submission.user_id.in_(user_ids), Submission.team_id.in_(their_teams)),
                                     Submission.purpose == SubmissionPurpose.STUDENT,
                                     Submission.kind != SubmissionKind.REPORT)  # a report: the rubric part
    subs = list(session.scalars(query))
    windows = membership_windows(session, {s.team_id for s in subs if s.team_id is not None})
    for sub in subs:
        owners = {sub.user_id} if sub.team_id is None else \
            {sub.user_id, *members_in(windows[sub.team_id], sub.created_at)}
        for user_id in owners & wanted:
            key = (sub.assignment_id, user_id)
            if sub.status == SubmissionStatus.GRADED and sub.score is not None:
                graded[key].append(Graded(submission_id=sub.id, submitted_at=sub.created_at, raw=sub.score))
            elif sub.status in (SubmissionStatus.QUEUED, SubmissionStatus.RUNNING):
                pending.add(key)
    return graded, pending


def build_cells(session: Session, assignments: list[Assignment], students: list[User]) -> dict[tuple[int, int], Cell]:
    """(assignment_id, user_id) -> Cell for every pair."""
    ids, user_ids = [a.id for a in assignments], [u.id for u in students]
    graded, pending = _student_work(session, ids, user_ids)
    overrides = overrides_in_force(session, ids)
    cells = {}
    for assignment in assignments:
        policy = load_policy(session, assignment.id)
        extensions, picks = extensions_by_student(session, assignment.id), picks_by_student(session, assignment.id)
        for user_id in user_ids:
            key = (assignment.id, user_id)
            cells[key] = make_cell(policy, graded.get(key, []), extension=extensions.get(user_id),
                                   override=overrides.get(key), pending=key in pending, pick=picks.get(user_id))
        rubric = rubric_parts(session, assignment=assignment, user_ids=user_ids)  # {} without a rubric
        cells |= {(assignment.id, uid): with_rubric(cells[(assignment.id, uid)], part) for uid, part in rubric.items()}
        if contest_config(assignment) is not None:
            cells |= contest_cells(session, assignment=assignment, user_ids=user_ids, graded=graded, cells=cells)
    return cells


def contest_cells(session: Session, *, assignment: Assignment, user_ids: list[int],
                  graded: dict[tuple[int, int], list[Graded]], cells: dict[tuple[int, int], Cell]
                  ) -> dict[tuple[int, int], Cell]:
    """A contest's cells: nothing before the reveal (a public score is not a grade), then the points its private
    board gives the team (or lone student) whose entries the student shares; overrides still win."""
    points = contest_points(session, assignment=assignment) or {}
    ids = [g.submission_id for user_id in user_ids for g in graded.get((assignment.id, user_id), [])]
    owners = {s.id: owner_of(s) for s in session.scalars(select(Submission).where(Submission.id.in_(ids)))}
    out = {}
    for user_id in user_ids:
        key = (assignment.id, user_id)
        mine = [points[owners[g.submission_id]] for g in graded.get(key, []) if owners.get(g.submission_id) in points]
        points_from = max(mine, default=(None, None))
        out[key] = replace(cells[key], submission_id=points_from[1], raw=points_from[0], late_score=points_from[0],
                           days_late=0, penalty_percent=0.0)
    return out


def with_rubric(cell: Cell, part: RubricPart) -> Cell:
    """The cell plus its rubric part: counted once released, shown to staff as pending before."""
    return replace(cell, rubric=part.score if part.released else None, rubric_pending=not part.released)


def cell_for(session: Session, *, assignment: Assignment, student: User) -> Cell:
    return build_cells(session, [assignment], [student])[(assignment.id, student.id)]


def override_score(session: Session, *, assignment: Assignment, student: User, score: float | None, reason: str,
                   author: User) -> ScoreOverride:
    """Record a manual score (None clears it) with the score the student had just before; raises OverrideError."""
    previous = cell_for(session, assignment=assignment, student=student).final
    return record_override(session, assignment=assignment, student=student, score=score, reason=reason, author=author,
                           previous=previous)


def build_gradebook(session: Session, course: Course, *, now: datetime | None = None) -> Gradebook:
    assignments = published_assignments(session, course.id)
    students = course_students(session, course.id)
    cells = build_cells(session, assignments, [u for u, _ in students])
    columns = [Column(assignment_id=a.id, slug=a.slug, title=a.title, max_score=a.max_score,
                      due_at=load_policy(session, a.id).due_at) for a in assignments]
    rows = [Row(user_id=u.id, username=u.username, name=u.name, email=u.email, sis_id=u.sis_id, section=e.section,
                cells={a.slug: cells[(a.id, u.id)] for a in assignments}) for u, e in students]
    return Gradebook(course_slug=course.slug, course_title=course.title, generated_at=now or utcnow(),
                     columns=columns, rows=rows)


def find_student(session: Session, *, course_id: int, username: str) -> User | None:
    """A user enrolled as a student in the course, by username."""
    return session.scalar(select(User).join(Enrollment, Enrollment.user_id == User.id).where(
        User.username == username, Enrollment.course_id == course_id, Enrollment.role == Role.STUDENT))
