"""Who may see what: one place for the rules, used by the API's dependencies."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from gradeflow_protocol.enums import Role
from gradeflow_core.models import Assignment, Enrollment, Submission, User


def role_in_course(session: Session, *, user: User, course_id: int) -> Role | None:
    if user.is_admin:
        return Role.INSTRUCTOR
    role = session.scalar(select(Enrollment.role).where(Enrollment.user_id == user.id, Enrollment.course_id == course_id))
    return Role(role) if role else None


def visible_assignments(session: Session, *, user: User) -> list[Assignment]:
    """Published assignments of the courses the user is enrolled in (all, for an admin)."""
    query = select(Assignment).where(Assignment.current_version_id.is_not(None)).order_by(Assignment.id)
    if not user.is_admin:
        courses = select(Enrollment.course_id).where(Enrollment.user_id == user.id)
        query = query.where(Assignment.course_id.in_(courses))
    return list(session.scalars(query))


def can_read_submission(session: Session, *, user: User, submission: Submission) -> bool:
    """Students their own; staff any in their course."""
    if submission.user_id == user.id:
        return True
    role = role_in_course(session, user=user, course_id=submission.assignment.course_id)
    return role is not None and role.is_staff
