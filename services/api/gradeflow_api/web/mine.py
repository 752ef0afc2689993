"""What a student sees of their own work: their submissions a page at a time with the ones that count marked, and
which submission counts on one assignment, in words. The rule itself is the core's (`policy.counted`, through
the gradebook's cells), so the pages mark exactly what the gradebook records."""
from __future__ import annotations

from dataclasses import dataclass

from gradeflow_core.counting import pick_for, pick_problem
from gradeflow_core.deadlines import load_policy
from gradeflow_core.gradebook import build_cells, cell_for
from gradeflow_core.models import Assignment, Submission, User
from gradeflow_core.submission_list import Paging, paginate
from gradeflow_core.teams import sees_submission, was_member_when_sent
from gradeflow_protocol.enums import (
    CountedSubmission,
    SubmissionPurpose,
    SubmissionStatus,
)
from gradeflow_protocol.words import describe_counted
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gradeflow_api.web.deps import PageError

PER_PAGE = 20


def page_number(raw: str | None) -> int:
    """?page=N as a number (absent: 1); anything else is a 400 with words."""
    if raw is None or raw == "":
        return 1
    if not raw.isdigit() or int(raw) < 1:
        raise PageError(400, f"“{raw[:20]}” is not a page number: use a whole number, 1 or more.",
                        title="No such page")
    return int(raw)


@dataclass(frozen=True)
class OwnPage:
    items: list[Submission]
    paging: Paging
    counted_ids: frozenset[int]  # the submissions on this page that count for their assignment


def counted_ids(session: Session, *, user: User, assignment_ids: set[int]) -> frozenset[int]:
    """The user's counted submission on each of these assignments (the gradebook's cells)."""
    assignments = list(session.scalars(select(Assignment).where(Assignment.id.in_(assignment_ids)))) \
        if assignment_ids else []
    cells = build_cells(session, assignments, [user])
    return frozenset(c.submission_id for c in cells.values() if c.submission_id is not None)


def own_page(session: Session, *, user: User, page: int, assignment_id: int | None = None,
             per_page: int = PER_PAGE) -> OwnPage:
    """One page of the user's own submissions (and their teams', sent while they were a member), newest first."""
    query = select(Submission).where(sees_submission(user.id), Submission.purpose == SubmissionPurpose.STUDENT)
    if assignment_id is not None:
        query = query.where(Submission.assignment_id == assignment_id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    paging = paginate(total, page, per_page=per_page)
    items = list(session.scalars(query.order_by(Submission.id.desc()).offset(paging.offset).limit(paging.per_page)))
    counted = counted_ids(session, user=user, assignment_ids={s.assignment_id for s in items})
    return OwnPage(items=items, paging=paging, counted_ids=counted)


@dataclass(frozen=True)
class CountedNote:
    """Which submission counts, as the submission page says it, and whether the viewer may choose this one."""

    text: str  # "This is the submission that counts." / "Not counted: your submission #12 counts." / ""
    counts: bool
    counted_id: int | None
    can_pick: bool  # the owner may choose this one now (policy chosen, graded, before their deadline)
    picked: bool  # the owner chose this one
    why_not: str  # why the owner may not choose it (shown under policy chosen only)


def counted_note(session: Session, *, submission: Submission, viewer: User) -> CountedNote | None:
    """None for work that is not a student's upload (validation runs, regrade twins)."""
    if submission.purpose != SubmissionPurpose.STUDENT:
        return None
    policy = load_policy(session, submission.assignment_id)
    own = submission.user_id == viewer.id or was_member_when_sent(session, user_id=viewer.id, submission=submission)
    owner = viewer if own else submission.user  # a team's submission: the viewing member's own standing
    cell = cell_for(session, assignment=submission.assignment, student=owner)
    whose = "your" if own else f"{submission.user.username}'s"
    counts = cell.submission_id == submission.id
    if counts:
        text = "This is the submission that counts."
    elif not submission.status.is_final:
        text = f"Not graded yet. {describe_counted(policy.counted)}"
    elif cell.submission_id is not None:
        text = f"Not counted: {whose} submission #{cell.submission_id} counts."
    else:
        text = "Not counted."
    chosen = policy.counted is CountedSubmission.CHOSEN
    pick = pick_for(session, assignment_id=submission.assignment_id, user_id=owner.id) if chosen else None
    problem = pick_problem(session, submission=submission, user=viewer) if chosen and own else None
    graded = submission.status == SubmissionStatus.GRADED
    return CountedNote(text=text, counts=counts, counted_id=cell.submission_id,
                       can_pick=chosen and own and problem is None and not (counts and pick is not None),
                       picked=pick is not None and pick.submission_id == submission.id,
                       why_not=problem[1] if problem is not None and graded else "")
