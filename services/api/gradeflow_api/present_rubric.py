"""The rubric as the API and the pages show it, and a report's PDF as a response that cannot run what it carries."""
from __future__ import annotations

from fastapi.responses import Response
from sqlalchemy.orm import Session

from gradeflow_api.schemas_rubric import (AppliedItem, ItemPublic, ProgressPublic, QuestionGrade, QuestionPublic,
                                          RubricPublic, SubmissionRubricPublic)
from gradeflow_core.models import Assignment, RubricItem, Submission
from gradeflow_core.rubric import live_items, questions, rubric_for, usage_counts
from gradeflow_core.rubric_grades import is_released, progress

# The PDF is the student's file: a sandboxed document (no scripts, no same origin, no plugins it could start),
# loading nothing, framed only by our own grading page, never sniffed as anything else.
PDF_CSP = "sandbox; default-src 'none'; frame-ancestors 'self'"


def pdf_response(data: bytes, *, filename: str, inline: bool) -> Response:
    """Inline for staff (the grading page's sandboxed frame), an attachment for everyone else."""
    name = filename if filename.lower().endswith(".pdf") else "report.pdf"
    disposition = "inline" if inline else "attachment"
    return Response(data, media_type="application/pdf", headers={
        "Content-Disposition": f'{disposition}; filename="{name}"', "Content-Security-Policy": PDF_CSP,
        "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store", "Referrer-Policy": "no-referrer",
        "Cross-Origin-Resource-Policy": "same-origin"})


def item_public(item: RubricItem, used: int) -> ItemPublic:
    return ItemPublic(id=item.id, points=item.points, text=item.text, submissions=used)


def rubric_public(session: Session, assignment: Assignment, *, after: int | None = None) -> RubricPublic:
    """The assignment's rubric for staff: questions, items with how many submissions each is applied to, progress."""
    qs = questions(session, assignment.id)
    items = live_items(session, [q.id for q in qs])
    used = usage_counts(session, [i.id for i in items])
    found = progress(session, assignment.id, after=after)
    return RubricPublic(
        assignment_id=assignment.id, released=is_released(session, assignment.id),
        points=round(sum(q.points for q in qs), 6),
        questions=[QuestionPublic(id=q.id, title=q.title, points=q.points,
                                  items=[item_public(i, used.get(i.id, 0)) for i in items if i.question_id == q.id])
                   for q in qs],
        progress=ProgressPublic(graded=found.graded, total=found.total, next_ungraded=found.next_ungraded))


def submission_rubric_public(session: Session, submission: Submission, *, staff: bool) -> SubmissionRubricPublic:
    """One submission's grading: everything for staff; for a student nothing before release, then the applied
    items (never the ones not applied), comments, adjustments and scores."""
    released = is_released(session, submission.assignment_id)
    graded = rubric_for(session, submission=submission)
    if not staff and not released:
        return SubmissionRubricPublic(submission_id=submission.id, released=False, score=None,
                                      max_score=graded.max_score, complete=False, questions=[])
    return SubmissionRubricPublic(
        submission_id=submission.id, released=released, score=graded.score, max_score=graded.max_score,
        complete=graded.complete,
        questions=[QuestionGrade(id=q.id, title=q.title, points=q.points, graded=q.graded, score=q.score,
                                 comment=q.comment, adjustment=q.adjustment,
                                 items=[AppliedItem(id=i.id, points=i.points, text=i.text, applied=i.applied)
                                        for i in q.items if staff or i.applied])
                   for q in graded.questions])
