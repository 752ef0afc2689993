"""Database models."""
from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (JSON, Boolean, DateTime, Float, ForeignKey, Integer, String, Text, TypeDecorator,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gradeflow_core.db import Base
from gradeflow_protocol.enums import (ActivationCause, CountedSubmission, LateMode, Role, SubmissionKind,
                                  SubmissionPurpose, SubmissionStatus, VersionState)


def utcnow() -> datetime:
    return datetime.now(UTC)


class TZDateTime(TypeDecorator):
    """Timezone-aware on every backend (SQLite drops the zone; UTC is put back on the way out)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if isinstance(value, datetime) and value.tzinfo is not None:
            value = value.astimezone(UTC)
            if dialect.name == "sqlite":
                value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if isinstance(value, datetime) and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class EnumText(TypeDecorator):
    """A closed enum stored as its text value (VARCHAR, as the migrations made it), read back as the enum."""

    impl = String
    cache_ok = True

    def __init__(self, enum: type[StrEnum], length: int = 16) -> None:
        super().__init__(length)
        self.enum = enum

    def process_bind_param(self, value, dialect):
        return None if value is None else self.enum(value).value

    def process_result_value(self, value, dialect):
        return None if value is None else self.enum(value)


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(200), default="")
    is_admin: Mapped[bool] = mapped_column(default=False)
    sis_id: Mapped[str] = mapped_column(String(64), default="", server_default="")  # registrar's id, for LMS exports
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)


class Course(Base):
    __tablename__ = "courses"
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    title: Mapped[str] = mapped_column(String(200), default="")


class Enrollment(Base):
    __tablename__ = "enrollments"
    __table_args__ = (UniqueConstraint("user_id", "course_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"), index=True)
    role: Mapped[Role] = mapped_column(EnumText(Role))
    section: Mapped[str] = mapped_column(String(64), default="")


class Assignment(Base):
    __tablename__ = "assignments"
    __table_args__ = (UniqueConstraint("course_id", "slug"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"), index=True)
    slug: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200), default="")
    kind: Mapped[SubmissionKind] = mapped_column(EnumText(SubmissionKind))
    max_score: Mapped[float] = mapped_column(Float, default=0.0)
    current_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("assignment_versions.id", use_alter=True, name="fk_assignment_current_version"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)
    course: Mapped[Course] = relationship()
    current_version: Mapped[AssignmentVersion | None] = relationship(foreign_keys=[current_version_id])


class AssignmentVersion(Base):
    """One immutable published version, named by the hash of its content."""

    __tablename__ = "assignment_versions"
    __table_args__ = (UniqueConstraint("assignment_id", "sha256"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    bundle_blob: Mapped[str] = mapped_column(String(64))
    config: Mapped[dict[str, Any]] = mapped_column(JSON)
    readme: Mapped[str] = mapped_column(Text, default="")
    published_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)
    state: Mapped[VersionState] = mapped_column(EnumText(VersionState), default=VersionState.READY, server_default="ready")
    problems: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")  # what to fix, when BROKEN
    activate_when_ready: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    validated_at: Mapped[datetime | None] = mapped_column(TZDateTime(), nullable=True)
    # the student environment's digest the validation ran in (what was installed, hashed; several, comma-joined,
    # when the workers' builds differed)
    environment_digest: Mapped[str | None] = mapped_column(String(200), nullable=True)


class VersionActivation(Base):
    """The append-only log of which version was official from when, who made it so, and why."""

    __tablename__ = "version_activations"
    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("assignment_versions.id"))
    previous_version_id: Mapped[int | None] = mapped_column(ForeignKey("assignment_versions.id"), nullable=True)
    regrade_run_id: Mapped[int | None] = mapped_column(ForeignKey("regrade_runs.id"), nullable=True)
    cause: Mapped[ActivationCause] = mapped_column(EnumText(ActivationCause))
    activated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    activated_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)


class Submission(Base):
    __tablename__ = "submissions"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("assignment_versions.id"))
    filename: Mapped[str] = mapped_column(String(200))
    kind: Mapped[SubmissionKind] = mapped_column(EnumText(SubmissionKind))
    blob_sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    status: Mapped[SubmissionStatus] = mapped_column(EnumText(SubmissionStatus), index=True, default=SubmissionStatus.QUEUED)
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    runs: Mapped[int] = mapped_column(Integer, default=0)
    seed: Mapped[int] = mapped_column(Integer, default=0)
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    max_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    worker: Mapped[str] = mapped_column(String(200), default="")
    queue: Mapped[str] = mapped_column(String(16), default="cpu")
    progress: Mapped[str] = mapped_column(String(200), default="")
    last_heartbeat: Mapped[datetime | None] = mapped_column(TZDateTime(), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)
    queued_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(TZDateTime(), nullable=True)
    graded_at: Mapped[datetime | None] = mapped_column(TZDateTime(), nullable=True)
    priority: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # its Redis priority list
    purpose: Mapped[SubmissionPurpose] = mapped_column(EnumText(SubmissionPurpose), default=SubmissionPurpose.STUDENT,
                                                       server_default="student", index=True)
    # a team assignment's submission belongs to the team (every member at the time it was sent)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), nullable=True, index=True)
    # graded as unusable (a predictions file that could not be scored): not counted against the daily limit
    void: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    assignment: Mapped[Assignment] = relationship()
    version: Mapped[AssignmentVersion] = relationship()
    user: Mapped[User] = relationship()


class GradingResult(Base):
    """The result of one attempt; unique per (submission, attempt) so a repost changes nothing."""

    __tablename__ = "grading_results"
    __table_args__ = (UniqueConstraint("submission_id", "attempt"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    score: Mapped[float] = mapped_column(Float)
    max_score: Mapped[float] = mapped_column(Float)
    checks: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    run: Mapped[dict[str, Any]] = mapped_column(JSON)
    output: Mapped[str] = mapped_column(Text, default="")
    log: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)


class AssignmentPolicy(Base):
    """An assignment's deadlines and rules; no row means no deadline, last submission counts, no daily limit."""

    __tablename__ = "assignment_policies"
    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id"), unique=True)
    opens_at: Mapped[datetime | None] = mapped_column(TZDateTime(), nullable=True)
    due_at: Mapped[datetime | None] = mapped_column(TZDateTime(), nullable=True)
    grace_minutes: Mapped[int] = mapped_column(Integer, default=0)
    late_mode: Mapped[LateMode] = mapped_column(EnumText(LateMode), default=LateMode.PENALTY)
    penalty_percent_per_day: Mapped[float] = mapped_column(Float, default=0.0)
    penalty_cap_percent: Mapped[float] = mapped_column(Float, default=100.0)
    counted: Mapped[CountedSubmission] = mapped_column(EnumText(CountedSubmission), default=CountedSubmission.LAST)
    max_per_day: Mapped[int | None] = mapped_column(Integer, nullable=True)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)


class Extension(Base):
    """One student's own deadline for one assignment."""

    __tablename__ = "extensions"
    __table_args__ = (UniqueConstraint("assignment_id", "user_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    due_at: Mapped[datetime] = mapped_column(TZDateTime())
    reason: Mapped[str] = mapped_column(Text, default="")
    granted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)
    user: Mapped[User] = relationship(foreign_keys=[user_id])


class ValidationRun(Base):
    """One file of a published bundle (reference or known-wrong) graded as a submission, with the score it must get."""

    __tablename__ = "validation_runs"
    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("assignment_versions.id"), index=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), unique=True)
    label: Mapped[str] = mapped_column(String(200))  # the path in the bundle: solution.ipynb, wrong/off_by_one.py
    expected_score: Mapped[float] = mapped_column(Float)
    submission: Mapped[Submission] = relationship()


class RegradeRun(Base):
    """Every student's counted work re-run against one version, kept until (and after) it is made official."""

    __tablename__ = "regrade_runs"
    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("assignment_versions.id"))
    started_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)
    activated_at: Mapped[datetime | None] = mapped_column(TZDateTime(), nullable=True)
    activated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    assignment: Mapped[Assignment] = relationship()
    version: Mapped[AssignmentVersion] = relationship()


class RegradeItem(Base):
    """One student submission re-run in a regrade: the original and its re-run twin."""

    __tablename__ = "regrade_items"
    __table_args__ = (UniqueConstraint("run_id", "source_submission_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("regrade_runs.id"), index=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    source_submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"))
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), unique=True)
    before_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    adopted: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[Submission] = relationship(foreign_keys=[source_submission_id])
    submission: Mapped[Submission] = relationship(foreign_keys=[submission_id])
    student: Mapped[User] = relationship()


class ScoreOverride(Base):
    """The audit log of manual scores: append-only; the newest row per (assignment, student) is in force.

    `score` None clears the override; `previous_score` is the score the student had just before (the
    previous override, or the computed score).
    """

    __tablename__ = "score_overrides"
    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    previous_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    author: Mapped[User | None] = relationship(foreign_keys=[created_by])


class WebSessionRecord(Base):
    """One signed-in browser session, kept server-side so it can be ended: logout, a password change, the user's
    removal or "sign out everywhere" revoke it at once; it also ends after `idle` time without a request. The
    cookie carries a random token; only its sha256 is stored here."""

    __tablename__ = "web_sessions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 hex of the cookie's token
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(TZDateTime())  # the absolute end, whatever the activity
    revoked_at: Mapped[datetime | None] = mapped_column(TZDateTime(), nullable=True)
    user_agent: Mapped[str] = mapped_column(String(300), default="")


class SubmissionPick(Base):
    """The submission a student chose to count (policy `chosen`), one per student and assignment."""

    __tablename__ = "submission_picks"
    __table_args__ = (UniqueConstraint("assignment_id", "user_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"))
    picked_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)


# --- Projects: teams, contests, rubric-graded reports (migration 0007)


class Team(Base):
    """A group of students in one course; a team assignment's submissions belong to the team."""

    __tablename__ = "teams"
    __table_args__ = (UniqueConstraint("course_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)


class TeamMembership(Base):
    """A student's time in a team: open while `left_at` is None. A student has at most one open membership per
    course; a member who leaves keeps what the team had graded while they were in it (joined_at..left_at)."""

    __tablename__ = "team_memberships"
    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    joined_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)
    left_at: Mapped[datetime | None] = mapped_column(TZDateTime(), nullable=True)
    team: Mapped[Team] = relationship()
    user: Mapped[User] = relationship()


class TeamInvitation(Base):
    """A member's invitation of a classmate into their team; answered once (accepted or declined)."""

    __tablename__ = "team_invitations"
    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    invitee_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    invited_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(TZDateTime(), nullable=True)
    accepted: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    team: Mapped[Team] = relationship()


class TeamSettings(Base):
    """How a course's teams are formed: by staff only, or also by students (invitations) up to a size, until a date."""

    __tablename__ = "team_settings"
    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"), unique=True)
    students_form: Mapped[bool] = mapped_column(Boolean, default=False)
    max_size: Mapped[int] = mapped_column(Integer, default=4)
    form_until: Mapped[datetime | None] = mapped_column(TZDateTime(), nullable=True)


class ContestScore(Base):
    """A contest submission's scores. `private` and its interval are never shown to a student before the reveal."""

    __tablename__ = "contest_scores"
    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), unique=True)
    metric: Mapped[str] = mapped_column(String(32))
    public: Mapped[float | None] = mapped_column(Float, nullable=True)  # None: the file could not be scored
    private: Mapped[float | None] = mapped_column(Float, nullable=True)
    private_low: Mapped[float | None] = mapped_column(Float, nullable=True)
    private_high: Mapped[float | None] = mapped_column(Float, nullable=True)
    problem: Mapped[str] = mapped_column(Text, default="")  # why the file could not be scored (first bad row)
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)


class ContestReveal(Base):
    """The instructor's reveal of a contest's private leaderboard (no row: not revealed)."""

    __tablename__ = "contest_reveals"
    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id"), unique=True)
    revealed_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)
    revealed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    gradebook_mode: Mapped[str] = mapped_column(String(16), default="rank")  # rank | thresholds


class ContestPick(Base):
    """A final submission a team (or a lone student) picked for the private board; at most two per owner."""

    __tablename__ = "contest_picks"
    __table_args__ = (UniqueConstraint("assignment_id", "submission_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id"), index=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"))
    owner: Mapped[str] = mapped_column(String(32), index=True)  # "team:ID" or "user:ID"
    picked_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    picked_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)


class RubricQuestion(Base):
    """One question of a report's rubric, worth `points`."""

    __tablename__ = "rubric_questions"
    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[str] = mapped_column(String(200))
    points: Mapped[float] = mapped_column(Float)


class RubricItem(Base):
    """A rubric item: points (negative for a deduction) and the text the student reads. Editing it changes every
    submission it is applied to."""

    __tablename__ = "rubric_items"
    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("rubric_questions.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    points: Mapped[float] = mapped_column(Float)
    text: Mapped[str] = mapped_column(Text)
    deleted_at: Mapped[datetime | None] = mapped_column(TZDateTime(), nullable=True)


class RubricApplication(Base):
    """Item `item_id` applied to submission `submission_id`."""

    __tablename__ = "rubric_applications"
    __table_args__ = (UniqueConstraint("submission_id", "item_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("rubric_items.id"), index=True)
    applied_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    applied_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)


class RubricMark(Base):
    """One submission's grading of one question beyond the items: a free comment and a point adjustment; its
    existence means the question has been graded."""

    __tablename__ = "rubric_marks"
    __table_args__ = (UniqueConstraint("submission_id", "question_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("rubric_questions.id"), index=True)
    comment: Mapped[str] = mapped_column(Text, default="")
    adjustment: Mapped[float] = mapped_column(Float, default=0.0)
    graded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    graded_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)


class RubricRelease(Base):
    """Staff released an assignment's rubric grades to its students (no row: not released)."""

    __tablename__ = "rubric_releases"
    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id"), unique=True)
    released_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)
    released_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
