"""Leaderboards from scored entries: best public per team with ties to the earlier submission, the Ladder,
final picks on the private board, and gradebook points by rank or threshold."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gradeflow_core.leaderboard import (ScoredEntry, final_submissions, points_by_rank, points_by_thresholds,
                                        private_board, public_board)

T0 = datetime(2026, 12, 1, tzinfo=UTC)


def entry(sid: int, team: str, minutes: int, public: float, private: float, picked: bool = False) -> ScoredEntry:
    return ScoredEntry(submission_id=sid, team=team, submitted_at=T0 + timedelta(minutes=minutes), public=public,
                       private=private, private_low=private - 0.05, private_high=private + 0.05, picked=picked)


ENTRIES = [entry(1, "ants", 0, 0.70, 0.60), entry(2, "ants", 10, 0.80, 0.65), entry(3, "bees", 5, 0.80, 0.90),
           entry(4, "bees", 20, 0.75, 0.95), entry(5, "cats", 1, 0.50, 0.99)]


def test_public_board_is_the_best_public_score_per_team_ties_to_the_earlier():
    board = public_board(ENTRIES)
    assert [(r.rank, r.team, r.score, r.submission_id) for r in board] == [
        (1, "bees", 0.8, 3), (2, "ants", 0.8, 2), (3, "cats", 0.5, 5)]
    assert board[0].submissions == 2 and board[0].last_at == T0 + timedelta(minutes=20)


def test_scores_are_rounded_as_configured():
    assert public_board([entry(1, "a", 0, 0.123456, 0.5)], digits=2)[0].score == 0.12


def test_the_ladder_ignores_small_public_gains():
    entries = [entry(1, "a", 0, 0.700, 0.5), entry(2, "a", 1, 0.705, 0.5), entry(3, "b", 0, 0.702, 0.5)]
    board = public_board(entries, ladder_step=0.01)
    assert [(r.team, r.score, r.submission_id) for r in board] == [("a", 0.7, 1), ("b", 0.7, 3)]


def test_private_board_uses_picks_else_the_best_public_and_carries_intervals():
    picked = [*ENTRIES[:2], entry(6, "ants", 30, 0.10, 0.99, picked=True)]
    assert [e.submission_id for e in final_submissions(picked)] == [6]
    assert [e.submission_id for e in final_submissions(ENTRIES[:2])] == [2]  # no pick: best public
    board = private_board(ENTRIES)
    assert [(r.team, r.score) for r in board] == [("cats", 0.99), ("bees", 0.9), ("ants", 0.65)]
    assert board[0].interval == (0.94, 1.04)


def test_at_most_two_picks_count_the_latest():
    mine = [entry(i, "a", i, 0.5, 0.1 * i, picked=True) for i in range(1, 5)]
    assert [e.submission_id for e in final_submissions(mine)] == [3, 4]


def test_gradebook_points_by_rank_and_by_threshold():
    assert points_by_rank(1, 5, 20) == 20 and points_by_rank(5, 5, 20) == 10 and points_by_rank(1, 1, 20) == 20
    assert points_by_thresholds(0.83, [(0.5, 0.5), (0.8, 0.8), (0.9, 1.0)], 10) == pytest.approx(8)
    assert points_by_thresholds(0.3, [(0.5, 0.5)], 10) == 0
