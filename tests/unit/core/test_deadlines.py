"""Policies and extensions in the database, and the upload gate."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from gradeflow_core.deadlines import (ExtensionError, PolicySettings, UploadRefused, enforce_upload, extensions_by_student,
                                      grant_extension, load_policy, policy_settings, revoke_extension, save_policy)
from gradeflow_protocol.enums import LateMode, UploadRefusal
from gradeflow_core.models import Assignment, utcnow
from tests.unit.core.world import fail_now, submit


def assignment_of(session, world):
    return session.get(Assignment, world.assignment_id)


def test_no_row_means_the_defaults(staff_db):
    session, _, world = staff_db
    assert policy_settings(session, world.assignment_id) == PolicySettings()


def test_save_and_load(any_db):
    session, _, world = any_db
    due = datetime(2026, 12, 1, 23, 59, tzinfo=UTC)
    settings = PolicySettings(due_at=due, grace_minutes=10, late_mode=LateMode.CUTOFF, max_per_day=3)
    save_policy(session, assignment=assignment_of(session, world), settings=settings, user=world.users["prof"])
    session.commit()
    assert policy_settings(session, world.assignment_id) == settings
    policy = load_policy(session, world.assignment_id)
    assert policy.due_at == due and policy.grace == timedelta(minutes=10)


@pytest.mark.parametrize("bad", [dict(due_at="2026-12-01T23:59"), dict(grace_minutes=-1),
                                 dict(penalty_percent_per_day=101), dict(max_per_day=0), dict(late_mode="maybe"),
                                 dict(opens_at="2026-12-02T00:00Z", due_at="2026-12-01T00:00Z"), dict(bogus=1)])
def test_invalid_settings_are_refused(bad):
    with pytest.raises(ValidationError):
        PolicySettings(**bad)


def test_extensions_grant_change_revoke(staff_db):
    session, _, world = staff_db
    assignment, bob = assignment_of(session, world), world.users["bob"]
    first = datetime(2026, 12, 3, tzinfo=UTC)
    with pytest.raises(ExtensionError, match="no due date"):
        grant_extension(session, assignment=assignment, student=bob, due_at=first, reason="", granted_by=world.users["prof"])
    save_policy(session, assignment=assignment, settings=PolicySettings(due_at=first - timedelta(days=2)),
                user=world.users["prof"])
    with pytest.raises(ExtensionError, match="after the due date"):
        grant_extension(session, assignment=assignment, student=bob, due_at=first - timedelta(days=3), reason="",
                        granted_by=world.users["prof"])
    grant_extension(session, assignment=assignment, student=bob, due_at=first, reason="ill", granted_by=world.users["prof"])
    grant_extension(session, assignment=assignment, student=bob, due_at=first + timedelta(days=1), reason="still ill",
                    granted_by=world.users["prof"])
    assert extensions_by_student(session, assignment.id) == {bob.id: first + timedelta(days=1)}
    assert revoke_extension(session, assignment=assignment, student=bob)
    assert not revoke_extension(session, assignment=assignment, student=bob)


def test_daily_limit_is_enforced_for_students_with_the_time_to_wait(staff_db):
    session, _, world = staff_db
    assignment = assignment_of(session, world)
    save_policy(session, assignment=assignment, settings=PolicySettings(max_per_day=2), user=world.users["prof"])
    now = utcnow()
    oldest = submit(session, world, "alice", when=now - timedelta(hours=3))
    submit(session, world, "alice", when=now - timedelta(hours=1))
    with pytest.raises(UploadRefused) as info:
        enforce_upload(session, assignment=assignment, user=world.users["alice"], now=now)
    assert info.value.refusal is UploadRefusal.DAILY_LIMIT
    assert info.value.retry_at == oldest.created_at + timedelta(days=1)
    assert "all 2 submissions allowed in 24 hours" in info.value.message and "next submission is allowed at" in \
        info.value.message
    enforce_upload(session, assignment=assignment, user=world.users["bob"], now=now)  # others are unaffected
    enforce_upload(session, assignment=assignment, user=world.users["tina"], now=now)  # staff are never refused


def test_uploads_the_service_failed_do_not_count(staff_db):
    session, _, world = staff_db
    assignment = assignment_of(session, world)
    save_policy(session, assignment=assignment, settings=PolicySettings(max_per_day=1), user=world.users["prof"])
    fail_now(session, submit(session, world, "alice"))
    enforce_upload(session, assignment=assignment, user=world.users["alice"])


def test_cutoff_and_opening_messages(staff_db):
    session, _, world = staff_db
    assignment, now = assignment_of(session, world), utcnow()
    save_policy(session, assignment=assignment, user=world.users["prof"],
                settings=PolicySettings(due_at=now - timedelta(hours=1), late_mode=LateMode.CUTOFF))
    with pytest.raises(UploadRefused, match="closed at .* and takes no late submissions"):
        enforce_upload(session, assignment=assignment, user=world.users["alice"], now=now)
    grant_extension(session, assignment=assignment, student=world.users["alice"], due_at=now + timedelta(hours=1),
                    reason="", granted_by=world.users["prof"])
    enforce_upload(session, assignment=assignment, user=world.users["alice"], now=now)
    save_policy(session, assignment=assignment, user=world.users["prof"],
                settings=PolicySettings(opens_at=now + timedelta(days=1)))
    with pytest.raises(UploadRefused, match="opens at"):
        enforce_upload(session, assignment=assignment, user=world.users["bob"], now=now)


@pytest.mark.postgres
def test_two_uploads_at_once_cannot_both_pass_the_daily_limit(fresh_postgres_url, tmp_path):
    """The second upload waits for the first one's transaction, then counts it (PostgreSQL, two connections)."""
    import threading

    from gradeflow_core.db import make_session_factory
    from gradeflow_core.models import User
    from tests.unit.core.conftest import _open

    engine, first, _, world = _open(fresh_postgres_url, tmp_path)
    second = make_session_factory(engine)()
    outcome: list[str] = []

    def race() -> None:
        try:
            enforce_upload(second, assignment=assignment_of(second, world), user=second.get(User, alice_id))
            outcome.append("passed")
        except UploadRefused as exc:
            outcome.append(exc.refusal.value)
        finally:
            second.rollback()

    thread = threading.Thread(target=race)
    try:
        alice_id = world.users["alice"].id
        save_policy(first, assignment=assignment_of(first, world), settings=PolicySettings(max_per_day=1),
                    user=world.users["prof"])
        first.commit()
        enforce_upload(first, assignment=assignment_of(first, world), user=world.users["alice"])  # takes the lock
        thread.start()
        thread.join(1.0)
        assert outcome == []  # blocked on the row lock, not counting yet
        submit(first, world, "alice")
        first.commit()
        thread.join(10)
        assert outcome == [UploadRefusal.DAILY_LIMIT.value]
    finally:
        first.close()  # releases the lock whatever happened, so the thread and the schema's teardown can finish
        if thread.ident is not None:  # started
            thread.join(10)
        second.close()
        engine.dispose()
