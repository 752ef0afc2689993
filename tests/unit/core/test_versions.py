"""Publishing through validation: pending version, validation runs as submissions, settle, make current."""
from __future__ import annotations

import io
import tarfile

import pytest

from gradeflow_protocol.bundles import BundleError, pack
from gradeflow_protocol.enums import ActivationCause, SubmissionPurpose, SubmissionStatus, VersionState
from gradeflow_core.models import Assignment, ValidationRun
from gradeflow_core.versions import VersionError, activation_log, find_version, list_versions, make_current, publish_bundle, settle
from tests.unit.core.world import fail_now, grade_now, write_bundle


def publish(session, blobs, world, folder, **kwargs):
    return publish_bundle(session, blobs, course=world.course, user=world.users["tina"], data=pack(folder), **kwargs)


def test_publish_creates_a_validating_version_and_its_runs(staff_db, tmp_path):
    session, blobs, world = staff_db
    published = publish(session, blobs, world, write_bundle(tmp_path / "b", readme="v2"))
    version = published.version
    assert published.created and version.state == VersionState.VALIDATING and not version.activate_when_ready
    assert [s.filename for s in published.to_enqueue] == ["solution.py", "zero.py"]
    assert {s.purpose for s in published.to_enqueue} == {SubmissionPurpose.VALIDATION}
    assert {s.user_id for s in published.to_enqueue} == {world.users["tina"].id}
    labels = {r.label: r.expected_score for r in session.query(ValidationRun).filter_by(version_id=version.id)}
    assert labels == {"solution.py": 2, "wrong/zero.py": 0}
    assert session.get(Assignment, world.assignment_id).current_version_id == world.version.id


def test_all_runs_as_expected_make_it_ready_and_first_versions_current(staff_db, tmp_path):
    session, blobs, world = staff_db
    folder = write_bundle(tmp_path / "new")
    (folder / "assignment.toml").write_text('id = "fresh"\ntitle = "Fresh"\nkind = "script"\npoints = 2\n')
    published = publish(session, blobs, world, folder)
    assert published.version.activate_when_ready  # a first version becomes current when ready
    solution, wrong = published.to_enqueue
    grade_now(session, solution, 2, environment_digest="sha256:abc")
    assert published.version.state == VersionState.VALIDATING  # one run still out
    grade_now(session, wrong, 0, environment_digest="sha256:abc")  # the last result settles the version
    assert published.version.state == VersionState.READY
    assert published.version.environment_digest == "sha256:abc"  # what it was validated in
    assignment = session.get(Assignment, published.version.assignment_id)
    assert assignment.current_version_id == published.version.id and assignment.title == "Fresh"
    [entry] = activation_log(session, assignment)
    assert (entry.version_id, entry.previous_version_id, entry.cause) == (published.version.id, None, "validated")
    assert entry.activated_by == world.users["tina"].id  # the publisher asked for it (a first version)


def test_a_mismatch_breaks_the_version_with_what_to_fix(staff_db, tmp_path):
    session, blobs, world = staff_db
    published = publish(session, blobs, world, write_bundle(tmp_path / "b", readme="v2"))
    solution, wrong = published.to_enqueue
    grade_now(session, solution, 1)
    grade_now(session, wrong, 0)
    version = published.version
    assert version.state == VersionState.BROKEN
    assert version.problems == ["solution.py scored 1 but must score 2 (answer is 42: answer should be 42)"]
    with pytest.raises(VersionError, match="only a ready version"):
        make_current(session, version, cause=ActivationCause.ACTIVATED, by=None)


def test_a_run_the_service_could_not_grade_breaks_it_with_the_error(staff_db, tmp_path):
    session, blobs, world = staff_db
    published = publish(session, blobs, world, write_bundle(tmp_path / "b", readme="v2"))
    solution, wrong = published.to_enqueue
    fail_now(session, solution, "Traceback ...\ngradeflow_worker.checks.ChecksError: checks.py failed to import: "
                                "NameError: name 'np' is not defined")
    grade_now(session, wrong, 0)
    assert settle(session, published.version) == VersionState.BROKEN
    assert "solution.py could not be graded: ChecksError: checks.py failed to import" in published.version.problems[0]


def test_points_that_do_not_add_up_break_it(staff_db, tmp_path):
    session, blobs, world = staff_db
    published = publish(session, blobs, world, write_bundle(tmp_path / "b", readme="v2"))
    solution, wrong = published.to_enqueue
    grade_now(session, solution, 2, max_score=3)
    grade_now(session, wrong, 0, max_score=3)
    assert "points add up to 3 but assignment.toml says points = 2" in published.version.problems[-1]


def test_republishing_the_same_content_returns_the_version(staff_db, tmp_path):
    session, blobs, world = staff_db
    folder = write_bundle(tmp_path / "b", readme="v2")
    first = publish(session, blobs, world, folder)
    again = publish(session, blobs, world, folder)
    assert not again.created and again.version.id == first.version.id and again.to_enqueue == []


def test_republishing_with_activate_makes_a_ready_version_current(staff_db, tmp_path):
    session, blobs, world = staff_db
    folder = write_bundle(tmp_path / "b", readme="v2")
    first = publish(session, blobs, world, folder)
    grade_now(session, first.to_enqueue[0], 2)
    grade_now(session, first.to_enqueue[1], 0)
    assignment = session.get(Assignment, world.assignment_id)
    assert first.version.state == VersionState.READY and assignment.current_version_id == world.version.id
    publish(session, blobs, world, folder, activate=True)
    assert assignment.current_version_id == first.version.id


def test_republishing_a_broken_version_validates_it_again(staff_db, tmp_path):
    session, blobs, world = staff_db
    folder = write_bundle(tmp_path / "b", readme="v2")
    first = publish(session, blobs, world, folder)
    for sub in first.to_enqueue:
        grade_now(session, sub, 1)
    assert first.version.state == VersionState.BROKEN
    again = publish(session, blobs, world, folder)
    assert again.created and again.version.id == first.version.id and len(again.to_enqueue) == 2
    assert again.version.state == VersionState.VALIDATING and again.version.problems == []
    grade_now(session, again.to_enqueue[0], 2)
    grade_now(session, again.to_enqueue[1], 0)
    assert again.version.state == VersionState.READY


def test_broken_bundles_are_refused_before_anything_is_stored(staff_db, tmp_path):
    session, blobs, world = staff_db
    folder = write_bundle(tmp_path / "b")
    (folder / "solution.py").unlink()
    before = dict(blobs.blobs)
    with pytest.raises(BundleError, match="no reference solution"):
        publish(session, blobs, world, folder)
    assert blobs.blobs == before


@pytest.mark.parametrize("data", [b"not a tarball", b""])
def test_not_a_tarball(staff_db, data):
    session, blobs, world = staff_db
    with pytest.raises(BundleError, match="not a tar.gz"):
        publish_bundle(session, blobs, course=world.course, user=world.users["tina"], data=data)


def test_a_folder_wrapped_in_one_directory_is_accepted(staff_db, tmp_path):
    session, blobs, world = staff_db
    folder = write_bundle(tmp_path / "toy", readme="wrapped")
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        tar.add(folder, arcname="toy")
    published = publish_bundle(session, blobs, course=world.course, user=world.users["tina"], data=buffer.getvalue())
    assert published.created and published.version.assignment_id == world.assignment_id


def test_unsafe_members_are_refused(staff_db):
    session, blobs, world = staff_db
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        info = tarfile.TarInfo("../evil.py")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    with pytest.raises(BundleError, match="refusing bundle member"):
        publish_bundle(session, blobs, course=world.course, user=world.users["tina"], data=buffer.getvalue())


def test_find_version_by_prefix_and_list(staff_db, tmp_path):
    session, blobs, world = staff_db
    assignment = session.get(Assignment, world.assignment_id)
    second = publish(session, blobs, world, write_bundle(tmp_path / "b", readme="v2")).version
    assert find_version(session, assignment, second.sha256[:8]).id == second.id
    for bad in ("abc", "0" * 12):
        with pytest.raises(VersionError):
            find_version(session, assignment, bad)
    assert [v.id for v in list_versions(session, assignment)] == [second.id, world.version.id]


def test_validation_runs_are_not_student_work(staff_db, tmp_path):
    session, blobs, world = staff_db
    published = publish(session, blobs, world, write_bundle(tmp_path / "b", readme="v2"))
    assert all(s.status == SubmissionStatus.QUEUED for s in published.to_enqueue)
    assert all(s.purpose != SubmissionPurpose.STUDENT for s in published.to_enqueue)
