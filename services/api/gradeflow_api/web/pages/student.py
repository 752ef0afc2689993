"""Pages every course member uses: course, assignment (statement, starter, upload), submission status and feedback."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Request, UploadFile
from fastapi.responses import Response
from markupsafe import escape

from gradeflow_api.deps import BlobsDep, EnqueuerDep, SessionDep, SettingsDep
from gradeflow_api.polling import not_modified, poll_headers, submission_etag
from gradeflow_core import submitting
from gradeflow_core.counting import PickRefused, pick_submission
from gradeflow_core.deadlines import UploadRefused
from gradeflow_core.submitting import Upload
from gradeflow_core.uploads import UploadError, UploadTooLarge
from gradeflow_protocol.enums import PickRefusal, SubmissionStatus, UploadRefusal
from gradeflow_protocol.bundles import AssignmentConfig
from gradeflow_protocol.zipsubmission import is_zip_name, zip_listing
from gradeflow_api.web.sanitize import demote_headings, render_notebook
from gradeflow_api.web import views
from gradeflow_api.web.deps import AssignmentDep, CourseDep, CsrfChecked, PageError, PageUser, SubmissionDep
from gradeflow_api.web.math import notebook_markdown, render_statement
from gradeflow_api.web.mine import counted_note, own_page, page_number
from gradeflow_api.web.pages.login import see_other
from gradeflow_api.web.pages.rubric import report_section
from gradeflow_api.web.render import page
from gradeflow_api.present_staff import submission_desk
from gradeflow_core.course_stats import course_stats
from gradeflow_core.models import Team
from gradeflow_protocol.enums import SubmissionPurpose
from gradeflow_api.web.summary import assignment_rows, assignment_summary, submission_lateness

router = APIRouter(include_in_schema=False)


@router.get("/courses/{course_id}")
def course_page(request: Request, found: CourseDep, session: SessionDep, user: PageUser) -> Response:
    if found.is_staff:  # staff read the course's numbers, not their own scores
        return page(request, "course.html", course=found.course, role=found.role, rows=[],
                    stats=course_stats(session, found.course))
    rows = assignment_rows(session, user=user, course=found.course, staff=found.is_staff)
    return page(request, "course.html", course=found.course, role=found.role, rows=rows)


def _read_limit(assignment, settings) -> int:
    """What the upload form checks before sending, and what the server reads: the code limit, or a report's where
    the assignment takes PDFs (the server checks each kind against its own)."""
    return submitting.read_limit(assignment, max_bytes=settings.max_upload_bytes,
                                 max_report_bytes=settings.max_report_bytes)


def _assignment_page(request: Request, found, session, user, settings, *, error: str = "", status_code: int = 200):
    assignment = found.assignment
    version = assignment.current_version
    config = AssignmentConfig(**version.config) if version else None
    statement = render_statement(version.readme if version else "")
    statement = statement.removeprefix(f"<h1>{escape(assignment.title)}</h1>")  # the page's own heading says it
    statement = demote_headings(statement, below=2)  # under the page's h1 and its h2 sections
    return page(request, "assignment.html", status_code=status_code, course=assignment.course, role=found.access.role,
                assignment=assignment, version=version, statement=statement,
                accepts=config.accepted_extensions() if config else [], max_bytes=_read_limit(assignment, settings),
                contest=config.contest if config else None,
                summary=assignment_summary(session, user=user, assignment=assignment),
                history=own_page(session, user=user, assignment_id=assignment.id,
                                 page=page_number(request.query_params.get("page"))), error=error)


@router.get("/assignments/{assignment_id}")
def assignment_page(request: Request, found: AssignmentDep, session: SessionDep, user: PageUser,
                    settings: SettingsDep) -> Response:
    return _assignment_page(request, found, session, user, settings)


@router.get("/assignments/{assignment_id}/starter")
def starter(found: AssignmentDep, blobs: BlobsDep) -> Response:
    version = found.assignment.current_version
    starter_file = views.starter_file(blobs, version) if version else None
    if starter_file is None:
        raise PageError(404, "This assignment has no starter file.")
    name, data = starter_file
    filename = f"{found.assignment.slug}-{name}"
    return Response(data, media_type="application/octet-stream",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@router.get("/assignments/{assignment_id}/data.zip")
def public_data(found: AssignmentDep, blobs: BlobsDep) -> Response:
    """The assignment's public data (data/public of its bundle: what the kernel sees; hidden files never)."""
    version = found.assignment.current_version
    data = views.public_data_zip(blobs, version) if version else None
    if data is None:
        raise PageError(404, "This assignment has no data to download.")
    return Response(data, media_type="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="{found.assignment.slug}-data.zip"'})


@router.post("/assignments/{assignment_id}/submissions", dependencies=[CsrfChecked])
def upload(request: Request, found: AssignmentDep, file: Annotated[UploadFile, File()], session: SessionDep,
           user: PageUser, settings: SettingsDep, blobs: BlobsDep, enqueuer: EnqueuerDep) -> Response:
    """The same path as the API's upload; a refusal comes back as a message on the assignment page.
    A sync route: the spooled file and the database are read on a worker thread, never on the event loop."""
    if found.assignment.current_version_id is None:
        raise PageError(409, "This assignment is not published yet.")
    largest = _read_limit(found.assignment, settings)  # a report may be bigger than code
    upload = Upload(filename=file.filename or "", data=file.file.read(largest + 1), size=file.size)
    try:  # the same use case as the API's upload: policy gate, validation, storage, queue
        created = submitting.submit(session, assignment=found.assignment, user=user, upload=upload, blobs=blobs,
                                    enqueuer=enqueuer, secret=settings.secret_key, max_bytes=settings.max_upload_bytes,
                                    max_report_bytes=settings.max_report_bytes)
    except (UploadRefused, UploadError) as exc:
        session.rollback()
        return _assignment_page(request, found, session, user, settings, error=str(exc),
                                status_code=_refusal_status(exc))
    return see_other(f"/submissions/{created.id}")


def _refusal_status(exc: UploadRefused | UploadError) -> int:
    """The page's status for a refused upload (the message is on the page itself)."""
    if isinstance(exc, UploadRefused):
        return 429 if exc.refusal is UploadRefusal.DAILY_LIMIT else 403
    return 413 if isinstance(exc, UploadTooLarge) else 422


def _submitted_text(blobs, submission) -> tuple[str, str]:
    """(kind, safe HTML or text) of what the student sent: a notebook rendered and sanitised, else plain text."""
    if submission.kind == "report":  # a PDF: downloaded (web/pages/rubric.py), never shown as text
        return "report", ""
    data = blobs.get(submission.blob_sha256)
    if is_zip_name(submission.filename):
        return "text", zip_listing(data)
    text = data.decode("utf-8", errors="replace")
    if submission.kind == "notebook":
        try:
            notebook = render_notebook(text, markdown=notebook_markdown())  # formulas as MathML, one budget
            return "notebook", demote_headings(notebook, below=2)  # under the page's h1 and "What you sent"
        except Exception:  # validated at upload; an unreadable one is shown as text rather than failing the page
            pass
    return "text", text[:200_000]


def _submission_page(request: Request, found, session, blobs, user, *, pick_error: str = "", status_code: int = 200):
    submission = found.submission
    kind, submitted = _submitted_text(blobs, submission)
    return page(request, "submission.html", status_code=status_code, course=submission.assignment.course,
                role=found.role, submission=submission, assignment=submission.assignment, staff_view=found.staff_view,
                live=views.live_status(session, submission, staff=found.staff_view),
                lateness=submission_lateness(session, submission), submitted_kind=kind, submitted=submitted,
                counted=counted_note(session, submission=submission, viewer=user) if kind != "report" else None,
                pick_error=pick_error,  # a report counts through the rubric (the _report.html section)
                desk=submission_desk(session, submission) if _on_desk(found) else None,
                team=session.get(Team, submission.team_id) if submission.team_id is not None else None,
                report=report_section(session, submission, staff=found.staff_view))


def _on_desk(found) -> bool:
    """Staff reading a student's submission get the TA's actions (web/templates/staff/_submission_desk.html)."""
    return found.staff_view and found.submission.purpose == SubmissionPurpose.STUDENT


@router.get("/submissions/{submission_id}")
def submission_page(request: Request, found: SubmissionDep, session: SessionDep, blobs: BlobsDep,
                    user: PageUser) -> Response:
    return _submission_page(request, found, session, blobs, user)


_PICK_STATUS = {PickRefusal.NOT_YOURS: 403, PickRefusal.CLOSED: 403, PickRefusal.NOT_GRADED: 409,
                PickRefusal.NOT_CHOOSABLE: 409}


@router.post("/submissions/{submission_id}/pick", dependencies=[CsrfChecked])
def pick(request: Request, found: SubmissionDep, session: SessionDep, blobs: BlobsDep, user: PageUser) -> Response:
    """The student chooses this submission to count (policy `chosen`); a refusal is a message on the page."""
    try:
        pick_submission(session, submission=found.submission, user=user)
    except PickRefused as exc:
        session.rollback()
        return _submission_page(request, found, session, blobs, user, pick_error=exc.message,
                                status_code=_PICK_STATUS[exc.refusal])
    session.commit()
    return see_other(f"/submissions/{found.submission.id}?picked=1#counts")


@router.get("/submissions/{submission_id}/status")
def submission_status(request: Request, found: SubmissionDep, session: SessionDep) -> Response:
    """The fragment the submission page polls until the submission is graded or failed.

    Cheap to poll: the queue place comes from one scan per queue per second, and the ETag covers what the
    fragment shows except the running clocks (static/app.js counts those from data-since), so an unchanged
    status is a 304 and the browser reuses the fragment it has."""
    submission, staff = found.submission, found.staff_view
    queued = submission.status is SubmissionStatus.QUEUED
    position = request.app.state.queue_positions.position(session, submission) if queued else None
    headers = poll_headers(submission_etag(submission, staff=staff, extra=("fragment", position)), staff=staff)
    if not_modified(request.headers.get("if-none-match"), headers["ETag"]):
        return Response(status_code=304, headers=headers)
    return page(request, "_status.html", headers=headers, submission=submission, staff_view=staff,
                live=views.live_status(session, submission, staff=staff, position=position))


@router.get("/submissions/{submission_id}/file")
def submission_file(found: SubmissionDep, blobs: BlobsDep) -> Response:
    submission = found.submission
    return Response(blobs.get(submission.blob_sha256), media_type="application/octet-stream",
                    headers={"Content-Disposition": f'attachment; filename="{submission.filename}"'})


@router.get("/history")
def history(request: Request, session: SessionDep, user: PageUser) -> Response:
    mine = own_page(session, user=user, page=page_number(request.query_params.get("page")))
    return page(request, "history.html", submissions=mine)
