"""Teams: every refusal, membership windows, team submissions seen and counted per member, the daily limit per
team, the gradebook per member, and the roster's team column."""
from __future__ import annotations

from datetime import timedelta

import pytest
from gradeflow_core import teams
from gradeflow_core.access import Denied, SubmissionAccess, submission_access
from gradeflow_core.blobs import MemoryBlobStore
from gradeflow_core.counting import pick_problem
from gradeflow_core.deadlines import (
    PolicySettings,
    UploadRefused,
    enforce_upload,
    save_policy,
)
from gradeflow_core.gradebook import build_gradebook
from gradeflow_core.models import Assignment, Submission, Team, TeamMembership, utcnow
from gradeflow_core.roster import import_roster
from gradeflow_core.submitting import Upload
from gradeflow_core.submitting import submit as submit_upload
from gradeflow_core.teams import Formation, TeamRefused
from gradeflow_protocol.enums import (
    CountedSubmission,
    PickRefusal,
    RosterAction,
    TeamRefusal,
    UploadRefusal,
)
from sqlalchemy import select

from tests.unit.core.world import grade_now, submit

HOUR = timedelta(hours=1)


def refusal(call, **kwargs) -> TeamRefusal:
    with pytest.raises(TeamRefused) as info:
        call(**kwargs)
    assert info.value.message  # every refusal has its words
    return info.value.refusal


def team_assignment(session, world) -> Assignment:
    """The toy assignment, made a team assignment (`teams = true` in its published config)."""
    assignment = session.get(Assignment, world.assignment_id)
    assignment.current_version.config = {**assignment.current_version.config, "teams": True}
    session.flush()
    return assignment


def open_formation(session, world, **kwargs) -> None:
    teams.save_formation(session, course=world.course, settings=Formation(students_form=True, **kwargs))


def staff_team(session, world, name, *members, when=None) -> Team:
    team = teams.create_team(session, course=world.course, name=name, by=world.users["prof"])
    for member in members:
        teams.place_member(session, team=team, student=world.users[member], now=when)
    return team


def test_staff_create_rename_delete_and_name_rules(staff_db):
    session, _, world = staff_db
    alpha = staff_team(session, world, "  Alpha  ")
    assert alpha.name == "Alpha"
    assert refusal(teams.create_team, session=session, course=world.course, name="alpha",
                   by=world.users["prof"]) is TeamRefusal.NAME_TAKEN
    assert refusal(teams.create_team, session=session, course=world.course, name=" ",
                   by=world.users["prof"]) is TeamRefusal.BAD_NAME
    assert refusal(teams.create_team, session=session, course=world.course, name="x" * 81,
                   by=world.users["prof"]) is TeamRefusal.BAD_NAME
    teams.create_team(session, course=world.other, name="Alpha", by=world.users["prof"])  # another course: fine
    beta = staff_team(session, world, "Beta")
    assert refusal(teams.rename_team, session=session, team=beta, name="ALPHA") is TeamRefusal.NAME_TAKEN
    assert teams.rename_team(session, team=beta, name="Gamma").name == "Gamma"
    teams.delete_team(session, team=beta)
    assert [t.name for t, _ in teams.teams_with_members(session, world.course.id)] == ["Alpha"]


def test_staff_place_move_and_remove_members(staff_db):
    session, _, world = staff_db
    alpha, beta = staff_team(session, world, "Alpha", "alice", "bob"), staff_team(session, world, "Beta")
    assert refusal(teams.place_member, session=session, team=alpha,
                   student=world.users["alice"]) is TeamRefusal.ALREADY_IN_TEAM
    assert refusal(teams.place_member, session=session, team=alpha,
                   student=world.users["tina"]) is TeamRefusal.NOT_A_STUDENT
    assert refusal(teams.place_member, session=session, team=alpha,
                   student=world.users["olga"]) is TeamRefusal.NOT_IN_COURSE
    teams.place_member(session, team=beta, student=world.users["bob"])  # a move closes the old membership
    assert [u.username for u in teams.current_members(session, alpha.id)] == ["alice"]
    assert teams.current_team(session, course_id=world.course.id, user_id=world.users["bob"].id).id == beta.id
    assert refusal(teams.remove_member, session=session, team=alpha,
                   student=world.users["bob"]) is TeamRefusal.NOT_IN_TEAM
    teams.remove_member(session, team=alpha, student=world.users["alice"])
    assert teams.current_members(session, alpha.id) == []  # an empty team remains
    open_ones = session.scalars(select(TeamMembership).where(TeamMembership.left_at.is_(None))).all()
    assert [(m.user_id, m.team_id) for m in open_ones] == [(world.users["bob"].id, beta.id)]


def test_students_form_teams_only_when_allowed_and_before_the_date(staff_db):
    session, _, world = staff_db
    alice, now = world.users["alice"], utcnow()
    assert refusal(teams.create_own_team, session=session, course=world.course, name="Mine",
                   student=alice) is TeamRefusal.NOT_ALLOWED
    open_formation(session, world, form_until=now - HOUR)
    assert refusal(teams.create_own_team, session=session, course=world.course, name="Mine",
                   student=alice, now=now) is TeamRefusal.CLOSED
    open_formation(session, world, form_until=now + HOUR)
    mine = teams.create_own_team(session, course=world.course, name="Mine", student=alice, now=now)
    assert [u.username for u in teams.current_members(session, mine.id)] == ["alice"]
    assert refusal(teams.create_own_team, session=session, course=world.course, name="Other",
                   student=alice, now=now) is TeamRefusal.ALREADY_IN_TEAM
    assert refusal(teams.create_own_team, session=session, course=world.course, name="Staff",
                   student=world.users["tina"], now=now) is TeamRefusal.NOT_A_STUDENT


def test_invitations_every_refusal_then_accept_and_decline(staff_db):
    session, _, world = staff_db
    open_formation(session, world, max_size=2)
    alice, bob, carol = (world.users[n] for n in ("alice", "bob", "carol"))
    invite = {"session": session, "course": world.course, "inviter": alice}
    assert refusal(teams.invite, username="bob", **invite) is TeamRefusal.NOT_IN_TEAM  # alice has no team yet
    team = teams.create_own_team(session, course=world.course, name="Pair", student=alice)
    assert refusal(teams.invite, username="olga", **invite) is TeamRefusal.NOT_IN_COURSE
    assert refusal(teams.invite, username="nobody", **invite) is TeamRefusal.NOT_IN_COURSE
    assert refusal(teams.invite, username="tina", **invite) is TeamRefusal.NOT_A_STUDENT
    to_bob = teams.invite(username="bob", **invite)
    assert refusal(teams.invite, username="bob", **invite) is TeamRefusal.ALREADY_INVITED
    to_carol = teams.invite(username="carol", **invite)
    assert [i.id for i in teams.pending_invitations(session, course_id=world.course.id, user_id=bob.id)] == [to_bob.id]
    assert refusal(teams.answer_invitation, session=session, invitation=to_bob, user=carol,
                   accept=True) is TeamRefusal.NOT_FOR_YOU
    assert refusal(teams.answer_invitation, session=session, invitation=None, user=bob,
                   accept=True) is TeamRefusal.NOT_FOR_YOU
    teams.answer_invitation(session, invitation=to_bob, user=bob, accept=True)
    assert refusal(teams.answer_invitation, session=session, invitation=to_bob, user=bob,
                   accept=False) is TeamRefusal.ALREADY_ANSWERED
    assert refusal(teams.answer_invitation, session=session, invitation=to_carol, user=carol,
                   accept=True) is TeamRefusal.TEAM_FULL  # max 2: alice and bob
    assert refusal(teams.invite, username="carol", **invite) is TeamRefusal.TEAM_FULL
    teams.answer_invitation(session, invitation=to_carol, user=carol, accept=False)
    assert (to_carol.accepted, to_carol.answered_at is not None) == (False, True)
    assert [u.username for u in teams.current_members(session, team.id)] == ["alice", "bob"]
    other = teams.create_own_team(session, course=world.course, name="Solo", student=carol)
    assert refusal(teams.invite, session=session, course=world.course, inviter=carol,
                   username="bob") is TeamRefusal.ALREADY_IN_TEAM
    assert other.name == "Solo"


def test_leaving_closes_the_membership_and_needs_the_rules(staff_db):
    session, _, world = staff_db
    team = staff_team(session, world, "Alpha", "alice", "bob")
    leave = {"session": session, "course": world.course, "user": world.users["alice"]}
    assert refusal(teams.leave_team, **leave) is TeamRefusal.NOT_ALLOWED  # staff set this course's teams
    open_formation(session, world)
    teams.leave_team(**leave)
    assert refusal(teams.leave_team, **leave) is TeamRefusal.NOT_IN_TEAM
    assert [u.username for u in teams.current_members(session, team.id)] == ["bob"]


def test_membership_windows_answer_who_was_in_a_team_when(staff_db):
    session, _, world = staff_db
    t0 = utcnow() - 10 * HOUR
    alpha = staff_team(session, world, "Alpha", "alice", "bob", when=t0)
    beta = staff_team(session, world, "Beta")
    teams.place_member(session, team=beta, student=world.users["bob"], now=t0 + 5 * HOUR)
    alice, bob = world.users["alice"].id, world.users["bob"].id
    assert teams.members_at(session, alpha.id, t0 - HOUR) == []
    assert teams.members_at(session, alpha.id, t0) == sorted([alice, bob])
    assert teams.members_at(session, alpha.id, t0 + 5 * HOUR) == [alice]  # left_at is exclusive
    assert teams.team_at(session, world.course.id, bob, t0 + HOUR).id == alpha.id
    assert teams.team_at(session, world.course.id, bob, t0 + 6 * HOUR).id == beta.id
    assert teams.team_at(session, world.course.id, bob, t0 - HOUR) is None


def _upload(session, world, user, enqueuer_sent):
    class Enqueuer:
        def enqueue(self, task, *, queue, priority=0):
            enqueuer_sent.append(task)
    return submit_upload(session, assignment=session.get(Assignment, world.assignment_id), user=world.users[user],
                         upload=Upload(filename="a.py", data=b"answer = 42\n"), blobs=MemoryBlobStore(),
                         enqueuer=Enqueuer(), secret="s" * 32, max_bytes=10_000)


def test_a_team_upload_belongs_to_the_team_only_on_a_team_assignment(staff_db):
    session, _, world = staff_db
    team = staff_team(session, world, "Alpha", "alice", "bob")
    sent = []
    assert _upload(session, world, "alice", sent).team_id is None  # not a team assignment
    team_assignment(session, world)
    assert _upload(session, world, "alice", sent).team_id == team.id
    assert _upload(session, world, "carol", sent).team_id is None  # no team: alone
    assert len(sent) == 3


def test_members_see_what_was_sent_while_they_were_in_and_not_after(staff_db):
    session, _, world = staff_db
    team_assignment(session, world)
    t0 = utcnow() - 10 * HOUR
    team = staff_team(session, world, "Alpha", "alice", "bob", when=t0)
    before = submit(session, world, "alice", when=t0 + HOUR)
    before.team_id = team.id
    teams.remove_member(session, team=team, student=world.users["bob"], now=t0 + 2 * HOUR)
    after = submit(session, world, "alice", when=t0 + 3 * HOUR)
    after.team_id = team.id
    session.flush()

    def sees(name, sub):
        return isinstance(submission_access(session, user=world.users[name], submission=sub), SubmissionAccess)

    assert sees("bob", before) and not sees("bob", after)  # bob keeps what was sent while a member
    assert sees("alice", after) and sees("tina", after)
    assert not sees("carol", before) and isinstance(
        submission_access(session, user=world.users["carol"], submission=before), Denied)
    seen = session.scalars(select(Submission.id).where(teams.sees_submission(world.users["bob"].id))).all()
    assert seen == [before.id]


def test_the_daily_limit_counts_the_teams_uploads(staff_db):
    session, _, world = staff_db
    assignment = team_assignment(session, world)
    save_policy(session, assignment=assignment, settings=PolicySettings(max_per_day=2), user=world.users["prof"])
    team = staff_team(session, world, "Alpha", "alice", "bob", when=utcnow() - 5 * HOUR)
    for hours in (3, 2):
        sub = submit(session, world, "alice", when=utcnow() - hours * HOUR)
        sub.team_id = team.id
    session.flush()
    with pytest.raises(UploadRefused) as info:
        enforce_upload(session, assignment=assignment, user=world.users["bob"], team_id=team.id)
    assert info.value.refusal is UploadRefusal.DAILY_LIMIT
    enforce_upload(session, assignment=assignment, user=world.users["bob"])  # alone, bob has sent nothing
    enforce_upload(session, assignment=assignment, user=world.users["carol"])


def test_the_gradebook_gives_each_member_the_team_work_of_their_time(staff_db):
    session, _, world = staff_db
    team_assignment(session, world)
    t0 = utcnow() - 10 * HOUR
    team = staff_team(session, world, "Alpha", "alice", "bob", when=t0)
    first = submit(session, world, "alice", when=t0 + HOUR)
    first.team_id = team.id
    grade_now(session, first, 1.5)
    teams.remove_member(session, team=team, student=world.users["bob"], now=t0 + 2 * HOUR)
    second = submit(session, world, "alice", when=t0 + 3 * HOUR)
    second.team_id = team.id
    grade_now(session, second, 2)
    book = build_gradebook(session, world.course)
    cells = {row.username: row.cells["toy"] for row in book.rows}
    assert (cells["alice"].raw, cells["alice"].submission_id) == (2, second.id)  # last counts
    assert (cells["bob"].raw, cells["bob"].submission_id) == (1.5, first.id)  # what was sent while he was in
    assert cells["carol"].raw is None


def test_a_member_may_pick_a_team_submission_an_outsider_may_not(staff_db):
    session, _, world = staff_db
    assignment = team_assignment(session, world)
    save_policy(session, assignment=assignment, settings=PolicySettings(counted=CountedSubmission.CHOSEN),
                user=world.users["prof"])
    team = staff_team(session, world, "Alpha", "alice", "bob", when=utcnow() - HOUR)
    sub = submit(session, world, "alice")
    sub.team_id = team.id
    grade_now(session, sub, 2)
    assert pick_problem(session, submission=sub, user=world.users["bob"]) is None
    assert pick_problem(session, submission=sub, user=world.users["carol"])[0] is PickRefusal.NOT_YOURS


def test_roster_team_column_creates_moves_leaves_blank_alone_and_dry_runs(staff_db):
    session, _, world = staff_db
    staff_team(session, world, "Beta", "carol")
    text = "username,team\nalice,Alpha\nbob,alpha\ncarol,\nnewbie,Beta\n"
    dry = import_roster(session, course=world.course, text=text, importer=world.users["prof"], dry_run=True)
    assert not dry.applied and session.scalar(select(Team).where(Team.name == "Alpha")) is None
    changes = {line.username: line.changes for line in dry.lines}
    assert "team: '' -> 'Alpha' (new team)" in changes["alice"] and changes["carol"] == ()
    assert "team: '' -> 'Beta'" in changes["newbie"]
    done = import_roster(session, course=world.course, text=text, importer=world.users["prof"])
    assert done.applied
    by_team = {t.name: [u.username for u in members]
               for t, members in teams.teams_with_members(session, world.course.id)}
    assert by_team == {"Alpha": ["alice", "bob"], "Beta": ["carol", "newbie"]}
    moved = import_roster(session, course=world.course, text="username,team\nbob,Beta\n", importer=world.users["prof"])
    assert moved.lines[0].action is RosterAction.UPDATED and "team: 'Alpha' -> 'Beta'" in moved.lines[0].changes
    again = import_roster(session, course=world.course, text="username,team\nbob,Beta\n", importer=world.users["prof"])
    assert again.lines[0].action is RosterAction.UNCHANGED


def test_roster_team_column_bad_row_writes_nothing(staff_db):
    session, _, world = staff_db
    text = "username,role,team\nalice,,Alpha\ntina,ta,Alpha\n"
    report = import_roster(session, course=world.course, text=text, importer=world.users["prof"])
    assert not report.applied and report.has_errors
    bad = [line for line in report.lines if line.action is RosterAction.ERROR]
    assert [(line.line, line.username) for line in bad] == [(3, "tina")] and "only students" in bad[0].message
    assert session.scalar(select(Team).where(Team.name == "Alpha")) is None


def test_the_demo_course_has_team_alpha_and_lets_students_form_teams(sqlite_url, tmp_path):
    from gradeflow_core.db import make_engine, make_session_factory
    from gradeflow_core.demo import seed_demo
    from gradeflow_core.migrate import upgrade
    from gradeflow_core.models import Course

    upgrade(sqlite_url)
    engine = make_engine(sqlite_url)
    with make_session_factory(engine)() as session:
        for _ in range(2):  # seeding again changes nothing
            seed_demo(session, MemoryBlobStore(), assignments_dir=tmp_path, password="pw", slugs=())
            session.commit()
        course = session.scalar(select(Course).where(Course.slug == "mathdl"))
        by_team = {t.name: [u.username for u in members] for t, members in teams.teams_with_members(session, course.id)}
        assert by_team == {"Team Alpha": ["student1", "student2"]}
        assert teams.formation(session, course.id) == Formation(students_form=True, max_size=4)
        assert teams.course_student(session, course_id=course.id, username="student4").username == "student4"
    engine.dispose()
