"""Publish an assignment folder as an immutable version named by its content hash."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from gradeflow_core.blobs import BlobStore
from gradeflow_protocol.bundles import AssignmentConfig, content_hash, pack, read_config
from gradeflow_protocol.enums import ActivationCause
from gradeflow_core.models import Assignment, AssignmentVersion, Course, User, VersionActivation
from gradeflow_core.rubric import sync_questions


def find_or_create_assignment(session: Session, *, course: Course, config: AssignmentConfig) -> Assignment:
    """The course's assignment with the config's id, created on first publish."""
    assignment = session.scalar(select(Assignment).where(Assignment.course_id == course.id,
                                                         Assignment.slug == config.id))
    if assignment is None:
        assignment = Assignment(course_id=course.id, slug=config.id, title=config.title, kind=config.kind,
                                max_score=config.points)
        session.add(assignment)
        session.flush()
    return assignment


def publish_folder(session: Session, blobs: BlobStore, *, course: Course, folder: Path,
                   user: User | None = None, make_current: bool = True) -> AssignmentVersion:
    """Store the folder's bundle and record a version (reused when the content is unchanged)."""
    config = read_config(folder)
    digest = content_hash(folder)
    assignment = find_or_create_assignment(session, course=course, config=config)
    version = session.scalar(select(AssignmentVersion).where(AssignmentVersion.assignment_id == assignment.id,
                                                             AssignmentVersion.sha256 == digest))
    if version is None:
        readme = folder / "README.md"
        version = AssignmentVersion(assignment_id=assignment.id, sha256=digest, bundle_blob=blobs.put(pack(folder)),
                                    config=config.model_dump(mode="json"),
                                    readme=readme.read_text("utf-8") if readme.is_file() else "",
                                    published_by=user.id if user else None)
        session.add(version)
        session.flush()
    if make_current:
        set_current(session, assignment, version, cause=ActivationCause.PUBLISHED, by=user.id if user else None)
    return version


def set_current(session: Session, assignment: Assignment, version: AssignmentVersion, *, cause: ActivationCause,
                by: int | None, run_id: int | None = None) -> None:
    """The one place that makes a version official; a change (or a regrade adopted) goes into the activation log."""
    config = AssignmentConfig(**version.config)
    previous = assignment.current_version_id
    if previous != version.id or run_id is not None:
        session.add(VersionActivation(assignment_id=assignment.id, version_id=version.id, previous_version_id=previous,
                                      regrade_run_id=run_id, cause=cause, activated_by=by))
    assignment.current_version_id = version.id
    assignment.title, assignment.kind, assignment.max_score = config.title, config.kind, config.points
    sync_questions(session, assignment=assignment, config=config)  # a report's rubric: missing questions added
    session.flush()
