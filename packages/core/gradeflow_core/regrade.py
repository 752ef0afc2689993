"""Regrades: re-run students' counted work against a version, show who goes up or down, then make it official.

- `start_regrade` re-runs, for every enrolled student, the submission that counts (policies LAST and CHOSEN:
  the student's pick, else their last), or every accepted graded submission (policy BEST, so the best one on
  the new version can be chosen). Each re-run is
  a twin submission (purpose REGRADE, same file and seed, owned by the staff member who asked), so students
  never see it and the gradebook is unchanged until the version is made official.
- `regrade_diff` compares each student's counted score (late penalty applied) before and after.
- `activate` makes the version current and adopts every finished re-run into the student's own submission
  (a new attempt with the new result; earlier results are kept), so students read the new feedback.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from gradeflow_core.counting import picks_by_student
from gradeflow_core.deadlines import extensions_by_student, load_policy
from gradeflow_protocol.enums import (ActivationCause, CountedSubmission, RegradeItemState, SubmissionPurpose,
                                  SubmissionStatus, VersionState)
from gradeflow_core.gradebook import course_students
from gradeflow_core.models import (Assignment, AssignmentVersion, GradingResult, RegradeItem, RegradeRun, Submission,
                                   User, utcnow)
from gradeflow_core.overrides import overrides_in_force
from gradeflow_core.policy import Graded, Pick, Policy, counted, score
from gradeflow_core.versions import VersionError, make_current, require_ready, settle


@dataclass(frozen=True)
class StudentChange:
    user_id: int
    username: str
    name: str
    state: RegradeItemState
    before: float | None  # counted score (after late penalty) on the version they were graded on
    after: float | None  # the same with the re-run scores (unfinished re-runs keep the old score)
    overridden: bool  # a manual score is in force: the gradebook will not move

    @property
    def delta(self) -> float:
        return round((self.after or 0.0) - (self.before or 0.0), 6)


@dataclass(frozen=True)
class RegradeDiff:
    run: RegradeRun
    students: list[StudentChange]

    def count(self, state: RegradeItemState) -> int:
        return sum(1 for s in self.students if s.state is state)

    @property
    def up(self) -> int:
        return sum(1 for s in self.students if s.state is RegradeItemState.DONE and s.delta > 0)

    @property
    def down(self) -> int:
        return sum(1 for s in self.students if s.state is RegradeItemState.DONE and s.delta < 0)


@dataclass(frozen=True)
class Activation:
    version: AssignmentVersion
    run: RegradeRun | None
    adopted: int  # re-runs whose result replaced the student's
    kept: int  # re-runs that failed or had not finished: those students keep their previous score
    stale: int  # student submissions that arrived after the regrade started, graded on another version


def item_state(item: RegradeItem) -> RegradeItemState:
    status = item.submission.status
    if status == SubmissionStatus.GRADED:
        return RegradeItemState.DONE
    return RegradeItemState.FAILED if status == SubmissionStatus.FAILED else RegradeItemState.PENDING


def _sources(graded: list[Submission], policy: Policy, extension: datetime | None,
             pick: Pick | None) -> list[Submission]:
    """The student's submissions whose re-run decides their score on the new version."""
    views = [Graded(submission_id=s.id, submitted_at=s.created_at, raw=s.score or 0.0) for s in graded]
    if policy.counted is CountedSubmission.BEST:
        keep = {v.submission_id for v in views if score(policy, v, extension=extension).lateness.accepted}
        return [s for s in graded if s.id in keep]
    chosen = counted(policy, views, extension=extension, pick=pick)
    return [s for s in graded if chosen is not None and s.id == chosen.submission_id]


def _graded_student_work(session: Session, assignment: Assignment, user_id: int) -> list[Submission]:
    return list(session.scalars(select(Submission).where(
        Submission.assignment_id == assignment.id, Submission.user_id == user_id,
        Submission.purpose == SubmissionPurpose.STUDENT, Submission.status == SubmissionStatus.GRADED)))


def _twin(source: Submission, *, version: AssignmentVersion, owner: User) -> Submission:
    return Submission(user_id=owner.id, assignment_id=source.assignment_id, version_id=version.id,
                      filename=source.filename, kind=source.kind, blob_sha256=source.blob_sha256, size=source.size,
                      seed=source.seed, queue=version.config.get("resources", {}).get("queue", "cpu"),
                      purpose=SubmissionPurpose.REGRADE)


def start_regrade(session: Session, *, assignment: Assignment, version: AssignmentVersion,
                  user: User) -> tuple[RegradeRun, list[Submission]]:
    """Create the run and its re-runs; the caller enqueues the returned submissions after committing."""
    if settle(session, version) != VersionState.READY:
        raise VersionError(f"version {version.sha256[:12]} is {version.state}; only a ready version can be regraded")
    policy, extensions = load_policy(session, assignment.id), extensions_by_student(session, assignment.id)
    picks = picks_by_student(session, assignment.id)
    run = RegradeRun(assignment_id=assignment.id, version_id=version.id, started_by=user.id)
    session.add(run)
    session.flush()
    twins = []
    for student, _ in course_students(session, assignment.course_id):
        work = _graded_student_work(session, assignment, student.id)
        for source in _sources(work, policy, extensions.get(student.id), picks.get(student.id)):
            twin = _twin(source, version=version, owner=user)
            session.add(twin)
            session.flush()
            session.add(RegradeItem(run_id=run.id, student_id=student.id, source_submission_id=source.id,
                                    submission_id=twin.id, before_score=source.score))
            twins.append(twin)
    session.flush()
    return run, twins


def run_items(session: Session, run: RegradeRun) -> list[RegradeItem]:
    return list(session.scalars(select(RegradeItem).where(RegradeItem.run_id == run.id).order_by(RegradeItem.id)))


def _student_change(items: list[RegradeItem], policy: Policy, extension: datetime | None, overridden: bool,
                    pick: Pick | None = None) -> StudentChange:
    states = {item_state(i) for i in items}
    state = next(s for s in (RegradeItemState.PENDING, RegradeItemState.FAILED, RegradeItemState.DONE) if s in states)
    before = [Graded(i.source_submission_id, i.source.created_at, i.before_score or 0.0) for i in items]
    after = [Graded(i.source_submission_id, i.source.created_at,
                    i.submission.score if item_state(i) is RegradeItemState.DONE else (i.before_score or 0.0))
             for i in items]
    old, new = (counted(policy, before, extension=extension, pick=pick),
                counted(policy, after, extension=extension, pick=pick))
    student = items[0].student
    return StudentChange(user_id=student.id, username=student.username, name=student.name, state=state,
                         before=old.final if old else None, after=new.final if new else None, overridden=overridden)


def regrade_diff(session: Session, run: RegradeRun) -> RegradeDiff:
    """Per student, their counted score before and after the re-runs (by username)."""
    policy, extensions = load_policy(session, run.assignment_id), extensions_by_student(session, run.assignment_id)
    overrides, picks = overrides_in_force(session, [run.assignment_id]), picks_by_student(session, run.assignment_id)
    by_student: dict[int, list[RegradeItem]] = {}
    for item in run_items(session, run):
        by_student.setdefault(item.student_id, []).append(item)
    changes = [_student_change(items, policy, extensions.get(uid), (run.assignment_id, uid) in overrides,
                               picks.get(uid)) for uid, items in by_student.items()]
    return RegradeDiff(run=run, students=sorted(changes, key=lambda c: c.username))


def _adopt(session: Session, item: RegradeItem, run: RegradeRun) -> bool:
    source, twin = item.source, item.submission
    result = session.scalar(select(GradingResult).where(GradingResult.submission_id == twin.id)
                            .order_by(GradingResult.attempt.desc()).limit(1))
    if result is None or source.status != SubmissionStatus.GRADED:
        return False
    source.attempt += 1
    note = f"regraded against version {run.version.sha256[:12]} (regrade {run.id}, re-run submission {twin.id})\n"
    session.add(GradingResult(submission_id=source.id, attempt=source.attempt, score=result.score,
                              max_score=result.max_score, checks=result.checks, run=result.run, output=result.output,
                              log=note + result.log, error=result.error))
    source.version_id, source.score, source.max_score = run.version_id, result.score, result.max_score
    source.graded_at = twin.graded_at
    item.adopted = True
    return True


def stale_submissions(session: Session, run: RegradeRun) -> int:
    """Student submissions that arrived after the run started and are graded (or queued) on another version."""
    return len(session.scalars(select(Submission.id).where(
        Submission.assignment_id == run.assignment_id, Submission.purpose == SubmissionPurpose.STUDENT,
        Submission.created_at > run.created_at, Submission.version_id != run.version_id,
        Submission.status != SubmissionStatus.FAILED)).all())


def _check_run(session: Session, run: RegradeRun, version: AssignmentVersion, *, force: bool) -> int:
    if run.version_id != version.id:
        raise VersionError(f"regrade {run.id} was run against another version ({run.version.sha256[:12]}).")
    if run.activated_at is not None:
        raise VersionError(f"regrade {run.id} was already made official at {run.activated_at:%Y-%m-%d %H:%M} UTC.")
    items = run_items(session, run)
    pending = sum(1 for i in items if item_state(i) is RegradeItemState.PENDING)
    if pending and not force:
        raise VersionError(f"regrade {run.id} is still running: {len(items) - pending} of {len(items)} re-runs "
                           "are graded. Wait for it, or force it (the rest keep their previous score).")
    stale = stale_submissions(session, run)
    if stale and not force:
        raise VersionError(f"{stale} submission(s) arrived after regrade {run.id} started and were graded on "
                           "another version: start a new regrade, or force it (they keep their scores).")
    return stale


def activate(session: Session, *, version: AssignmentVersion, run: RegradeRun | None, user: User,
             force: bool = False) -> Activation:
    """Make `version` official; with a run, adopt its finished re-runs into the students' submissions."""
    if settle(session, version) != VersionState.READY:
        require_ready(version)  # raises, saying why
    stale = _check_run(session, run, version, force=force) if run is not None else 0
    adopted = kept = 0
    if run is not None:
        for item in run_items(session, run):
            done = item_state(item) is RegradeItemState.DONE and _adopt(session, item, run)
            adopted, kept = adopted + done, kept + (not done)
        run.activated_at, run.activated_by = utcnow(), user.id
    make_current(session, version, cause=ActivationCause.ACTIVATED, by=user.id, run_id=run.id if run else None)
    return Activation(version=version, run=run, adopted=adopted, kept=kept, stale=stale)


def latest_run(session: Session, version: AssignmentVersion) -> RegradeRun | None:
    """The newest regrade against this version that has not been made official yet."""
    return session.scalar(select(RegradeRun).where(RegradeRun.version_id == version.id,
                                                   RegradeRun.activated_at.is_(None))
                          .order_by(RegradeRun.id.desc()).limit(1))


def list_runs(session: Session, assignment: Assignment) -> list[RegradeRun]:
    return list(session.scalars(select(RegradeRun).where(RegradeRun.assignment_id == assignment.id)
                                .order_by(RegradeRun.id.desc())))


class RerunError(ValueError):
    """A submission that cannot be graded again now; the message says why."""


def rerun_submission(submission: Submission) -> Submission:
    """Grade one student's submission again against the assignment's official version, as a new attempt of the
    same submission (earlier attempts' results are kept); the caller enqueues it after committing."""
    if submission.purpose != SubmissionPurpose.STUDENT:
        raise RerunError(f"submission {submission.id} is a {submission.purpose} run; only student work is regraded")
    if not submission.status.is_final:
        raise RerunError(f"submission {submission.id} is still {submission.status}; wait until it is graded")
    version = submission.assignment.current_version
    if version is None:
        raise RerunError("this assignment has no official version to grade against")
    submission.version_id = version.id
    submission.queue = version.config.get("resources", {}).get("queue", "cpu")
    submission.attempt += 1
    submission.runs = 0
    submission.status = SubmissionStatus.QUEUED
    submission.queued_at = utcnow()
    submission.started_at = submission.graded_at = submission.last_heartbeat = None
    submission.progress, submission.error = "", None
    return submission
