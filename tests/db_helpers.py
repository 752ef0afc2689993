"""Build a small course in a database for unit and database tests."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from gradeflow_core.blobs import BlobStore
from gradeflow_protocol.enums import Role, SubmissionKind
from gradeflow_core.demo import enroll, ensure_user
from gradeflow_core.models import Course, Submission
from gradeflow_core.publishing import publish_folder

TOML = """id = "toy"
title = "Toy"
kind = "script"
points = 2
"""
CHECKS = """from gradeflow_graders import check, expect

@check(points=2)
def answer_is_42(student, rng):
    expect(student.get("answer") == 42, "answer should be 42")
"""


def write_toy_assignment(folder: Path) -> Path:
    (folder / "checks").mkdir(parents=True, exist_ok=True)
    (folder / "assignment.toml").write_text(TOML)
    (folder / "checks" / "checks.py").write_text(CHECKS)
    return folder


def make_course(session: Session, blobs: BlobStore, folder: Path) -> dict:
    course = Course(slug="c1", title="Course")
    session.add(course)
    session.flush()
    users = {}
    for name, role in (("alice", Role.STUDENT), ("bob", Role.STUDENT), ("tina", Role.TA)):
        users[name] = ensure_user(session, username=name, password="pw-" + name)
        enroll(session, user=users[name], course=course, role=role)
    version = publish_folder(session, blobs, course=course, folder=write_toy_assignment(folder))
    return {"course": course, "version": version, **users}


def add_submission(session: Session, *, user, version) -> Submission:
    sub = Submission(user_id=user.id, assignment_id=version.assignment_id, version_id=version.id, filename="a.py",
                     kind=SubmissionKind.SCRIPT, blob_sha256="0" * 64, size=1)
    session.add(sub)
    session.flush()
    return sub
