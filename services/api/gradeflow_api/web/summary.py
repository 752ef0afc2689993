"""One student's standing on an assignment as the pages show it (the arithmetic is the core's: policy, gradebook)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from gradeflow_api.present_staff import standing
from gradeflow_api.schemas_grades import Standing
from gradeflow_api.web.render import score as score_text
from gradeflow_core.contest_board import contest_config
from gradeflow_core.counting import pick_for
from gradeflow_core.deadlines import extensions_by_student, load_policy
from gradeflow_protocol.enums import CountedSubmission, LateMode, SubmissionPurpose
from gradeflow_core.models import Assignment, Course, Submission, User
from gradeflow_core.policy import Policy, lateness
from gradeflow_core.teams import current_members, current_team, is_team_assignment, sees_submission
from gradeflow_protocol.words import describe_counted, describe_lateness


@dataclass(frozen=True)
class AssignmentSummary:
    assignment: Assignment
    standing: Standing  # the core's view: deadline with extension, uploads left, refusal, counted score
    opens_at: datetime | None
    late_rule: str  # the late policy in words, empty when there is no deadline
    daily_limit: int | None  # None: no limit
    submissions: int
    latest: Submission | None
    counted_rule: str = ""  # which submission counts, in words
    replace_warning: str = ""  # shown beside the upload form when a new upload would replace the counted score
    team_note: str = ""  # on a team assignment: whose work an upload is ("for Team Alpha" / "alone")

    @property
    def due_at(self) -> datetime | None:
        return self.standing.deadline

    @property
    def extended(self) -> bool:
        return self.standing.extension is not None and self.standing.deadline == self.standing.extension

    @property
    def left_today(self) -> int | None:
        return self.standing.uploads_left

    @property
    def refusal(self) -> str:
        return self.standing.refusal or ""

    @property
    def score(self) -> float | None:
        return self.standing.final

    @property
    def score_note(self) -> str:
        if self.standing.override is not None:
            return "set by staff"
        return self.standing.lateness if self.standing.raw is not None and self.standing.days_late else ""


def late_rule(policy: Policy) -> str:
    """The late policy as a student reads it."""
    if policy.due_at is None:
        return ""
    grace = policy.grace.total_seconds() / 60
    grace_words = f" after a {grace:g}-minute grace period" if grace else ""
    if policy.late_mode is LateMode.CUTOFF:
        return f"not accepted{grace_words}"
    if not policy.penalty_percent_per_day:
        return "accepted without penalty"
    cap = f", at most −{policy.penalty_cap_percent:g}%" if policy.penalty_cap_percent < 100 else ""
    return f"−{policy.penalty_percent_per_day:g}% per day late{cap}" + (f" ({grace:g} min grace)" if grace else "")


def replace_warning(policy: Policy, standing: Standing, *, max_score: float, picked: bool) -> str:
    """Why an upload may lower the score, when it may: under LAST (or CHOSEN with no pick yet) the next graded
    upload replaces the counted score, whatever it scores. Empty when there is nothing to lose."""
    replaces = policy.counted is CountedSubmission.LAST or (policy.counted is CountedSubmission.CHOSEN and not picked)
    if not replaces or standing.override is not None or not standing.final:
        return ""
    text = (f"Uploading replaces your counted score of {score_text(standing.final)} / {score_text(max_score)} "
            "even if the new one is lower.")
    if policy.counted is CountedSubmission.CHOSEN:
        text += " Choose the submission that should count (open it and press “Count this submission”) to keep it."
    return text


CONTEST_COUNTS = ("Your team's final picks (at most two), or else its best public submission, are ranked on the "
                  "private leaderboard; the points come from that ranking after the reveal.")


def assignment_summary(session: Session, *, user: User, assignment: Assignment) -> AssignmentSummary:
    policy = load_policy(session, assignment.id)
    mine = list(session.scalars(select(Submission).where(sees_submission(user.id),
                                                         Submission.assignment_id == assignment.id,
                                                         Submission.purpose == SubmissionPurpose.STUDENT)
                                .order_by(Submission.id.desc())))
    mine_now = standing(session, assignment=assignment, user=user)
    picked = policy.counted is CountedSubmission.CHOSEN and \
        pick_for(session, assignment_id=assignment.id, user_id=user.id) is not None
    contest = contest_config(assignment) is not None
    return AssignmentSummary(assignment=assignment, standing=mine_now,
                             opens_at=policy.opens_at, late_rule=late_rule(policy), daily_limit=policy.max_per_day,
                             submissions=len(mine), latest=mine[0] if mine else None,
                             counted_rule=CONTEST_COUNTS if contest else describe_counted(policy.counted),
                             replace_warning="" if contest else replace_warning(
                                 policy, mine_now, max_score=assignment.max_score, picked=picked),
                             team_note=team_note(session, assignment=assignment, user=user))


def team_note(session: Session, *, assignment: Assignment, user: User) -> str:
    """On a team assignment, whose work an upload is; empty otherwise."""
    if not is_team_assignment(assignment):
        return ""
    team = current_team(session, course_id=assignment.course_id, user_id=user.id)
    if team is None:
        return ("This is a team assignment, but you are not in a team: you submit alone. "
                "Join a team on the course's Team page first to submit with it.")
    names = ", ".join(m.username for m in current_members(session, team.id))
    return f"This is a team assignment: you submit for {team.name} ({names}); every member sees it and gets its score."


def assignment_rows(session: Session, *, user: User, course: Course, staff: bool) -> list[AssignmentSummary]:
    query = select(Assignment).where(Assignment.course_id == course.id).order_by(Assignment.id)
    if not staff:
        query = query.where(Assignment.current_version_id.is_not(None))
    return [assignment_summary(session, user=user, assignment=a) for a in session.scalars(query)]


def submission_lateness(session: Session, submission: Submission) -> str:
    """'on time', '2 days late (-20%)', ... for one submission under its assignment's policy."""
    policy = load_policy(session, submission.assignment_id)
    if policy.due_at is None:
        return ""
    extension = extensions_by_student(session, submission.assignment_id).get(submission.user_id)
    late = lateness(policy, submitted_at=submission.created_at, extension=extension)
    return describe_lateness(days_late=late.days_late, penalty_percent=late.penalty_percent, accepted=late.accepted)
