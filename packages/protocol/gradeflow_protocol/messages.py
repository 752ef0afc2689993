"""Every message that crosses a process boundary: frozen, validated, documented.

- GradeTask: API -> Redis -> worker (the Celery task's only argument).
- JobSpec: API -> worker, answer to a claim.
- RunResult / ResultPost: worker -> API.
"""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from gradeflow_protocol.enums import RunOutcome, SubmissionKind

MAX_MESSAGE_CHARS = 2000


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Limits(Frozen):
    """Resource limits of one run; the same meaning in every sandbox backend."""

    time_limit_s: float = Field(300.0, gt=0, description="wall time for the whole run (cells and checks)")
    cell_timeout_s: float = Field(60.0, gt=0, description="wall time for one notebook cell")
    check_timeout_s: float = Field(30.0, gt=0, description="wall time for one check's calls into the kernel")
    memory_mb: int = Field(1024, ge=64, description="resident memory of everything in the sandbox")
    max_processes: int = Field(64, ge=8, description="processes and threads in the sandbox")
    max_output_kb: int = Field(1024, ge=1, description="output beyond this stops the run")
    shown_output_kb: int = Field(64, ge=1, description="output kept for the student to read")
    scratch_mb: int = Field(128, ge=1, description="size of the writable scratch (home and /tmp)")
    max_open_files: int = Field(256, ge=32, description="open file descriptors per process")
    cpus: float = Field(1.0, gt=0, description="CPU share (cgroup quota / docker --cpus)")
    gpu: bool = Field(False, description="ask the backend for a GPU")


class GradeTask(Frozen):
    """The Celery task's argument: ids and a per-attempt token, never objects."""

    submission_id: int = Field(..., ge=1)
    attempt: int = Field(..., ge=1, description="generation of this submission's grading; bumped on re-queue")
    token: str = Field(..., min_length=16, description="bearer token valid for this attempt only")


class JobSpec(Frozen):
    """What the worker needs to grade one attempt; files are fetched separately."""

    submission_id: int
    attempt: int
    kind: SubmissionKind
    filename: str = Field(..., description="the student's file name, sanitised")
    submission_sha256: str
    bundle_sha256: str = Field(..., description="content hash of the assignment version")
    assignment_slug: str
    limits: Limits
    seed: int = Field(..., description="seed for inputs the checks draw; recorded for TAs")


class CheckResult(Frozen):
    name: str = Field(..., max_length=200)
    score: float = Field(..., ge=0)
    max_score: float = Field(..., ge=0)
    passed: bool
    message: str = Field("", max_length=MAX_MESSAGE_CHARS)


class RunReport(Frozen):
    """How the sandboxed run ended."""

    outcome: RunOutcome
    wall_seconds: float = Field(..., ge=0)
    message: str = Field("", max_length=MAX_MESSAGE_CHARS)
    enforced: dict[str, str] = Field(default_factory=dict, description="limit -> mechanism that enforced it")
    not_enforced: list[str] = Field(default_factory=list)


class ResultPost(Frozen):
    """The worker's result for one attempt. Posting it twice changes nothing."""

    submission_id: int
    attempt: int
    checks: list[CheckResult]
    run: RunReport
    output: str = Field("", description="the student's own stdout/stderr during their code, capped")
    log: str = Field("", description="full harness log for TAs (includes output during checks)")
    error: str | None = Field(None, description="set when the service, not the student, failed")

    @property
    def score(self) -> float:
        return round(sum(c.score for c in self.checks), 6)

    @property
    def max_score(self) -> float:
        return round(sum(c.max_score for c in self.checks), 6)
