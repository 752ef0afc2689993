"""The one place that turns outcomes and statuses into words a student understands."""
from __future__ import annotations

import re
from datetime import UTC, datetime

from gradeflow_protocol.enums import (ActivationCause, CountedSubmission, PickRefusal, RunOutcome, SubmissionStatus,
                                      UploadRefusal, VersionState)
from gradeflow_protocol.enums import Board, ContestMetric, ContestRefusal, RunFailureKind
from gradeflow_protocol.enums import TeamRefusal
from gradeflow_protocol.messages import RunFailure

_OUTCOME_WORDS = {
    RunOutcome.COMPLETED: "Your code ran to the end.",
    RunOutcome.TIMEOUT: "Your code ran past its time limit ({limit}) and was stopped.",
    RunOutcome.MEMORY_LIMIT: "Your code used more memory than the limit ({limit}) and was stopped.",
    RunOutcome.PROCESS_LIMIT: "Your code started more processes or threads than allowed ({limit}).",
    RunOutcome.OUTPUT_LIMIT: "Your code printed more output than allowed ({limit}) and was stopped.",
    RunOutcome.CRASHED: "The Python process running your code ended unexpectedly{detail}.",
}

_STATUS_WORDS = {
    SubmissionStatus.QUEUED: "Waiting for a grader.",
    SubmissionStatus.RUNNING: "Being graded now.",
    SubmissionStatus.GRADED: "Graded.",
    SubmissionStatus.FAILED: "The service could not grade this submission; this is not your fault. Staff have been told.",
}


def describe_outcome(outcome: RunOutcome, *, limit: str = "", detail: str = "") -> str:
    """A sentence for a student about how the run ended."""
    text = _OUTCOME_WORDS[outcome]
    return text.format(limit=limit or "the assignment's limit", detail=f" ({detail})" if detail else "")


_FAILURE_WORDS = {
    RunFailureKind.SYNTAX_ERROR: "{Subject} has a syntax error{at}{message}. {unread}",
    RunFailureKind.MISSING_MODULE: ("Your code stopped at {where}: it imports {module}, which is not available here: "
                                    "{environment} does not include it, or it is not allowed. {rest}"),
    RunFailureKind.IMPORT_ERROR: "Your code stopped at {where}: an import failed{message}. {rest}",
    RunFailureKind.EXCEPTION: "Your code raised {ename} at {where}{message}. {rest}",
    RunFailureKind.EXIT: "Your code called sys.exit() ({ename}{message}) in {subject}. {rest}",
    RunFailureKind.EMPTY_FILE: "Your file {name} is empty: there is no code to run.",
    RunFailureKind.NO_CODE_CELLS: "Your notebook {name} has no code cells: there is no code to run.",
}


def describe_failure(failure: RunFailure, *, environment: str | None = None) -> str:
    """A sentence for a student about where and how their code stopped, in the terms of their own file:
    'my_theta.py has a syntax error at line 7: expected ':'. Python could not read the file, so none of it ran.'"""
    name = failure.filename or "your file"
    notebook = failure.cell is not None
    subject = f"code cell {failure.cell} of {name}" if notebook else name
    if failure.line is None:
        where = subject
    else:
        where = f"code cell {failure.cell}, line {failure.line}, of {name}" if notebook else \
            f"line {failure.line} of {name}"
    return _FAILURE_WORDS[failure.kind].format(
        Subject=f"Code cell {failure.cell} of {name}" if notebook else f"Your file {name}", subject=subject, where=where, name=name,
        at=f" at line {failure.line}" if failure.line else "", message=f": {failure.message}" if failure.message else "",
        unread="That cell did not run." if notebook else "Python could not read the file, so none of it ran.",
        rest="The rest of that cell did not run." if notebook else "The rest of the file did not run.",
        ename=failure.ename or "an error", module=failure.module or "a module",
        environment=f"the assignment's environment ({environment})" if environment else "the assignment's environment")


def describe_later_failures(cells: list[int]) -> str:
    """'Code cells 5 and 7 also raised errors (see your code's output).'"""
    numbers = [str(n) for n in cells]
    if len(numbers) == 1:
        return f"Code cell {numbers[0]} also raised an error (see your code's output)."
    return f"Code cells {', '.join(numbers[:-1])} and {numbers[-1]} also raised errors (see your code's output)."


# what reads as a value: index tuples "(88, 1)", arrays "[1. 2.]", quoted names 'x', numbers with a point or an
# exponent (1.234, 1e-08), any number right after expected / got / off by, nan and inf; not the 1 in y_(k+1)
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?(?:[-+]\d*\.?\d*j)?"
_VALUE = re.compile(r"\((?:\s*-?\d+\s*,)+\s*-?\d*\s*\)|\[[-\d.eE+,\s]*\d[-\d.eE+,\s]*\]|(?<!\w)'[^'\n]{1,80}'(?!\w)"
                    rf"|(?<=expected )(?:{_NUMBER})|(?<=got )(?:{_NUMBER})|(?<=off by )(?:{_NUMBER})"
                    r"|(?<![\w.])[-+]?(?:\d+\.\d*|\.\d+|\d+(?=e[-+]?\d))(?:e[-+]?\d+)?(?![\w])|\b(?:nan|inf)\b")


def value_spans(text: str) -> list[tuple[str, bool]]:
    """A message cut into (text, is_a_value) pieces: 'off by 0.657' -> [('off by ', False), ('0.657', True)]."""
    spans, at = [], 0
    for match in _VALUE.finditer(text):
        if match.start() > at:
            spans.append((text[at:match.start()], False))
        spans.append((match.group(), True))
        at = match.end()
    return spans + ([(text[at:], False)] if at < len(text) else [])


_BLOCKED_BY_OUTCOME = {
    RunOutcome.COMPLETED: "your code stopped early",
    RunOutcome.TIMEOUT: "your code was stopped at its time limit",
    RunOutcome.MEMORY_LIMIT: "your code was stopped at its memory limit",
    RunOutcome.PROCESS_LIMIT: "your code started more processes than allowed",
    RunOutcome.OUTPUT_LIMIT: "your code was stopped for printing too much",
    RunOutcome.CRASHED: "the Python process running your code had ended",
}


def describe_blocked(count: int, *, failure: RunFailure | None = None,
                     outcome: RunOutcome = RunOutcome.COMPLETED) -> str:
    """One line for the checks that failed only because the code stopped early:
    '8 checks could not run because your code stopped at line 12.'"""
    checks = "1 check" if count == 1 else f"{count} checks"
    if outcome is not RunOutcome.COMPLETED or failure is None:
        reason = _BLOCKED_BY_OUTCOME[outcome]
    elif failure.kind is RunFailureKind.EMPTY_FILE:
        reason = "your file is empty"
    elif failure.kind is RunFailureKind.NO_CODE_CELLS:
        reason = "your notebook has no code cells"
    elif failure.kind is RunFailureKind.EXIT and failure.cell is None:
        reason = "your code called sys.exit()"
    elif failure.cell is not None:
        reason = f"code cell {failure.cell} stopped" + (f" at line {failure.line}" if failure.line else "")
    else:
        reason = "your code stopped" + (f" at line {failure.line}" if failure.line else " early")
    return f"{checks} could not run because {reason}."


def describe_status(status: SubmissionStatus) -> str:
    return _STATUS_WORDS[status]


_VERSION_WORDS = {
    VersionState.VALIDATING: "Being checked: its reference and known-wrong files are being graded.",
    VersionState.READY: "Ready: the reference scored full marks and every known-wrong file its recorded score.",
    VersionState.BROKEN: "Broken: fix the problems listed and publish again.",
}


def when(moment: datetime) -> str:
    """A moment as people read it, in UTC: '2026-12-01 23:59:00 UTC'."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def describe_refusal(refusal: UploadRefusal, *, retry_at: datetime | None = None, limit: int | None = None,
                     deadline: datetime | None = None) -> str:
    """Why an upload was refused, and when (or whether) the student can try again."""
    if refusal is UploadRefusal.NOT_OPEN:
        return f"This assignment opens at {when(retry_at)}; submit then." if retry_at else \
            "This assignment is not open yet."
    if refusal is UploadRefusal.CLOSED:
        closed = f" at {when(deadline)} (plus any grace period)" if deadline else ""
        return (f"This assignment closed{closed} and takes no late submissions. "
                "Ask your instructor if you need an extension.")
    allowed = f" Your next submission is allowed at {when(retry_at)}." if retry_at else ""
    return f"You have used all {limit} submissions allowed in 24 hours.{allowed}"


def describe_lateness(*, days_late: int, penalty_percent: float, accepted: bool = True) -> str:
    """'on time', '2 days late (-20%)', or 'late: past the cutoff, not counted'."""
    if days_late <= 0:
        return "on time"
    if not accepted:
        return "late: past the cutoff, not counted"
    days = "1 day" if days_late == 1 else f"{days_late} days"
    return f"{days} late (-{penalty_percent:g}%)" if penalty_percent else f"{days} late (no penalty)"


def describe_version_state(state: VersionState) -> str:
    return _VERSION_WORDS[state]


_ACTIVATION_WORDS = {
    ActivationCause.PUBLISHED: "made official when published",
    ActivationCause.VALIDATED: "made official once its validation passed, as asked at publish",
    ActivationCause.ACTIVATED: "activated by hand",
}


def describe_activation(cause: ActivationCause, *, regrade_run_id: int | None = None) -> str:
    """'activated by hand, adopting regrade 3's results', and the like."""
    text = _ACTIVATION_WORDS[cause]
    return text + (f", adopting regrade {regrade_run_id}'s results" if regrade_run_id is not None else "")


_COUNTED_WORDS = {  # (to the student, to staff choosing the policy)
    CountedSubmission.LAST: ("Your last graded submission counts.", "the last one"),
    CountedSubmission.BEST: ("Your best score counts (after late penalties).", "the best one (after penalties)"),
    CountedSubmission.CHOSEN: ("The submission you choose counts; until you choose, your last graded one.",
                               "the one the student chooses before the deadline (the last one until they choose)"),
}


def describe_counted(counted: CountedSubmission, *, staff: bool = False) -> str:
    """Which submission counts, as a student reads it ('Your best score counts ...') or as staff choose it."""
    return _COUNTED_WORDS[counted][1 if staff else 0]


def describe_pick_refusal(refusal: PickRefusal, *, closed_at: datetime | None = None,
                          counted: CountedSubmission = CountedSubmission.LAST) -> str:
    """Why a student may not choose this submission to count."""
    if refusal is PickRefusal.NOT_CHOOSABLE:
        return f"There is nothing to choose on this assignment: {describe_counted(counted)}"
    if refusal is PickRefusal.CLOSED:
        at = f" at {when(closed_at)}" if closed_at else ""
        return f"Choosing closed{at}, your deadline; the submission that counted then still counts."
    if refusal is PickRefusal.NOT_GRADED:
        return "Only a graded submission can count: wait until this one is graded, then choose it."
    return "Only the student who sent a submission, or a member of its team then, can choose it to count."


_CONTEST_REFUSAL_WORDS = {
    ContestRefusal.NOT_A_CONTEST: "This assignment is not a contest: it has no leaderboard.",
    ContestRefusal.HIDDEN: "The private leaderboard is hidden until the instructor reveals it after the contest closes.",
    ContestRefusal.NOT_YOURS: "You can only pick your own (or your team's) submissions.",
    ContestRefusal.NOT_SCORED: "Only a scored submission can be picked: this one has no public score.",
    ContestRefusal.TOO_MANY_PICKS: "You have already picked {limit} final submissions; unpick one first.",
    ContestRefusal.PICKS_CLOSED: "Final submissions can no longer be changed: the contest closed{closed}.",
    ContestRefusal.NOT_CLOSED: "The private leaderboard can be revealed only after the contest closes{closed}.",
}


def describe_contest_refusal(refusal: ContestRefusal, *, limit: int = 2, closed_at: datetime | None = None) -> str:
    """A sentence saying why a contest action was refused and, where there is one, what to do instead."""
    closed = f" ({when(closed_at)})" if closed_at is not None else ""
    return _CONTEST_REFUSAL_WORDS[refusal].format(limit=limit, closed=closed)


_BOARD_WORDS = {
    Board.PUBLIC: "Public leaderboard: scores on the public part of the test set.",
    Board.PRIVATE: "Private leaderboard: scores on the hidden part of the test set, with 95% bootstrap intervals.",
}


def describe_board(board: Board) -> str:
    return _BOARD_WORDS[board]


_METRIC_WORDS = {ContestMetric.ACCURACY: "accuracy", ContestMetric.MACRO_F1: "macro-F1",
                 ContestMetric.ROC_AUC: "ROC-AUC"}


def describe_metric(metric: ContestMetric) -> str:
    """The metric's short name, as check titles and the leaderboard say it ("Public score (macro-F1)")."""
    return _METRIC_WORDS[metric]


_TEAM_WORDS = {
    TeamRefusal.NOT_ALLOWED: "Students do not form teams in this course; your instructors set the teams.",
    TeamRefusal.CLOSED: "Teams could be formed until {until}; ask your instructors to change a team now.",
    TeamRefusal.TEAM_FULL: "{team} is full: a team has at most {max_size} members.",
    TeamRefusal.ALREADY_IN_TEAM: "{who} already in a team in this course; leave it first.",
    TeamRefusal.NOT_IN_COURSE: "{username} is not enrolled in this course; check the username.",
    TeamRefusal.NOT_A_STUDENT: "{username} is not a student of this course; only students are team members.",
    TeamRefusal.NOT_FOR_YOU: "There is no such invitation for you.",
    TeamRefusal.ALREADY_ANSWERED: "This invitation was answered already.",
    TeamRefusal.ALREADY_INVITED: "{username} has an open invitation to {team} already; wait for their answer.",
    TeamRefusal.NAME_TAKEN: "Another team of this course is called {name}; choose another name.",
    TeamRefusal.BAD_NAME: "A team name must be 1 to 80 characters.",
    TeamRefusal.NOT_IN_TEAM: "{who} not in {team}.",
    TeamRefusal.HAS_WORK: "{team} has submitted work, so it cannot be deleted; remove its members instead.",
}


def describe_team_refusal(refusal: TeamRefusal, *, username: str = "", team: str = "", name: str = "",
                          max_size: int | None = None, until: datetime | None = None, yourself: bool = True) -> str:
    """Why a team action was refused, with what to do instead ('Team Alpha is full: ... at most 4 members.')."""
    who = "You are" if yourself or not username else f"{username} is"
    return _TEAM_WORDS[refusal].format(username=username or "That person", team=team or "the team",
                                       name=f"“{name}”", max_size=max_size, who=who,
                                       until=when(until) if until else "the date set")
