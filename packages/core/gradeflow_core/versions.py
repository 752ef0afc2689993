"""Publishing through validation: a bundle becomes a VALIDATING version whose reference and known-wrong files
are graded as ordinary submissions (purpose VALIDATION) in the sandbox; the version is READY only when each
scored exactly as expected, and only a READY version can become the official (current) one.

Reference solutions and check modules never run in the API process: this module only parses and stores.
"""
from __future__ import annotations

import io
import re
import secrets
import tarfile
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from sqlalchemy import select
from sqlalchemy.orm import Session

from gradeflow_core.blobs import BlobStore
from gradeflow_core.bundle_lint import LintResult, lint_folder
from gradeflow_protocol.bundles import AssignmentConfig, BundleError, content_hash, pack
from gradeflow_protocol.enums import ActivationCause, SubmissionPurpose, SubmissionStatus, VersionState
from gradeflow_core.models import (Assignment, AssignmentVersion, Course, GradingResult, Submission, User,
                                   ValidationRun, VersionActivation, utcnow)
from gradeflow_core.publishing import find_or_create_assignment, set_current
from gradeflow_core.uploads import file_kind

MAX_UNPACKED_BYTES = 200 * 1024 * 1024
_QUALIFIED = re.compile(r"^(?:[a-z_][a-z0-9_]*\.)+(?=[A-Z])")  # gradeflow_graders.runner.ChecksError -> ChecksError
SCORE_TOLERANCE = 1e-6


class VersionError(ValueError):
    """A version that cannot be used for what was asked (not found, not ready, ...); the message says why."""


@dataclass(frozen=True)
class Published:
    version: AssignmentVersion
    to_enqueue: list[Submission]  # validation runs to send after the commit
    created: bool  # False: this content was already published (and is not broken)


@dataclass(frozen=True)
class RunCheck:
    """One validation run as the TA reads it."""

    label: str
    expected: float
    status: SubmissionStatus
    score: float | None
    failed_checks: list[str]  # "name: message" for each check that did not pass
    error: str | None  # why the service could not grade it

    @property
    def matches(self) -> bool:
        return self.status == SubmissionStatus.GRADED and self.score is not None and \
            abs(self.score - self.expected) <= SCORE_TOLERANCE


def _extract(tar: tarfile.TarFile, dest: Path) -> None:
    """Regular files and directories only; no absolute paths, no '..', no links or devices."""
    for member in tar.getmembers():
        rel = PurePosixPath(member.name)
        if rel.is_absolute() or ".." in rel.parts or not (member.isfile() or member.isdir()):
            raise BundleError(f"refusing bundle member {member.name!r}: only plain files and folders are allowed")
        target = dest.joinpath(*rel.parts)
        if member.isdir():
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        source = tar.extractfile(member)
        target.write_bytes(source.read() if source else b"")


def open_bundle(data: bytes, dest: Path) -> Path:
    """Extract an uploaded tar.gz safely; returns the assignment folder (the root, or its only directory)."""
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            if sum(m.size for m in tar.getmembers()) > MAX_UNPACKED_BYTES:
                raise BundleError(f"the bundle unpacks to more than {MAX_UNPACKED_BYTES // 10**6} MB")
            _extract(tar, dest)
    except (tarfile.TarError, EOFError, OSError, zlib.error):
        raise BundleError("the upload is not a tar.gz archive; pack the assignment folder with "
                          "`tar -czf bundle.tar.gz -C FOLDER .` or use `gradeflow assignment publish FOLDER`") from None
    if not (dest / "assignment.toml").is_file():
        children = [p for p in dest.iterdir() if p.is_dir()]
        if len(children) == 1 and (children[0] / "assignment.toml").is_file():
            return children[0]
    return dest


def _validation_runs(session: Session, blobs: BlobStore, *, version: AssignmentVersion, lint: LintResult,
                     user: User) -> list[Submission]:
    runs = []
    for ref in lint.references:
        data = ref.path.read_bytes()
        sub = Submission(user_id=user.id, assignment_id=version.assignment_id, version_id=version.id,
                         filename=ref.path.name, kind=file_kind(ref.path.name, data, notebooks=lint.config.notebooks),
                         blob_sha256=blobs.put(data),
                         size=len(data), seed=secrets.randbelow(2**31), queue=lint.config.resources.queue,
                         purpose=SubmissionPurpose.VALIDATION)
        session.add(sub)
        session.flush()
        session.add(ValidationRun(version_id=version.id, submission_id=sub.id, label=ref.label,
                                  expected_score=ref.expected))
        runs.append(sub)
    return runs


def _new_or_retried_version(session: Session, blobs: BlobStore, *, assignment: Assignment, folder: Path,
                            lint: LintResult, user: User) -> tuple[AssignmentVersion, bool]:
    digest = content_hash(folder)
    version = session.scalar(select(AssignmentVersion).where(AssignmentVersion.assignment_id == assignment.id,
                                                             AssignmentVersion.sha256 == digest))
    if version is not None and version.state != VersionState.BROKEN:
        return version, False
    if version is None:
        readme = folder / "README.md"
        version = AssignmentVersion(assignment_id=assignment.id, sha256=digest, bundle_blob=blobs.put(pack(folder)),
                                    config=lint.config.model_dump(mode="json"), published_by=user.id,
                                    readme=readme.read_text("utf-8", "replace") if readme.is_file() else "")
        session.add(version)
    else:  # the same content failed before (perhaps the service did): validate it again
        for run in session.scalars(select(ValidationRun).where(ValidationRun.version_id == version.id)):
            session.delete(run)
    version.state, version.problems, version.validated_at = VersionState.VALIDATING, [], None
    session.flush()
    return version, True


def _activate_later(session: Session, version: AssignmentVersion, user: User) -> None:
    """Honour --activate on a re-publish: now if the version is ready, else once it is."""
    version.activate_when_ready = True
    if version.state == VersionState.READY:
        make_current(session, version, cause=ActivationCause.PUBLISHED, by=user.id)


def publish_bundle(session: Session, blobs: BlobStore, *, course: Course, user: User, data: bytes,
                   activate: bool = False) -> Published:
    """Store an uploaded bundle as a VALIDATING version and create its validation runs (the caller enqueues them
    after committing). Raises BundleError with every problem found. `activate`: make it current once READY
    (always so for an assignment's first version)."""
    with tempfile.TemporaryDirectory(prefix="gradeflow-publish-") as tmp:
        folder = open_bundle(data, Path(tmp))
        lint = lint_folder(folder)
        assignment = find_or_create_assignment(session, course=course, config=lint.config)
        version, fresh = _new_or_retried_version(session, blobs, assignment=assignment, folder=folder, lint=lint,
                                                 user=user)
        if not fresh:
            if activate:
                _activate_later(session, version, user)
            return Published(version=version, to_enqueue=[], created=False)
        version.activate_when_ready = activate or assignment.current_version_id is None
        runs = _validation_runs(session, blobs, version=version, lint=lint, user=user)
    return Published(version=version, to_enqueue=runs, created=True)


def _failed_checks(session: Session, submission: Submission) -> list[str]:
    result = session.scalar(select(GradingResult).where(GradingResult.submission_id == submission.id)
                            .order_by(GradingResult.attempt.desc()).limit(1))
    if result is None:
        return []
    return [f"{c['name']}: {c.get('message') or 'failed'}" for c in result.checks if not c.get("passed")]


def _service_error(text: str | None) -> str | None:
    """The line of a worker's traceback that says what went wrong."""
    if not text:
        return None
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    named = [line for line in lines if "Error:" in line or "Exception:" in line]
    return _QUALIFIED.sub("", named[-1] if named else lines[-1])[:500]


def run_checks(session: Session, version: AssignmentVersion) -> list[RunCheck]:
    """The version's validation runs (of its latest publish), in bundle order."""
    runs = session.scalars(select(ValidationRun).where(ValidationRun.version_id == version.id)
                           .order_by(ValidationRun.id))
    return [RunCheck(label=run.label, expected=run.expected_score, status=run.submission.status,
                     score=run.submission.score, failed_checks=_failed_checks(session, run.submission),
                     error=_service_error(run.submission.error) if run.submission.status == SubmissionStatus.FAILED
                     else None) for run in runs]


def mismatches(checks: list[RunCheck]) -> list[str]:
    """What is wrong with a finished validation, each with what to fix (empty: the version is good)."""
    problems = []
    for run in checks:
        if run.status == SubmissionStatus.FAILED:
            problems.append(f"{run.label} could not be graded: {run.error or 'unknown error'}; "
                            "fix the checks (do they import?) and publish again")
        elif not run.matches:
            detail = f" ({'; '.join(run.failed_checks)[:600]})" if run.failed_checks else ""
            problems.append(f"{run.label} scored {run.score:g} but must score {run.expected:g}{detail}")
    return problems


def _points_problem(session: Session, version: AssignmentVersion, config: AssignmentConfig) -> str | None:
    for run in session.scalars(select(ValidationRun).where(ValidationRun.version_id == version.id)):
        got = run.submission.max_score
        if run.submission.status == SubmissionStatus.GRADED and got is not None and \
                abs(got - config.autograded_points) > SCORE_TOLERANCE:
            rubric = f" minus the rubric's {config.rubric_points:g}" if config.rubric_points else ""
            return (f"the checks' points add up to {got:g} but assignment.toml says points = {config.points:g}"
                    f"{rubric}; make them agree")
    return None


def settle(session: Session, version: AssignmentVersion) -> VersionState:
    """Decide a VALIDATING version once all its runs are final (READY or BROKEN); activates it if asked."""
    if version.state != VersionState.VALIDATING:
        return version.state
    checks = run_checks(session, version)
    if any(not run.status.is_final for run in checks):
        return VersionState.VALIDATING
    config = AssignmentConfig(**version.config)
    problems = mismatches(checks)
    points = _points_problem(session, version, config)
    problems += [points] if points else []
    version.state = VersionState.BROKEN if problems else VersionState.READY
    version.problems, version.validated_at = problems, utcnow()
    version.environment_digest = validated_digest(session, version)
    if version.state == VersionState.READY and version.activate_when_ready:
        make_current(session, version, cause=ActivationCause.VALIDATED, by=version.published_by)
    session.flush()
    return version.state


def validated_digest(session: Session, version: AssignmentVersion) -> str | None:
    """The environment digest the version's validation runs reported (comma-joined when they differ)."""
    runs = session.scalars(select(ValidationRun).where(ValidationRun.version_id == version.id))
    digests = set()
    for run in runs:
        result = session.scalar(select(GradingResult).where(GradingResult.submission_id == run.submission_id)
                                .order_by(GradingResult.attempt.desc()).limit(1))
        digest = (result.run or {}).get("environment_digest") if result is not None else None
        if digest:
            digests.add(str(digest))
    return ",".join(sorted(digests))[:200] or None


def require_ready(version: AssignmentVersion) -> None:
    """Raise VersionError, saying why, unless the version is READY."""
    if version.state != VersionState.READY:
        raise VersionError(f"version {version.sha256[:12]} is {version.state}: only a ready version can be made "
                           "official" + (f" ({'; '.join(version.problems)})" if version.problems else ""))


def make_current(session: Session, version: AssignmentVersion, *, cause: ActivationCause, by: int | None,
                 run_id: int | None = None) -> Assignment:
    """Make a READY version the one new submissions are graded against, and log who did it and why."""
    require_ready(version)
    assignment = session.get(Assignment, version.assignment_id)
    set_current(session, assignment, version, cause=cause, by=by, run_id=run_id)
    return assignment


def activation_log(session: Session, assignment: Assignment) -> list[VersionActivation]:
    """Every change of the official version, newest first."""
    return list(session.scalars(select(VersionActivation).where(VersionActivation.assignment_id == assignment.id)
                                .order_by(VersionActivation.id.desc())))


def find_version(session: Session, assignment: Assignment, ref: str) -> AssignmentVersion:
    """A version of the assignment by its content hash or a unique prefix of it (at least 6 characters)."""
    ref = ref.strip().lower()
    if len(ref) < 6:
        raise VersionError("Name a version by at least 6 characters of its hash.")
    query = select(AssignmentVersion).where(AssignmentVersion.assignment_id == assignment.id,
                                            AssignmentVersion.sha256.startswith(ref, autoescape=True))
    found = list(session.scalars(query))
    if len(found) != 1:
        raise VersionError(f"No version of {assignment.slug} starts with {ref}." if not found
                           else f"Several versions start with {ref}; give more characters.")
    return found[0]


def list_versions(session: Session, assignment: Assignment) -> list[AssignmentVersion]:
    """Newest first, each settled if its validation has finished."""
    versions = list(session.scalars(select(AssignmentVersion).where(AssignmentVersion.assignment_id == assignment.id)
                                    .order_by(AssignmentVersion.id.desc())))
    for version in versions:
        settle(session, version)
    return versions
