"""Every message that crosses a process boundary: frozen, validated, documented.

- GradeTask: API -> Redis -> worker (the Celery task's only argument).
- The worker's calls to the API (paths in paths.py), request -> reply:
  claim: ClaimBody -> JobSpec; heartbeat: HeartbeatBody -> HeartbeatReply;
  submission-file, bundle: raw bytes; result: ResultPost (CheckResult, RunReport) -> ResultReply;
  release: ReleaseBody -> ReleaseReply. Claim and the downloads answer 409 with a Refusal when the
  attempt must not run.
- KernelReply: the student's kernel -> harness, one per request; hostile (it comes out of the sandbox).
"""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from gradeflow_protocol.enums import ContestMetric, RunFailureKind, RunOutcome, SubmissionKind

MAX_MESSAGE_CHARS = 2000
MAX_WORKER_NAME_CHARS = 200
MAX_PROGRESS_CHARS = 200
MAX_RELEASE_ERROR_CHARS = 4000
MAX_KERNEL_ERROR_CHARS = 1000
MAX_TRACEBACK_CHARS = 8000


class Frozen(BaseModel):
    """Base of every message: immutable, and unknown fields are an error, not silently dropped."""

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

    submission_id: int = Field(..., ge=1, description="the submission to grade")
    attempt: int = Field(..., ge=1, description="generation of this submission's grading; bumped on re-queue")
    token: str = Field(..., min_length=16, description="bearer token valid for this attempt only")


class JobSpec(Frozen):
    """What the worker needs to grade one attempt; files are fetched separately."""

    submission_id: int = Field(..., description="the submission being graded")
    attempt: int = Field(..., description="the attempt the claim was made for")
    kind: SubmissionKind = Field(..., description="notebook, script, predictions, report")
    filename: str = Field(..., description="the student's file name, sanitised")
    submission_sha256: str = Field(..., description="content hash the fetched submission bytes must match")
    bundle_sha256: str = Field(..., description="content hash of the assignment version")
    assignment_slug: str = Field(..., description="the assignment's short name, for logs")
    limits: Limits = Field(..., description="resource limits of this run")
    seed: int = Field(..., description="seed for inputs the checks draw; recorded for TAs")
    environment: str = Field("default", max_length=64,
                             description="the student environment the kernel runs in (gradeflow_protocol.environments)")


class CheckResult(Frozen):
    """One check's verdict, as the student sees it."""

    name: str = Field(..., max_length=200, description="the check's title")
    score: float = Field(..., ge=0, description="points earned")
    max_score: float = Field(..., ge=0, description="points available")
    passed: bool = Field(..., description="whether the check passed in full")
    message: str = Field("", max_length=MAX_MESSAGE_CHARS, description="what the check author wrote for the student")
    blocked: bool = Field(False, description="failed only because the student's code stopped early (RunReport.failure"
                                             " or a limit); shown grouped under one line")


class RunFailure(Frozen):
    """Where and how the student's own code stopped short of its end, in the terms of their file."""

    kind: RunFailureKind = Field(..., description="syntax error, missing module, exception, exit, empty ...")
    filename: str = Field("", max_length=255, description="the student's file name (never the kernel's temporary one)")
    cell: int | None = Field(None, ge=1, description="the notebook's code cell, counting code cells from 1; None: script")
    line: int | None = Field(None, ge=1, description="where the code stopped: line of the script, or of that cell")
    ename: str = Field("", max_length=200, description="the exception's type name")
    message: str = Field("", max_length=MAX_MESSAGE_CHARS, description="the exception's message, cleaned")
    module: str = Field("", max_length=200, description="the module an import could not find")
    traceback: str = Field("", max_length=MAX_TRACEBACK_CHARS, description="the traceback, in the file's terms")


class RunReport(Frozen):
    """How the sandboxed run ended."""

    outcome: RunOutcome = Field(..., description="completed, or the limit or failure that ended the run")
    wall_seconds: float = Field(..., ge=0, description="wall time of the whole run")
    message: str = Field("", max_length=MAX_MESSAGE_CHARS, description="the run's verdict in words")
    enforced: dict[str, str] = Field(default_factory=dict, description="limit -> mechanism that enforced it")
    not_enforced: list[str] = Field(default_factory=list, description="limits the sandbox backend could not enforce")
    environment: str | None = Field(None, max_length=64, description="the student environment the kernel ran in")
    environment_digest: str | None = Field(None, max_length=200,
                                           description="what exactly it held: sha256 of its `pip freeze`")
    failure: RunFailure | None = Field(None, description="set when the student's code stopped short of its end")


class ContestResult(Frozen):
    """A contest submission's scores, computed in the worker from the predictions and the hidden solution.

    `private` and its interval reach the API only: no student sees them before the instructor's reveal."""

    metric: ContestMetric = Field(..., description="accuracy, macro_f1 or roc_auc")
    public: float | None = Field(None, description="the score on the public part of the test set; None: unscorable")
    private: float | None = Field(None, description="the score on the private part (hidden until the reveal)")
    private_low: float | None = Field(None, description="the private score's bootstrap 95% interval, low end")
    private_high: float | None = Field(None, description="... high end")
    problem: str = Field("", max_length=MAX_MESSAGE_CHARS,
                         description="why the file could not be scored: the first bad row and what was expected")


class ResultPost(Frozen):
    """The worker's result for one attempt. Posting it twice changes nothing."""

    submission_id: int = Field(..., description="must match the token's submission")
    attempt: int = Field(..., description="must match the token's attempt")
    checks: list[CheckResult] = Field(..., description="every check's verdict; the score is their sum")
    run: RunReport = Field(..., description="how the sandboxed run ended")
    output: str = Field("", description="the student's own stdout/stderr during their code, capped")
    log: str = Field("", description="full harness log for TAs (includes output during checks)")
    error: str | None = Field(None, description="set when the service, not the student, failed")
    contest: ContestResult | None = Field(None, description="set for a contest submission (predictions scored)")

    @property
    def score(self) -> float:
        return round(sum(c.score for c in self.checks), 6)

    @property
    def max_score(self) -> float:
        return round(sum(c.max_score for c in self.checks), 6)


# --- The worker's other calls to the API and their replies


class ClaimBody(Frozen):
    """Claim an attempt: the API marks it running for this worker and answers with its JobSpec."""

    worker: str = Field(..., max_length=MAX_WORKER_NAME_CHARS, description="who claims, host:thread, for TAs")


class HeartbeatBody(Frozen):
    """A running attempt is alive; a silent one is re-queued by the API's sweeper."""

    progress: str = Field("", max_length=MAX_PROGRESS_CHARS, description="what the run is doing, shown to staff")


class HeartbeatReply(Frozen):
    ok: bool = Field(..., description="False: the attempt is no longer running here (superseded or finished)")


class ResultReply(Frozen):
    stored: bool = Field(..., description="True when stored now; False for a duplicate or a superseded attempt")


class ReleaseBody(Frozen):
    """The worker could not grade (an infrastructure error, not the student's): re-queue or fail the submission."""

    error: str = Field(..., max_length=MAX_RELEASE_ERROR_CHARS, description="what went wrong, for TAs")


class ReleaseReply(Frozen):
    requeued: bool = Field(..., description="True when a new attempt was queued; False when out of runs or stale")


class Refusal(Frozen):
    """The body of a 409: this attempt must not run (graded, superseded, busy elsewhere, out of runs)."""

    detail: str = Field(..., max_length=MAX_MESSAGE_CHARS, description="why, in words")


# --- Kernel -> harness


class KernelReply(Frozen):
    """What the request snippet (kernel_snippets.py) writes as JSON in the IPC directory, one per request.

    Hostile: the student's code can write anything there. It is read size-capped, parsed without pickle,
    and anything that does not validate here is a clean failure of the check, never of the harness.
    """

    ok: StrictBool = Field(..., description="True: `value` holds the answer; False: the request raised")
    value: Any = Field(None, description="the answer as JSON; arrays as {'__gf_npy__': name}, checked when decoded")
    error: str = Field("", max_length=MAX_KERNEL_ERROR_CHARS, description="'Type: message' of what the request raised")
    ename: str = Field("", max_length=200, description="the exception's type name")
