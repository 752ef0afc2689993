"""The one place that turns outcomes and statuses into words a student understands."""
from __future__ import annotations

from datetime import UTC, datetime

from gradeflow_protocol.enums import ActivationCause, RunOutcome, SubmissionStatus, UploadRefusal, VersionState

_OUTCOME_WORDS = {
    RunOutcome.COMPLETED: "Your code ran to the end.",
    RunOutcome.TIMEOUT: "Your code ran past its time limit ({limit}) and was stopped.",
    RunOutcome.MEMORY_LIMIT: "Your code used more memory than the limit ({limit}) and was stopped.",
    RunOutcome.PROCESS_LIMIT: "Your code started more processes or threads than allowed ({limit}).",
    RunOutcome.OUTPUT_LIMIT: "Your code printed more output than allowed ({limit}) and was stopped.",
    RunOutcome.CRASHED: "The Python process running your code ended unexpectedly{detail}.",
}

_STATUS_WORDS = {
    SubmissionStatus.QUEUED: "Waiting for a grader.",
    SubmissionStatus.RUNNING: "Being graded now.",
    SubmissionStatus.GRADED: "Graded.",
    SubmissionStatus.FAILED: "The service could not grade this submission; this is not your fault. Staff have been told.",
}


def describe_outcome(outcome: RunOutcome, *, limit: str = "", detail: str = "") -> str:
    """A sentence for a student about how the run ended."""
    text = _OUTCOME_WORDS[outcome]
    return text.format(limit=limit or "the assignment's limit", detail=f" ({detail})" if detail else "")


def describe_status(status: SubmissionStatus) -> str:
    return _STATUS_WORDS[status]


_VERSION_WORDS = {
    VersionState.VALIDATING: "Being checked: its reference and known-wrong files are being graded.",
    VersionState.READY: "Ready: the reference scored full marks and every known-wrong file its recorded score.",
    VersionState.BROKEN: "Broken: fix the problems listed and publish again.",
}


def when(moment: datetime) -> str:
    """A moment as people read it, in UTC: '2026-12-01 23:59:00 UTC'."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def describe_refusal(refusal: UploadRefusal, *, retry_at: datetime | None = None, limit: int | None = None,
                     deadline: datetime | None = None) -> str:
    """Why an upload was refused, and when (or whether) the student can try again."""
    if refusal is UploadRefusal.NOT_OPEN:
        return f"This assignment opens at {when(retry_at)}; submit then." if retry_at else \
            "This assignment is not open yet."
    if refusal is UploadRefusal.CLOSED:
        closed = f" at {when(deadline)} (plus any grace period)" if deadline else ""
        return (f"This assignment closed{closed} and takes no late submissions. "
                "Ask your instructor if you need an extension.")
    allowed = f" Your next submission is allowed at {when(retry_at)}." if retry_at else ""
    return f"You have used all {limit} submissions allowed in 24 hours.{allowed}"


def describe_lateness(*, days_late: int, penalty_percent: float, accepted: bool = True) -> str:
    """'on time', '2 days late (-20%)', or 'late: past the cutoff, not counted'."""
    if days_late <= 0:
        return "on time"
    if not accepted:
        return "late: past the cutoff, not counted"
    days = "1 day" if days_late == 1 else f"{days_late} days"
    return f"{days} late (-{penalty_percent:g}%)" if penalty_percent else f"{days} late (no penalty)"


def describe_version_state(state: VersionState) -> str:
    return _VERSION_WORDS[state]


_ACTIVATION_WORDS = {
    ActivationCause.PUBLISHED: "made official when published",
    ActivationCause.VALIDATED: "made official once its validation passed, as asked at publish",
    ActivationCause.ACTIVATED: "activated by hand",
}


def describe_activation(cause: ActivationCause, *, regrade_run_id: int | None = None) -> str:
    """'activated by hand, adopting regrade 3's results', and the like."""
    text = _ACTIVATION_WORDS[cause]
    return text + (f", adopting regrade {regrade_run_id}'s results" if regrade_run_id is not None else "")
