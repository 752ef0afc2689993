"""The demo course: mathdl with the course's nine exercises published and four demo users."""
from __future__ import annotations

import secrets
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from gradeflow_core.blobs import BlobStore
from gradeflow_protocol.enums import Role
from gradeflow_core.models import Course, Enrollment, User
from gradeflow_core.publishing import publish_folder
from gradeflow_core.security import hash_password

# The course in its order (classes and lectures); a folder missing from the assignments directory is skipped.
DEMO_COURSE = ("ode-theta", "runge-kutta", "resnet-ode", "planar-flow", "adjoint", "neural-ode", "double-descent",
               "implicit-bias", "features-digits")
DEMO_USERS = (("student1", Role.STUDENT), ("student2", Role.STUDENT), ("ta1", Role.TA), ("prof", Role.INSTRUCTOR))


def ensure_user(session: Session, *, username: str, password: str, name: str = "", is_admin: bool = False) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        user = User(username=username, name=name or username, is_admin=is_admin)
        session.add(user)
    user.password_hash = hash_password(password)
    session.flush()
    return user


def enroll(session: Session, *, user: User, course: Course, role: Role) -> None:
    row = session.scalar(select(Enrollment).where(Enrollment.user_id == user.id, Enrollment.course_id == course.id))
    if row is None:
        session.add(Enrollment(user_id=user.id, course_id=course.id, role=role))
    else:
        row.role = role


def seed_demo(session: Session, blobs: BlobStore, *, assignments_dir: Path, password: str | None,
              slugs: tuple[str, ...] = DEMO_COURSE) -> str:
    """Create (or refresh) the demo course with the assignments `slugs` names (those whose folder exists);
    returns the demo password in use."""
    password = password or secrets.token_urlsafe(9)
    course = session.scalar(select(Course).where(Course.slug == "mathdl"))
    if course is None:
        course = Course(slug="mathdl", title="Mathematics of Deep Learning")
        session.add(course)
        session.flush()
    for username, role in DEMO_USERS:
        enroll(session, user=ensure_user(session, username=username, password=password), course=course, role=role)
    for slug in slugs:
        if (assignments_dir / slug / "assignment.toml").is_file():
            publish_folder(session, blobs, course=course, folder=assignments_dir / slug)
    return password
