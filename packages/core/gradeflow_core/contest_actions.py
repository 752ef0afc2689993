"""What students and instructors do in a contest: pick final submissions, see where they stand, reveal the
private board, and the points the revealed contest gives each student in the gradebook."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from gradeflow_protocol.enums import Board, ContestGrading, ContestRefusal
from sqlalchemy import select
from sqlalchemy.orm import Session

from gradeflow_core.contest_board import (
    BoardView,
    ContestRefused,
    board_view,
    is_revealed,
    owner_of,
    owners_of_user,
    refused,
    require_contest,
    scored_rows,
)
from gradeflow_core.deadlines import extensions_by_student, load_policy
from gradeflow_core.leaderboard import MAX_PICKS, points_by_rank, points_by_thresholds
from gradeflow_core.models import (
    Assignment,
    ContestPick,
    ContestReveal,
    ContestScore,
    Submission,
    User,
    utcnow,
)
from gradeflow_core.policy import picks_close_at

__all__ = ["ContestRefused", "Standing", "contest_points", "pick", "reveal", "standing", "unpick"]


@dataclass(frozen=True)
class MyEntry:
    submission_id: int
    submitted_at: datetime
    filename: str
    public: float
    picked: bool
    sent_by: str


@dataclass(frozen=True)
class Standing:
    """A student's view of a contest: the public board, their place on it, their entries and picks."""

    board: BoardView
    owners: set[str]
    rank: int | None
    entries: list[MyEntry]
    picks: int
    picks_close_at: datetime | None
    revealed: bool


def _close_at(session: Session, *, assignment: Assignment, user: User) -> datetime | None:
    policy = load_policy(session, assignment.id)
    return picks_close_at(policy, extension=extensions_by_student(session, assignment.id).get(user.id))


def _check_pick(session: Session, *, submission: Submission, user: User, now: datetime) -> str:
    """The owner key the pick goes to, or ContestRefused."""
    assignment = submission.assignment
    require_contest(assignment)
    owner = owner_of(submission)
    if owner not in owners_of_user(session, assignment=assignment, user=user):
        raise refused(ContestRefusal.NOT_YOURS)
    closes = _close_at(session, assignment=assignment, user=user)
    if is_revealed(session, assignment.id) or (closes is not None and now > closes):
        raise refused(ContestRefusal.PICKS_CLOSED, closed_at=closes)
    score = session.scalar(select(ContestScore).where(ContestScore.submission_id == submission.id))
    if score is None or score.public is None:
        raise refused(ContestRefusal.NOT_SCORED)
    return owner


def pick(session: Session, *, submission: Submission, user: User, now: datetime | None = None) -> ContestPick:
    """Make `submission` one of its owner's final submissions (at most MAX_PICKS); raises ContestRefused."""
    now = now or utcnow()
    owner = _check_pick(session, submission=submission, user=user, now=now)
    existing = session.scalar(select(ContestPick).where(ContestPick.assignment_id == submission.assignment_id,
                                                        ContestPick.submission_id == submission.id))
    if existing is not None:
        return existing
    held = session.scalars(select(ContestPick).where(ContestPick.assignment_id == submission.assignment_id,
                                                     ContestPick.owner == owner)).all()
    if len(held) >= MAX_PICKS:
        raise refused(ContestRefusal.TOO_MANY_PICKS)
    row = ContestPick(assignment_id=submission.assignment_id, submission_id=submission.id, owner=owner,
                      picked_by=user.id, picked_at=now)
    session.add(row)
    session.flush()
    return row


def unpick(session: Session, *, submission: Submission, user: User, now: datetime | None = None) -> bool:
    """Take a submission out of its owner's final ones; False when it was not picked."""
    now = now or utcnow()
    _check_pick(session, submission=submission, user=user, now=now)
    row = session.scalar(select(ContestPick).where(ContestPick.assignment_id == submission.assignment_id,
                                                   ContestPick.submission_id == submission.id))
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True


def standing(session: Session, *, assignment: Assignment, user: User) -> Standing:
    view = board_view(session, assignment=assignment, board=Board.PUBLIC, staff=False)
    owners = owners_of_user(session, assignment=assignment, user=user)
    picked = set(session.scalars(select(ContestPick.submission_id).where(
        ContestPick.assignment_id == assignment.id, ContestPick.owner.in_(owners))))
    senders = {}
    mine = []
    for submission, score in scored_rows(session, assignment.id):
        if owner_of(submission) in owners:
            senders.setdefault(submission.user_id, submission.user.username)
            mine.append(MyEntry(submission_id=submission.id, submitted_at=submission.created_at,
                                filename=submission.filename, public=round(score.public, 6),
                                picked=submission.id in picked, sent_by=senders[submission.user_id]))
    rank = next((row.rank for row in view.rows if row.team in owners), None)
    return Standing(board=view, owners=owners, rank=rank, entries=mine[::-1], picks=len(picked),
                    picks_close_at=_close_at(session, assignment=assignment, user=user),
                    revealed=view.revealed)


def contest_closes_at(session: Session, *, assignment: Assignment) -> datetime | None:
    """When the last student can no longer submit or pick: the deadline plus grace, or the latest extension's."""
    policy = load_policy(session, assignment.id)
    ends = [picks_close_at(policy, extension=extension)
            for extension in [None, *extensions_by_student(session, assignment.id).values()]]
    return max((end for end in ends if end is not None), default=None)


def reveal(session: Session, *, assignment: Assignment, user: User, grading: ContestGrading | None = None,
           now: datetime | None = None) -> ContestReveal:
    """Show the private board to students and feed the gradebook (by rank or by thresholds: the instructor's
    choice, else assignment.toml's); only after the contest's deadline."""
    config = require_contest(assignment)
    grading = grading or config.grading
    if grading is ContestGrading.THRESHOLDS and not config.thresholds:
        raise ValueError("this contest has no thresholds in assignment.toml ([contest] thresholds = "
                         "[[score, fraction], ...]); grade by rank, or publish thresholds first")
    now = now or utcnow()
    closes = contest_closes_at(session, assignment=assignment)
    if closes is not None and now <= closes:
        raise refused(ContestRefusal.NOT_CLOSED, closed_at=closes)
    row = session.scalar(select(ContestReveal).where(ContestReveal.assignment_id == assignment.id))
    if row is None:
        row = ContestReveal(assignment_id=assignment.id, revealed_at=now, revealed_by=user.id)
        session.add(row)
    row.gradebook_mode = grading.value
    session.flush()
    return row


def hide(session: Session, *, assignment: Assignment) -> bool:
    """Undo a reveal (a mistake): the private board is hidden again; False when it was not revealed."""
    require_contest(assignment)
    row = session.scalar(select(ContestReveal).where(ContestReveal.assignment_id == assignment.id))
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True


def contest_points(session: Session, *, assignment: Assignment) -> dict[str, tuple[float, int]] | None:
    """owner key -> (gradebook points, the submission they come from) once revealed; None before the reveal."""
    revealed = session.scalar(select(ContestReveal).where(ContestReveal.assignment_id == assignment.id))
    if revealed is None:
        return None
    config = require_contest(assignment)
    rows = board_view(session, assignment=assignment, board=Board.PRIVATE, staff=True).rows
    points = {}
    for row in rows:
        if ContestGrading(revealed.gradebook_mode) is ContestGrading.RANK or not config.thresholds:
            value = points_by_rank(row.rank, len(rows), assignment.max_score)
        else:
            value = points_by_thresholds(row.score, config.thresholds, assignment.max_score)
        points[row.team] = (round(value, 4), row.submission_id)
    return points
