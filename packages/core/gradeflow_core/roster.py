"""Roster import from CSV (username, name, email, section, role[, sis_id, team]): idempotent, all or nothing, reported.

- The first row names the columns (any order, any case); only `username` is required. Other columns are
  ignored and listed in the report.
- An empty cell never erases what is stored (name, email, section, sis_id); an empty role means student.
- Nothing is written when any row is wrong: the report says which rows and why.
- Importing the same file twice changes nothing the second time (every row is `unchanged`).
- Accounts are created without a usable password; the report carries an invitation token for every
  account that has never set one (see core/accounts.py).
- Enrolled people missing from the file are listed, never removed.
- `team` puts a student in that team of the course (created when missing; moved out of another team); a blank
  cell leaves their team as it is (core/teams.py).
"""
from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gradeflow_protocol.enums import Role, RosterAction
from gradeflow_core.models import Course, Enrollment, Team, User
from gradeflow_core.teams import MAX_NAME, current_team, place_member
from gradeflow_core.web_sessions import revoke_all_for_user

COLUMNS = ("username", "name", "email", "section", "role", "sis_id", "team")
MAX_ROWS = 5000
USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$")
ROLE_WORDS = {"": Role.STUDENT, "student": Role.STUDENT, "ta": Role.TA, "instructor": Role.INSTRUCTOR}


class RosterError(ValueError):
    """The file as a whole cannot be read; the message says how to fix it."""


@dataclass(frozen=True)
class RosterRow:
    line: int  # the line in the file (the header is line 1)
    username: str
    name: str = ""
    email: str = ""
    section: str = ""
    role: Role = Role.STUDENT
    sis_id: str = ""
    team: str = ""  # blank: leave the student's team as it is


@dataclass(frozen=True)
class RosterLine:
    line: int
    username: str
    action: RosterAction
    changes: tuple[str, ...] = ()
    message: str = ""
    invite_token: str = ""


@dataclass(frozen=True)
class RosterReport:
    lines: list[RosterLine]
    applied: bool  # False for a dry run or a file with errors
    not_in_file: list[str] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        found = Counter(line.action.value for line in self.lines)
        return {action.value: found.get(action.value, 0) for action in RosterAction}

    @property
    def has_errors(self) -> bool:
        return any(line.action is RosterAction.ERROR for line in self.lines)


def _header(reader) -> tuple[list[str], list[str]]:
    try:
        header = [h.strip().lower().replace(" ", "_") for h in next(reader)]
    except StopIteration:
        raise RosterError("The file is empty; the first row must name the columns: " + ",".join(COLUMNS)) from None
    if "username" not in header:
        raise RosterError("The first row must name the columns, including 'username' (e.g. "
                          "username,name,email,section,role).")
    return header, [h for h in header if h not in COLUMNS and h]


def _row(line: int, cells: dict[str, str]) -> RosterRow | RosterLine:
    username = cells.get("username", "")
    if not USERNAME.match(username):
        return RosterLine(line, username, RosterAction.ERROR,
                          message="username must be 1-64 letters, digits or . _ @ + - "
                                  "(starting with a letter or digit)")
    role = ROLE_WORDS.get(cells.get("role", "").lower())
    if role is None:
        return RosterLine(line, username, RosterAction.ERROR, message="role must be student, ta or instructor")
    email = cells.get("email", "")
    if email and "@" not in email:
        return RosterLine(line, username, RosterAction.ERROR, message=f"'{email}' is not an email address")
    team = " ".join(cells.get("team", "").split())
    if team and (role is not Role.STUDENT or len(team) > MAX_NAME):
        return RosterLine(line, username, RosterAction.ERROR,
                          message=f"team must be at most {MAX_NAME} characters" if role is Role.STUDENT
                          else "only students are in teams: leave the team cell blank for TAs and instructors")
    return RosterRow(line=line, username=username, name=cells.get("name", "")[:200], email=email[:200],
                     section=cells.get("section", "")[:64], role=role, sis_id=cells.get("sis_id", "")[:64], team=team)


def parse_roster(text: str) -> tuple[list[RosterRow], list[RosterLine], list[str]]:
    """Rows, per-row errors, and the ignored column names. Raises RosterError for an unreadable file."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header, ignored = _header(reader)
    rows: list[RosterRow] = []
    errors: list[RosterLine] = []
    seen: set[str] = set()
    for line, values in enumerate(reader, start=2):
        if not any(v.strip() for v in values):
            continue
        if len(rows) + len(errors) >= MAX_ROWS:
            raise RosterError(f"The file has more than {MAX_ROWS} rows; split it.")
        parsed = _row(line, {k: v.strip() for k, v in zip(header, values)})
        if isinstance(parsed, RosterRow) and parsed.username in seen:
            parsed = RosterLine(line, parsed.username, RosterAction.ERROR, message="this username appears twice")
        (rows if isinstance(parsed, RosterRow) else errors).append(parsed)
        seen.add(parsed.username)
    return rows, errors, ignored


def _user_changes(user: User, row: RosterRow) -> list[str]:
    changes = []
    for attribute in ("name", "email", "sis_id"):
        new = getattr(row, attribute)
        if new and new != getattr(user, attribute):
            changes.append(f"{attribute}: '{getattr(user, attribute)}' -> '{new}'")
    return changes


def _plan(session: Session, course: Course, row: RosterRow, importer: User) -> RosterLine:
    """What importing one row would do (nothing is written here)."""
    user = session.scalar(select(User).where(User.username == row.username))
    if user is None:
        return RosterLine(row.line, row.username, RosterAction.CREATED,
                          (f"role: {row.role.value}", *_team_change(session, course, None, row)))
    enrollment = session.scalar(select(Enrollment).where(Enrollment.user_id == user.id,
                                                         Enrollment.course_id == course.id))
    changes = _user_changes(user, row) + _team_change(session, course, user, row)
    if enrollment is None:
        return RosterLine(row.line, row.username, RosterAction.ENROLLED, (f"role: {row.role.value}", *changes))
    if enrollment.role != row.role:
        if user.id == importer.id:
            return RosterLine(row.line, row.username, RosterAction.ERROR,
                              message="you cannot change your own role; ask another instructor or an admin")
        changes.append(f"role: {enrollment.role} -> {row.role.value}")
    if row.section and row.section != enrollment.section:
        changes.append(f"section: '{enrollment.section}' -> '{row.section}'")
    return RosterLine(row.line, row.username, RosterAction.UPDATED if changes else RosterAction.UNCHANGED,
                      tuple(changes))


def _apply(session: Session, course: Course, row: RosterRow) -> User:
    user = session.scalar(select(User).where(User.username == row.username))
    if user is None:
        user = User(username=row.username, name=row.name or row.username, password_hash="")
        session.add(user)
    for attribute in ("name", "email", "sis_id"):
        if getattr(row, attribute):
            setattr(user, attribute, getattr(row, attribute))
    session.flush()
    enrollment = session.scalar(select(Enrollment).where(Enrollment.user_id == user.id,
                                                         Enrollment.course_id == course.id))
    if enrollment is None:
        enrollment = Enrollment(user_id=user.id, course_id=course.id, role=row.role, section=row.section)
        session.add(enrollment)
    enrollment.role = row.role
    if row.section:
        enrollment.section = row.section
    session.flush()
    if row.team:
        _put_in_team(session, course, user, row.team)
    return user


def _team_change(session: Session, course: Course, user: User | None, row: RosterRow) -> list[str]:
    """What the row's team cell would change: nothing when blank or already in that team."""
    if not row.team:
        return []
    now = current_team(session, course_id=course.id, user_id=user.id) if user is not None else None
    if now is not None and now.name.lower() == row.team.lower():
        return []
    new = "" if _team_named(session, course, row.team) is not None else " (new team)"
    return [f"team: '{now.name if now else ''}' -> '{row.team}'{new}"]


def _team_named(session: Session, course: Course, name: str) -> Team | None:
    return session.scalar(select(Team).where(Team.course_id == course.id, func.lower(Team.name) == name.lower()))


def _put_in_team(session: Session, course: Course, user: User, name: str) -> None:
    team = _team_named(session, course, name)
    if team is None:
        team = Team(course_id=course.id, name=name)
        session.add(team)
        session.flush()
    now = current_team(session, course_id=course.id, user_id=user.id)
    if now is None or now.id != team.id:
        place_member(session, team=team, student=user)


def _not_in_file(session: Session, course: Course, rows: list[RosterRow]) -> list[str]:
    listed = {r.username for r in rows}
    enrolled = session.scalars(select(User.username).join(Enrollment, Enrollment.user_id == User.id)
                               .where(Enrollment.course_id == course.id).order_by(User.username))
    return [name for name in enrolled if name not in listed]


def import_roster(session: Session, *, course: Course, text: str, importer: User, dry_run: bool = False,
                  invite: Callable[[User], str] | None = None) -> RosterReport:
    """Plan every row; apply them all only when none is wrong and this is not a dry run."""
    rows, errors, ignored = parse_roster(text)
    planned = [_plan(session, course, row, importer) for row in rows]
    lines = sorted(errors + planned, key=lambda line: line.line)
    missing = _not_in_file(session, course, rows)
    if dry_run or any(line.action is RosterAction.ERROR for line in lines):
        return RosterReport(lines=lines, applied=False, not_in_file=missing, ignored_columns=ignored)
    done = []
    for row, line in zip(rows, planned):
        user = _apply(session, course, row)
        token = invite(user) if invite is not None and not user.password_hash else ""
        done.append(RosterLine(line.line, line.username, line.action, line.changes, line.message, token))
    done = sorted(errors + done, key=lambda line: line.line)
    return RosterReport(lines=done, applied=True, not_in_file=missing, ignored_columns=ignored)


def remove_from_course(session: Session, *, course: Course, user: User) -> bool:
    """Unenroll a user (their submissions stay) and end all their signed-in sessions at once, so no open
    browser keeps acting for them. False when they were not enrolled."""
    enrollment = session.scalar(select(Enrollment).where(Enrollment.user_id == user.id,
                                                         Enrollment.course_id == course.id))
    if enrollment is None:
        return False
    session.delete(enrollment)
    revoke_all_for_user(session, user_id=user.id)
    session.flush()
    return True
