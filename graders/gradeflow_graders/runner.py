"""Load an assignment's hidden checks and run them against a student handle (in the harness, or on a fake in tests).

Framework-free: the worker, the publish validation and the tests share this scoring."""
from __future__ import annotations

import importlib.util
import math
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

import numpy as np
from gradeflow_protocol.messages import CheckResult

from gradeflow_graders.api import (
    CheckFailed,
    CheckSpec,
    KernelDied,
    StudentError,
    StudentTimeout,
    StudentValueError,
    Verdict,
)


class ChecksError(RuntimeError):
    """The check suite itself is broken (a TA's problem, caught on publish)."""


def load_checks(checks_dir: Path) -> list[CheckSpec]:
    """Import every checks/*.py as a private module and collect @check functions in order."""
    specs: list[CheckSpec] = []
    files = sorted(checks_dir.glob("*.py"))
    if not files:
        raise ChecksError(f"no check modules in {checks_dir}")
    for index, path in enumerate(files):
        name = f"_gradeflow_checks_{abs(hash(str(path))) & 0xFFFFFFFF:x}_{index}"
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise ChecksError(f"cannot import {path.name}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except Exception as exc:
            raise ChecksError(f"{path.name} failed to import: {type(exc).__name__}: {exc}") from exc
        found = [v.__gradeflow_check__ for v in vars(module).values() if hasattr(v, "__gradeflow_check__")]
        specs += sorted(found, key=lambda s: s.order)
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise ChecksError("two checks share a name; names must be unique")
    return specs


def _score(spec: CheckSpec, outcome: object) -> tuple[float, bool, str]:
    if isinstance(outcome, Verdict):
        return (*_score(spec, outcome.fraction)[:2], outcome.message)
    return (*_plain_score(spec, outcome), "")


def _plain_score(spec: CheckSpec, outcome: object) -> tuple[float, bool]:
    if outcome is None or outcome is True:
        return spec.points, True
    if outcome is False:
        return 0.0, False
    if isinstance(outcome, int | float) and math.isfinite(outcome) and 0 <= outcome <= 1:
        return round(spec.points * float(outcome), 6), outcome >= 1
    raise ChecksError(f"check '{spec.name}' returned {outcome!r}; return None, a bool, a fraction in [0, 1] or a Verdict")


def kernel_seed(seed: int, order: int) -> int:
    """The seed for the kernel's random, NumPy and torch generators before the check numbered `order`.

    From the same (run seed, order) pair as the check's own rng, as a separate stream (its own spawn key), so
    the value the student's code can read back (torch.initial_seed()) is no part of that rng's state.
    Below 2**32, as np.random.seed requires."""
    return int(np.random.SeedSequence([seed, order], spawn_key=(1,)).generate_state(1, np.uint32)[0])


def run_check(spec: CheckSpec, student, *, seed: int, timeout: float, log: Callable[[str], None]) -> CheckResult:
    """Run one check; every way it can end becomes a CheckResult with a student-readable message."""
    rng = np.random.default_rng([seed, spec.order])
    if hasattr(student, "set_deadline"):
        student.set_deadline(time.monotonic() + (spec.timeout_s or timeout))
    message = ""
    try:
        if hasattr(student, "seed"):
            student.seed(kernel_seed(seed, spec.order))
        score, passed, message = _score(spec, spec.function(student, rng))
    except CheckFailed as exc:
        score, passed, message = 0.0, False, str(exc)
    except StudentTimeout as exc:
        score, passed, message = 0.0, False, f"Timed out: {exc}"
    except StudentError as exc:
        score, passed, message = 0.0, False, f"Your code raised {exc}"
    except StudentValueError as exc:
        score, passed, message = 0.0, False, f"Could not use what your code returned: {exc}"
    except KernelDied:
        raise
    except Exception as exc:  # a bug in the check: the TA sees the traceback, the student a neutral line
        log(f"check '{spec.name}' raised:\n{traceback.format_exc()}")
        score, passed, message = 0.0, False, f"This check could not evaluate your answer ({type(exc).__name__}); staff can see why."
    return CheckResult(name=spec.name, score=score, max_score=spec.points, passed=passed, message=message[:2000])


def not_run(specs: list[CheckSpec], reason: str) -> list[CheckResult]:
    return [CheckResult(name=s.name, score=0.0, max_score=s.points, passed=False, message=reason) for s in specs]
