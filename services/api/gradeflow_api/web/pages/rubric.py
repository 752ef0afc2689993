"""Reports graded with a rubric, as pages: the staff's grading overview (progress, release), the grading page of
one report (the PDF in a sandboxed frame beside the rubric), the item editor, and the PDF itself.

The same core calls as the JSON API (routes/rubric.py); a refusal is a message on the page, nothing half-written.
"""
from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from gradeflow_api.deps import BlobsDep, SessionDep
from gradeflow_api.present_rubric import pdf_response, rubric_public, submission_rubric_public
from gradeflow_api.schemas_rubric import SubmissionRubricPublic
from gradeflow_api.web.deps import CsrfChecked, PageError, PageUser, StaffAssignment, SubmissionDep, granted
from gradeflow_api.web.pages.forms import PostedForm
from gradeflow_api.web.pages.login import see_other
from gradeflow_api.web.render import page
from gradeflow_core import access
from gradeflow_core.models import Assignment, RubricItem, RubricQuestion, Submission, Team
from gradeflow_core.rubric import RubricError, add_item, delete_item, edit_item, grade_question, questions, rubric_for
from gradeflow_core.rubric_grades import graded_reports, release, unrelease
from gradeflow_protocol.enums import Role, SubmissionKind

router = APIRouter(include_in_schema=False)


def report_section(session: Session, submission: Submission, *, staff: bool) -> SubmissionRubricPublic | None:
    """What submission.html shows of a report: its grading (a student's only once released); None otherwise."""
    if submission.kind is not SubmissionKind.REPORT or not questions(session, submission.assignment_id):
        return None
    return submission_rubric_public(session, submission, staff=staff)


def _owner(session: Session, submission: Submission) -> str:
    team = session.get(Team, submission.team_id) if submission.team_id is not None else None
    return f"{team.name} (sent by {submission.user.username})" if team else submission.user.username


def _staff_report(found) -> Submission:
    if not found.staff_view:
        raise PageError(403, "This page is for the course's TAs and instructors.")
    if found.submission.kind is not SubmissionKind.REPORT:
        raise PageError(404, "This submission is not a report (PDF); only reports are graded with the rubric.")
    return found.submission


@router.get("/assignments/{assignment_id}/rubric")
def overview(request: Request, found: StaffAssignment, session: SessionDep) -> Response:
    """Progress ("graded 3 of 7"), the reports to grade, and the Release button."""
    assignment = found.assignment
    reports = [(sub, _owner(session, sub), rubric_for(session, submission=sub))
               for sub in graded_reports(session, assignment.id)]
    return page(request, "staff/rubric_overview.html", course=assignment.course, role=found.access.role,
                assignment=assignment, rubric=rubric_public(session, assignment), reports=reports,
                error=request.query_params.get("error", "")[:300])


@router.post("/assignments/{assignment_id}/rubric/release", dependencies=[CsrfChecked])
def release_page(found: StaffAssignment, session: SessionDep, user: PageUser, form: PostedForm) -> Response:
    assignment = found.assignment
    try:
        if form.get("action") == "unrelease":
            unrelease(session, assignment=assignment)
        else:
            release(session, assignment=assignment, by=user)
    except RubricError as exc:
        session.rollback()
        raise PageError(422, str(exc)) from None
    session.commit()
    return see_other(f"/assignments/{assignment.id}/rubric?saved=1")


@router.get("/assignments/{assignment_id}/rubric/items")
def items_page(request: Request, found: StaffAssignment, session: SessionDep) -> Response:
    """Edit the items: points and text (every submission an item is applied to changes), add, delete."""
    assignment = found.assignment
    return page(request, "staff/rubric_items.html", course=assignment.course, role=found.access.role,
                assignment=assignment, rubric=rubric_public(session, assignment),
                back=_back(request.query_params.get("back", "")), error=request.query_params.get("error", "")[:300])


def _back(text: str) -> int | None:
    return int(text) if text.isdigit() and len(text) < 12 else None


def _staff_question(session: Session, user, question_id: int) -> RubricQuestion:
    question = session.get(RubricQuestion, question_id)
    assignment = session.get(Assignment, question.assignment_id) if question is not None else None
    granted(access.assignment_access(session, user=user, assignment=assignment, need=Role.TA), what="assignment")
    return question


def _number(text: object, what: str) -> float:
    try:
        return float(str(text or "").strip().replace(",", "."))
    except ValueError:
        raise RubricError(f"Type the {what} as a number (for example 2, -1 or 0.5).") from None


def _after_item_change(question: RubricQuestion, form, error: str = "") -> Response:
    back = _back(str(form.get("back") or ""))
    target = f"/assignments/{question.assignment_id}/rubric/items?" + (f"back={back}&" if back else "")
    return see_other(target + (f"error={quote(error)}" if error else "saved=1") + f"#q{question.id}")


@router.post("/rubric/questions/{question_id}/items", dependencies=[CsrfChecked])
def add_item_page(question_id: int, session: SessionDep, user: PageUser, form: PostedForm) -> Response:
    question = _staff_question(session, user, question_id)
    try:
        add_item(session, question=question, points=_number(form.get("points"), "points"), text=str(form.get("text")))
    except RubricError as exc:
        session.rollback()
        return _after_item_change(question, form, error=str(exc))
    session.commit()
    return _after_item_change(question, form)


@router.post("/rubric/items/{item_id}", dependencies=[CsrfChecked])
def edit_item_page(item_id: int, session: SessionDep, user: PageUser, form: PostedForm) -> Response:
    item = session.get(RubricItem, item_id)
    if item is None:
        raise PageError(404, "There is no such rubric item.")
    question = _staff_question(session, user, item.question_id)
    try:
        if form.get("action") == "delete":
            delete_item(session, item=item)
        else:
            edit_item(session, item=item, points=_number(form.get("points"), "points"), text=str(form.get("text")))
    except RubricError as exc:
        session.rollback()
        return _after_item_change(question, form, error=str(exc))
    session.commit()
    return _after_item_change(question, form)


@router.get("/submissions/{submission_id}/grade")
def grade_page(request: Request, found: SubmissionDep, session: SessionDep) -> Response:
    """The PDF on the left (the browser's own viewer in a sandboxed frame), the rubric on the right."""
    return _grade_view(request, found, session)


def _grade_view(request: Request, found, session: Session, *, error: str = "", status_code: int = 200) -> Response:
    submission = _staff_report(found)
    assignment = submission.assignment
    rubric = rubric_public(session, assignment, after=submission.id)
    used = {i.id: i.submissions for q in rubric.questions for i in q.items}
    return page(request, "staff/rubric_grade.html", status_code=status_code, course=assignment.course,
                role=found.role, assignment=assignment, submission=submission, owner=_owner(session, submission),
                graded=submission_rubric_public(session, submission, staff=True), rubric=rubric, used=used,
                error=error)


@router.post("/submissions/{submission_id}/grade", dependencies=[CsrfChecked])
def grade_save(request: Request, found: SubmissionDep, session: SessionDep, user: PageUser,
               form: PostedForm) -> Response:
    """Every question of the form is graded at once: exactly the ticked items, its comment and adjustment."""
    submission = _staff_report(found)
    try:
        for question in questions(session, submission.assignment_id):
            ticked = [int(v) for v in form.getlist(f"item-{question.id}") if str(v).isdigit() and len(str(v)) < 12]
            grade_question(session, submission=submission, question=question, item_ids=ticked,
                           comment=str(form.get(f"comment-{question.id}") or ""),
                           adjustment=_number(form.get(f"adjustment-{question.id}") or 0, "adjustment"), grader=user)
    except RubricError as exc:
        session.rollback()
        return _grade_view(request, found, session, error=str(exc), status_code=422)
    session.commit()
    return see_other(f"/submissions/{submission.id}/grade?saved=1")


@router.get("/submissions/{submission_id}/report.pdf")
def report_pdf(found: SubmissionDep, blobs: BlobsDep, download: bool = False) -> Response:
    """The PDF: inline for staff (the grading page's frame; `download` for a file), an attachment for its owners;
    sandboxed by its CSP either way."""
    if found.submission.kind is not SubmissionKind.REPORT:
        raise PageError(404, "This submission is not a report (PDF).")
    return pdf_response(blobs.get(found.submission.blob_sha256), filename=found.submission.filename,
                        inline=found.staff_view and not download)

