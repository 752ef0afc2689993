"""A small course for the staff tests: people in every role, a toy assignment whose bundle validates, and a
fake grader that records results the way a worker's post would."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from gradeflow_core import grading
from gradeflow_core.blobs import BlobStore
from gradeflow_protocol.enums import Role, RunOutcome, SubmissionKind
from gradeflow_core.models import AssignmentVersion, Course, Enrollment, Submission, User
from gradeflow_protocol.messages import CheckResult, ResultPost, RunReport
from gradeflow_core.publishing import publish_folder
from tests.db_helpers import write_toy_assignment

TIMING = grading.Timing(heartbeat_timeout_s=30, queued_timeout_s=600, max_runs=2)
PEOPLE = (("prof", Role.INSTRUCTOR), ("tina", Role.TA), ("alice", Role.STUDENT), ("bob", Role.STUDENT),
          ("carol", Role.STUDENT))


def write_bundle(folder: Path, *, readme: str = "Toy", wrong_score: float = 0) -> Path:
    """The toy assignment with a reference (answer = 42) and one known-wrong file (answer = 0)."""
    write_toy_assignment(folder)
    (folder / "README.md").write_text(readme)
    (folder / "solution.py").write_text("answer = 42\n")
    (folder / "wrong").mkdir(exist_ok=True)
    (folder / "wrong" / "zero.py").write_text("answer = 0\n")
    (folder / "wrong" / "expected.toml").write_text(f'[scores]\n"zero.py" = {wrong_score}\n')
    return folder


@dataclass
class World:
    course: Course
    other: Course
    users: dict[str, User]
    version: AssignmentVersion

    @property
    def assignment_id(self) -> int:
        return self.version.assignment_id


def _user(session: Session, name: str, *, is_admin: bool = False) -> User:
    user = User(username=name, name=name.title(), email=f"{name}@uni.example", password_hash="", is_admin=is_admin)
    session.add(user)
    session.flush()
    return user


def build_world(session: Session, blobs: BlobStore, folder: Path) -> World:
    """Course c1 (prof, tina, alice, bob, carol; alice and bob in section A, carol in B), course c2 with olga,
    an admin, and 'toy' published (no password hashes: tests mint tokens)."""
    course, other = Course(slug="c1", title="Course One"), Course(slug="c2", title="Course Two")
    session.add_all([course, other])
    session.flush()
    users = {name: _user(session, name) for name, _ in PEOPLE}
    for name, role in PEOPLE:
        section = {"alice": "A", "bob": "A", "carol": "B"}.get(name, "")
        session.add(Enrollment(user_id=users[name].id, course_id=course.id, role=role, section=section))
    users["olga"] = _user(session, "olga")
    session.add(Enrollment(user_id=users["olga"].id, course_id=other.id, role=Role.STUDENT))
    users["admin"] = _user(session, "admin", is_admin=True)
    version = publish_folder(session, blobs, course=course, folder=write_bundle(folder))
    session.flush()
    return World(course=course, other=other, users=users, version=version)


def result_for(submission: Submission, score: float, *, max_score: float = 2.0,
               environment_digest: str | None = None) -> ResultPost:
    check = CheckResult(name="answer is 42", score=score, max_score=max_score, passed=score == max_score,
                        message="" if score == max_score else "answer should be 42")
    run = RunReport(outcome=RunOutcome.COMPLETED, wall_seconds=0.1, environment_digest=environment_digest)
    return ResultPost(submission_id=submission.id, attempt=submission.attempt, checks=[check], run=run,
                      log="fake grader")


def grade_now(session: Session, submission: Submission, score: float, *, max_score: float = 2.0,
              environment_digest: str | None = None) -> None:
    """Claim and post a result, as a worker would."""
    assert grading.claim(session, submission=submission, attempt=submission.attempt, worker="fake",
                         timing=TIMING) is None
    assert grading.record_result(session, submission=submission, post=result_for(
        submission, score, max_score=max_score, environment_digest=environment_digest))
    session.flush()


def fail_now(session: Session, submission: Submission, error: str = "Traceback\nValueError: disk on fire") -> None:
    """Run out the submission's runs, as repeated worker crashes would."""
    while True:
        refusal = grading.claim(session, submission=submission, attempt=submission.attempt, worker="fake",
                                timing=TIMING)
        if refusal is not None:
            break
        if not grading.requeue(submission, reason=error, timing=TIMING):
            break
    session.flush()


def submit(session: Session, world: World, user: str, *, when=None, filename: str = "a.py") -> Submission:
    """A student upload stored as the API stores it (created_at `when`, default now)."""
    sub = Submission(user_id=world.users[user].id, assignment_id=world.assignment_id, version_id=world.version.id,
                     filename=filename, kind=SubmissionKind.SCRIPT, blob_sha256="0" * 64, size=1, seed=7)
    if when is not None:
        sub.created_at = sub.queued_at = when
    session.add(sub)
    session.flush()
    return sub
