"""Regrades on fake results: who is re-run, the before/after diff, and activation adopting the results."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gradeflow_protocol.bundles import pack
from gradeflow_core.deadlines import PolicySettings, save_policy
from gradeflow_protocol.enums import ActivationCause, CountedSubmission, RegradeItemState, SubmissionPurpose, VersionState
from gradeflow_core.gradebook import build_gradebook
from gradeflow_core.models import Assignment, GradingResult, RegradeItem
from gradeflow_core.overrides import record_override
from gradeflow_core.regrade import activate, latest_run, regrade_diff, start_regrade
from gradeflow_core.versions import VersionError, activation_log, publish_bundle
from tests.unit.core.world import fail_now, grade_now, submit, write_bundle

DUE = datetime(2026, 1, 15, tzinfo=UTC)  # in the past: uploads precede the regrade


def new_version(session, blobs, world, tmp_path, *, ready=True):
    published = publish_bundle(session, blobs, course=world.course, user=world.users["tina"],
                               data=pack(write_bundle(tmp_path / "v2", readme="v2")))
    if ready:
        grade_now(session, published.to_enqueue[0], 2)
        grade_now(session, published.to_enqueue[1], 0)
    return published.version


def students_work(session, world):
    """alice: 1 then 2 (last counts 2); bob: 2 late by a day (-10%); carol: nothing."""
    assignment = session.get(Assignment, world.assignment_id)
    save_policy(session, assignment=assignment, user=world.users["prof"],
                settings=PolicySettings(due_at=DUE, penalty_percent_per_day=10))
    alice_old = submit(session, world, "alice", when=DUE - timedelta(days=2))
    grade_now(session, alice_old, 1)
    alice = submit(session, world, "alice", when=DUE - timedelta(days=1))
    grade_now(session, alice, 2)
    bob = submit(session, world, "bob", when=DUE + timedelta(hours=3))
    grade_now(session, bob, 2)
    return assignment, alice_old, alice, bob


def test_start_reruns_each_students_counted_submission_as_hidden_twins(any_db, tmp_path):
    session, blobs, world = any_db
    assignment, _, alice, bob = students_work(session, world)
    version = new_version(session, blobs, world, tmp_path)
    run, twins = start_regrade(session, assignment=assignment, version=version, user=world.users["tina"])
    items = session.query(RegradeItem).filter_by(run_id=run.id).order_by(RegradeItem.id).all()
    assert [(i.source_submission_id, i.before_score) for i in items] == [(alice.id, 2), (bob.id, 2)]
    assert all(t.purpose == SubmissionPurpose.REGRADE and t.user_id == world.users["tina"].id for t in twins)
    assert [(t.blob_sha256, t.seed, t.version_id) for t in twins] == [(alice.blob_sha256, 7, version.id)] * 2
    diff = regrade_diff(session, run)
    assert [s.state for s in diff.students] == [RegradeItemState.PENDING] * 2


def test_diff_shows_who_goes_up_or_down_with_penalties_applied(any_db, tmp_path):
    session, blobs, world = any_db
    assignment, _, _, _ = students_work(session, world)
    version = new_version(session, blobs, world, tmp_path)
    run, (alice_twin, bob_twin) = start_regrade(session, assignment=assignment, version=version,
                                                user=world.users["tina"])
    grade_now(session, alice_twin, 1)
    grade_now(session, bob_twin, 2)
    diff = regrade_diff(session, run)
    alice, bob = diff.students
    assert (alice.username, alice.before, alice.after, alice.delta) == ("alice", 2, 1, -1)
    assert (bob.username, bob.before, bob.after, bob.delta) == ("bob", 1.8, 1.8, 0)
    assert (diff.up, diff.down, diff.count(RegradeItemState.DONE)) == (0, 1, 2)
    # nothing changed for students yet
    assert build_gradebook(session, world.course).rows[0].cells["toy"].final == 2


def test_activate_adopts_results_into_the_students_submissions(any_db, tmp_path):
    session, blobs, world = any_db
    assignment, _, alice, _ = students_work(session, world)
    version = new_version(session, blobs, world, tmp_path)
    run, (alice_twin, bob_twin) = start_regrade(session, assignment=assignment, version=version,
                                                user=world.users["tina"])
    grade_now(session, alice_twin, 1)
    fail_now(session, bob_twin)
    done = activate(session, version=version, run=run, user=world.users["tina"])
    assert (done.adopted, done.kept, done.stale) == (1, 1, 0)
    assert assignment.current_version_id == version.id and run.activated_at is not None
    entry = activation_log(session, assignment)[0]
    assert (entry.regrade_run_id, entry.cause, entry.activated_by) == (run.id, "activated", world.users["tina"].id)
    assert (alice.score, alice.attempt, alice.version_id) == (1, 2, version.id)
    results = session.query(GradingResult).filter_by(submission_id=alice.id).order_by(GradingResult.attempt).all()
    assert [r.score for r in results] == [2, 1] and "regraded against version" in results[-1].log
    book = build_gradebook(session, world.course)
    assert [r.cells["toy"].final for r in book.rows] == [1, 1.8, None]


def test_best_policy_reruns_every_accepted_submission(staff_db, tmp_path):
    session, blobs, world = staff_db
    assignment, alice_old, alice, bob = students_work(session, world)
    save_policy(session, assignment=assignment, user=world.users["prof"],
                settings=PolicySettings(due_at=DUE, counted=CountedSubmission.BEST))
    version = new_version(session, blobs, world, tmp_path)
    run, twins = start_regrade(session, assignment=assignment, version=version, user=world.users["tina"])
    assert sorted(i.source_submission_id for i in session.query(RegradeItem).filter_by(run_id=run.id)) == \
        sorted([alice_old.id, alice.id, bob.id])
    scores = {alice_old.id: 2, alice.id: 0, bob.id: 1}
    for twin, item in zip(twins, session.query(RegradeItem).filter_by(run_id=run.id).order_by(RegradeItem.id)):
        grade_now(session, twin, scores[item.source_submission_id])
    alice_change = regrade_diff(session, run).students[0]
    assert (alice_change.before, alice_change.after) == (2, 2)  # the old one is now the best


def test_activation_refuses_unfinished_runs_unless_forced(staff_db, tmp_path):
    session, blobs, world = staff_db
    assignment, _, alice, _ = students_work(session, world)
    version = new_version(session, blobs, world, tmp_path)
    run, (alice_twin, _) = start_regrade(session, assignment=assignment, version=version, user=world.users["tina"])
    grade_now(session, alice_twin, 0)
    with pytest.raises(VersionError, match="still running: 1 of 2"):
        activate(session, version=version, run=run, user=world.users["tina"])
    done = activate(session, version=version, run=run, user=world.users["tina"], force=True)
    assert (done.adopted, done.kept) == (1, 1) and alice.score == 0
    with pytest.raises(VersionError, match="already made official"):
        activate(session, version=version, run=run, user=world.users["tina"])


def test_activation_refuses_when_students_submitted_since(staff_db, tmp_path):
    session, blobs, world = staff_db
    assignment, *_ = students_work(session, world)
    version = new_version(session, blobs, world, tmp_path)
    run, twins = start_regrade(session, assignment=assignment, version=version, user=world.users["tina"])
    for twin in twins:
        grade_now(session, twin, 2)
    grade_now(session, submit(session, world, "carol", when=run.created_at + timedelta(seconds=1)), 2)
    with pytest.raises(VersionError, match="1 submission"):
        activate(session, version=version, run=run, user=world.users["tina"])
    assert activate(session, version=version, run=run, user=world.users["tina"], force=True).stale == 1


def test_only_ready_versions_are_regraded_or_activated(staff_db, tmp_path):
    session, blobs, world = staff_db
    assignment, *_ = students_work(session, world)
    version = new_version(session, blobs, world, tmp_path, ready=False)
    assert version.state == VersionState.VALIDATING
    with pytest.raises(VersionError, match="only a ready version"):
        start_regrade(session, assignment=assignment, version=version, user=world.users["tina"])
    with pytest.raises(VersionError, match="only a ready version"):
        activate(session, version=version, run=None, user=world.users["tina"])


def test_overrides_are_flagged_and_latest_run_found(staff_db, tmp_path):
    session, blobs, world = staff_db
    assignment, *_ = students_work(session, world)
    record_override(session, assignment=assignment, student=world.users["bob"], score=0.5, reason="academic honesty",
                    author=world.users["prof"], previous=1.8)
    run, _ = start_regrade(session, assignment=assignment, version=world.version, user=world.users["tina"])
    assert [s.overridden for s in regrade_diff(session, run).students] == [False, True]
    assert latest_run(session, world.version).id == run.id


def test_activate_without_a_run_just_switches_versions(staff_db, tmp_path):
    session, blobs, world = staff_db
    assignment, _, alice, _ = students_work(session, world)
    version = new_version(session, blobs, world, tmp_path)
    done = activate(session, version=version, run=None, user=world.users["tina"])
    assert done.adopted == 0 and assignment.current_version_id == version.id and alice.version_id == world.version.id
    entry = activation_log(session, assignment)[0]  # audited all the same: who, when, from which version
    assert (entry.version_id, entry.previous_version_id, entry.regrade_run_id) == (version.id, world.version.id, None)
    assert (entry.cause, entry.activated_by) == (ActivationCause.ACTIVATED, world.users["tina"].id)
    activate(session, version=version, run=None, user=world.users["prof"])  # already official: nothing to log
    assert len(activation_log(session, assignment)) == 2  # the world's first publish, then this one
