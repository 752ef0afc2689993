"""Request and response schemas of the staff API: courses, roster, versions, regrades, queue."""
from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from gradeflow_api.schemas import MAX_ROW_ID
from gradeflow_protocol.enums import (ActivationCause, RegradeItemState, Role, RosterAction, SubmissionKind,
                                  SubmissionPurpose, SubmissionStatus, VersionState)


class CourseCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    slug: str = Field(..., description="2-64 lowercase letters, digits or dashes, starting with a letter")
    title: str = Field("", max_length=200)


class CoursePublic(BaseModel):
    id: int
    slug: str
    title: str
    role: Role | None = Field(None, description="the caller's role in the course (an admin: instructor)")


class MePublic(BaseModel):
    id: int
    username: str
    name: str
    email: str
    is_admin: bool
    courses: list[CoursePublic]


class SetPassword(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: str = Field(..., description="the invitation token from a roster import report")
    password: str = Field(..., max_length=200)


class EnrollmentPublic(BaseModel):
    username: str
    name: str
    email: str
    sis_id: str
    section: str
    role: Role
    has_password: bool = Field(..., description="False until the person has used their invitation")


class RosterLinePublic(BaseModel):
    line: int = Field(..., description="line in the file; the header is line 1")
    username: str
    action: RosterAction
    changes: list[str] = []
    message: str = ""
    invite_token: str = Field("", description="for an account with no password yet: exchange it at "
                                              "POST /api/v1/auth/set-password")


class RosterReportPublic(BaseModel):
    applied: bool = Field(..., description="False for a dry run or a file with errors (then nothing was written)")
    counts: dict[str, int]
    lines: list[RosterLinePublic]
    not_in_file: list[str] = Field([], description="enrolled people the file does not list (never removed)")
    ignored_columns: list[str] = []


class ValidationRunPublic(BaseModel):
    label: str = Field(..., description="the file in the bundle: solution.ipynb, wrong/NAME.py")
    expected: float
    status: SubmissionStatus
    score: float | None
    matches: bool
    failed_checks: list[str] = []
    error: str | None = None


class VersionPublic(BaseModel):
    id: int
    assignment_id: int
    assignment: str = Field(..., description="the assignment's slug")
    sha256: str
    state: VersionState
    state_text: str
    problems: list[str] = Field([], description="what to fix, when the version is broken")
    current: bool = Field(..., description="the official version new submissions are graded against")
    activate_when_ready: bool
    created_at: datetime
    validated_at: datetime | None
    environment: str = Field("default", description="the student environment the assignment names")
    environment_digest: str | None = Field(None, description="what the validation ran in (installed packages, hashed)")
    runs: list[ValidationRunPublic] = []


class AssignmentStaff(BaseModel):
    id: int
    slug: str
    title: str
    kind: SubmissionKind
    max_score: float
    course: str
    current_version: str | None = Field(..., description="content hash of the official version (None: unpublished)")
    versions: int
    due_at: datetime | None = None


class ActivateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    regrade_run_id: int | None = Field(None, ge=1, le=MAX_ROW_ID,
                                       description="the regrade whose results to adopt; default: the newest "
                                                   "regrade of this version not yet made official")
    skip_regrade: bool = Field(False, description="make it official without adopting any regrade")
    force: bool = Field(False, description="adopt even if re-runs are unfinished or newer submissions exist")


class ActivationPublic(BaseModel):
    assignment_id: int
    version: str
    regrade_run_id: int | None
    adopted: int = Field(..., description="students' submissions given their re-run's result")
    kept: int = Field(..., description="re-runs that failed or had not finished: previous scores kept")
    stale: int = Field(..., description="submissions that arrived after the regrade started (scores kept)")


class ActivationLogEntry(BaseModel):
    """One change of the official version, from the append-only activation log."""

    version: str = Field(..., description="the version made official (content hash)")
    previous_version: str | None = Field(..., description="the version official before (None: there was none)")
    regrade_run_id: int | None = Field(..., description="the regrade whose results were adopted, if any")
    cause: ActivationCause
    text: str = Field(..., description="the cause in words")
    by: str | None = Field(..., description="username of who did it (None: the service itself)")
    at: datetime


class StudentChangePublic(BaseModel):
    username: str
    name: str
    state: RegradeItemState
    before: float | None
    after: float | None
    delta: float
    overridden: bool = Field(..., description="a manual score is in force; the gradebook will not move")


class RegradePublic(BaseModel):
    id: int
    assignment_id: int
    version: str
    created_at: datetime
    activated_at: datetime | None
    total: int
    done: int
    failed: int
    pending: int
    up: int
    down: int
    students: list[StudentChangePublic]


class SubmissionRow(BaseModel):
    """A submission in a staff listing."""

    id: int
    assignment_id: int
    user: str
    filename: str
    purpose: SubmissionPurpose
    status: SubmissionStatus
    score: float | None
    max_score: float | None
    version: str
    attempt: int
    runs: int
    worker: str
    progress: str
    error: str | None
    created_at: datetime
    queued_at: datetime
    started_at: datetime | None
    last_heartbeat: datetime | None
    graded_at: datetime | None


class QueuePublic(BaseModel):
    waiting: dict[str, int] = Field(..., description="queue -> submissions waiting (every course)")
    running: dict[str, int] = Field(..., description="worker -> submissions running (every course)")
    broker: dict[str, int | None] = Field({}, description="queue -> messages in Redis (None: broker unreachable)")
    queued: list[SubmissionRow]
    active: list[SubmissionRow]
    stuck: list[SubmissionRow] = Field(..., description="running but silent, or waiting far too long")
    failed: list[SubmissionRow] = Field(..., description="failed in the last 24 hours")
