"""Server-side web sessions: start, find while live, throttled touch, revoke one or all, idle and absolute ends."""
from __future__ import annotations

import ast
from datetime import UTC, datetime, timedelta
from pathlib import Path

from gradeflow_core import web_sessions
from gradeflow_core.accounts import make_invite_token, set_password_with_invite
from gradeflow_core.models import Enrollment, WebSessionRecord
from gradeflow_core.roster import remove_from_course
from gradeflow_core.web_sessions import (TOUCH_EVERY, active_sessions, find_valid, new_token, revoke,
                                         revoke_all_for_user, start_session, token_digest, touch)

T0 = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
LIFETIME = timedelta(hours=12)
IDLE = timedelta(minutes=120)


def start(session, user, *, now=T0, user_agent="Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0") -> str:
    token = new_token()
    start_session(session, user_id=user.id, token=token, lifetime=LIFETIME, user_agent=user_agent, now=now)
    session.commit()
    return token


def row(session, token) -> WebSessionRecord:
    session.expire_all()
    return session.get(WebSessionRecord, token_digest(token))


def test_only_the_digest_of_the_token_is_stored(staff_db):
    session, _, world = staff_db
    token = start(session, world.users["alice"])
    stored = session.query(WebSessionRecord).one()
    assert stored.id == token_digest(token) != token and len(stored.id) == 64
    assert token not in (stored.id, stored.user_agent)
    assert stored.expires_at == T0 + LIFETIME and stored.user_id == world.users["alice"].id
    assert find_valid(session, token=token, idle=IDLE, now=T0 + timedelta(minutes=5)).id == stored.id
    assert find_valid(session, token=new_token(), idle=IDLE, now=T0) is None
    assert find_valid(session, token="", idle=IDLE, now=T0) is None


def test_a_revoked_session_is_not_found_again(staff_db):
    session, _, world = staff_db
    token = start(session, world.users["alice"])
    assert revoke(session, token=token, now=T0 + timedelta(minutes=1))
    session.commit()
    assert find_valid(session, token=token, idle=IDLE, now=T0 + timedelta(minutes=2)) is None
    assert row(session, token).revoked_at == T0 + timedelta(minutes=1)
    assert not revoke(session, token=token)  # already ended


def test_the_idle_limit_ends_an_unused_session(staff_db):
    session, _, world = staff_db
    token = start(session, world.users["alice"])
    assert find_valid(session, token=token, idle=IDLE, now=T0 + IDLE) is not None
    assert find_valid(session, token=token, idle=IDLE, now=T0 + IDLE + timedelta(seconds=1)) is None
    # use keeps it alive past the first idle window
    assert touch(session, session_id=token_digest(token), now=T0 + timedelta(minutes=100))
    session.commit()
    assert find_valid(session, token=token, idle=IDLE, now=T0 + IDLE + timedelta(minutes=30)) is not None


def test_the_absolute_end_holds_whatever_the_activity(staff_db):
    session, _, world = staff_db
    token = start(session, world.users["alice"])
    assert touch(session, session_id=token_digest(token), now=T0 + LIFETIME - timedelta(minutes=1))
    session.commit()
    assert find_valid(session, token=token, idle=IDLE, now=T0 + LIFETIME - timedelta(seconds=1)) is not None
    assert find_valid(session, token=token, idle=IDLE, now=T0 + LIFETIME) is None


def test_touch_writes_at_most_once_a_minute(staff_db):
    session, _, world = staff_db
    token = start(session, world.users["alice"])
    digest = token_digest(token)
    assert not touch(session, session_id=digest, now=T0 + TOUCH_EVERY - timedelta(seconds=1))
    assert not web_sessions.needs_touch(row(session, token), now=T0 + timedelta(seconds=30))
    assert touch(session, session_id=digest, now=T0 + TOUCH_EVERY)
    session.commit()
    assert row(session, token).last_seen_at == T0 + TOUCH_EVERY
    assert not touch(session, session_id=digest, now=T0 + TOUCH_EVERY + timedelta(seconds=10))
    revoke(session, token=token)
    assert not touch(session, session_id=digest, now=T0 + timedelta(hours=1))  # a revoked session stays ended


def test_revoke_all_ends_one_users_sessions_and_can_keep_the_current_one(staff_db):
    session, _, world = staff_db
    alice, bob = world.users["alice"], world.users["bob"]
    first, second, third = (start(session, alice) for _ in range(3))
    bobs = start(session, bob)
    assert revoke_all_for_user(session, user_id=alice.id, keep_token=third) == 2
    session.commit()
    found = [find_valid(session, token=t, idle=IDLE, now=T0) for t in (first, second, third, bobs)]
    assert [f is not None for f in found] == [False, False, True, True]
    assert revoke_all_for_user(session, user_id=alice.id) == 1
    assert find_valid(session, token=third, idle=IDLE, now=T0) is None


def test_active_sessions_lists_live_ones_most_recent_first(staff_db):
    session, _, world = staff_db
    alice = world.users["alice"]
    old = start(session, alice, now=T0 - timedelta(hours=1), user_agent="old")
    recent = start(session, alice, now=T0, user_agent="recent")
    idle = start(session, alice, now=T0 - timedelta(hours=3), user_agent="idle")
    ended = start(session, alice, now=T0, user_agent="ended")
    revoke(session, token=ended)
    start(session, world.users["bob"], user_agent="bob's")
    listed = active_sessions(session, user_id=alice.id, idle=IDLE, now=T0 + timedelta(minutes=1))
    assert [r.user_agent for r in listed] == ["recent", "old"]
    assert {r.id for r in listed} == {token_digest(recent), token_digest(old)}
    assert token_digest(idle) not in {r.id for r in listed}


def test_a_new_login_clears_the_users_dead_sessions(staff_db):
    session, _, world = staff_db
    alice = world.users["alice"]
    ended, expired, live = (start(session, alice, now=T0 - timedelta(hours=h)) for h in (1, 13, 2))
    revoke(session, token=ended)
    start(session, alice)
    kept = {r.id for r in session.query(WebSessionRecord).filter_by(user_id=alice.id)}
    assert token_digest(live) in kept and not {token_digest(ended), token_digest(expired)} & kept
    assert len(kept) == 2


def test_a_long_user_agent_is_cut_to_the_column(staff_db):
    session, _, world = staff_db
    token = start(session, world.users["alice"], user_agent="x" * 1000)
    assert len(row(session, token).user_agent) == web_sessions.MAX_USER_AGENT


def test_setting_a_password_ends_every_session(staff_db):
    session, _, world = staff_db
    bob = world.users["bob"]
    token = start(session, bob)
    set_password_with_invite(session, token=make_invite_token(bob, secret="s" * 32), password="long enough",
                             secret="s" * 32)
    session.commit()
    assert find_valid(session, token=token, idle=IDLE, now=T0) is None


def test_removing_someone_from_a_course_ends_their_sessions(staff_db):
    session, _, world = staff_db
    carol, alice = world.users["carol"], world.users["alice"]
    carols, alices = start(session, carol), start(session, alice)
    assert remove_from_course(session, course=world.course, user=carol)
    session.commit()
    assert find_valid(session, token=carols, idle=IDLE, now=T0) is None
    assert find_valid(session, token=alices, idle=IDLE, now=T0) is not None
    assert session.query(Enrollment).filter_by(user_id=carol.id, course_id=world.course.id).count() == 0
    assert not remove_from_course(session, course=world.course, user=carol)  # not enrolled any more


def test_the_core_module_imports_no_web_framework():
    tree = ast.parse(Path(web_sessions.__file__).read_text())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                 and node.module}
    assert not imported & {"fastapi", "starlette", "celery"}
