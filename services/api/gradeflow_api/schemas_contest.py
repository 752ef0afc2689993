"""The contest's JSON shapes: leaderboards, a student's standing, picks, the reveal."""
from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from gradeflow_protocol.enums import Board, ContestGrading


class BoardEntry(BaseModel):
    rank: int = Field(..., description="1 is first; ties go to the team whose scoring submission came first")
    team: str = Field(..., description="the team's name, or the student's username without a team")
    score: float = Field(..., description="rounded as the contest says")
    submissions: int = Field(..., description="the team's scored submissions")
    last_at: datetime = Field(..., description="when the team's latest scored submission arrived")
    interval: tuple[float, float] | None = Field(None, description="private board: the score's 95% bootstrap interval")


class LeaderboardPublic(BaseModel):
    board: Board
    revealed: bool = Field(..., description="whether the instructor has revealed the private board")
    metric: str
    entries: list[BoardEntry]


class MyContestEntry(BaseModel):
    submission_id: int
    submitted_at: datetime
    filename: str
    sent_by: str
    public: float = Field(..., description="the public score (never the private one before the reveal)")
    picked: bool = Field(..., description="one of the team's final submissions for the private board")


class StandingPublic(BaseModel):
    rank: int | None = Field(..., description="the team's place on the public board (None: nothing scored yet)")
    picks: int
    max_picks: int
    picks_close_at: datetime | None
    revealed: bool
    entries: list[MyContestEntry]


class RevealBody(BaseModel):
    grading: ContestGrading | None = Field(None, description="how the gradebook counts the private board: rank, or "
                                                              "thresholds (assignment.toml's); default: the toml's")


class RevealPublic(BaseModel):
    revealed: bool
    revealed_at: datetime | None = None
    grading: ContestGrading | None = None
