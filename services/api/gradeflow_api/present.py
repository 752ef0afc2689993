"""Turn models into response schemas (what a student sees vs what staff see)."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from gradeflow_api.logs import without_kernel_banner
from gradeflow_api.schemas import AssignmentPublic, CheckPublic, RunPublic, SubmissionPublic, SubmissionStaff
from gradeflow_protocol.bundles import AssignmentConfig
from gradeflow_protocol.enums import RunOutcome, SubmissionStatus
from gradeflow_protocol.messages import RunFailure
from gradeflow_core.models import Assignment, GradingResult, Submission
from gradeflow_protocol.words import describe_blocked, describe_status


def assignment_public(assignment: Assignment) -> AssignmentPublic:
    version = assignment.current_version
    config = AssignmentConfig(**version.config) if version else None
    return AssignmentPublic(id=assignment.id, slug=assignment.slug, title=assignment.title,
                            course=assignment.course.slug, kind=assignment.kind, max_score=assignment.max_score,
                            accepts=config.accepted_extensions() if config else [],
                            version=version.sha256[:12] if version else None)


def latest_result(session: Session, submission: Submission) -> GradingResult | None:
    return session.scalar(select(GradingResult).where(GradingResult.submission_id == submission.id)
                          .order_by(GradingResult.attempt.desc()).limit(1))


def run_public(run: dict, checks: list[CheckPublic]) -> RunPublic:
    """How the run ended, with the one line that stands for the checks that failed only because the code stopped."""
    failure = RunFailure.model_validate(run["failure"]) if run.get("failure") else None
    blocked = sum(c.blocked for c in checks)
    text = describe_blocked(blocked, failure=failure, outcome=RunOutcome(run["outcome"])) if blocked else ""
    return RunPublic(outcome=run["outcome"], wall_seconds=run["wall_seconds"], message=run.get("message", ""),
                     failure=failure, blocked_text=text)


def submission_public(session: Session, submission: Submission, *, staff: bool = False) -> SubmissionPublic:
    result = latest_result(session, submission) if submission.status == SubmissionStatus.GRADED else None
    fields = dict(
        id=submission.id, assignment_id=submission.assignment_id, filename=submission.filename, kind=submission.kind,
        status=submission.status, status_text=describe_status(submission.status),
        progress=submission.progress, score=submission.score, max_score=submission.max_score,
        created_at=submission.created_at, graded_at=submission.graded_at,
    )
    if result is not None:
        checks = [CheckPublic(**c) for c in result.checks]
        fields |= dict(checks=checks, output=result.output, run=run_public(result.run, checks))
    if not staff:
        return SubmissionPublic(**fields)
    return SubmissionStaff(**fields, user=submission.user.username, attempt=submission.attempt, runs=submission.runs,
                           worker=submission.worker, log=without_kernel_banner(result.log) if result else "",
                           error=submission.error, enforced=result.run.get("enforced", {}) if result else {},
                           not_enforced=result.run.get("not_enforced", []) if result else [],
                           environment=result.run.get("environment") if result else None,
                           environment_digest=result.run.get("environment_digest") if result else None)
