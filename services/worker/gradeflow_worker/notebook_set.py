"""An assignment of several notebooks (nbgrader's: one assignment, several notebooks), graded as nbgrader grades
it: each notebook in a kernel of its own, started fresh for it (nbgrader executes each notebook separately), with
its own locked cells restored from the source and its own test cells run after that notebook's cells.

The bundle's `notebooks.json` (written by `gradeflow assignment import nbgrader`) lists the notebooks in order,
each with the names of its checks ("<notebook>: <grade_id>") and its restore spec (gradeflow_worker.restore).
The submission is a zip of the notebooks (gradeflow_protocol.zipsubmission, `notebooks`); every file of the zip is
in each kernel's home, as nbgrader's autograde has them in one folder. A notebook missing from the zip runs
nothing: its checks score 0 with a message naming the file. The run's time limit is shared: each notebook gets
what the ones before it left. The parts' results are merged into one ResultPost, in the plan's order.
"""
from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from gradeflow_graders.api import CheckSpec
from gradeflow_graders.runner import not_run
from gradeflow_protocol.enums import RunOutcome
from gradeflow_protocol.messages import CheckResult, JobSpec, ResultPost, RunReport

from gradeflow_worker.unpack import Submission

PLAN_FILE = "notebooks.json"
MAX_PLAN_BYTES = 5 * 1024 * 1024
MAX_LOG_CHARS = 200_000


class BadPlan(ValueError):
    """The bundle's notebooks.json cannot be used (an import bug or a hand edit): an infrastructure failure."""


@dataclass(frozen=True)
class NotebookPart:
    file: str  # the notebook's name at the top of the zip
    checks: tuple[str, ...]  # the names of its checks
    restore: dict | None  # its locked cells (restore_cells.json's format), or None


@dataclass(frozen=True)
class PartResult:
    file: str
    checks: list[CheckResult]
    run: RunReport | None = None  # None: the notebook did not run (missing, or no time left)
    output: str = ""
    log: str = ""
    note: str = ""  # why it did not run


RunOne = Callable[[JobSpec, Submission, list[CheckSpec], dict | None], ResultPost]


def load_plan(bundle_dir: Path) -> list[NotebookPart] | None:
    """The bundle's notebook set, or None for an ordinary (one-file) assignment."""
    path = bundle_dir / PLAN_FILE
    if not path.is_file():
        return None
    if path.stat().st_size > MAX_PLAN_BYTES:
        raise BadPlan(f"{PLAN_FILE} is over {MAX_PLAN_BYTES} bytes")
    try:
        entries = json.loads(path.read_text("utf-8"))["notebooks"]
        parts = [NotebookPart(file=str(e["file"]), checks=tuple(str(c) for c in e["checks"]),
                              restore=e.get("restore")) for e in entries]
    except (ValueError, KeyError, TypeError) as exc:
        raise BadPlan(f"{PLAN_FILE} is not a notebook set ({exc!r}); import the assignment again") from None
    if not parts or len({p.file for p in parts}) != len(parts):
        raise BadPlan(f"{PLAN_FILE} lists no notebooks, or one twice; import the assignment again")
    return parts


def plan_files(plan: list[NotebookPart]) -> tuple[str, ...]:
    return tuple(part.file for part in plan)


def missing_message(file: str) -> str:
    return f"Your submission has no {file}, so its test cells scored 0; hand in every notebook in one zip."


def grade_set(job: JobSpec, *, submitted: Submission, specs: list[CheckSpec], plan: list[NotebookPart],
              run_one: RunOne) -> ResultPost:
    """Each notebook of the plan graded by `run_one` (a fresh kernel each), then one result for the whole set."""
    began = time.monotonic()
    by_name = {spec.name: spec for spec in specs}
    parts: list[PartResult] = []
    for part in plan:
        part_specs = [by_name[name] for name in part.checks if name in by_name]
        left = job.limits.time_limit_s - (time.monotonic() - began)
        if part.file not in submitted.files:
            parts.append(PartResult(part.file, not_run(part_specs, missing_message(part.file)),
                                    note=f"{part.file} is not in the submission: its test cells score 0"))
        elif left <= 1:
            reason = "Not run: the time limit for the whole run was reached before this notebook."
            parts.append(PartResult(part.file, not_run(part_specs, reason), note=f"{part.file} did not run (time)"))
        else:
            one = replace(submitted, filename=part.file, data=submitted.files[part.file])
            limits = job.limits.model_copy(update={"time_limit_s": left})
            result = run_one(job.model_copy(update={"limits": limits}), one, part_specs, part.restore)
            parts.append(PartResult(part.file, list(result.checks), result.run, result.output, result.log))
    return merge_parts(job, parts, wall=time.monotonic() - began)


def _outcome(parts: list[PartResult]) -> RunOutcome:
    for part in parts:
        if part.run is not None and part.run.outcome is not RunOutcome.COMPLETED:
            return part.run.outcome
    if any(part.run is None and "time" in part.note for part in parts):
        return RunOutcome.TIMEOUT
    return RunOutcome.COMPLETED


def merge_parts(job: JobSpec, parts: list[PartResult], *, wall: float) -> ResultPost:
    """One result: every part's checks in order; the run's message says, per notebook, how it went."""
    ran = [part for part in parts if part.run is not None]
    first = ran[0].run if ran else None
    words = [f"{p.file}: {p.run.message}" if p.run is not None and p.run.message else
             (f"{p.file}: {p.note[0].upper()}{p.note[1:]}." if p.note else "") for p in parts]
    failure = next((p.run.failure for p in ran if p.run.failure is not None), None)
    run = RunReport(outcome=_outcome(parts), wall_seconds=round(wall, 3), message=" ".join(w for w in words if w)[:2000],
                    enforced=first.enforced if first else {}, not_enforced=first.not_enforced if first else [],
                    environment=first.environment if first else None,
                    environment_digest=first.environment_digest if first else None, failure=failure)
    output = "\n".join(f"=== {p.file} ===\n{p.output}" for p in ran)
    log = "\n".join([f"notebook set: {', '.join(p.file for p in parts)}; each ran in a fresh kernel",
                     *(f"=== {p.file}: {p.note or 'ran'} ===\n{p.log}" for p in parts)])
    checks = [c for p in parts for c in p.checks]
    return ResultPost(submission_id=job.submission_id, attempt=job.attempt, checks=checks, run=run, output=output,
                      log=log[-MAX_LOG_CHARS:])
