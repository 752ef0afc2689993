"""Assignment policies and extensions in the database, and the gate every student upload passes.

The arithmetic is in core/policy.py; this module reads and writes the rows it works on.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from gradeflow_core.access import role_in_course
from gradeflow_protocol.enums import CountedSubmission, LateMode, SubmissionPurpose, SubmissionStatus, UploadRefusal
from gradeflow_core.models import (Assignment, AssignmentPolicy, Enrollment, Extension, Submission, Team, User,
                                   utcnow)
from gradeflow_core.policy import DAY, Policy, UploadVerdict, student_deadline, upload_verdict
from gradeflow_protocol.words import describe_refusal, when


class PolicySettings(BaseModel):
    """An assignment's policy as instructors set it (PUT replaces all of it; omitted fields take these defaults)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    opens_at: AwareDatetime | None = Field(None, description="uploads before this are refused (None: open now)")
    due_at: AwareDatetime | None = Field(None, description="the deadline, inclusive (None: no deadline)")
    grace_minutes: int = Field(0, ge=0, le=7 * 24 * 60, description="lateness forgiven after the deadline")
    late_mode: LateMode = Field(LateMode.PENALTY, description="penalty: late work loses points; cutoff: refused")
    penalty_percent_per_day: float = Field(0.0, ge=0, le=100, description="percent of the score lost per started day")
    penalty_cap_percent: float = Field(100.0, ge=0, le=100, description="the most a late submission can lose")
    counted: CountedSubmission = Field(CountedSubmission.LAST, description="which graded submission counts")
    max_per_day: int | None = Field(None, ge=1, le=1000, description="uploads allowed in any 24 hours (None: no limit)")

    @model_validator(mode="after")
    def _opens_before_due(self) -> "PolicySettings":
        if self.opens_at and self.due_at and self.opens_at >= self.due_at:
            raise ValueError("opens_at must be before due_at")
        return self

    def policy(self) -> Policy:
        return Policy(opens_at=self.opens_at, due_at=self.due_at, grace=timedelta(minutes=self.grace_minutes),
                      late_mode=self.late_mode, penalty_percent_per_day=self.penalty_percent_per_day,
                      penalty_cap_percent=self.penalty_cap_percent, counted=self.counted, max_per_day=self.max_per_day)


class UploadRefused(Exception):
    """An upload the policy does not allow now; `message` says why and when to try again."""

    def __init__(self, verdict: UploadVerdict, message: str) -> None:
        super().__init__(message)
        self.refusal: UploadRefusal = verdict.refusal
        self.retry_at = verdict.retry_at
        self.message = message


def policy_settings(session: Session, assignment_id: int) -> PolicySettings:
    row = session.scalar(select(AssignmentPolicy).where(AssignmentPolicy.assignment_id == assignment_id))
    if row is None:
        return PolicySettings()
    return PolicySettings(opens_at=row.opens_at, due_at=row.due_at, grace_minutes=row.grace_minutes,
                          late_mode=row.late_mode, penalty_percent_per_day=row.penalty_percent_per_day,
                          penalty_cap_percent=row.penalty_cap_percent, counted=row.counted,
                          max_per_day=row.max_per_day)


def load_policy(session: Session, assignment_id: int) -> Policy:
    return policy_settings(session, assignment_id).policy()


def save_policy(session: Session, *, assignment: Assignment, settings: PolicySettings, user: User) -> PolicySettings:
    row = session.scalar(select(AssignmentPolicy).where(AssignmentPolicy.assignment_id == assignment.id))
    if row is None:
        row = AssignmentPolicy(assignment_id=assignment.id)
        session.add(row)
    for key, value in settings.model_dump().items():
        setattr(row, key, value)
    row.updated_by, row.updated_at = user.id, utcnow()
    session.flush()
    return settings


def extensions_by_student(session: Session, assignment_id: int) -> dict[int, datetime]:
    rows = session.execute(select(Extension.user_id, Extension.due_at).where(Extension.assignment_id == assignment_id))
    return {user_id: due for user_id, due in rows}


def list_extensions(session: Session, assignment_id: int) -> list[Extension]:
    return list(session.scalars(select(Extension).where(Extension.assignment_id == assignment_id)
                                .order_by(Extension.due_at, Extension.id)))


class ExtensionError(ValueError):
    """An extension that would not extend anything; the message says what to do."""


def extension_problem(session: Session, *, assignment_id: int, due_at: datetime) -> str | None:
    """Why an extension to `due_at` would mean nothing (no due date, or not after it); None when it is fine."""
    policy = load_policy(session, assignment_id)
    if policy.due_at is None:
        return "The assignment has no due date; set one before granting extensions."
    if due_at <= policy.due_at:
        return f"An extension must end after the due date ({when(policy.due_at)})."
    return None


def grant_extension(session: Session, *, assignment: Assignment, student: User, due_at: datetime, reason: str,
                    granted_by: User) -> Extension:
    """Give (or change) one student's deadline for an assignment; ExtensionError says why one would mean nothing."""
    problem = extension_problem(session, assignment_id=assignment.id, due_at=due_at)
    if problem:
        raise ExtensionError(problem)
    row = session.scalar(select(Extension).where(Extension.assignment_id == assignment.id,
                                                 Extension.user_id == student.id))
    if row is None:
        row = Extension(assignment_id=assignment.id, user_id=student.id)
        session.add(row)
    row.due_at, row.reason, row.granted_by, row.created_at = due_at, reason, granted_by.id, utcnow()
    session.flush()
    return row


def revoke_extension(session: Session, *, assignment: Assignment, student: User) -> bool:
    row = session.scalar(select(Extension).where(Extension.assignment_id == assignment.id,
                                                 Extension.user_id == student.id))
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True


def recent_uploads(session: Session, *, assignment_id: int, user_id: int, now: datetime,
                   team_id: int | None = None) -> list[datetime]:
    """When the student (on a team assignment: the student or their team `team_id`) uploaded in the last 24 hours
    (uploads the service failed to grade do not count, nor a predictions file that could not be scored)."""
    owner = Submission.user_id == user_id if team_id is None else or_(Submission.user_id == user_id,
                                                                        Submission.team_id == team_id)
    query = select(Submission.created_at).where(
        Submission.assignment_id == assignment_id, owner,
        Submission.purpose == SubmissionPurpose.STUDENT, Submission.status != SubmissionStatus.FAILED,
        Submission.void.is_(False), Submission.created_at > now - DAY)
    return list(session.scalars(query))


def lock_uploads(session: Session, *, assignment: Assignment, user: User, team_id: int | None = None) -> None:
    """Hold the student's enrollment row (and their team's row, on a team assignment) until the transaction ends, so
    two uploads (by two members) cannot both pass the daily limit.

    PostgreSQL locks the row (SELECT ... FOR UPDATE); SQLite has one writer at a time and ignores the clause. The
    caller counts, stores the upload and commits inside that same transaction.
    """
    session.execute(select(Enrollment.id).where(Enrollment.user_id == user.id,
                                                Enrollment.course_id == assignment.course_id).with_for_update())
    if team_id is not None:
        session.execute(select(Team.id).where(Team.id == team_id).with_for_update())


def enforce_upload(session: Session, *, assignment: Assignment, user: User, now: datetime | None = None,
                   team_id: int | None = None) -> None:
    """Raise UploadRefused when the policy does not let this user upload now. Staff are never refused. On a team
    assignment (`team_id`: the student's team) the daily limit counts the team's uploads."""
    role = role_in_course(session, user=user, course_id=assignment.course_id)
    if role is not None and role.is_staff:
        return
    lock_uploads(session, assignment=assignment, user=user, team_id=team_id)
    now = now or utcnow()
    policy = load_policy(session, assignment.id)
    extension = extensions_by_student(session, assignment.id).get(user.id)
    recent = recent_uploads(session, assignment_id=assignment.id, user_id=user.id, now=now, team_id=team_id)
    verdict = upload_verdict(policy, now=now, extension=extension, recent=recent)
    if verdict is not None:
        message = describe_refusal(verdict.refusal, retry_at=verdict.retry_at, limit=policy.max_per_day,
                                   deadline=student_deadline(policy, extension=extension))
        raise UploadRefused(verdict, message)
