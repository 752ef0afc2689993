"""A contest's leaderboards, picks and reveal, from the database (the boards themselves are core/leaderboard.py).

A contest entry belongs to an owner: its team ("team:ID") on a team assignment, else its sender ("user:ID").
Students read the public board, their own submissions and picks; the private board and every private score stay
with staff until the instructor reveals them after the close. After the reveal the contest feeds the gradebook,
by rank or by score thresholds as assignment.toml's [contest] says.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from gradeflow_protocol.bundles import AssignmentConfig, ContestConfig
from gradeflow_protocol.enums import (
    Board,
    ContestRefusal,
    SubmissionPurpose,
    SubmissionStatus,
)
from gradeflow_protocol.words import describe_contest_refusal
from sqlalchemy import select
from sqlalchemy.orm import Session

from gradeflow_core.leaderboard import MAX_PICKS, BoardRow, ScoredEntry, private_board, public_board
from gradeflow_core.models import Assignment, ContestPick, ContestReveal, ContestScore, Submission, Team, User
from gradeflow_core.teams import current_team


class ContestRefused(Exception):
    """A contest action the rules do not allow; `message` says why in a student's words."""

    def __init__(self, refusal: ContestRefusal, message: str) -> None:
        super().__init__(message)
        self.refusal, self.message = refusal, message


def refused(refusal: ContestRefusal, *, closed_at: datetime | None = None) -> ContestRefused:
    return ContestRefused(refusal, describe_contest_refusal(refusal, limit=MAX_PICKS, closed_at=closed_at))


@dataclass(frozen=True)
class BoardView:
    """One board as an edge shows it: rows with display names, and whether the private one is revealed."""

    board: Board
    revealed: bool
    metric: str
    rows: list[BoardRow]
    names: dict[str, str]  # owner key -> team name or username
    grading: str = ""  # how the revealed board feeds the gradebook (rank | thresholds); "" before the reveal


def contest_config(assignment: Assignment) -> ContestConfig | None:
    version = assignment.current_version
    return AssignmentConfig(**version.config).contest if version is not None else None


def require_contest(assignment: Assignment) -> ContestConfig:
    config = contest_config(assignment)
    if config is None:
        raise refused(ContestRefusal.NOT_A_CONTEST)
    return config


def owner_of(submission: Submission) -> str:
    return f"team:{submission.team_id}" if submission.team_id is not None else f"user:{submission.user_id}"


def owners_of_user(session: Session, *, assignment: Assignment, user: User) -> set[str]:
    """The owner keys whose entries count as this student's: their own, and their current team's."""
    owners = {f"user:{user.id}"}
    team = current_team(session, course_id=assignment.course_id, user_id=user.id)
    if team is not None:
        owners.add(f"team:{team.id}")
    return owners


def is_revealed(session: Session, assignment_id: int) -> bool:
    return session.scalar(select(ContestReveal.id).where(ContestReveal.assignment_id == assignment_id)) is not None


def scored_rows(session: Session, assignment_id: int) -> list[tuple[Submission, ContestScore]]:
    """Graded student submissions with a public score, oldest first."""
    query = (select(Submission, ContestScore).join(ContestScore, ContestScore.submission_id == Submission.id)
             .where(Submission.assignment_id == assignment_id, Submission.purpose == SubmissionPurpose.STUDENT,
                    Submission.status == SubmissionStatus.GRADED, ContestScore.public.is_not(None))
             .order_by(Submission.created_at, Submission.id))
    return [(s, c) for s, c in session.execute(query)]


def picked_ids(session: Session, assignment_id: int) -> set[int]:
    return set(session.scalars(select(ContestPick.submission_id).where(ContestPick.assignment_id == assignment_id)))


def entries(session: Session, assignment_id: int) -> list[ScoredEntry]:
    picks = picked_ids(session, assignment_id)
    return [ScoredEntry(submission_id=s.id, team=owner_of(s), submitted_at=s.created_at, public=c.public,
                        private=c.private if c.private is not None else float("-inf"), private_low=c.private_low,
                        private_high=c.private_high, picked=s.id in picks)
            for s, c in scored_rows(session, assignment_id)]


def owner_names(session: Session, owners: set[str]) -> dict[str, str]:
    team_ids = [int(o.split(":")[1]) for o in owners if o.startswith("team:")]
    user_ids = [int(o.split(":")[1]) for o in owners if o.startswith("user:")]
    names = {f"team:{t.id}": t.name for t in session.scalars(select(Team).where(Team.id.in_(team_ids)))}
    names |= {f"user:{u.id}": u.username for u in session.scalars(select(User).where(User.id.in_(user_ids)))}
    return names


def board_view(session: Session, *, assignment: Assignment, board: Board, staff: bool) -> BoardView:
    """The public board for anyone; the private one for staff, and for students once revealed (else HIDDEN)."""
    config = require_contest(assignment)
    reveal = session.scalar(select(ContestReveal).where(ContestReveal.assignment_id == assignment.id))
    revealed = reveal is not None
    if board is Board.PRIVATE and not revealed and not staff:
        raise refused(ContestRefusal.HIDDEN)
    found = entries(session, assignment.id)
    if board is Board.PUBLIC:
        rows = public_board(found, digits=config.digits, ladder_step=config.ladder_step)
    else:
        rows = private_board(found, digits=config.digits)
    return BoardView(board=board, revealed=revealed, metric=config.metric.value, rows=rows,
                     grading=reveal.gradebook_mode if reveal is not None else "",
                     names=owner_names(session, {r.team for r in rows}))
