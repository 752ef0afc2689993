"""Courses, the caller's own account, invitations, and the roster."""
from __future__ import annotations

from fastapi import APIRouter, HTTPException, UploadFile, status
from sqlalchemy import select

from gradeflow_api.deps import (AdminUser, CurrentUser, InstructorCourse, MemberCourse, SessionDep, SettingsDep,
                                StaffCourse)
from gradeflow_api.present_staff import roster_public
from gradeflow_api.schemas_staff import (CourseCreate, CoursePublic, EnrollmentPublic, MePublic, RosterReportPublic,
                                         SetPassword)
from gradeflow_core.access import role_in_course  # the caller's role, shown in the course list
from gradeflow_core.accounts import AccountError, create_course, make_invite_token, set_password_with_invite
from gradeflow_protocol.enums import Role
from gradeflow_core.models import Course, Enrollment, User
from gradeflow_core.roster import RosterError, import_roster

router = APIRouter(prefix="/api/v1")
MAX_ROSTER_BYTES = 2 * 1024 * 1024


def _my_courses(session, user: User) -> list[CoursePublic]:
    if user.is_admin:
        courses = session.scalars(select(Course).order_by(Course.slug))
        return [CoursePublic(id=c.id, slug=c.slug, title=c.title, role=Role.INSTRUCTOR) for c in courses]
    rows = session.execute(select(Course, Enrollment.role).join(Enrollment, Enrollment.course_id == Course.id)
                           .where(Enrollment.user_id == user.id).order_by(Course.slug))
    return [CoursePublic(id=c.id, slug=c.slug, title=c.title, role=role) for c, role in rows]


@router.get("/me", response_model=MePublic, tags=["accounts"], summary="The caller: account and courses with roles")
def me(session: SessionDep, user: CurrentUser) -> MePublic:
    return MePublic(id=user.id, username=user.username, name=user.name, email=user.email, is_admin=user.is_admin,
                    courses=_my_courses(session, user))


@router.post("/auth/set-password", response_model=MePublic, tags=["accounts"],
             summary="Set a password with the invitation token from a roster import (one use)")
def set_password(body: SetPassword, session: SessionDep, settings: SettingsDep) -> MePublic:
    try:
        user = set_password_with_invite(session, token=body.token, password=body.password, secret=settings.secret_key)
    except AccountError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from None
    return MePublic(id=user.id, username=user.username, name=user.name, email=user.email, is_admin=user.is_admin,
                    courses=_my_courses(session, user))


@router.get("/courses", response_model=list[CoursePublic], tags=["courses"], summary="The caller's courses")
def list_courses(session: SessionDep, user: CurrentUser) -> list[CoursePublic]:
    return _my_courses(session, user)


@router.post("/courses", response_model=CoursePublic, status_code=status.HTTP_201_CREATED, tags=["courses"],
             summary="Create a course (site admins)", responses={409: {"description": "the slug is taken"}})
def new_course(body: CourseCreate, session: SessionDep, admin: AdminUser) -> CoursePublic:
    try:
        course = create_course(session, slug=body.slug, title=body.title)
    except AccountError as exc:
        taken = "already exists" in str(exc)
        raise HTTPException(status.HTTP_409_CONFLICT if taken else 422, str(exc)) from None
    return CoursePublic(id=course.id, slug=course.slug, title=course.title, role=Role.INSTRUCTOR)


@router.get("/courses/{course}", response_model=CoursePublic, tags=["courses"],
            summary="One course (by slug or id) and the caller's role in it")
def get_course(course: MemberCourse, session: SessionDep, user: CurrentUser) -> CoursePublic:
    return CoursePublic(id=course.id, slug=course.slug, title=course.title,
                        role=role_in_course(session, user=user, course_id=course.id))


@router.get("/courses/{course}/roster", response_model=list[EnrollmentPublic], tags=["roster"],
            summary="Everyone enrolled, with role and section (staff)")
def roster(course: StaffCourse, session: SessionDep) -> list[EnrollmentPublic]:
    rows = session.execute(select(User, Enrollment).join(Enrollment, Enrollment.user_id == User.id)
                           .where(Enrollment.course_id == course.id).order_by(Enrollment.role, User.username))
    return [EnrollmentPublic(username=u.username, name=u.name, email=u.email, sis_id=u.sis_id, section=e.section,
                             role=e.role, has_password=bool(u.password_hash)) for u, e in rows]


@router.post("/courses/{course}/roster", response_model=RosterReportPublic, tags=["roster"],
             summary="Import the roster from CSV (instructors): idempotent, all or nothing, with a report",
             responses={422: {"description": "the file or some rows are wrong; nothing was written"}})
def import_roster_csv(course: InstructorCourse, file: UploadFile, session: SessionDep, user: CurrentUser,
                      settings: SettingsDep, dry_run: bool = False):
    data = file.file.read(MAX_ROSTER_BYTES + 1)  # spooled already; a sync route keeps the database off the loop
    if len(data) > MAX_ROSTER_BYTES:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, "The roster file is over 2 MB; split it.")
    try:
        report = import_roster(session, course=course, text=data.decode("utf-8"), importer=user, dry_run=dry_run,
                               invite=lambda u: make_invite_token(u, secret=settings.secret_key))
    except UnicodeDecodeError:
        raise HTTPException(422, "The roster is not UTF-8 text; save it as CSV (UTF-8).") from None
    except RosterError as exc:
        raise HTTPException(422, str(exc)) from None
    if report.has_errors:
        session.rollback()
        raise HTTPException(422, {"message": "Some rows are wrong; nothing was imported. Fix them and import again.",
                                  "report": roster_public(report).model_dump(mode="json")})
    return roster_public(report)
