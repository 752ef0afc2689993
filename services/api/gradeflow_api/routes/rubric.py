"""Reports graded with a rubric: the rubric (staff), its items, one submission's grading, release, and the PDF.

Students read their own submission's grading only after release (and then only the items applied to it); the
PDF goes to its owners (and their team) as an attachment and to the course's staff inline, always with a CSP
that sandboxes it.
"""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status
from fastapi.responses import Response

from gradeflow_api.deps import BlobsDep, CurrentUser, RowId, SessionDep, StaffAssignment, StaffSubmission, granted
from gradeflow_api.present_rubric import item_public, pdf_response, rubric_public, submission_rubric_public
from gradeflow_api.schemas_rubric import (ItemCreate, ItemPublic, ItemUpdate, RubricPublic, SubmissionGrading,
                                          SubmissionRubricPublic)
from gradeflow_core import access
from gradeflow_core.models import Assignment, RubricItem, RubricQuestion, Submission
from gradeflow_core.rubric import RubricError, add_item, delete_item, edit_item, grade_question
from gradeflow_core.rubric_grades import release, unrelease
from gradeflow_protocol.enums import Role, SubmissionKind

router = APIRouter(prefix="/api/v1", tags=["rubric"])


def get_staff_question(question_id: RowId, session: SessionDep, user: CurrentUser) -> RubricQuestion:
    """A question of an assignment the caller is staff on (404 for outsiders, 403 for students)."""
    question = session.get(RubricQuestion, question_id)
    assignment = session.get(Assignment, question.assignment_id) if question is not None else None
    granted(access.assignment_access(session, user=user, assignment=assignment, need=Role.TA),
            missing="No such question.")
    return question


def get_staff_item(item_id: RowId, session: SessionDep, user: CurrentUser) -> RubricItem:
    item = session.get(RubricItem, item_id)
    if item is None or item.deleted_at is not None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No such item.")
    get_staff_question(item.question_id, session, user)
    return item


def get_report(submission_id: RowId, session: SessionDep, user: CurrentUser) -> access.SubmissionAccess:
    """A report submission the caller may read (its owners, their team, the course's staff); 404 otherwise."""
    found = granted(access.submission_access(session, user=user, submission=session.get(Submission, submission_id)),
                    missing="No such submission.")
    if found.submission.kind is not SubmissionKind.REPORT:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "This submission is not a report (PDF).")
    return found


StaffQuestion = Annotated[RubricQuestion, Depends(get_staff_question)]
StaffItem = Annotated[RubricItem, Depends(get_staff_item)]
ReadableReport = Annotated[access.SubmissionAccess, Depends(get_report)]


def _refused(exc: RubricError) -> HTTPException:
    return HTTPException(422, str(exc))


@router.get("/assignments/{assignment_id}/rubric", response_model=RubricPublic,
            summary="The rubric: questions, items (with how many submissions each is applied to), progress (staff)")
def get_rubric(assignment: StaffAssignment, session: SessionDep) -> RubricPublic:
    return rubric_public(session, assignment)


@router.post("/rubric/questions/{question_id}/items", response_model=ItemPublic, status_code=status.HTTP_201_CREATED,
             summary="Add an item to a question (staff); points may be negative (a deduction)")
def post_item(body: ItemCreate, question: StaffQuestion, session: SessionDep) -> ItemPublic:
    try:
        item = add_item(session, question=question, points=body.points, text=body.text)
    except RubricError as exc:
        raise _refused(exc) from None
    return item_public(item, 0)


@router.patch("/rubric/items/{item_id}", response_model=ItemPublic,
              summary="Edit an item's points or text (staff): every submission it is applied to changes")
def patch_item(body: ItemUpdate, item: StaffItem, session: SessionDep) -> ItemPublic:
    try:
        used = edit_item(session, item=item, points=body.points, text=body.text)
    except RubricError as exc:
        raise _refused(exc) from None
    return item_public(item, used)


@router.delete("/rubric/items/{item_id}", status_code=status.HTTP_204_NO_CONTENT,
               summary="Delete an item (staff): it no longer counts on any submission")
def remove_item(item: StaffItem, session: SessionDep) -> None:
    delete_item(session, item=item)


@router.get("/submissions/{submission_id}/rubric", response_model=SubmissionRubricPublic,
            summary="A report's grading: staff always; its owners only once released (then only applied items)")
def get_submission_rubric(found: ReadableReport, session: SessionDep) -> SubmissionRubricPublic:
    return submission_rubric_public(session, found.submission, staff=found.staff_view)


@router.put("/submissions/{submission_id}/rubric", response_model=SubmissionRubricPublic,
            summary="Grade questions of a report (staff): exactly these items applied, the comment, the adjustment")
def put_submission_rubric(body: SubmissionGrading, submission: StaffSubmission, session: SessionDep,
                          user: CurrentUser) -> SubmissionRubricPublic:
    try:
        for wanted in body.questions:
            question = session.get(RubricQuestion, wanted.question_id)
            if question is None or question.assignment_id != submission.assignment_id:
                raise RubricError(f"Question {wanted.question_id} is not a question of this assignment's rubric.")
            grade_question(session, submission=submission, question=question, item_ids=wanted.item_ids,
                           comment=wanted.comment, adjustment=wanted.adjustment, grader=user)
    except RubricError as exc:
        raise _refused(exc) from None  # the session rolls back: nothing half-written
    return submission_rubric_public(session, submission, staff=True)


@router.post("/assignments/{assignment_id}/rubric/release", response_model=RubricPublic,
             summary="Release the rubric grades to the students (and the gradebook) (staff)")
def post_release(assignment: StaffAssignment, session: SessionDep, user: CurrentUser) -> RubricPublic:
    try:
        release(session, assignment=assignment, by=user)
    except RubricError as exc:
        raise _refused(exc) from None
    return rubric_public(session, assignment)


@router.post("/assignments/{assignment_id}/rubric/unrelease", response_model=RubricPublic,
             summary="Hide the rubric grades from the students again (staff)")
def post_unrelease(assignment: StaffAssignment, session: SessionDep) -> RubricPublic:
    unrelease(session, assignment=assignment)
    return rubric_public(session, assignment)


@router.get("/submissions/{submission_id}/report.pdf", response_class=Response,
            summary="The report's PDF: an attachment for its owners, inline for staff; sandboxed by its CSP")
def get_report_pdf(found: ReadableReport, blobs: BlobsDep) -> Response:
    return pdf_response(blobs.get(found.submission.blob_sha256), filename=found.submission.filename,
                        inline=found.staff_view)
