"""Turn the staff's core objects into response schemas."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gradeflow_api.schemas_grades import (CellPublic, ColumnPublic, ExtensionPublic, GradebookPublic, OverridePublic,
                                          RowPublic, Standing)
from gradeflow_api.schemas_staff import (ActivationLogEntry, AssignmentStaff, RegradePublic, RosterLinePublic,
                                         RosterReportPublic, StudentChangePublic, SubmissionRow, ValidationRunPublic,
                                         VersionPublic)
from gradeflow_core.deadlines import extensions_by_student, load_policy, recent_uploads
from gradeflow_core.teams import team_for_upload
from gradeflow_protocol.enums import RegradeItemState
from gradeflow_core.gradebook import Cell, Gradebook, cell_for
from gradeflow_core.models import (Assignment, AssignmentVersion, Extension, ScoreOverride, Submission, User,
                                   utcnow)
from gradeflow_core.policy import student_deadline, upload_verdict, uploads_left
from gradeflow_core.regrade import RegradeDiff
from gradeflow_core.roster import RosterReport
from gradeflow_core.submission_list import Neighbours, neighbours, same_student_work
from gradeflow_core.versions import activation_log, run_checks
from gradeflow_protocol.words import describe_activation, describe_lateness, describe_refusal, describe_version_state


def version_public(session: Session, version: AssignmentVersion) -> VersionPublic:
    assignment = session.get(Assignment, version.assignment_id)
    # read now, after the version: a state and the activation it brings are committed together, so an assignment
    # object loaded earlier in the request (its access check) may predate a result that made this version current
    current_id = session.scalar(select(Assignment.current_version_id).where(Assignment.id == version.assignment_id))
    runs = [ValidationRunPublic(label=r.label, expected=r.expected, status=r.status, score=r.score, matches=r.matches,
                                failed_checks=r.failed_checks, error=r.error) for r in run_checks(session, version)]
    return VersionPublic(id=version.id, assignment_id=assignment.id, assignment=assignment.slug, sha256=version.sha256,
                         state=version.state, state_text=describe_version_state(version.state),
                         problems=list(version.problems or []), current=current_id == version.id,
                         activate_when_ready=version.activate_when_ready, created_at=version.created_at,
                         validated_at=version.validated_at, runs=runs,
                         environment=(version.config or {}).get("environment", "default"),
                         environment_digest=version.environment_digest)


def activation_entries(session: Session, assignment: Assignment) -> list[ActivationLogEntry]:
    """The activation log, newest first, with hashes and usernames instead of ids."""
    entries = activation_log(session, assignment)
    ids = {e.version_id for e in entries} | {e.previous_version_id for e in entries if e.previous_version_id}
    sha = {v.id: v.sha256 for v in session.scalars(select(AssignmentVersion).where(AssignmentVersion.id.in_(ids)))}
    people = {e.activated_by for e in entries if e.activated_by is not None}
    name = {u.id: u.username for u in session.scalars(select(User).where(User.id.in_(people)))}
    return [ActivationLogEntry(version=sha[e.version_id], previous_version=sha.get(e.previous_version_id),
                               regrade_run_id=e.regrade_run_id, cause=e.cause,
                               text=describe_activation(e.cause, regrade_run_id=e.regrade_run_id),
                               by=name.get(e.activated_by), at=e.activated_at) for e in entries]


def assignment_staff(session: Session, assignment: Assignment) -> AssignmentStaff:
    count = session.scalar(select(func.count(AssignmentVersion.id))
                           .where(AssignmentVersion.assignment_id == assignment.id))
    current = assignment.current_version
    return AssignmentStaff(id=assignment.id, slug=assignment.slug, title=assignment.title, kind=assignment.kind,
                           max_score=assignment.max_score, course=assignment.course.slug,
                           current_version=current.sha256 if current else None, versions=count or 0,
                           due_at=load_policy(session, assignment.id).due_at)


def regrade_public(diff: RegradeDiff) -> RegradePublic:
    run = diff.run
    return RegradePublic(
        id=run.id, assignment_id=run.assignment_id, version=run.version.sha256, created_at=run.created_at,
        activated_at=run.activated_at, total=len(diff.students), done=diff.count(RegradeItemState.DONE),
        failed=diff.count(RegradeItemState.FAILED), pending=diff.count(RegradeItemState.PENDING), up=diff.up,
        down=diff.down,
        students=[StudentChangePublic(username=s.username, name=s.name, state=s.state, before=s.before, after=s.after,
                                      delta=s.delta, overridden=s.overridden) for s in diff.students])


def submission_row(sub: Submission) -> SubmissionRow:
    return SubmissionRow(id=sub.id, assignment_id=sub.assignment_id, user=sub.user.username, filename=sub.filename,
                         purpose=sub.purpose, status=sub.status, score=sub.score, max_score=sub.max_score,
                         version=sub.version.sha256[:12], attempt=sub.attempt, runs=sub.runs, worker=sub.worker,
                         progress=sub.progress, error=sub.error, created_at=sub.created_at, queued_at=sub.queued_at,
                         started_at=sub.started_at, last_heartbeat=sub.last_heartbeat, graded_at=sub.graded_at)


def cell_public(cell: Cell) -> CellPublic:
    return CellPublic(submission_id=cell.submission_id, raw=cell.raw, days_late=cell.days_late,
                      penalty_percent=cell.penalty_percent, late_score=cell.late_score, override=cell.override,
                      override_reason=cell.override_reason, final=cell.final, pending=cell.pending,
                      lateness=describe_lateness(days_late=cell.days_late, penalty_percent=cell.penalty_percent))


def gradebook_public(book: Gradebook) -> GradebookPublic:
    columns = [ColumnPublic(assignment_id=c.assignment_id, slug=c.slug, title=c.title, max_score=c.max_score,
                            due_at=c.due_at) for c in book.columns]
    rows = [RowPublic(username=r.username, name=r.name, email=r.email, sis_id=r.sis_id, section=r.section,
                      cells={slug: cell_public(cell) for slug, cell in r.cells.items()}, total=r.total)
            for r in book.rows]
    return GradebookPublic(course=book.course_slug, title=book.course_title, generated_at=book.generated_at,
                           columns=columns, rows=rows, max_total=book.max_total)


def standing(session: Session, *, assignment: Assignment, user: User, now: datetime | None = None) -> Standing:
    """The caller's deadline, uploads left and counted score on one assignment."""
    now = now or utcnow()
    policy = load_policy(session, assignment.id)
    extension = extensions_by_student(session, assignment.id).get(user.id)
    team = team_for_upload(session, assignment=assignment, user=user)  # a team's uploads count together
    recent = recent_uploads(session, assignment_id=assignment.id, user_id=user.id, now=now,
                            team_id=team.id if team is not None else None)
    verdict = upload_verdict(policy, now=now, extension=extension, recent=recent)
    deadline = student_deadline(policy, extension=extension)
    cell = cell_for(session, assignment=assignment, student=user)
    refusal = describe_refusal(verdict.refusal, retry_at=verdict.retry_at, limit=policy.max_per_day,
                               deadline=deadline) if verdict else None
    return Standing(deadline=deadline, extension=extension, uploads_left=uploads_left(policy, now=now, recent=recent),
                    next_upload_at=verdict.retry_at if verdict else None, refusal=refusal,
                    counted_submission_id=cell.submission_id, raw=cell.raw, days_late=cell.days_late,
                    penalty_percent=cell.penalty_percent, override=cell.override, final=cell.final,
                    lateness=describe_lateness(days_late=cell.days_late, penalty_percent=cell.penalty_percent))


def extension_public(session: Session, row: Extension) -> ExtensionPublic:
    granter = session.get(User, row.granted_by) if row.granted_by else None
    return ExtensionPublic(username=row.user.username, name=row.user.name, due_at=row.due_at, reason=row.reason,
                           granted_by=granter.username if granter else None, created_at=row.created_at)


def override_public(row: ScoreOverride) -> OverridePublic:
    return OverridePublic(id=row.id, username=row.user.username, score=row.score, previous_score=row.previous_score,
                          reason=row.reason, by=row.author.username if row.author else None, at=row.created_at)


def roster_public(report: RosterReport) -> RosterReportPublic:
    lines = [RosterLinePublic(line=line.line, username=line.username, action=line.action, changes=list(line.changes),
                              message=line.message, invite_token=line.invite_token) for line in report.lines]
    return RosterReportPublic(applied=report.applied, counts=report.counts, lines=lines, not_in_file=report.not_in_file,
                              ignored_columns=report.ignored_columns)


@dataclass(frozen=True)
class SubmissionDesk:
    """What a TA can do from one student submission: move along the course's list, regrade, score by hand."""

    neighbours: Neighbours
    others: list[Submission]  # the student's other submissions for this assignment, newest first
    counted_id: int | None  # the submission that counts for the student now
    override: float | None  # a manual score in force
    override_reason: str
    can_regrade: bool  # graded or failed: nothing in flight


def submission_desk(session: Session, submission: Submission) -> SubmissionDesk:
    cell = cell_for(session, assignment=submission.assignment, student=submission.user)
    return SubmissionDesk(neighbours=neighbours(session, submission, course_id=submission.assignment.course_id),
                          others=same_student_work(session, submission), counted_id=cell.submission_id,
                          override=cell.override, override_reason=cell.override_reason,
                          can_regrade=submission.status.is_final)
