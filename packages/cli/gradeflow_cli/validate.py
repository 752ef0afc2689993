"""`gradeflow assignment validate DIR`: grade the reference and every known-wrong file locally, through the same
harness and sandbox the workers use, and fail loudly on any mismatch with the recorded score."""
from __future__ import annotations

import hashlib
import secrets
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from gradeflow_cli.app import CliError, err, out
from gradeflow_cli.render import score, table
from gradeflow_core.bundle_lint import LintResult, Reference, lint_folder
from gradeflow_protocol.bundles import BundleError, content_hash
from gradeflow_protocol.limits import limits_from_settings
from gradeflow_protocol.messages import JobSpec, ResultPost
from gradeflow_core.uploads import file_kind
from gradeflow_worker.settings import get_settings

TOLERANCE = 1e-6


@dataclass(frozen=True)
class Outcome:
    reference: Reference
    result: ResultPost | None
    error: str = ""

    @property
    def score(self) -> float | None:
        return self.result.score if self.result else None

    @property
    def matches(self) -> bool:
        return self.result is not None and abs(self.result.score - self.reference.expected) <= TOLERANCE

    def why(self) -> str:
        if self.result is None:
            return self.error
        failed = [f"{c.name}: {c.message or 'failed'}" for c in self.result.checks if not c.passed]
        return "; ".join(failed)[:400]


def _lint(folder: Path) -> LintResult:
    try:
        return lint_folder(folder)
    except BundleError as exc:
        raise CliError(f"{folder}: {exc}") from None


def _grader(backend: str | None, run_dir: Path):
    """A function grading one file in the configured sandbox (imports the worker's harness lazily)."""
    try:
        from gradeflow_worker.sandbox import make_sandbox
        from gradeflow_worker.harness import HarnessConfig, grade
    except ImportError as exc:
        raise CliError(f"local validation needs the worker's packages ({exc.name} is missing): "
                       "pip install 'gradeflow[worker]'") from None

    settings = get_settings()
    if backend:
        settings = settings.model_copy(update={"sandbox_backend": backend})
    try:
        sandbox = make_sandbox(settings)
    except RuntimeError as exc:
        raise CliError(f"cannot start the {settings.sandbox_backend} sandbox: {exc}") from None
    config = HarnessConfig(run_dir=run_dir, python=settings.sandbox_python or sys.executable,
                           environments_dir=settings.environments_path)
    return settings, lambda job, data, folder: grade(job, submission=data, bundle_dir=folder, sandbox=sandbox,
                                                     config=config)


def _run_one(grade_one, *, lint: LintResult, folder: Path, index: int, ref: Reference, digest: str,
             limits, seed: int | None) -> Outcome:
    data = ref.path.read_bytes()
    seed = secrets.randbelow(2**31) if seed is None else seed
    kind = file_kind(ref.path.name, data, notebooks=lint.config.notebooks)  # a .zip: what runs inside
    job = JobSpec(submission_id=index, attempt=1, kind=kind, filename=ref.path.name,
                  submission_sha256=hashlib.sha256(data).hexdigest(), bundle_sha256=digest,
                  assignment_slug=lint.config.id, limits=limits, seed=seed, environment=lint.config.environment)
    try:
        return Outcome(ref, grade_one(job, data, folder))
    except Exception as exc:  # the checks do not import, or the sandbox failed: a mismatch with its reason
        return Outcome(ref, None, error=f"could not grade: {type(exc).__name__}: {exc}"[:400])


def _points_problem(lint: LintResult, outcomes: list[Outcome]) -> str | None:
    for outcome in outcomes:
        if outcome.result and abs(outcome.result.max_score - lint.config.autograded_points) > TOLERANCE:
            rubric = f" minus the rubric's {lint.config.rubric_points:g}" if lint.config.rubric_points else ""
            return (f"the checks' points add up to {outcome.result.max_score:g} but assignment.toml says "
                    f"points = {lint.config.points:g}{rubric}")
    return None


def _run_all(grade_one, *, lint: LintResult, folder: Path, settings, seed: int | None) -> list[Outcome]:
    limits = lint.config.limits(*limits_from_settings(settings))
    digest = content_hash(folder)
    outcomes = []
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err) as bar:
        task = bar.add_task(f"grading in {settings.sandbox_backend}", total=len(lint.references))
        for index, ref in enumerate(lint.references, start=1):
            bar.update(task, description=ref.label)
            outcomes.append(_run_one(grade_one, lint=lint, folder=folder, index=index, ref=ref, digest=digest,
                                     limits=limits, seed=seed))
            bar.advance(task)
    return outcomes


def validate(folder: Path = typer.Argument(..., exists=True, file_okay=False, help="the assignment folder"),
             sandbox: str = typer.Option(None, "--sandbox", help="bwrap | docker | process (default: "
                                                                 "GRADEFLOW_SANDBOX_BACKEND, else bwrap)"),
             seed: int = typer.Option(None, "--seed", help="the checks' random seed (default: a new one per file)"),
             ) -> None:
    """Grade the reference and every known-wrong file here, in the sandbox; exit 1 on any mismatch."""
    lint = _lint(folder)
    with tempfile.TemporaryDirectory(prefix="gradeflow-validate-") as run_dir:
        settings, grade_one = _grader(sandbox, Path(run_dir))
        outcomes = _run_all(grade_one, lint=lint, folder=folder, settings=settings, seed=seed)
    table(f"{lint.config.id}: local validation ({settings.sandbox_backend})", ["file", "expected", "got", "", "why"],
          [(o.reference.label, score(o.reference.expected), score(o.score), "ok" if o.matches else "MISMATCH",
            "" if o.matches else o.why()) for o in outcomes])
    problems = [f"{o.reference.label}: expected {o.reference.expected:g}, got {score(o.score)}"
                for o in outcomes if not o.matches]
    points = _points_problem(lint, outcomes)
    if problems or points:
        raise CliError("validation failed:\n  - " + "\n  - ".join(problems + ([points] if points else [])))
    out.print(f"{lint.config.id}: all {len(outcomes)} files scored as expected; ready to publish")
