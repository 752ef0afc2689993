"""The demo course `make up` serves: the course's nine exercises, in the course's order."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from gradeflow_core.blobs import MemoryBlobStore
from gradeflow_core.db import make_engine, make_session_factory
from gradeflow_core.demo import DEMO_COURSE, seed_demo
from gradeflow_core.migrate import upgrade
from gradeflow_core.models import Assignment, Course

ASSIGNMENTS = Path(__file__).resolve().parents[3] / "assignments"


def _seed(sqlite_url, **kwargs):
    upgrade(sqlite_url)
    engine = make_engine(sqlite_url)
    session = make_session_factory(engine)()
    seed_demo(session, MemoryBlobStore(), assignments_dir=ASSIGNMENTS, password="pw", **kwargs)
    session.commit()
    course = session.scalar(select(Course).where(Course.slug == "mathdl"))
    slugs = [a.slug for a in session.scalars(select(Assignment).where(Assignment.course_id == course.id)
                                            .order_by(Assignment.id))]
    current = all(a.current_version_id is not None for a in session.scalars(select(Assignment)))
    session.close()
    engine.dispose()
    return slugs, current


def test_the_demo_course_publishes_every_exercise_of_the_course_in_order(sqlite_url):
    slugs, current = _seed(sqlite_url)
    assert slugs == list(DEMO_COURSE) and len(slugs) >= 10 and "project-features" in slugs and current


def test_the_course_names_every_assignment_folder_of_the_repository():
    folders = {p.name for p in ASSIGNMENTS.iterdir() if (p / "assignment.toml").is_file()}
    assert folders == set(DEMO_COURSE)


def test_only_limits_the_demo_to_the_named_assignments(sqlite_url):
    assert _seed(sqlite_url, slugs=("ode-theta",)) == (["ode-theta"], True)
