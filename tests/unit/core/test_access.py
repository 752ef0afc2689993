"""The access rules, once, as data: every edge maps these answers to its own errors."""
import pytest

from gradeflow_core.access import (AssignmentAccess, CourseAccess, Denied, Refusal, SubmissionAccess,
                                   assignment_access, course_access, submission_access)
from gradeflow_core.models import Assignment, Course
from gradeflow_protocol.enums import Role
from tests.unit.core.world import submit


@pytest.fixture
def session(staff_db):
    return staff_db[0]


@pytest.fixture
def world(staff_db):
    return staff_db[2]


@pytest.fixture
def things(session, world):
    assignment = session.get(Assignment, world.assignment_id)
    return assignment, session.get(Course, assignment.course_id)


@pytest.mark.parametrize("who,need,answer", [
    ("alice", Role.STUDENT, Role.STUDENT), ("alice", Role.TA, Refusal.FORBIDDEN), ("tina", Role.TA, Role.TA),
    ("tina", Role.INSTRUCTOR, Refusal.FORBIDDEN), ("prof", Role.INSTRUCTOR, Role.INSTRUCTOR),
    ("olga", Role.STUDENT, Refusal.NOT_FOUND), ("admin", Role.INSTRUCTOR, Role.INSTRUCTOR)])
def test_course_access_follows_the_role_ladder(session, world, things, who, need, answer):
    found = course_access(session, user=world.users[who], course=things[1], need=need)
    if isinstance(answer, Refusal):
        assert found == Denied(answer, need)
    else:
        assert isinstance(found, CourseAccess) and found.role is answer


def test_a_missing_course_or_assignment_is_not_found(session, world):
    assert course_access(session, user=world.users["prof"], course=None, need=Role.STUDENT).refusal is Refusal.NOT_FOUND
    found = assignment_access(session, user=world.users["prof"], assignment=None, need=Role.STUDENT)
    assert found.refusal is Refusal.NOT_FOUND


def test_an_unpublished_assignment_exists_only_for_staff(session, world, things):
    assignment, _ = things
    assignment.current_version_id = None
    assert assignment_access(session, user=world.users["alice"], assignment=assignment,
                             need=Role.STUDENT).refusal is Refusal.NOT_FOUND
    assert isinstance(assignment_access(session, user=world.users["tina"], assignment=assignment, need=Role.TA),
                      AssignmentAccess)


def test_submissions_are_their_owners_and_the_staffs(session, world, things):
    assignment, _ = things
    mine = submit(session, world, "alice")
    own = submission_access(session, user=world.users["alice"], submission=mine)
    assert isinstance(own, SubmissionAccess) and not own.staff_view
    assert submission_access(session, user=world.users["bob"], submission=mine).refusal is Refusal.NOT_FOUND
    assert submission_access(session, user=world.users["alice"], submission=mine,
                             need=Role.TA).refusal is Refusal.FORBIDDEN
    assert submission_access(session, user=world.users["tina"], submission=mine, need=Role.TA).staff_view
