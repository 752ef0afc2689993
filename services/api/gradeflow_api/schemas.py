"""Response schemas of the public API."""
from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from gradeflow_protocol.enums import RunOutcome, SubmissionKind, SubmissionStatus

# Row ids are INTEGER columns: a larger number names no row, and the database driver would raise (a 500), so
# ids that clients send (path, query, body) are bounded to this and answered 422 beyond it.
MAX_ROW_ID = 2**31 - 1


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"


class AssignmentPublic(BaseModel):
    id: int
    slug: str
    title: str
    course: str
    kind: SubmissionKind
    max_score: float
    accepts: list[str]
    version: str | None


class CheckPublic(BaseModel):
    name: str
    score: float
    max_score: float
    passed: bool
    message: str


class RunPublic(BaseModel):
    outcome: RunOutcome
    wall_seconds: float
    message: str = ""


class SubmissionPublic(BaseModel):
    id: int
    assignment_id: int
    filename: str
    kind: SubmissionKind
    status: SubmissionStatus
    status_text: str
    progress: str = ""
    score: float | None
    max_score: float | None
    checks: list[CheckPublic] = []
    run: RunPublic | None = None
    output: str = ""
    created_at: datetime
    graded_at: datetime | None


class SubmissionStaff(SubmissionPublic):
    """What staff see in addition: the full log, the limits enforced, attempts."""

    user: str
    attempt: int
    runs: int
    worker: str
    log: str = ""
    error: str | None = None
    enforced: dict[str, str] = {}
    not_enforced: list[str] = []
    environment: str | None = None  # the student environment the kernel ran in (None: a run before environments)
    environment_digest: str | None = None  # sha256 of its `pip freeze`
