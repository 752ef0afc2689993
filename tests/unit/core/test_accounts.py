"""Courses and invitations."""
from __future__ import annotations

import pytest

from gradeflow_core.accounts import (AccountError, create_course, find_course, make_invite_token,
                                     set_password_with_invite, user_for_invite)
from gradeflow_core.security import make_user_token, verify_password

SECRET = "s" * 32


def test_create_and_find_course(staff_db):
    session, _, _ = staff_db
    course = create_course(session, slug="mathdl-2027", title="  ")
    assert course.title == "mathdl-2027"
    assert find_course(session, "mathdl-2027").id == find_course(session, str(course.id)).id
    assert find_course(session, "nope") is None


@pytest.mark.parametrize("slug", ["", "A", "1abc", "has space", "x" * 70, "c1"])
def test_bad_or_taken_slugs(staff_db, slug):
    session, _, _ = staff_db
    with pytest.raises(AccountError):
        create_course(session, slug=slug, title="t")


def test_set_password_with_invite(staff_db):
    session, _, world = staff_db
    token = make_invite_token(world.users["bob"], secret=SECRET)
    with pytest.raises(AccountError, match="at least 8"):
        set_password_with_invite(session, token=token, password="short", secret=SECRET)
    user = set_password_with_invite(session, token=token, password="long enough", secret=SECRET)
    assert verify_password("long enough", user.password_hash)
    with pytest.raises(AccountError, match="already used"):
        set_password_with_invite(session, token=token, password="another one", secret=SECRET)


def test_other_tokens_are_not_invitations(staff_db):
    session, _, world = staff_db
    assert user_for_invite(session, make_user_token(user_id=world.users["bob"].id, secret=SECRET, minutes=5),
                           secret=SECRET) is None
    assert user_for_invite(session, "garbage", secret=SECRET) is None
    assert user_for_invite(session, make_invite_token(world.users["bob"], secret=SECRET, days=-1),
                           secret=SECRET) is None
