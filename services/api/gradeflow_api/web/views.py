"""What the pages show, gathered from the core: queue position, starter files, a submission's live status."""
from __future__ import annotations

import io
import tarfile
import zipfile
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from gradeflow_api.present import submission_public
from gradeflow_api.schemas import SubmissionPublic
from gradeflow_core.blobs import BlobStore
from gradeflow_protocol.enums import Role, SubmissionStatus
from gradeflow_core.grading import queue_position
from gradeflow_core.models import AssignmentVersion, Course, Enrollment, Submission, User, utcnow

STARTER_NAMES = ("starter.ipynb", "starter.py", "starter.zip")  # the only bundle members a student may download
POLL_SECONDS = 1.0


def starter_file(blobs: BlobStore, version: AssignmentVersion) -> tuple[str, bytes] | None:
    """The starter notebook or script from a version's bundle; never any other member (checks stay hidden)."""
    with tarfile.open(fileobj=io.BytesIO(blobs.get(version.bundle_blob)), mode="r:gz") as tar:
        for name in STARTER_NAMES:
            try:
                member = tar.getmember(name)
            except KeyError:
                continue
            source = tar.extractfile(member) if member.isfile() else None
            if source is not None:
                return name, source.read()
    return None


PUBLIC_DATA = "data/public/"
MAX_PUBLIC_DATA_BYTES = 200 * 1024 * 1024


def public_data_zip(blobs: BlobStore, version: AssignmentVersion) -> bytes | None:
    """The bundle's data/public folder (what every kernel sees, nothing else) as a zip with `data/` at its root,
    for students to work with offline; None when the bundle has no public data."""
    out, total, found = io.BytesIO(), 0, False
    with tarfile.open(fileobj=io.BytesIO(blobs.get(version.bundle_blob)), mode="r:gz") as tar, \
            zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for member in tar.getmembers():
            if not (member.isfile() and member.name.startswith(PUBLIC_DATA)):
                continue
            total += member.size
            if total > MAX_PUBLIC_DATA_BYTES:
                raise ValueError("the public data is too large to download from the page")
            source = tar.extractfile(member)
            info = zipfile.ZipInfo("data/" + member.name[len(PUBLIC_DATA):], date_time=(1980, 1, 1, 0, 0, 0))
            archive.writestr(info, source.read() if source else b"", compress_type=zipfile.ZIP_DEFLATED)
            found = True
    return out.getvalue() if found else None


@dataclass(frozen=True)
class LiveStatus:
    """A submission as the status fragment shows it, polled until it is final."""

    view: SubmissionPublic
    final: bool
    position: int | None  # place in the queue while queued
    elapsed_s: float | None  # seconds since the worker started, while running
    waited_s: float | None  # seconds since it was queued, while queued
    poll_s: float = POLL_SECONDS


def live_status(session: Session, submission: Submission, *, staff: bool, now: datetime | None = None,
                position: int | None = None) -> LiveStatus:
    """`position`: the queue place when the caller has it already (the status route reads gradeflow_api.polling's
    QueuePositions, one scan per queue per second, instead of a count per poll)."""
    now = now or utcnow()
    status = submission.status
    queued = status is SubmissionStatus.QUEUED
    running = status is SubmissionStatus.RUNNING
    return LiveStatus(
        view=submission_public(session, submission, staff=staff), final=status.is_final,
        position=(position or queue_position(session, submission)) if queued else None,
        elapsed_s=(now - submission.started_at).total_seconds() if running and submission.started_at else None,
        waited_s=(now - submission.queued_at).total_seconds() if queued else None)


def user_courses(session: Session, user: User) -> list[tuple[Course, Role]]:
    """The courses a user is in, with their role (an admin sees every course as an instructor)."""
    if user.is_admin:
        return [(c, Role.INSTRUCTOR) for c in session.scalars(select(Course).order_by(Course.id))]
    rows = session.execute(select(Course, Enrollment.role).join(Enrollment, Enrollment.course_id == Course.id)
                           .where(Enrollment.user_id == user.id).order_by(Course.id))
    return [(course, role) for course, role in rows]
