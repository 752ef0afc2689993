"""Contest scoring in the worker: a predictions file scored against the bundle's hidden solution, in the harness.

Two ways in, one scoring function (`score_predictions`):
- a .csv upload (kind PREDICTIONS): `grade_predictions` starts no kernel and no sandbox; the bytes are hostile
  input, parsed by gradeflow_graders.contest.parse_predictions (decoded, size-capped, validated row by row);
- a notebook or script of an assignment with a [contest] section (a code competition): it runs as usual, then
  `kernel_contest` reads the predictions file its code wrote (KernelStudent.read_file: base64 in the JSON reply,
  capped at MAX_PREDICTIONS_BYTES) and scores it the same way.

The hidden solution is read from the bundle here and never enters a sandbox. The private score and its bootstrap
interval go only into ResultPost.contest (the API keeps them for the reveal): never into a check, the run's
message, the student's output or the TA log.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from gradeflow_graders.api import CheckSpec, KernelDied, StudentError, StudentTimeout, StudentValueError
from gradeflow_graders.contest import (MAX_PREDICTIONS_BYTES, PUBLIC, PredictionsError, Solution,
                                       bootstrap_interval, parse_predictions, score_split)
from gradeflow_graders.runner import load_checks
from gradeflow_protocol.bundles import ContestConfig, read_config
from gradeflow_protocol.enums import RunOutcome, SubmissionKind
from gradeflow_protocol.messages import CheckResult, ContestResult, JobSpec, ResultPost, RunReport
from gradeflow_protocol.words import describe_metric
from gradeflow_worker.kernel import OutputSink, SandboxedKernel
from gradeflow_worker.student import KernelStudent

MAX_SCORE = 1.0  # the contest check's points: the public score itself, a metric between 0 and 1
READ_TIMEOUT_S = 30.0  # reading the predictions file back through the kernel


@dataclass(frozen=True)
class Scored:
    """One predictions file's verdict: the check the student sees, the scores for the API, lines for the TA log."""

    check: CheckResult
    contest: ContestResult
    log: list[str]

    @property
    def scored(self) -> bool:
        return self.contest.public is not None


def contest_config(bundle_dir: Path) -> ContestConfig | None:
    """The bundle's [contest] section; None without one (or without an assignment.toml: a bare checks folder)."""
    if not (bundle_dir / "assignment.toml").is_file():
        return None
    return read_config(bundle_dir).contest


def bundle_checks(bundle_dir: Path, contest: ContestConfig | None) -> list[CheckSpec]:
    """The bundle's checks; a contest needs none (its score is the predictions')."""
    if contest is not None and not (bundle_dir / "checks").is_dir():
        return []
    return load_checks(bundle_dir / "checks")


def check_name(contest: ContestConfig) -> str:
    return f"Public score ({describe_metric(contest.metric)})"


def score_predictions(data: bytes, *, contest: ContestConfig, bundle_dir: Path, seed: int) -> Scored:
    """Score a predictions file: public and private splits, the private score's bootstrap interval (`seed`); a
    file that cannot be scored gets a 0 check naming its first bad row, and no scores (the API marks it void)."""
    solution = Solution.read(bundle_dir / contest.solution)
    try:
        predictions = parse_predictions(data, solution, contest.metric)
    except PredictionsError as exc:
        return unscorable(contest, f"Your predictions could not be scored: {exc}.",
                          log=[f"contest: {len(data)} bytes not scored: {exc}"])
    public, private = score_split(predictions, solution, contest.metric)
    low, high = bootstrap_interval(predictions, solution, contest.metric, resamples=contest.bootstrap, seed=seed)
    digits, title = contest.digits, describe_metric(contest.metric)
    shown, rows, total = round(public, digits), solution.usage.count(PUBLIC), len(solution.ids)
    message = (f"Your {title} on the public part of the test set ({rows} of its {total} rows) is {shown:.{digits}f}. "
               f"The other {total - rows} rows give the private score, which decides the final ranking; it is shown "
               "once the instructor reveals the results.")
    check = CheckResult(name=check_name(contest), score=shown, max_score=MAX_SCORE, passed=True, message=message)
    result = ContestResult(metric=contest.metric, public=shown, private=round(private, digits),
                           private_low=round(low, digits), private_high=round(high, digits))
    line = (f"contest: {len(data)} bytes scored; public {title} {shown:.{digits}f} on {rows} rows; the private "
            f"score and its {contest.bootstrap}-resample interval (seed {seed}) went to the API only")
    return Scored(check, result, [line])


def unscorable(contest: ContestConfig, problem: str, *, log: list[str]) -> Scored:
    """A 0 check saying why, and a ContestResult without scores."""
    problem = problem[:2000]
    check = CheckResult(name=check_name(contest), score=0.0, max_score=MAX_SCORE, passed=False, message=problem)
    return Scored(check, ContestResult(metric=contest.metric, problem=problem), log)


def grade_predictions(job: JobSpec, *, submission: bytes, bundle_dir: Path) -> ResultPost:
    """The verdict on a predictions upload, computed here without starting a kernel or a sandbox."""
    began = time.monotonic()
    contest = contest_config(bundle_dir)
    if contest is None:
        problem = ("This assignment has no contest, so a predictions file cannot be scored; upload the kind of file "
                   "it asks for.")
        check = CheckResult(name="Predictions", score=0.0, max_score=0.0, passed=False, message=problem)
        return _predictions_result(job, check=check, contest=None, message=problem, log=[], began=began)
    scored = score_predictions(submission, contest=contest, bundle_dir=bundle_dir, seed=job.seed)
    message = ("Your predictions file was read and scored; no code ran." if scored.scored else
               f"{scored.check.message} This upload does not count against your daily limit.")
    return _predictions_result(job, check=scored.check, contest=scored.contest, message=message, log=scored.log,
                               began=began)


def _predictions_result(job: JobSpec, *, check: CheckResult, contest: ContestResult | None, message: str,
                        log: list[str], began: float) -> ResultPost:
    wall = round(time.monotonic() - began, 3)
    run = RunReport(outcome=RunOutcome.COMPLETED, wall_seconds=wall, message=message[:2000])
    said = f"predictions upload {job.filename} ({job.kind.value}): scored in the harness, no kernel or sandbox started"
    lines = [f"seed: {job.seed}", said, *log, f"timing: {wall:.3f} s"]
    return ResultPost(submission_id=job.submission_id, attempt=job.attempt, checks=[check], run=run, output="",
                      log="\n".join(lines), contest=contest)


def kernel_contest(kernel: SandboxedKernel, *, contest: ContestConfig | None, job: JobSpec, bundle_dir: Path,
                   sink: OutputSink, log: Callable[[str], None]) -> tuple[list[CheckResult], ContestResult | None]:
    """A code competition's check after the student's cells ran: the predictions file their code wrote, read
    through the kernel and scored as an upload would be ([] and None without a [contest] section). A run that
    left no scorable file gets a 0 check saying why and no ContestResult: the run counts as an upload."""
    if contest is None:
        return [], None
    name = contest.predictions_file
    code = "notebook" if job.kind is SubmissionKind.NOTEBOOK else "script"
    data, problem = _read_back(kernel, name=name, code=code, sink=sink)
    if data is None:
        log(f"contest: {problem}")
        return [unscorable(contest, problem, log=[]).check], None
    scored = score_predictions(data, contest=contest, bundle_dir=bundle_dir, seed=job.seed)
    for line in scored.log:
        log(line)
    return [scored.check], scored.contest if scored.scored else None


def _read_back(kernel: SandboxedKernel, *, name: str, code: str, sink: OutputSink) -> tuple[bytes | None, str]:
    """The file's bytes (capped one past the limit, so the parser says it is too large), or None and why not."""
    if not kernel.alive():
        return None, f"Not scored: your code stopped before {name} could be read (see how the run ended)."
    student = KernelStudent(kernel, sink=sink)
    student.set_deadline(time.monotonic() + READ_TIMEOUT_S)
    try:
        data = student.read_file(name, cap=MAX_PREDICTIONS_BYTES)
    except (KernelDied, StudentTimeout, StudentError, StudentValueError) as exc:
        return None, f"Not scored: {name} could not be read back from your run ({exc})."
    if data is None:
        return None, (f"Not scored: your {code} did not write {name} in its working folder. Write it there, "
                      f"e.g. with pandas' to_csv('{name}', index=False) or the csv module, in the format of "
                      "data/sample_submission.csv.")
    return data, ""
