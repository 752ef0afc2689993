"""Response schemas of the public API."""
from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from gradeflow_protocol.enums import RunOutcome, SubmissionKind, SubmissionStatus
from gradeflow_protocol.messages import RunFailure
from gradeflow_protocol.words import value_spans

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
    blocked: bool = False  # failed only because the code stopped early (shown grouped under RunPublic.blocked_text)

    @property
    def message_parts(self) -> list[tuple[str, bool]]:
        """The message as (text, is_a_value) pieces, so a page can set the values in monospace."""
        return value_spans(self.message)


class RunPublic(BaseModel):
    outcome: RunOutcome
    wall_seconds: float
    message: str = ""
    failure: RunFailure | None = None  # where the student's code stopped short; `message` says it in words
    blocked_text: str = ""  # '8 checks could not run because your code stopped at line 12.'


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
