"""Manual scores (TAs and instructors): record or clear one with a reason, and read the audit log.

The same core call as POST /api/v1/assignments/{id}/overrides (`gradebook.override_score`): it keeps the score
the student had just before, and refuses a missing reason or an out-of-range score.
"""
from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from gradeflow_api.deps import SessionDep
from gradeflow_api.present_staff import override_public
from gradeflow_core.gradebook import course_students, find_student, override_score
from gradeflow_core.models import Submission
from gradeflow_core.overrides import OverrideError, override_log
from gradeflow_api.web.deps import CsrfChecked, PageUser, StaffAssignment
from gradeflow_api.web.pages.forms import PostedForm
from gradeflow_api.web.pages.login import see_other
from gradeflow_api.web.render import page

router = APIRouter(include_in_schema=False)


def _overrides_page(request: Request, found, session, *, error: str = "", values: dict | None = None,
                    status_code: int = 200) -> Response:
    assignment = found.assignment
    return page(request, "staff/overrides.html", status_code=status_code, course=assignment.course,
                role=found.access.role, assignment=assignment, error=error, values=values or {},
                students=[user for user, _ in course_students(session, assignment.course_id)],
                log=[override_public(row) for row in override_log(session, assignment.id)])


@router.get("/assignments/{assignment_id}/overrides")
def overrides_page(request: Request, found: StaffAssignment, session: SessionDep, username: str = "") -> Response:
    """`username`: the student the form starts with (the link from a submission page)."""
    return _overrides_page(request, found, session, values={"username": username.strip()[:200]})


def _read_score(text: str, *, clear: bool) -> float | None:
    """The typed score; None when clearing. Raises OverrideError with what to type."""
    if clear:
        return None
    try:
        return float(text.strip().replace(",", "."))
    except ValueError:
        raise OverrideError("Type the score as a number, or tick \"clear\" to go back to the computed one.") from None


@router.post("/assignments/{assignment_id}/overrides", dependencies=[CsrfChecked])
def override_record(request: Request, found: StaffAssignment, session: SessionDep, user: PageUser,
                    form: PostedForm) -> Response:
    values = {key: str(form.get(key) or "") for key in ("username", "score", "reason", "clear")}
    assignment = found.assignment
    student = find_student(session, course_id=assignment.course_id, username=values["username"].strip())
    try:
        if student is None:
            raise OverrideError(f"No student '{values['username'].strip()}' in this course.")
        score = _read_score(values["score"], clear=bool(values["clear"]))
        override_score(session, assignment=assignment, student=student, score=score, reason=values["reason"],
                       author=user)
    except OverrideError as exc:
        session.rollback()
        return _overrides_page(request, found, session, error=str(exc), values=values, status_code=422)
    session.commit()
    back = _back_to(session, str(form.get("back") or ""), assignment_id=assignment.id, student=student)
    if back is not None:
        return see_other(f"/submissions/{back}?saved=score#desk")
    return see_other(f"/assignments/{assignment.id}/overrides?saved=1")


def _back_to(session, text: str, *, assignment_id: int, student) -> int | None:
    """The submission page the form was sent from, when it is this student's work on this assignment."""
    submission = session.get(Submission, int(text)) if text.isdigit() and len(text) < 12 else None
    if submission is None or submission.assignment_id != assignment_id or submission.user_id != student.id:
        return None
    return submission.id
