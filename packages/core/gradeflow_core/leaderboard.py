"""Contest leaderboards, computed from scored entries (pure: no database, no web).

Public board: each team's best public score (ties go to the earlier submission), rounded as the contest says;
with the Ladder on, a team's shown score moves only on a significant improvement (gradeflow_graders.contest
has the rule; here it is applied in submission order per team). Private board (after the reveal): each team's
final submissions are its picks (at most MAX_PICKS), or, without picks, its best public one; the team's
private score is the best private score among them, with that submission's bootstrap interval.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

MAX_PICKS = 2


@dataclass(frozen=True)
class ScoredEntry:
    """One graded contest submission, as the board needs it."""

    submission_id: int
    team: str
    submitted_at: datetime
    public: float
    private: float
    private_low: float | None = None
    private_high: float | None = None
    picked: bool = False


@dataclass(frozen=True)
class BoardRow:
    rank: int
    team: str
    score: float
    submissions: int
    last_at: datetime
    submission_id: int
    interval: tuple[float, float] | None = None


def _ladder_best(entries: Sequence[ScoredEntry], step: float) -> tuple[float, ScoredEntry]:
    """The shown score of a team under the Ladder, and the submission that set it."""
    best, setter = -math.inf, entries[0]
    for entry in entries:
        if entry.public >= best + step:
            best, setter = round(entry.public / step) * step, entry
    return best, setter


def _by_team(entries: Iterable[ScoredEntry]) -> dict[str, list[ScoredEntry]]:
    teams: dict[str, list[ScoredEntry]] = {}
    for entry in sorted(entries, key=lambda e: (e.submitted_at, e.submission_id)):
        if math.isfinite(entry.public):
            teams.setdefault(entry.team, []).append(entry)
    return teams


def _ranked(rows: list[tuple[float, datetime, BoardRow]]) -> list[BoardRow]:
    """Higher score first; a tie goes to the team whose scoring submission came first."""
    rows.sort(key=lambda r: (-r[0], r[1], r[2].submission_id))
    return [BoardRow(**{**row.__dict__, "rank": position}) for position, (_, _, row) in enumerate(rows, start=1)]


def public_board(entries: Iterable[ScoredEntry], *, digits: int = 4, ladder_step: float | None = None
                 ) -> list[BoardRow]:
    rows = []
    for team, mine in _by_team(entries).items():
        if ladder_step:
            value, best = _ladder_best(mine, ladder_step)
        else:
            best = max(mine, key=lambda e: (e.public, -e.submitted_at.timestamp(), -e.submission_id))
            value = best.public
        shown = round(value, digits)
        rows.append((shown, best.submitted_at, BoardRow(rank=0, team=team, score=shown, submissions=len(mine),
                                                        last_at=mine[-1].submitted_at,
                                                        submission_id=best.submission_id)))
    return _ranked(rows)


def final_submissions(mine: Sequence[ScoredEntry]) -> list[ScoredEntry]:
    """A team's final submissions: its picks (the latest MAX_PICKS), else its best public one."""
    picks = [e for e in mine if e.picked][-MAX_PICKS:]
    if picks:
        return picks
    return [max(mine, key=lambda e: (e.public, -e.submitted_at.timestamp(), -e.submission_id))]


def private_board(entries: Iterable[ScoredEntry], *, digits: int = 4) -> list[BoardRow]:
    rows = []
    for team, mine in _by_team(entries).items():
        best = max(final_submissions(mine), key=lambda e: (e.private, -e.submitted_at.timestamp()))
        interval = None
        if best.private_low is not None and best.private_high is not None:
            interval = (round(best.private_low, digits), round(best.private_high, digits))
        shown = round(best.private, digits)
        rows.append((shown, best.submitted_at, BoardRow(rank=0, team=team, score=shown, submissions=len(mine),
                                                        last_at=mine[-1].submitted_at,
                                                        submission_id=best.submission_id, interval=interval)))
    return _ranked(rows)


def points_by_rank(rank: int, teams: int, points: float) -> float:
    """Gradebook points from a rank: linear from full points (first) to half points (last)."""
    if teams <= 1:
        return points
    return points * (1.0 - 0.5 * (rank - 1) / (teams - 1))


def points_by_thresholds(score: float, thresholds: Sequence[tuple[float, float]], points: float) -> float:
    """Gradebook points from a score: the fraction of the highest threshold reached, (threshold, fraction) pairs."""
    reached = [fraction for threshold, fraction in thresholds if score >= threshold]
    return points * max(reached, default=0.0)
