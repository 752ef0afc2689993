"""Golden tests for every assignment under assignments/ that has checks/ and wrong/expected.toml.

Its checks must score the reference (solution) full marks, the starter 0 (or expected.toml's top-level
`starter_score`), and every known-wrong submission in wrong/ exactly the score recorded in expected.toml's
[scores], whatever the seed. Run in-process with the fake student handle and the harness's own runner.

A contest (a [contest] section) is scored by the worker's contest scoring instead: see the end of this module.

Collection only lists folders, so a half-written assignment fails its own tests without breaking the others.
"""
from __future__ import annotations

import functools
import importlib.util
import sys
import tomllib
from pathlib import Path

import pytest

from gradeflow_graders.api import CheckSpec
from gradeflow_graders.runner import load_checks, run_check
from gradeflow_protocol.bundles import read_config
from gradeflow_protocol.messages import CheckResult
from tests.conftest import require
from tests.fakes.student import InProcessStudent

ROOT = Path(__file__).resolve().parents[3]
ASSIGNMENTS = ROOT / "assignments"
PYTORCH_SITE = ROOT / "var" / "environments" / "pytorch" / "lib" / \
    f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
SEEDS = range(3)
SUFFIXES = (".ipynb", ".py")
FOLDERS = sorted(p for p in ASSIGNMENTS.iterdir()
                 if (p / "checks").is_dir() and (p / "wrong" / "expected.toml").is_file())
BY_SEED = [pytest.param(folder, seed, id=f"{folder.name}-seed{seed}") for folder in FOLDERS for seed in SEEDS]
BY_FOLDER = [pytest.param(folder, id=folder.name) for folder in FOLDERS]


@functools.cache
def checks(folder: Path) -> tuple[CheckSpec, ...]:
    """Loaded once per folder: reloading would only re-import the same functions."""
    return tuple(load_checks(folder / "checks"))


@functools.cache
def expected(folder: Path) -> dict:
    return tomllib.loads((folder / "wrong" / "expected.toml").read_text("utf-8"))


def submission(folder: Path, stem: str) -> Path | None:
    """folder/stem.ipynb or folder/stem.py, whichever exists first."""
    return next((folder / f"{stem}{s}" for s in SUFFIXES if (folder / f"{stem}{s}").is_file()), None)


def wrong_files(folder: Path) -> list[Path]:
    return sorted(p for p in (folder / "wrong").iterdir() if p.suffix in SUFFIXES)


def borrow_environment(folder: Path) -> None:
    """The fake runs student code in this process, which has no torch: for a `pytorch` assignment borrow the built
    environment's packages (same interpreter version), after the harness's own so its numpy stays the one in use,
    as tests/unit/worker/test_student_handles.py does."""
    if read_config(folder).environment != "pytorch":
        return
    if importlib.util.find_spec("torch") is None and PYTORCH_SITE.is_dir() and str(PYTORCH_SITE) not in sys.path:
        sys.path.append(str(PYTORCH_SITE))
        importlib.invalidate_caches()
    require(importlib.util.find_spec("torch") is not None,
            f"{folder.name} needs torch: build the pytorch environment "
            f"(python -m gradeflow_worker.environments build pytorch)")


def grade(folder: Path, path: Path, seed: int) -> tuple[float, list[CheckResult]]:
    """The submission's total score and its per-check results (shown when an assertion fails)."""
    borrow_environment(folder)
    student = InProcessStudent.from_path(path)
    results = [run_check(spec, student, seed=seed, timeout=30, log=print) for spec in checks(folder)]
    return sum(r.score for r in results), results


def describe(results: list[CheckResult]) -> str:
    return "\n".join(f"  {r.score:g}/{r.max_score:g} {r.name}: {r.message}" for r in results)


@pytest.mark.parametrize(("folder", "seed"), BY_SEED)
def test_reference_scores_full_marks(folder, seed):
    solution = submission(folder, "solution")
    assert solution is not None, f"{folder.name} has no solution.ipynb or solution.py"
    score, results = grade(folder, solution, seed)
    assert score == pytest.approx(read_config(folder).autograded_points, abs=1e-9), describe(results)


@pytest.mark.parametrize(("folder", "seed"), BY_SEED)
def test_starter_scores_as_recorded(folder, seed):
    starter = submission(folder, "starter")
    if starter is None:
        pytest.skip(f"{folder.name} has no starter")
    score, results = grade(folder, starter, seed)
    assert score == pytest.approx(expected(folder).get("starter_score", 0), abs=1e-9), describe(results)


@pytest.mark.parametrize(("folder", "seed"), BY_SEED)
def test_wrong_submissions_score_exactly_as_recorded(folder, seed):
    recorded = expected(folder).get("scores", {})
    off = {}
    for path in wrong_files(folder):
        if path.name in recorded:
            score, results = grade(folder, path, seed)
            if score != pytest.approx(recorded[path.name], abs=1e-9):
                off[path.name] = f"scored {score:g}, recorded {recorded[path.name]:g}\n{describe(results)}"
    assert not off, "\n".join(f"{name} {why}" for name, why in off.items())


@pytest.mark.parametrize("folder", BY_FOLDER)
def test_every_wrong_submission_has_a_recorded_score(folder):
    recorded = expected(folder).get("scores", {})
    assert [p.name for p in wrong_files(folder)] == sorted(recorded)


@pytest.mark.parametrize("folder", BY_FOLDER)
def test_points_sum_to_the_assignment_points(folder):
    assert sum(spec.points for spec in checks(folder)) == pytest.approx(read_config(folder).autograded_points,
                                                                        abs=1e-9)


@pytest.mark.parametrize("folder", BY_FOLDER)
def test_check_names_are_unique(folder):
    names = [spec.name for spec in checks(folder)]
    assert len(names) == len(set(names)), names


# --- Contests: folders with a [contest] section are scored by their predictions, with the worker's own scoring (no
# checks needed). The reference solution.csv must score full marks and each wrong/*.csv its recorded score.

CONTESTS = [pytest.param(p, id=p.name) for p in sorted(ASSIGNMENTS.iterdir())
            if (p / "assignment.toml").is_file() and read_config(p).contest is not None]


def contest_score(folder: Path, path: Path, seed: int):
    """The ResultPost the worker posts for this predictions file (gradeflow_worker.contest_run, no kernel)."""
    from gradeflow_protocol.enums import SubmissionKind
    from gradeflow_protocol.messages import JobSpec, Limits
    from gradeflow_worker.contest_run import grade_predictions

    job = JobSpec(submission_id=1, attempt=1, kind=SubmissionKind.PREDICTIONS, filename=path.name,
                  submission_sha256="0" * 64, bundle_sha256="0" * 64, assignment_slug=folder.name, limits=Limits(),
                  seed=seed)
    return grade_predictions(job, submission=path.read_bytes(), bundle_dir=folder)


@pytest.mark.parametrize("folder", CONTESTS)
def test_a_contests_reference_and_known_wrong_files_score_as_recorded(folder):
    from gradeflow_core.bundle_lint import lint_folder

    lint = lint_folder(folder)  # what publishing and `gradeflow assignment validate` check first
    assert [ref.label for ref in lint.references if ref.label.endswith(".csv")] == \
        [ref.label for ref in lint.references], "a contest's references are predictions files"
    recorded = expected(folder).get("scores", {})
    wrong = sorted(p.name for p in (folder / "wrong").iterdir() if p.name != "expected.toml")
    assert wrong == sorted(recorded)
    for seed in SEEDS:
        for ref in lint.references:
            result = contest_score(folder, ref.path, seed)
            assert result.score == pytest.approx(ref.expected, abs=1e-9), (ref.label, result.checks)
            assert result.max_score == pytest.approx(read_config(folder).autograded_points, abs=1e-9)


@pytest.mark.parametrize("folder", CONTESTS)
def test_a_contests_answers_stay_out_of_the_sandbox(folder):
    contest = read_config(folder).contest
    public = folder / "data" / "public"
    assert (folder / contest.solution).is_file() and not (folder / contest.solution).is_relative_to(public)
    assert not any(p.name.startswith("solution") for p in public.rglob("*")) if public.is_dir() else True
