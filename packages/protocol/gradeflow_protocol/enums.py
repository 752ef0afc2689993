"""Closed enumerations for statuses and outcomes."""
from __future__ import annotations

from enum import StrEnum


class SubmissionStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    GRADED = "graded"
    FAILED = "failed"  # the service could not grade it after retries; never the student's fault

    @property
    def is_final(self) -> bool:
        return self in (SubmissionStatus.GRADED, SubmissionStatus.FAILED)


class RunOutcome(StrEnum):
    COMPLETED = "completed"
    TIMEOUT = "timeout"
    MEMORY_LIMIT = "memory_limit"
    PROCESS_LIMIT = "process_limit"
    OUTPUT_LIMIT = "output_limit"
    CRASHED = "crashed"


class RunFailureKind(StrEnum):
    """How the student's own code stopped short of its end (RunReport.failure); the words are in words.py."""

    SYNTAX_ERROR = "syntax_error"  # Python could not read the file (or the cell): none of it ran
    MISSING_MODULE = "missing_module"  # an import of a module the environment does not have
    IMPORT_ERROR = "import_error"  # any other failed import ("cannot import name ...")
    EXCEPTION = "exception"  # the code raised
    EXIT = "exit"  # sys.exit() / raise SystemExit
    EMPTY_FILE = "empty_file"  # a script with nothing in it
    NO_CODE_CELLS = "no_code_cells"  # a notebook without a (non-empty) code cell


class SubmissionKind(StrEnum):
    NOTEBOOK = "notebook"
    SCRIPT = "script"
    PREDICTIONS = "predictions"  # a contest's predictions CSV: scored in the worker, no student code runs
    REPORT = "report"  # a PDF report: validated in the worker, graded by staff with a rubric


class ContestMetric(StrEnum):
    """How a contest ranks predictions (higher is better for each); computed with scikit-learn."""

    ACCURACY = "accuracy"
    MACRO_F1 = "macro_f1"
    ROC_AUC = "roc_auc"


class ContestGrading(StrEnum):
    """How a revealed contest feeds the gradebook."""

    RANK = "rank"  # full points for first, linearly down to half for last
    THRESHOLDS = "thresholds"  # the fraction of the highest private-score threshold reached


class Role(StrEnum):
    STUDENT = "student"
    TA = "ta"
    INSTRUCTOR = "instructor"

    @property
    def is_staff(self) -> bool:
        return self in (Role.TA, Role.INSTRUCTOR)

    @property
    def rank(self) -> int:
        """Student < TA < instructor: `role.rank >= Role.TA.rank` reads 'at least a TA'."""
        return {Role.STUDENT: 0, Role.TA: 1, Role.INSTRUCTOR: 2}[self]


class SubmissionPurpose(StrEnum):
    """Why a submission row exists; only STUDENT rows reach students' lists and gradebooks."""

    STUDENT = "student"  # a student's (or a staff member's trial) upload
    VALIDATION = "validation"  # a bundle's reference or known-wrong file, run when the bundle is published
    REGRADE = "regrade"  # a student's file re-run against another version, owned by the staff member who asked


class VersionState(StrEnum):
    """Where a published bundle stands: only a READY version can become the official one."""

    VALIDATING = "validating"  # its reference and known-wrong files are being graded
    READY = "ready"  # every validation run scored as expected
    BROKEN = "broken"  # a validation run scored otherwise, or could not run; `problems` says what to fix


class ActivationCause(StrEnum):
    """Why a version became the official one (the activation log records it)."""

    PUBLISHED = "published"  # published with --activate (or the first version of an assignment)
    VALIDATED = "validated"  # published with --activate, made official once validation passed
    ACTIVATED = "activated"  # a staff member activated it, with or without a regrade


class LateMode(StrEnum):
    PENALTY = "penalty"  # late work is accepted and loses a percentage per day late, up to a cap
    CUTOFF = "cutoff"  # nothing is accepted after the deadline (plus grace, plus any extension)


class CountedSubmission(StrEnum):
    """Which of a student's graded submissions counts for the gradebook."""

    LAST = "last"
    BEST = "best"  # the best score after late penalties
    CHOSEN = "chosen"  # the one the student picked before the deadline; the last graded one until they pick


class PickRefusal(StrEnum):
    """Why a student may not choose a submission to count (the words are in words.py)."""

    NOT_CHOOSABLE = "not_choosable"  # the assignment's policy is not CHOSEN
    CLOSED = "closed"  # past the student's deadline (plus grace, extension applied)
    NOT_GRADED = "not_graded"  # only a graded submission can count
    NOT_YOURS = "not_yours"  # only the student who sent it may choose it


class RegradeItemState(StrEnum):
    PENDING = "pending"  # not graded yet
    DONE = "done"
    FAILED = "failed"  # the service could not grade it; the previous score stays


class UploadRefusal(StrEnum):
    """Why an upload was refused before it was stored (the words are in core/words.py)."""

    NOT_OPEN = "not_open"
    CLOSED = "closed"
    DAILY_LIMIT = "daily_limit"


class RosterAction(StrEnum):
    """What a roster import did (or would do, in a dry run) with one row."""

    CREATED = "created"  # a new account and its enrollment
    ENROLLED = "enrolled"  # an existing account, newly enrolled in this course
    UPDATED = "updated"  # role, section, name, email or SIS id changed
    UNCHANGED = "unchanged"
    ERROR = "error"  # the row is wrong; nothing of the file was applied


class Board(StrEnum):
    """A contest's two leaderboards."""

    PUBLIC = "public"  # scored on the public part of the test set; shown while the contest runs
    PRIVATE = "private"  # scored on the hidden part; shown after the instructor's reveal


class ContestRefusal(StrEnum):
    """Why a contest action was refused (the words are in words.py)."""

    NOT_A_CONTEST = "not_a_contest"  # the assignment has no [contest] section
    HIDDEN = "hidden"  # the private board before the reveal, asked by a student
    NOT_YOURS = "not_yours"  # a pick of a submission that is neither yours nor your team's
    NOT_SCORED = "not_scored"  # only a submission with a public score can be picked
    TOO_MANY_PICKS = "too_many_picks"  # two picks already: unpick one first
    PICKS_CLOSED = "picks_closed"  # past the deadline (or after the reveal)
    NOT_CLOSED = "not_closed"  # a reveal before the contest's deadline has passed


class TeamRefusal(StrEnum):
    """Why a team action was refused (the words are in words.py: describe_team_refusal)."""

    NOT_ALLOWED = "not_allowed"  # students may not form teams in this course (staff set them)
    CLOSED = "closed"  # past the date until which students may form teams
    TEAM_FULL = "team_full"  # the team has the most members allowed
    ALREADY_IN_TEAM = "already_in_team"  # the student is in a team of this course already
    NOT_IN_COURSE = "not_in_course"  # no such person enrolled in the course
    NOT_A_STUDENT = "not_a_student"  # only students are members of teams
    NOT_FOR_YOU = "not_for_you"  # the invitation names someone else
    ALREADY_ANSWERED = "already_answered"  # the invitation was accepted or declined already
    ALREADY_INVITED = "already_invited"  # an open invitation to this team exists for that person
    NAME_TAKEN = "name_taken"  # another team of the course has that name
    BAD_NAME = "bad_name"  # empty or too long
    NOT_IN_TEAM = "not_in_team"  # the person is not a member of (this) team
    HAS_WORK = "has_work"  # a team that has submitted cannot be deleted
