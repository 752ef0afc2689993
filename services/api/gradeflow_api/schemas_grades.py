"""Request and response schemas of the instructor API: policy, extensions, overrides, gradebook."""
from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from gradeflow_core.deadlines import PolicySettings


class Standing(BaseModel):
    """The caller's own position on an assignment under its policy."""

    deadline: datetime | None = Field(..., description="the caller's deadline (extension applied)")
    extension: datetime | None
    uploads_left: int | None = Field(..., description="uploads the daily limit still allows now (None: no limit)")
    next_upload_at: datetime | None = Field(..., description="when an upload is next allowed, if refused now")
    refusal: str | None = Field(..., description="why an upload would be refused now")
    counted_submission_id: int | None
    raw: float | None
    days_late: int
    penalty_percent: float
    lateness: str
    override: float | None
    final: float | None


class PolicyView(BaseModel):
    policy: PolicySettings
    me: Standing


class ExtensionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    due_at: AwareDatetime = Field(..., description="the student's own deadline (with a timezone offset)")
    reason: str = Field("", max_length=2000)


class ExtensionPublic(BaseModel):
    username: str
    name: str
    due_at: datetime
    reason: str
    granted_by: str | None
    created_at: datetime


class OverrideRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str
    score: float | None = Field(..., description="the score to record; null clears the override")
    reason: str = Field(..., max_length=2000)


class OverridePublic(BaseModel):
    id: int
    username: str
    score: float | None = Field(..., description="null: the override was cleared")
    previous_score: float | None
    reason: str
    by: str | None
    at: datetime


class CellPublic(BaseModel):
    submission_id: int | None
    raw: float | None = Field(..., description="the counted submission's score as graded")
    days_late: int
    penalty_percent: float
    late_score: float | None = Field(..., description="raw after the late penalty")
    override: float | None
    override_reason: str
    final: float | None = Field(..., description="what the gradebook records")
    pending: bool = Field(..., description="a newer submission is still being graded")
    lateness: str


class ColumnPublic(BaseModel):
    assignment_id: int
    slug: str
    title: str
    max_score: float
    due_at: datetime | None


class RowPublic(BaseModel):
    username: str
    name: str
    email: str
    sis_id: str
    section: str
    cells: dict[str, CellPublic] = Field(..., description="by assignment slug")
    total: float


class GradebookPublic(BaseModel):
    course: str
    title: str
    generated_at: datetime
    columns: list[ColumnPublic]
    rows: list[RowPublic]
    max_total: float
