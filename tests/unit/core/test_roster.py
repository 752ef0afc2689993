"""Roster import: parsing, idempotence, all-or-nothing, the report, invitations."""
from __future__ import annotations

import pytest

from gradeflow_core.accounts import make_invite_token, set_password_with_invite, user_for_invite
from gradeflow_protocol.enums import Role, RosterAction
from gradeflow_core.models import Enrollment, User
from gradeflow_core.roster import RosterError, import_roster, parse_roster

ROSTER = """Username,Name,Email,Section,Role
alice,Alice Liddell,alice@uni.example,A,student
dave,Dave New,dave@uni.example,B,
tina,,,,TA
olga,Olga,olga@uni.example,C,student
"""


def run(session, world, text=ROSTER, **kwargs):
    return import_roster(session, course=world.course, text=text, importer=world.users["prof"],
                         invite=lambda u: f"invite-{u.username}", **kwargs)


def enrollment(session, world, name):
    user = session.query(User).filter_by(username=name).one()
    return session.query(Enrollment).filter_by(user_id=user.id, course_id=world.course.id).one_or_none()


def test_first_import_reports_each_row_and_applies_it(any_db):
    session, _, world = any_db
    report = run(session, world)
    assert report.applied and not report.has_errors
    got = {line.username: (line.action, line.changes) for line in report.lines}
    assert got["alice"] == (RosterAction.UPDATED, ("name: 'Alice' -> 'Alice Liddell'",))
    assert got["dave"] == (RosterAction.CREATED, ("role: student",))
    assert got["tina"] == (RosterAction.UNCHANGED, ())
    assert got["olga"][0] is RosterAction.ENROLLED  # exists (course c2), newly enrolled here
    assert report.counts == {"created": 1, "enrolled": 1, "updated": 1, "unchanged": 1, "error": 0}
    assert report.not_in_file == ["bob", "carol", "prof"]
    dave = session.query(User).filter_by(username="dave").one()
    assert dave.password_hash == "" and dave.email == "dave@uni.example"
    assert (enrollment(session, world, "dave").role, enrollment(session, world, "dave").section) == (Role.STUDENT, "B")
    assert enrollment(session, world, "olga").section == "C"


def test_second_import_changes_nothing(any_db):
    session, _, world = any_db
    run(session, world)
    again = run(session, world)
    assert [line.action for line in again.lines] == [RosterAction.UNCHANGED] * 4


def test_invitations_for_accounts_without_a_password(staff_db):
    session, _, world = staff_db
    report = run(session, world)
    tokens = {line.username: line.invite_token for line in report.lines}
    assert tokens["dave"] == "invite-dave"
    assert tokens["alice"] == "invite-alice"  # world users have no password either


def test_role_and_section_changes(staff_db):
    session, _, world = staff_db
    report = run(session, world, "username,role,section\nbob,ta,\ncarol,student,C\n")
    got = {line.username: line.changes for line in report.lines}
    assert got == {"bob": ("role: student -> ta",), "carol": ("section: 'B' -> 'C'",)}
    assert enrollment(session, world, "bob").role == Role.TA
    assert enrollment(session, world, "bob").section == "A"  # an empty cell never erases


def test_any_wrong_row_means_nothing_is_written(staff_db):
    session, _, world = staff_db
    report = run(session, world, "username,role,email\nzed,student,z@x\nbad name,student,\nyan,wizard,\n"
                                 "alice,student,not-an-email\nzed,student,\n")
    assert not report.applied and report.has_errors
    errors = {line.line: line.message for line in report.lines if line.action is RosterAction.ERROR}
    assert set(errors) == {3, 4, 5, 6}
    assert "username must be" in errors[3] and "role must be" in errors[4]
    assert "not an email" in errors[5] and "appears twice" in errors[6]
    assert session.query(User).filter_by(username="zed").count() == 0


def test_an_instructor_cannot_change_their_own_role(staff_db):
    session, _, world = staff_db
    report = run(session, world, "username,role\nprof,student\n")
    assert report.lines[0].action is RosterAction.ERROR and "your own role" in report.lines[0].message
    assert enrollment(session, world, "prof").role == Role.INSTRUCTOR


def test_dry_run_writes_nothing(staff_db):
    session, _, world = staff_db
    report = run(session, world, dry_run=True)
    assert not report.applied and report.lines[1].action is RosterAction.CREATED
    assert session.query(User).filter_by(username="dave").count() == 0


@pytest.mark.parametrize(("text", "message"), [("", "empty"), ("name,email\nx,y\n", "username")])
def test_unreadable_files(text, message):
    with pytest.raises(RosterError, match=message):
        parse_roster(text)


def test_parse_tolerates_bom_blank_lines_extra_columns_and_spaces():
    rows, errors, ignored = parse_roster("\ufeffusername , Role, Student Number\n\n  amy , Instructor , 42\n")
    assert errors == [] and ignored == ["student_number"]
    assert (rows[0].username, rows[0].role, rows[0].line) == ("amy", Role.INSTRUCTOR, 3)


def test_sis_id_column(staff_db):
    session, _, world = staff_db
    run(session, world, "username,sis_id\nalice,S-1\n")
    assert session.query(User).filter_by(username="alice").one().sis_id == "S-1"


def test_invite_tokens_are_one_use(staff_db):
    session, _, world = staff_db
    token = make_invite_token(world.users["alice"], secret="s" * 32)
    assert user_for_invite(session, token, secret="s" * 32).username == "alice"
    set_password_with_invite(session, token=token, password="correct horse", secret="s" * 32)
    assert user_for_invite(session, token, secret="s" * 32) is None
    assert user_for_invite(session, token, secret="other" * 8) is None
