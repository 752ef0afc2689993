"""The demo course: mathdl with the course's exercises published, six demo users and one team."""
from __future__ import annotations

import secrets
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from gradeflow_core.blobs import BlobStore
from gradeflow_protocol.enums import Role
from gradeflow_core.models import Course, Enrollment, Team, TeamSettings, User
from gradeflow_core.teams import Formation, current_team, place_member, save_formation
from gradeflow_core.publishing import publish_folder
from gradeflow_core.security import hash_password

# The course in its order (classes and lectures); a folder missing from the assignments directory is skipped.
DEMO_COURSE = ("ode-theta", "runge-kutta", "resnet-ode", "planar-flow", "adjoint", "neural-ode", "double-descent",
               "implicit-bias", "features-digits", "project-features", "wafer-defects")
DEMO_USERS = (("student1", Role.STUDENT), ("student2", Role.STUDENT), ("student3", Role.STUDENT),
              ("student4", Role.STUDENT), ("ta1", Role.TA), ("prof", Role.INSTRUCTOR))
DEMO_TEAM = ("Team Alpha", ("student1", "student2"))  # students may also form teams of up to 4


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


def seed_demo_team(session: Session, course: Course) -> None:
    """Team Alpha (student1, student2), made once; students may form teams of up to 4."""
    if session.scalar(select(TeamSettings).where(TeamSettings.course_id == course.id)) is None:
        save_formation(session, course=course, settings=Formation(students_form=True, max_size=4))
    name, members = DEMO_TEAM
    if session.scalar(select(Team).where(Team.course_id == course.id, Team.name == name)) is not None:
        return
    team = Team(course_id=course.id, name=name)
    session.add(team)
    session.flush()
    for username in members:
        student = session.scalar(select(User).where(User.username == username))
        if current_team(session, course_id=course.id, user_id=student.id) is None:
            place_member(session, team=team, student=student)


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
    seed_demo_team(session, course)
    for slug in slugs:
        if (assignments_dir / slug / "assignment.toml").is_file():
            publish_folder(session, blobs, course=course, folder=assignments_dir / slug)
    return password
