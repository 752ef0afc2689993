"""Turn models into response schemas (what a student sees vs what staff see)."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from gradeflow_api.schemas import AssignmentPublic, CheckPublic, RunPublic, SubmissionPublic, SubmissionStaff
from gradeflow_protocol.bundles import AssignmentConfig
from gradeflow_protocol.enums import SubmissionStatus
from gradeflow_core.models import Assignment, GradingResult, Submission
from gradeflow_protocol.words import describe_status


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


def submission_public(session: Session, submission: Submission, *, staff: bool = False) -> SubmissionPublic:
    result = latest_result(session, submission) if submission.status == SubmissionStatus.GRADED else None
    fields = dict(
        id=submission.id, assignment_id=submission.assignment_id, filename=submission.filename, kind=submission.kind,
        status=submission.status, status_text=describe_status(submission.status),
        progress=submission.progress, score=submission.score, max_score=submission.max_score,
        created_at=submission.created_at, graded_at=submission.graded_at,
    )
    if result is not None:
        fields |= dict(checks=[CheckPublic(**c) for c in result.checks], output=result.output,
                       run=RunPublic(outcome=result.run["outcome"], wall_seconds=result.run["wall_seconds"],
                                     message=result.run.get("message", "")))
    if not staff:
        return SubmissionPublic(**fields)
    return SubmissionStaff(**fields, user=submission.user.username, attempt=submission.attempt, runs=submission.runs,
                           worker=submission.worker, log=result.log if result else "",
                           error=submission.error, enforced=result.run.get("enforced", {}) if result else {},
                           not_enforced=result.run.get("not_enforced", []) if result else [],
                           environment=result.run.get("environment") if result else None,
                           environment_digest=result.run.get("environment_digest") if result else None)
