"""The staff's numbers on a course page agree with the gradebook (core/course_stats.py)."""
from datetime import timedelta

from gradeflow_core.course_stats import course_stats
from gradeflow_core.deadlines import PolicySettings, save_policy
from gradeflow_core.gradebook import override_score
from gradeflow_core.models import Assignment, utcnow
from tests.unit.core.world import fail_now, grade_now, submit


def test_nobody_submitted(staff_db):
    session, _, world = staff_db
    [stats] = course_stats(session, world.course)
    counts = (stats.students, stats.submitted, stats.graded, stats.failing, stats.late, stats.pending)
    assert counts == (3, 0, 0, 0, 0, 0)
    assert stats.mean is None and stats.due_at is None


def test_submitted_graded_failing_late_and_mean(staff_db):
    session, _, world = staff_db
    assignment = session.get(Assignment, world.assignment_id)
    due = utcnow() - timedelta(days=3)
    save_policy(session, assignment=assignment, user=world.users["prof"],
                settings=PolicySettings(due_at=due, penalty_percent_per_day=10))
    grade_now(session, submit(session, world, "alice", when=due - timedelta(hours=1)), 2.0)  # on time, full marks
    grade_now(session, submit(session, world, "bob", when=due + timedelta(hours=5)), 2.0)  # 1 day late: 1.8
    fail_now(session, submit(session, world, "carol", when=due - timedelta(hours=2)))  # the service failed it
    [stats] = course_stats(session, world.course)
    assert (stats.students, stats.submitted, stats.graded, stats.failing, stats.late) == (3, 3, 2, 1, 1)
    assert stats.mean == 1.9 and stats.due_at == due
    grade_now(session, submit(session, world, "carol", when=due - timedelta(hours=1)), 0.0)  # graded, but zero
    submit(session, world, "alice")  # still queued
    [stats] = course_stats(session, world.course)
    assert (stats.graded, stats.failing, stats.pending) == (3, 1, 1) and round(stats.mean, 4) == round(3.8 / 3, 4)
    override_score(session, assignment=assignment, student=world.users["carol"], score=1.0, reason="oral exam",
                   author=world.users["tina"])
    [stats] = course_stats(session, world.course)
    assert stats.failing == 0 and stats.mean == round(4.8 / 3, 6)
