"""Static checks of an assignment folder, before anything is graded: every problem, each with its fix.

Nothing here imports or runs the folder's code: check modules are parsed (ast), never executed. Whether
they import, and what the reference and known-wrong files score, is found by grading them (locally with
`gradeflow assignment validate`, or through the queue when the bundle is published).
"""
from __future__ import annotations

import ast
import tomllib
from dataclasses import dataclass
from pathlib import Path

from gradeflow_protocol.bundles import AssignmentConfig, BundleError, read_config
from gradeflow_core.uploads import UploadError, check_upload

REFERENCE_STEM = "solution"
EXPECTED_FILE = "expected.toml"
MAX_REFERENCE_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class Reference:
    """A file of the bundle to grade, and the total score it must get."""

    label: str  # its path in the bundle: solution.ipynb, wrong/off_by_one.py
    path: Path
    expected: float


@dataclass(frozen=True)
class LintResult:
    config: AssignmentConfig
    references: list[Reference]


def _declares_a_check(tree: ast.AST) -> bool:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for decorator in node.decorator_list:
                target = decorator.func if isinstance(decorator, ast.Call) else decorator
                name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
                if name == "check":
                    return True
    return False


def _check_module_problems(path: Path, label: str) -> tuple[list[str], bool]:
    """Problems in one checks/*.py (compiled, never run), and whether it declares at least one @check."""
    try:
        source = path.read_text("utf-8")
        compile(source, label, "exec", dont_inherit=True)  # also what ast.parse lets through (__future__ placement)
    except SyntaxError as exc:
        return [f"{label} line {exc.lineno}: {exc.msg}; fix the syntax error"], False
    except (UnicodeDecodeError, ValueError):
        return [f"{label} is not UTF-8 Python text; save it as UTF-8"], False
    return [], _declares_a_check(ast.parse(source, filename=label))


def _checks_problems(folder: Path) -> list[str]:
    modules = sorted((folder / "checks").glob("*.py"))
    if not modules:
        return ["no checks: add checks/*.py with functions decorated with @check(points=...)"]
    problems, declared = [], False
    for path in modules:
        found, has_check = _check_module_problems(path, f"checks/{path.name}")
        problems += found
        declared = declared or has_check
    if not problems and not declared:
        problems.append("checks/*.py declare no @check functions; decorate each check with @check(points=...)")
    return problems


def _file_problem(path: Path, label: str, config: AssignmentConfig) -> str | None:
    try:
        check_upload(filename=path.name, data=path.read_bytes(), accepted=config.accepted_extensions(),
                     max_bytes=MAX_REFERENCE_BYTES, notebooks=config.notebooks)
    except UploadError as exc:
        return f"{label}: {exc}"
    return None


def _references(folder: Path, config: AssignmentConfig) -> tuple[list[Reference], list[str]]:
    found = [p for p in sorted(folder.glob(f"{REFERENCE_STEM}.*")) if p.suffix in config.accepted_extensions()]
    if not found:
        wanted = " or ".join(f"{REFERENCE_STEM}{e}" for e in config.accepted_extensions())
        return [], [f"no reference solution: add {wanted}; it must score full marks ({config.autograded_points:g})"]
    problems = [p for p in (_file_problem(path, path.name, config) for path in found) if p]
    return [Reference(label=p.name, path=p, expected=config.autograded_points) for p in found], problems


def _expected_scores(folder: Path, config: AssignmentConfig) -> tuple[dict[str, float], list[str]]:
    path = folder / "wrong" / EXPECTED_FILE
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        return {}, [f"wrong/{EXPECTED_FILE} is not valid TOML: {exc}"]
    scores = data.get("scores")
    if not isinstance(scores, dict):
        return {}, [f"wrong/{EXPECTED_FILE} needs a [scores] table: \"file.py\" = score"]
    good, problems = {}, []
    for name, value in scores.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < config.autograded_points:
            problems.append(f"wrong/{EXPECTED_FILE}: the score of {name} must be a number from 0 to below "
                            f"{config.autograded_points:g} (a known-wrong file cannot score full marks)")
        else:
            good[name] = float(value)
    return good, problems


def _wrong_references(folder: Path, config: AssignmentConfig) -> tuple[list[Reference], list[str]]:
    wrong = folder / "wrong"
    files = sorted(p for p in wrong.glob("*") if p.is_file() and p.name != EXPECTED_FILE) if wrong.is_dir() else []
    if not files:
        return [], []
    if not (wrong / EXPECTED_FILE).is_file():
        return [], [f"wrong/ has files but no wrong/{EXPECTED_FILE} recording the score each must get"]
    scores, problems = _expected_scores(folder, config)
    names = {p.name for p in files}
    problems += [f"wrong/{n}: no recorded score; add \"{n}\" = SCORE to wrong/{EXPECTED_FILE}"
                 for n in sorted(names - set(scores)) if n in names]
    problems += [f"wrong/{EXPECTED_FILE} records {n} but there is no wrong/{n}" for n in sorted(set(scores) - names)]
    problems += [p for p in (_file_problem(f, f"wrong/{f.name}", config) for f in files) if p]
    refs = [Reference(label=f"wrong/{f.name}", path=f, expected=scores[f.name]) for f in files if f.name in scores]
    return refs, problems


def lint_folder(folder: Path) -> LintResult:
    """The config and the files to grade; raises BundleError listing every problem, each with its fix."""
    config = read_config(folder)
    contest_alone = config.contest is not None and not (folder / "checks").exists()  # scored by its predictions
    problems = [] if contest_alone else _checks_problems(folder)
    references, found = _references(folder, config)
    wrong, found_wrong = _wrong_references(folder, config)
    problems += found + found_wrong
    if problems:
        raise BundleError("; ".join(problems))
    return LintResult(config=config, references=references + wrong)
