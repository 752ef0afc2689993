"""Golden tests for assignments/ode-theta: its checks score the reference, the starter and the known-wrong
submissions exactly as recorded, whatever the seed (run in-process with the fake student handle)."""
from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from gradeflow_protocol.bundles import read_config
from gradeflow_graders.runner import load_checks, run_check
from tests.fakes.student import InProcessStudent

FOLDER = Path(__file__).resolve().parents[3] / "assignments" / "ode-theta"
CHECKS = FOLDER / "checks"
SEEDS = range(5)
EXPECTED = tomllib.loads((FOLDER / "wrong" / "expected.toml").read_text("utf-8"))["scores"]


def total(path: Path, seed: int) -> tuple[float, list]:
    """The submission's total score and the per-check results (shown when an assertion fails), scored by the
    harness's own runner on the in-process fake handle."""
    student = InProcessStudent.from_path(path)
    results = [run_check(spec, student, seed=seed, timeout=30, log=print) for spec in load_checks(CHECKS)]
    return sum(r.score for r in results), results


@pytest.mark.parametrize("seed", SEEDS)
def test_reference_scores_full_marks(seed):
    score, results = total(FOLDER / "solution.ipynb", seed)
    assert score == read_config(FOLDER).points, results


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_wrong_submission_scores_exactly_as_recorded(name, seed):
    score, results = total(FOLDER / "wrong" / name, seed)
    assert score == pytest.approx(EXPECTED[name], abs=1e-9), results


@pytest.mark.parametrize("seed", SEEDS)
def test_starter_scores_zero(seed):
    score, results = total(FOLDER / "starter.ipynb", seed)
    assert score == 0, results


def test_every_wrong_submission_has_a_recorded_score():
    assert sorted(p.name for p in (FOLDER / "wrong").glob("*.py")) == sorted(EXPECTED)


def test_points_sum_to_the_assignment_points():
    assert sum(spec.points for spec in load_checks(CHECKS)) == read_config(FOLDER).points


def test_check_names_are_unique():
    names = [spec.name for spec in load_checks(CHECKS)]
    assert len(names) == len(set(names)), names
