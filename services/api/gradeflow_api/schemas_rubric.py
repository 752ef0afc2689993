"""Request and response schemas of the rubric API (reports graded by staff)."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from gradeflow_core.rubric import MAX_ADJUSTMENT, MAX_COMMENT_CHARS


class ItemCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    points: float = Field(..., ge=-MAX_ADJUSTMENT, le=MAX_ADJUSTMENT, description="negative for a deduction")
    text: str = Field(..., min_length=1, max_length=2000, description="what the student reads")


class ItemUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    points: float | None = Field(None, ge=-MAX_ADJUSTMENT, le=MAX_ADJUSTMENT)
    text: str | None = Field(None, min_length=1, max_length=2000)


class ItemPublic(BaseModel):
    id: int
    points: float
    text: str
    submissions: int = Field(..., description="submissions it is applied to (an edit changes all of them)")


class QuestionPublic(BaseModel):
    id: int
    title: str
    points: float
    items: list[ItemPublic]


class ProgressPublic(BaseModel):
    graded: int = Field(..., description="reports with every question graded")
    total: int = Field(..., description="reports to grade: the latest graded PDF per student or team")
    next_ungraded: int | None


class RubricPublic(BaseModel):
    assignment_id: int
    released: bool
    points: float
    questions: list[QuestionPublic]
    progress: ProgressPublic


class QuestionGrading(BaseModel):
    model_config = ConfigDict(extra="forbid")
    question_id: int = Field(..., ge=1)
    item_ids: list[int] = Field(default_factory=list, max_length=200, description="exactly the items applied")
    comment: str = Field("", max_length=MAX_COMMENT_CHARS)
    adjustment: float = Field(0.0, ge=-MAX_ADJUSTMENT, le=MAX_ADJUSTMENT)


class SubmissionGrading(BaseModel):
    model_config = ConfigDict(extra="forbid")
    questions: list[QuestionGrading] = Field(..., min_length=1, max_length=100)


class AppliedItem(BaseModel):
    id: int
    points: float
    text: str
    applied: bool


class QuestionGrade(BaseModel):
    id: int
    title: str
    points: float
    graded: bool
    score: float
    comment: str
    adjustment: float
    items: list[AppliedItem] = Field(..., description="staff: every item; a student: only those applied")


class SubmissionRubricPublic(BaseModel):
    submission_id: int
    released: bool
    score: float | None = Field(..., description="None for a student before release")
    max_score: float
    complete: bool
    questions: list[QuestionGrade] = Field(..., description="empty for a student before release")
