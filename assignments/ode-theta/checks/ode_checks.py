"""Hidden checks for ode-theta: the theta method for y' = f(t, y).

The student implements theta_method(f, y0, t0, t1, n, theta) with

    y_{k+1} = y_k + h * (theta * f(t_k, y_k) + (1 - theta) * f(t_{k+1}, y_{k+1}))

(theta = 1 explicit Euler, 0 implicit Euler, 1/2 trapezoid) and sets best_theta.

Every check runs in the harness. Right-hand sides are defined in the student's
kernel with `student.define` (they are plain lambdas, so nothing of ours runs
there but the student's own function); every reference value is computed here
with numpy, either in closed form or with `linear_theta_reference`, the exact
theta-method recurrence for linear problems y' = A y. Unpredictable inputs
(initial values, intervals, stiff rates) come from the harness's `rng`.

Points: 10 in all.
"""
from __future__ import annotations

import math

import numpy as np

from gradeflow_graders import CheckFailed, Ref, StudentHandle, as_array, check, expect, expect_close

DECAY = "lambda t, y: -y"
# Built with __import__ so the oscillator does not depend on how (or whether) the student imported numpy.
OSCILLATOR = "lambda t, y, _np=__import__('numpy'): _np.array([y[1], -y[0]])"
OSCILLATOR_MATRIX = np.array([[0.0, 1.0], [-1.0, 0.0]])
ORDER_STEPS = (20, 40, 80)
# Tolerance on the observed order: the true log2 ratios are within 0.02 of 1 or 2 for intervals of length 1..2,
# while a method of the wrong order misses by about 1.
ORDER_TOLERANCE = 0.25
# The student solves the implicit equation iteratively; 1e-6 relative is far looser than any sensible stopping
# rule, and far tighter than the differences between wrong variants (h/2 or more at n = 20).
SOLVER_RTOL = 1e-6


# ---------------------------------------------------------------- helpers (harness side)

def trajectory(student: StudentHandle, f: Ref, y0, t0: float, t1: float, n: int, theta: float, *,
               problem: str, finite: bool = True) -> np.ndarray:
    """Call the student's theta_method once; return its result as a float array of shape (n+1,)+shape(y0).

    Anything else (None, wrong shape, text, and NaN or infinity unless finite=False) becomes a CheckFailed that
    names the call, so the student can reproduce it.
    """
    shape = (n + 1,) + np.shape(y0)
    what = f"theta_method for {problem} with t0={t0:.4g}, t1={t1:.4g}, n={n}, theta={theta:.4g}"
    value = student.call("theta_method", f, y0, t0, t1, n, theta)
    if value is None:
        raise CheckFailed(f"{what} returned None; it should return a numpy array of shape {shape}")
    ys = as_array(value, what=what, shape=shape)
    expect(not finite or np.all(np.isfinite(ys)), f"{what} contains NaN or infinity")
    return ys


def linear_theta_reference(matrix: np.ndarray, y0: np.ndarray, h: float, n: int, theta: float) -> np.ndarray:
    """The theta method applied to y' = A y, solved exactly: y_{k+1} = (I - (1-theta) h A)^{-1} (I + theta h A) y_k."""
    identity = np.eye(len(y0))
    step = np.linalg.solve(identity - (1 - theta) * h * matrix, identity + theta * h * matrix)
    ys = np.empty((n + 1, len(y0)))
    ys[0] = y0
    for k in range(n):
        ys[k + 1] = step @ ys[k]
    return ys


def decay_reference(y0: float, t0: float, t1: float, n: int, theta: float) -> np.ndarray:
    """What the theta method must produce for y' = -y with a scalar y0 (shape (n+1,))."""
    return linear_theta_reference(np.array([[-1.0]]), np.array([y0]), (t1 - t0) / n, n, theta)[:, 0]


def random_interval(rng: np.random.Generator, low: float, high: float) -> tuple[float, float]:
    """A start time in [-1, 1] and an interval length in [low, high], so nothing may assume t0 = 0."""
    t0 = float(rng.uniform(-1.0, 1.0))
    return t0, t0 + float(rng.uniform(low, high))


def random_value(rng: np.random.Generator, size: int | None = None):
    """Initial values of magnitude 0.5..2 and random sign (never near zero, so relative errors mean something)."""
    magnitude = rng.uniform(0.5, 2.0, size=size)
    sign = rng.choice([-1.0, 1.0], size=size)
    return magnitude * sign if size is not None else float(magnitude * sign)


def expect_order(student: StudentHandle, rng: np.random.Generator, theta: float, order: int, name: str) -> None:
    """Observed order of convergence on y' = -y from n = 20, 40, 80, plus agreement with the exact recurrence.

    The order alone cannot tell implicit from explicit Euler (both are first order), so the values at n = 20 are
    also compared with what the theta method with this theta must give.
    """
    decay = student.define(DECAY)
    y0 = random_value(rng)
    # Length >= 1 keeps the trapezoid error at n = 80 (~1e-5 relative) well above a sloppy solver's tolerance.
    t0, t1 = random_interval(rng, 1.0, 2.0)
    exact = y0 * math.exp(-(t1 - t0))
    runs = {n: trajectory(student, decay, y0, t0, t1, n, theta, problem="y' = -y") for n in ORDER_STEPS}
    errors = [abs(runs[n][-1] - exact) for n in ORDER_STEPS]
    expect(all(e > 0 for e in errors), f"{name}: the error at t1 is exactly 0, which a theta method cannot achieve")
    observed = [math.log2(errors[i] / errors[i + 1]) for i in range(len(errors) - 1)]
    shown = ", ".join(f"{p:.2f}" for p in observed)
    expect(all(abs(p - order) < ORDER_TOLERANCE for p in observed),
           f"{name}: halving h should divide the error at t1 by about {2 ** order}; observed orders {shown} "
           f"(log2 of successive error ratios for n = 20, 40, 80), expected about {order}")
    n = ORDER_STEPS[0]
    reference = decay_reference(y0, t0, t1, n, theta)
    worst = float(np.max(np.abs(runs[n] - reference) / np.abs(reference)))
    expect(worst < SOLVER_RTOL,
           f"{name}: the order looks right, but for y' = -y with n = {n} your values differ from the theta method "
           f"with theta = {theta:g} by up to {worst:.2g} (relative); check the step h = (t1 - t0)/n, the times "
           f"t_k, and which of f(t_k, y_k) and f(t_(k+1), y_(k+1)) theta weights")


# ---------------------------------------------------------------- checks

@check(points=1.5, name="shape and first value")
def shape_and_first_value(student: StudentHandle, rng: np.random.Generator) -> None:
    """(n+1,) for a scalar y0 and (n+1, d) for a vector y0, starting exactly at y0."""
    decay = student.define(DECAY)
    t0, t1 = random_interval(rng, 0.5, 2.0)
    n = int(rng.integers(5, 30))
    y0 = random_value(rng)
    ys = trajectory(student, decay, y0, t0, t1, n, 0.5, problem="y' = -y (scalar y0)")
    expect(ys[0] == y0, f"the first value should be y0 = {y0!r}, got {float(ys[0])!r}")
    vector_y0 = random_value(rng, size=3)
    ys = trajectory(student, decay, vector_y0, t0, t1, n, 1.0, problem="y' = -y (y0 of shape (3,))")
    expect(np.array_equal(ys[0], vector_y0), f"the first row should be y0 = {vector_y0}, got {ys[0]}")


@check(points=1, name="exact for y' = 0 and y' = 1")
def exact_for_constant_slopes(student: StudentHandle, rng: np.random.Generator) -> None:
    """Every theta integrates a constant slope exactly; a wrong step size or time grid shows up here."""
    zero = student.define("lambda t, y: 0.0 * y")
    one = student.define("lambda t, y: 0.0 * y + 1.0")
    t0, t1 = random_interval(rng, 0.5, 3.0)
    n = int(rng.integers(5, 25))
    y0 = random_value(rng)
    times = t0 + (t1 - t0) * np.arange(n + 1) / n
    for theta in (0.0, 0.5, 1.0, float(rng.uniform(0.05, 0.95))):
        ys = trajectory(student, zero, y0, t0, t1, n, theta, problem="y' = 0")
        expect_close(ys, np.full(n + 1, y0), rtol=1e-9, atol=1e-9, what=f"the solution of y' = 0 (theta={theta:.3g})")
        ys = trajectory(student, one, y0, t0, t1, n, theta, problem="y' = 1")
        expect_close(ys, y0 + (times - t0), rtol=1e-8, atol=1e-8,
                     what=f"the solution of y' = 1 (theta={theta:.3g}), which should be y0 + (t_k - t0),")


@check(points=1, name="explicit Euler is first order")
def explicit_euler_order(student: StudentHandle, rng: np.random.Generator) -> None:
    """theta = 1: error at t1 halves when h halves."""
    expect_order(student, rng, 1.0, 1, "explicit Euler (theta = 1)")


@check(points=1, name="implicit Euler is first order")
def implicit_euler_order(student: StudentHandle, rng: np.random.Generator) -> None:
    """theta = 0: first order, and genuinely implicit (values match implicit Euler, not explicit)."""
    expect_order(student, rng, 0.0, 1, "implicit Euler (theta = 0)")


@check(points=1.5, name="trapezoid rule is second order")
def trapezoid_order(student: StudentHandle, rng: np.random.Generator) -> None:
    """theta = 1/2: error at t1 quarters when h halves."""
    expect_order(student, rng, 0.5, 2, "trapezoid rule (theta = 1/2)")


@check(points=1.5, name="harmonic oscillator with the trapezoid rule")
def harmonic_oscillator(student: StudentHandle, rng: np.random.Generator) -> None:
    """y'' = -y as the system (x, v)' = (v, -x): a vector-valued f, compared with the exact trapezoid recurrence."""
    oscillator = student.define(OSCILLATOR)
    y0 = random_value(rng, size=2)
    t0, t1 = random_interval(rng, 3.0, 8.0)
    n = int(rng.integers(40, 100))
    ys = trajectory(student, oscillator, y0, t0, t1, n, 0.5, problem="the harmonic oscillator (x, v)' = (v, -x)")
    reference = linear_theta_reference(OSCILLATOR_MATRIX, y0, (t1 - t0) / n, n, 0.5)
    expect_close(ys, reference, rtol=SOLVER_RTOL, atol=1e-8,
                 what=f"the trapezoid solution of (x, v)' = (v, -x) from y0 = {np.round(y0, 3)} with n = {n}")


@check(points=1.5, name="implicit Euler is stable on a stiff problem")
def stiff_stability(student: StudentHandle, rng: np.random.Generator) -> None:
    """y' = -lam*y with h*lam >= 25: implicit Euler must decay monotonically (explicit methods and
    fixed-point iteration blow up here; Newton's method does not)."""
    lam = float(rng.uniform(500.0, 2000.0))
    stiff = student.define(f"lambda t, y: -{lam!r} * y")
    y0 = random_value(rng)
    t0, t1 = random_interval(rng, 0.5, 2.0)
    n = int(rng.integers(5, 11))  # with t1 - t0 >= 0.5 this keeps h*lam >= 25
    h = (t1 - t0) / n
    problem = f"y' = -{lam:.0f} y (h*lam = {h * lam:.0f})"
    ys = np.abs(trajectory(student, stiff, y0, t0, t1, n, 0.0, problem=problem, finite=False))
    hint = ("it should decay for any step size. Fixed-point iteration diverges when h*|df/dy| > 1; "
            "Newton's method does not.")
    expect(np.all(np.isfinite(ys)), f"implicit Euler on {problem} blew up to NaN or infinity; {hint}")
    # Implicit Euler multiplies |y| by 1/(1 + h*lam) <= 1/26 each step, so any growth is a failure; the tiny
    # absolute allowance only forgives solver round-off once |y| has decayed to ~1e-10 of |y0|.
    grew = np.flatnonzero(ys[1:] > ys[:-1] * (1 + 1e-9) + 1e-10 * ys[0])
    if grew.size:
        k = int(grew[0])
        raise CheckFailed(f"implicit Euler on {problem}: |y| grew from {ys[k]:.3g} to {ys[k + 1]:.3g} at step {k + 1}; "
                          f"{hint}")
    expect(ys[-1] <= 1e-3 * ys[0],
           f"implicit Euler on {problem}: |y| only fell from {ys[0]:.3g} to {ys[-1]:.3g} in {n} steps; "
           f"it should decay towards 0")


@check(points=1, name="best_theta")
def best_theta(student: StudentHandle, rng: np.random.Generator) -> None:
    """The theta with the smallest truncation error."""
    expect(student.has("best_theta"), "define a module-level variable best_theta")
    value = student.get("best_theta")
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    expect(is_number, f"best_theta should be a number, got {type(value).__name__}")
    expect(math.isclose(value, 0.5, rel_tol=0, abs_tol=1e-12),
           f"best_theta = {value!r} is not the theta with the smallest truncation error")
