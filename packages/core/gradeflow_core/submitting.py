"""A student's upload, as one use case: policy, validation, blob, row, commit, then the grading task.

The API's route and the web page both call `submit`; each turns the domain errors into its own answer
(UploadRefused: 403 or 429 with Retry-After; UploadTooLarge: 413; UploadError: 422).
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy.orm import Session

from gradeflow_core.blobs import BlobStore
from gradeflow_core.deadlines import enforce_upload
from gradeflow_core.grading import Enqueuer, commit_and_send
from gradeflow_core.models import Assignment, Submission, User
from gradeflow_core.teams import team_for_upload
from gradeflow_core.uploads import check_upload
from gradeflow_protocol.bundles import AssignmentConfig


@dataclass(frozen=True)
class Upload:
    """What arrived: the name the student gave, the bytes read (at most the limit + 1) and the full size."""

    filename: str
    data: bytes
    size: int | None = None


def submit(session: Session, *, assignment: Assignment, user: User, upload: Upload, blobs: BlobStore,
           enqueuer: Enqueuer, secret: str, max_bytes: int, max_report_bytes: int | None = None) -> Submission:
    """Store the upload and queue its grading; raises UploadRefused or UploadError (nothing is written then).

    The policy check (daily limit, opening, cutoff) and the insert share one transaction, with nothing awaited
    between them (the caller has read the file already). On a team assignment (`teams = true`) the upload of a
    student in a team belongs to the team (`team_id`); a student without a team submits alone.
    """
    version = assignment.current_version
    config = AssignmentConfig(**version.config)
    team = team_for_upload(session, assignment=assignment, user=user)
    enforce_upload(session, assignment=assignment, user=user, team_id=team.id if team is not None else None)
    checked = check_upload(filename=upload.filename, data=upload.data, accepted=config.accepted_extensions(),
                           max_bytes=max_bytes, size=upload.size,
                           max_pdf_bytes=pdf_limit(config, max_report_bytes=max_report_bytes or max_bytes),
                           notebooks=config.notebooks)
    sha = blobs.put(checked.data)  # content-addressed: a blob without a row is harmless and reused
    submission = Submission(user_id=user.id, assignment_id=assignment.id, version_id=version.id,
                            filename=checked.filename, kind=checked.kind, blob_sha256=sha, size=len(checked.data),
                            seed=secrets.randbelow(2**31), queue=config.resources.queue,
                            team_id=team.id if team is not None else None)
    session.add(submission)
    commit_and_send(session, enqueuer, [submission], secret=secret)
    return submission


def pdf_limit(config: AssignmentConfig, *, max_report_bytes: int) -> int:
    """A report's size limit: the assignment's report.max_pdf_mb, never above the service's cap for reports
    (ApiSettings.max_report_bytes, kept apart from max_upload_bytes because a PDF with figures is bigger than code)."""
    wanted = int(config.report.max_pdf_mb * 1048576) if config.report is not None else max_report_bytes
    return min(wanted, max_report_bytes)


def read_limit(assignment: Assignment, *, max_bytes: int, max_report_bytes: int) -> int:
    """How much of an upload to read before checking it: the code limit, or a report's where the assignment takes
    PDFs (so an assignment without reports never reads more than the code limit)."""
    version = assignment.current_version
    config = AssignmentConfig(**version.config) if version is not None else None
    if config is None or ".pdf" not in config.accepted_extensions():
        return max_bytes
    return max(max_bytes, pdf_limit(config, max_report_bytes=max_report_bytes))

