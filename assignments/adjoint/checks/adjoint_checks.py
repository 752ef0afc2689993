"""Hidden checks for adjoint: gradients of a loss through a linear ODE by the adjoint method.

For y' = A y, y(0) = y0 and L = 0.5 |y(T) - target|^2 the student implements

    adjoint_gradients(A, y0, T, target, n) -> (grad_y0, grad_A)

integrating y forward and the adjoint a' = -A^T a, a(T) = y(T) - target, backward with n RK4 steps each, and
returning grad_y0 = a(0) and grad_A = integral_0^T a(t) y(t)^T dt by a quadrature of order >= 2 on the RK4 grid
(trapezoid or Simpson). A returned tuple crosses the boundary as a list of two arrays.

Every reference is computed here, in closed form with scipy.linalg.expm: y(T) = e^(AT) y0, r = y(T) - target,
grad_y0 = e^(A^T T) r and, since a(t) = e^(A^T (T - t)) r and y(t)^T = y0^T e^(A^T t),

    grad_A = integral_0^T e^(A^T (T - t)) r y0^T e^(A^T t) dt = the upper right block of expm(T [[A^T, r y0^T], [0, A^T]])

(Van Loan, 1978); and independently by central differences of L computed with expm. Problems come from the
harness's `rng`.

Tolerances. With n = 200 RK4 steps on T <= 1.5, grad_y0 is accurate to ~1e-9 relative and a trapezoid grad_A to
~3e-5 (Simpson's rule: ~1e-9), so grad_y0 is held to 1e-6 and grad_A to 2e-4, relative to the largest entry.
`draw_problem` only accepts problems on which the classic mistakes (the adjoint equation with the wrong sign, A in
place of A^T, grad_A transposed, a(T) = y(T)) are off by at least 5% of the largest entry, far outside these
tolerances, so those mistakes fail whatever the seed.

Points: 10 in all.
"""
from __future__ import annotations

import itertools
import math

import numpy as np
from gradeflow_graders import (
    CheckFailed,
    StudentHandle,
    as_array,
    central_difference_gradient,
    check,
    compare,
    expect,
)
from scipy.linalg import expm

STEPS = 200
Y0_RTOL = 1e-6
A_RTOL = 2e-4
# Smallest relative difference (to the largest entry) between the right gradients and a classic mistake's.
SEPARATION = 0.05
# A relative error this small is rounding level: no order of convergence is asked of it.
CONVERGED = 1e-11


# ---------------------------------------------------------------- helpers (harness side)

def gradients(student: StudentHandle, A: np.ndarray, y0: np.ndarray, T: float, target: np.ndarray,
              n: int) -> tuple[np.ndarray, np.ndarray]:
    """The student's adjoint_gradients as float arrays of shapes (d,) and (d, d), or a CheckFailed."""
    d = y0.size
    what = f"adjoint_gradients(A, y0, T={T:.4g}, target, n={n}) with d = {d}"
    value = student.call("adjoint_gradients", A, y0, T, target, n)
    if not isinstance(value, list | tuple) or len(value) != 2:
        shown = type(value).__name__ + (f" of length {len(value)}" if isinstance(value, list | tuple) else "")
        raise CheckFailed(f"{what} should return a pair (grad_y0, grad_A), got a {shown}")
    return (as_array(value[0], what=f"grad_y0 from {what}", shape=(d,)),
            as_array(value[1], what=f"grad_A from {what}", shape=(d, d)))


def van_loan(M: np.ndarray, Q: np.ndarray, N: np.ndarray, T: float) -> np.ndarray:
    """integral_0^T e^(M (T - t)) Q e^(N t) dt, exactly (up to expm's rounding)."""
    d = M.shape[0]
    block = np.block([[M, Q], [np.zeros((d, d)), N]])
    return expm(T * block)[:d, d:]


def closed_form(A: np.ndarray, y0: np.ndarray, T: float, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    residual = expm(A * T) @ y0 - target
    return expm(A.T * T) @ residual, van_loan(A.T, np.outer(residual, y0), A.T, T)


def loss(A: np.ndarray, y0: np.ndarray, T: float, target: np.ndarray) -> float:
    return 0.5 * float(np.sum((expm(A * T) @ y0 - target) ** 2))


def mistakes(A: np.ndarray, y0: np.ndarray, T: float, target: np.ndarray) -> dict[str, tuple]:
    """What the classic wrong adjoints return, in closed form (None where that part is right)."""
    y_T = expm(A * T) @ y0
    residual = y_T - target
    right_A = van_loan(A.T, np.outer(residual, y0), A.T, T)
    return {
        "a' = +A^T a": (expm(-A.T * T) @ residual, van_loan(-A.T, np.outer(residual, y0), A.T, T)),
        "a' = -A a": (expm(A * T) @ residual, van_loan(A, np.outer(residual, y0), A.T, T)),
        "grad_A transposed": (None, right_A.T),
        "a(T) = y(T)": (expm(A.T * T) @ y_T, van_loan(A.T, np.outer(y_T, y0), A.T, T)),
    }


def relative(a: np.ndarray, b: np.ndarray) -> float:
    """max |a - b| relative to the largest entry of b."""
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


def draw_problem(rng: np.random.Generator, d: int) -> tuple[np.ndarray, np.ndarray, float, np.ndarray]:
    """A, y0, T, target with A non-symmetric, of norm about 1 and decaying on average, T in [0.5, 1.5], and every
    classic mistake at least SEPARATION away from the right gradients (nearly always the first draw)."""
    for _ in range(100):
        A = rng.normal(size=(d, d)) / math.sqrt(d) - 0.3 * np.eye(d)
        y0 = rng.normal(size=d)
        target = rng.normal(size=d)
        T = float(rng.uniform(0.5, 1.5))
        right_y0, right_A = closed_form(A, y0, T, target)
        separated = all((wrong_y0 is None or relative(wrong_y0, right_y0) > SEPARATION)
                        and relative(wrong_A, right_A) > SEPARATION
                        for wrong_y0, wrong_A in mistakes(A, y0, T, target).values())
        if separated:
            break
    return A, y0, T, target


def describe(A: np.ndarray, y0: np.ndarray, T: float, target: np.ndarray) -> str:
    return (f"A = {np.round(A, 3).tolist()}, y0 = {np.round(y0, 3).tolist()}, T = {T:.3f}, "
            f"target = {np.round(target, 3).tolist()}")


def compare_relative(actual: np.ndarray, expected: np.ndarray, rtol: float, what: str) -> None:
    """compare() with the tolerance relative to the largest entry (gradients may have entries near 0)."""
    compare(actual, expected, rtol=rtol, atol=rtol * float(np.max(np.abs(expected))), what=what)


# ---------------------------------------------------------------- checks

@check(points=1, name="returns grad_y0 and grad_A")
def shapes(student: StudentHandle, rng: np.random.Generator) -> None:
    """A pair of finite arrays of shapes (d,) and (d, d), for d = 2 and d = 4."""
    for d in (2, 4):
        A, y0, T, target = draw_problem(rng, d)
        grad_y0, grad_A = gradients(student, A, y0, T, target, 20)
        expect(np.all(np.isfinite(grad_y0)) and np.all(np.isfinite(grad_A)),
               f"adjoint_gradients returned NaN or infinity for d = {d} ({describe(A, y0, T, target)})")


@check(points=2, name="grad_y0 matches the closed form")
def grad_y0_closed_form(student: StudentHandle, rng: np.random.Generator) -> None:
    """grad_y0 = a(0) = e^(A^T T) (e^(A T) y0 - target)."""
    A, y0, T, target = draw_problem(rng, int(rng.integers(2, 5)))
    grad_y0, _ = gradients(student, A, y0, T, target, STEPS)
    compare_relative(grad_y0, closed_form(A, y0, T, target)[0], Y0_RTOL,
                     what=f"grad_y0 = a(0) = exp(A^T T)(y(T) - target) for {describe(A, y0, T, target)}, n = {STEPS} "
                          f"(check a' = -A^T a, integrated from t = T down to 0, and a(T) = y(T) - target),")


@check(points=2.5, name="grad_A matches the closed form")
def grad_A_closed_form(student: StudentHandle, rng: np.random.Generator) -> None:
    """grad_A = integral_0^T a(t) y(t)^T dt, exactly by Van Loan's block exponential; a trapezoid or Simpson rule
    on the n = 200 grid is well within 2e-4 (relative to the largest entry)."""
    A, y0, T, target = draw_problem(rng, int(rng.integers(2, 5)))
    _, grad_A = gradients(student, A, y0, T, target, STEPS)
    compare_relative(grad_A, closed_form(A, y0, T, target)[1], A_RTOL,
                     what=f"grad_A = integral of a(t) y(t)^T dt (entry [i, j] = integral of a_i y_j) for "
                          f"{describe(A, y0, T, target)}, n = {STEPS},")


@check(points=1.5, name="both gradients match finite differences of the loss")
def finite_differences(student: StudentHandle, rng: np.random.Generator) -> None:
    """Central differences of L = 0.5 |expm(A T) y0 - target|^2, in y0 and in every entry of A."""
    A, y0, T, target = draw_problem(rng, int(rng.integers(2, 4)))
    grad_y0, grad_A = gradients(student, A, y0, T, target, STEPS)
    fd_y0 = central_difference_gradient(lambda v: loss(A, v, T, target), y0)
    fd_A = central_difference_gradient(lambda M: loss(M, y0, T, target), A)
    problem = f"L = 0.5 |y(T) - target|^2 with {describe(A, y0, T, target)}, n = {STEPS}"
    compare_relative(grad_y0, fd_y0, 1e-5, what=f"grad_y0 against central differences of {problem}:")
    compare_relative(grad_A, fd_A, A_RTOL, what=f"grad_A against central differences of {problem}:")


def expect_converges(errors: dict[int, float], order: float, what: str) -> None:
    """Each time n doubles the error must fall by at least 2^order, unless it is already down at rounding level.

    One-sided on purpose: a higher-order method (Simpson's rule for grad_A) is fine, and for some problems the
    leading error term of RK4 nearly vanishes, which makes the error smaller, never larger."""
    ns = sorted(errors)
    for n in ns:
        expect(math.isfinite(errors[n]), f"{what}: the error for n = {n} is not finite")
    for a, b in itertools.pairwise(ns):
        if errors[b] <= CONVERGED:
            continue
        if errors[a] == 0 or math.log2(errors[a] / errors[b]) < order:
            shown = ", ".join(f"{errors[n]:.3g}" for n in ns)
            raise CheckFailed(f"{what}: the relative errors for n = {', '.join(map(str, ns))} are {shown}; each "
                              f"time n doubles the error should fall by a factor of at least {2 ** order:.3g}")


@check(points=1.5, name="the gradients converge as n grows")
def convergence(student: StudentHandle, rng: np.random.Generator) -> None:
    """For n = 20, 40, 80 (errors relative to the closed form): grad_y0's error falls at least like h^3.5 (RK4 both
    ways: h^4), grad_A's at least like h^1.7 (trapezoid: h^2, Simpson: h^4). Over the problems drawn here the
    observed orders of the reference stay above 3.85 and 1.99; a first-order integrator or quadrature, or a wrong
    adjoint (whose error does not shrink at all), fails."""
    A, y0, T, target = draw_problem(rng, 3)
    right_y0, right_A = closed_form(A, y0, T, target)
    steps = (20, 40, 80)
    runs = {n: gradients(student, A, y0, T, target, n) for n in steps}
    problem = describe(A, y0, T, target)
    expect_converges({n: relative(runs[n][0], right_y0) for n in steps}, 3.5,
                     f"grad_y0 (RK4 forwards and backwards should make its error fall like h^4) for {problem}")
    expect_converges({n: relative(runs[n][1], right_A) for n in steps}, 1.7,
                     f"grad_A (a second-order quadrature of a(t) y(t)^T, trapezoid or Simpson, makes its error fall "
                     f"at least like h^2) for {problem}")


@check(points=1.5, name="zero gradient when y(T) hits the target")
def zero_at_optimum(student: StudentHandle, rng: np.random.Generator) -> None:
    """target = e^(AT) y0 exactly: L is at its minimum 0, so both gradients must vanish (up to RK4's error)."""
    A, y0, T, _ = draw_problem(rng, int(rng.integers(2, 5)))
    target = expm(A * T) @ y0
    grad_y0, grad_A = gradients(student, A, y0, T, target, STEPS)
    scale = 1e-7 * (1.0 + float(np.max(np.abs(y0))))
    for name, value in (("grad_y0", grad_y0), ("grad_A", grad_A)):
        worst = float(np.max(np.abs(value)))
        expect(worst <= scale,
               f"with target = y(T) the loss is at its minimum, but your {name} has an entry of size {worst:.3g} "
               f"(allowed {scale:.1g}); the adjoint starts from a(T) = y(T) - target ({describe(A, y0, T, target)}, "
               f"n = {STEPS})")
