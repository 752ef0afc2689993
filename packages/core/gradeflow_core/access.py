"""Who may see what: the one place for the rules, used by the API's and the pages' dependencies alike.

Each rule answers with an access (what was found and the caller's role) or a closed `Refusal`:
- NOT_FOUND: an outsider, or a student asking for an unpublished assignment or someone else's submission;
  the thing's existence is not revealed.
- FORBIDDEN: a member of the course without the role the action needs.
Each edge turns a refusal into its own error (the API a JSON 404/403, the pages an error page).
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from gradeflow_core.models import Assignment, Course, Enrollment, Submission, User
from gradeflow_core.teams import was_member_when_sent
from gradeflow_protocol.enums import Role


class Refusal(StrEnum):
    NOT_FOUND = "not_found"
    FORBIDDEN = "forbidden"


@dataclass(frozen=True)
class Denied:
    """Why access was refused, and which role would have been needed (for the edge's message)."""

    refusal: Refusal
    need: Role


@dataclass(frozen=True)
class CourseAccess:
    course: Course
    role: Role

    @property
    def is_staff(self) -> bool:
        return self.role.is_staff


@dataclass(frozen=True)
class AssignmentAccess:
    assignment: Assignment
    access: CourseAccess


@dataclass(frozen=True)
class SubmissionAccess:
    submission: Submission
    role: Role  # the caller's role in the submission's course (STUDENT for its owner)

    @property
    def staff_view(self) -> bool:
        """A TA or instructor of the course: logs and limits shown."""
        return self.role.is_staff


def role_in_course(session: Session, *, user: User, course_id: int) -> Role | None:
    if user.is_admin:
        return Role.INSTRUCTOR
    role = session.scalar(select(Enrollment.role).where(Enrollment.user_id == user.id, Enrollment.course_id == course_id))
    return role


def course_access(session: Session, *, user: User, course: Course | None, need: Role) -> CourseAccess | Denied:
    """Members only (404 for outsiders); the role `need` or above (403 for members below it)."""
    role = role_in_course(session, user=user, course_id=course.id) if course is not None else None
    if course is None or role is None:
        return Denied(Refusal.NOT_FOUND, need)
    if role.rank < need.rank:
        return Denied(Refusal.FORBIDDEN, need)
    return CourseAccess(course=course, role=role)


def assignment_access(session: Session, *, user: User, assignment: Assignment | None,
                      need: Role) -> AssignmentAccess | Denied:
    """As for its course; an unpublished assignment exists only for the course's staff."""
    if assignment is None:
        return Denied(Refusal.NOT_FOUND, need)
    access = course_access(session, user=user, course=assignment.course, need=need)
    if isinstance(access, CourseAccess) and assignment.current_version_id is None and not access.is_staff:
        return Denied(Refusal.NOT_FOUND, need)
    return access if isinstance(access, Denied) else AssignmentAccess(assignment=assignment, access=access)


def submission_access(session: Session, *, user: User, submission: Submission | None,
                      need: Role = Role.STUDENT) -> SubmissionAccess | Denied:
    """Students their own (and their team's, sent while they were a member), staff any in their course; others get
    NOT_FOUND. A student asking for a staff action on their own submission gets FORBIDDEN."""
    role = role_in_course(session, user=user, course_id=submission.assignment.course_id) if submission else None
    if submission is not None and role is None and submission.user_id == user.id:
        role = Role.STUDENT  # a student who left the course still reads their own work
    if submission is None or role is None or (not role.is_staff and not _students_own(session, user, submission)):
        return Denied(Refusal.NOT_FOUND, need)
    if role.rank < need.rank:
        return Denied(Refusal.FORBIDDEN, need)
    return SubmissionAccess(submission=submission, role=role)


def _students_own(session: Session, user: User, submission: Submission) -> bool:
    """The student sent it, or was in its team when it was sent (core/teams.py)."""
    return submission.user_id == user.id or was_member_when_sent(session, user_id=user.id, submission=submission)


def visible_assignments(session: Session, *, user: User) -> list[Assignment]:
    """Published assignments of the courses the user is enrolled in (all, for an admin)."""
    query = select(Assignment).where(Assignment.current_version_id.is_not(None)).order_by(Assignment.id)
    if not user.is_admin:
        courses = select(Enrollment.course_id).where(Enrollment.user_id == user.id)
        query = query.where(Assignment.course_id.in_(courses))
    return list(session.scalars(query))
