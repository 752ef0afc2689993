"""Hidden checks for runge-kutta: classical RK4 and the two-step Adams-Bashforth method (AB2).

The student implements, for y' = f(t, y) on [t0, t1] with n steps of size h = (t1 - t0)/n,

    rk4(f, y0, t0, t1, n)    k1 = f(t_k, y_k),             k2 = f(t_k + h/2, y_k + h/2 k1),
                             k3 = f(t_k + h/2, y_k + h/2 k2), k4 = f(t_k + h, y_k + h k3),
                             y_(k+1) = y_k + h/6 (k1 + 2 k2 + 2 k3 + k4)
    ab2(f, y0, t0, t1, n)    y_1 by one RK4 step, then y_(k+1) = y_k + h (3/2 f(t_k, y_k) - 1/2 f(t_(k-1), y_(k-1)))

both returning an array of shape (n + 1,) + shape(y0) whose row 0 is y0.

Right-hand sides are plain lambdas defined in the student's kernel with `student.define`; every reference value is
computed here with numpy: closed-form solutions, and `rk4_reference` / `ab2_reference`, the two methods
re-implemented in the harness (applied to the same right-hand side as a harness-side function). Initial values,
intervals, rates, matrices and polynomial coefficients come from the harness's `rng`.

Points: 10 in all.
"""
from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from gradeflow_graders import (
    CheckFailed,
    Ref,
    StudentHandle,
    as_array,
    check,
    compare,
    expect,
    expect_order,
)

# Steps for the observed order on y' = lam*y, lam in [0.5, 1.5], t1 - t0 in [1, 2]: RK4's error at n = 80 is still
# above 1e-11 relative (far above round-off), AB2's at n = 160 above 1e-6. Over that whole range the true log2
# ratios are within 0.09 of 4 (RK4) and 0.06 of 2 (AB2, also with an Euler or a second-order start), while a method
# of the wrong order misses by 1 or more.
RK4_STEPS = (20, 40, 80)
AB2_STEPS = (40, 80, 160)
ORDER_TOLERANCE = 0.25
# The student's arithmetic may differ from the harness's re-implementation only by rounding (~1e-15 relative);
# every wrong variant the suite knows of is off by 1e-6 or more.
VALUE_RTOL = 1e-9
VALUE_ATOL = 1e-11


# ---------------------------------------------------------------- helpers (harness side)

def trajectory(student: StudentHandle, method: str, f: Ref, y0, t0: float, t1: float, n: int, *,
               problem: str) -> np.ndarray:
    """Call the student's rk4 or ab2 once; return a finite float array of shape (n + 1,) + shape(y0).

    Anything else becomes a CheckFailed that names the call, so the student can reproduce it."""
    shape = (n + 1,) + np.shape(y0)
    what = f"{method} for {problem} with t0={t0:.4g}, t1={t1:.4g}, n={n}"
    value = student.call(method, f, y0, t0, t1, n)
    if value is None:
        raise CheckFailed(f"{what} returned None; it should return a numpy array of shape {shape}")
    ys = as_array(value, what=what, shape=shape)
    expect(np.all(np.isfinite(ys)), f"{what} contains NaN or infinity")
    return ys


def rk4_step(f: Callable, t: float, y: np.ndarray, h: float) -> np.ndarray:
    k1 = f(t, y)
    k2 = f(t + h / 2, y + h / 2 * k1)
    k3 = f(t + h / 2, y + h / 2 * k2)
    k4 = f(t + h, y + h * k3)
    return y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)


def rk4_reference(f: Callable, y0, t0: float, t1: float, n: int) -> np.ndarray:
    """Classical RK4, as the student should compute it (f is a harness-side function of (t, y))."""
    h = (t1 - t0) / n
    ys = [np.asarray(y0, dtype=float)]
    for k in range(n):
        ys.append(rk4_step(f, t0 + k * h, ys[-1], h))
    return np.array(ys)


def ab2_reference(f: Callable, y0, t0: float, t1: float, n: int) -> np.ndarray:
    """Two-step Adams-Bashforth started with one RK4 step."""
    h = (t1 - t0) / n
    ys = [np.asarray(y0, dtype=float)]
    slopes = [f(t0, ys[0])]
    for k in range(n):
        t = t0 + k * h
        if k == 0:
            ys.append(rk4_step(f, t, ys[0], h))
        else:
            ys.append(ys[k] + h * (1.5 * slopes[k] - 0.5 * slopes[k - 1]))
        slopes.append(f(t + h, ys[-1]))
    return np.array(ys)


def random_interval(rng: np.random.Generator, low: float, high: float) -> tuple[float, float]:
    """A start time in [-1, 1] and a length in [low, high], so nothing may assume t0 = 0."""
    t0 = float(rng.uniform(-1.0, 1.0))
    return t0, t0 + float(rng.uniform(low, high))


def random_value(rng: np.random.Generator, size: int | None = None):
    """Initial values of magnitude 0.5..2 and random sign."""
    magnitude = rng.uniform(0.5, 2.0, size=size)
    sign = rng.choice([-1.0, 1.0], size=size)
    return magnitude * sign if size is not None else float(magnitude * sign)


def random_matrix(rng: np.random.Generator, d: int) -> np.ndarray:
    """A non-symmetric d x d matrix of norm about 1 with eigenvalues of real part <= about 0.3 (no blow-up)."""
    a = rng.normal(size=(d, d)) / math.sqrt(d)
    return a - 0.5 * np.eye(d)


def literal(array: np.ndarray) -> str:
    """A numpy array as Python source that needs no import in the student's kernel (float reprs round-trip)."""
    return f"__import__('numpy').array({np.asarray(array, dtype=float).tolist()!r})"


def linear_rhs(student: StudentHandle, matrix: np.ndarray) -> Ref:
    """y' = A y in the student's kernel (numpy via __import__, whatever the student imported)."""
    return student.define(f"lambda t, y, _np=__import__('numpy'), _A={literal(matrix)}: _A @ y")


def order_check(student: StudentHandle, rng: np.random.Generator, method: str, order: int,
                steps: tuple[int, ...]) -> None:
    """Observed order of the error at t1 on y' = lam*y, against the exact solution. (An order alone cannot tell a
    method from a cousin of the same order; values_check does that.)

    lam > 0 on purpose: for growth every O(h^p) error term the known variants have (AB2's own, an Euler start's)
    has the same sign, so no accidental cancellation between them can disguise the order for some seeds."""
    lam = float(rng.uniform(0.5, 1.5))
    decay = student.define(f"lambda t, y: {lam!r} * y")
    y0 = random_value(rng)
    t0, t1 = random_interval(rng, 1.0, 2.0)
    exact = y0 * math.exp(lam * (t1 - t0))
    problem = f"y' = {lam:.4g} y"
    runs = {n: trajectory(student, method, decay, y0, t0, t1, n, problem=problem) for n in steps}
    expect_order({n: runs[n][-1] - exact for n in steps}, order, tolerance=ORDER_TOLERANCE,
                 what=f"{method} on {problem} (error at t1; halving h should divide it by about {2 ** order})")


def values_check(student: StudentHandle, rng: np.random.Generator, method: str) -> None:
    """The method's own values on a 3 x 3 linear system y' = A y, against the harness's re-implementation."""
    matrix = random_matrix(rng, 3)
    f = linear_rhs(student, matrix)
    y0 = random_value(rng, size=3)
    t0, t1 = random_interval(rng, 1.0, 3.0)
    n = int(rng.integers(15, 40))
    ys = trajectory(student, method, f, y0, t0, t1, n, problem="a 3 x 3 system y' = A y")
    reference = (rk4_reference if method == "rk4" else ab2_reference)(lambda t, y: matrix @ y, y0, t0, t1, n)
    compare(ys, reference, rtol=VALUE_RTOL, atol=VALUE_ATOL,
            what=f"{method} on y' = A y (A = {np.round(matrix, 3).tolist()}, n = {n}), row k = step k,")


# ---------------------------------------------------------------- checks

@check(points=1, name="shape and first value")
def shape_and_first_value(student: StudentHandle, rng: np.random.Generator) -> None:
    """(n+1,) for a scalar y0 and (n+1, d) for a vector y0, starting exactly at y0, for both methods."""
    decay = student.define("lambda t, y: -y")
    t0, t1 = random_interval(rng, 0.5, 2.0)
    n = int(rng.integers(5, 30))
    for method in ("rk4", "ab2"):
        y0 = random_value(rng)
        ys = trajectory(student, method, decay, y0, t0, t1, n, problem="y' = -y (scalar y0)")
        expect(ys[0] == y0, f"{method}: the first value should be y0 = {y0!r}, got {float(ys[0])!r}")
        vector_y0 = random_value(rng, size=3)
        ys = trajectory(student, method, decay, vector_y0, t0, t1, n, problem="y' = -y (y0 of shape (3,))")
        expect(np.array_equal(ys[0], vector_y0), f"{method}: the first row should be y0 = {vector_y0}, got {ys[0]}")


@check(points=1, name="rk4 is exact for cubic slopes")
def rk4_exact_for_cubics(student: StudentHandle, rng: np.random.Generator) -> None:
    """y' = p(t) with p a cubic: RK4 reduces to Simpson's rule, which integrates cubics exactly, so RK4 returns
    the quartic y0 + P(t_k) - P(t0). Wrong stage times (t_k instead of t_k + h/2) break this."""
    coefficients = rng.uniform(-1.0, 1.0, size=4)  # p(t) = c0 + c1 t + c2 t^2 + c3 t^3
    c0, c1, c2, c3 = (float(c) for c in coefficients)
    f = student.define(f"lambda t, y: 0.0 * y + ({c0!r} + t * ({c1!r} + t * ({c2!r} + t * {c3!r})))")
    antiderivative = np.polynomial.Polynomial(coefficients).integ()
    y0 = random_value(rng)
    t0, t1 = random_interval(rng, 0.5, 2.0)
    n = int(rng.integers(3, 12))
    times = t0 + (t1 - t0) * np.arange(n + 1) / n
    ys = trajectory(student, "rk4", f, y0, t0, t1, n, problem="y' = p(t), p a cubic")
    compare(ys, y0 + antiderivative(times) - antiderivative(t0), rtol=1e-9, atol=1e-9,
            what=f"rk4 for y' = {c0:.3f} + {c1:.3f} t + {c2:.3f} t^2 + {c3:.3f} t^3 (exact solution: a quartic; "
                 f"check the stage times t_k + h/2 and t_k + h),")


@check(points=1.5, name="rk4 is fourth order")
def rk4_order(student: StudentHandle, rng: np.random.Generator) -> None:
    """Error at t1 on y' = lam*y divides by about 16 when h halves."""
    order_check(student, rng, "rk4", 4, RK4_STEPS)


@check(points=1.5, name="rk4 values on a linear system")
def rk4_values(student: StudentHandle, rng: np.random.Generator) -> None:
    """Vector y0 and matrix right-hand side: every row equals the harness's RK4."""
    values_check(student, rng, "rk4")


@check(points=1, name="ab2 is exact for linear slopes")
def ab2_exact_for_linear_slopes(student: StudentHandle, rng: np.random.Generator) -> None:
    """y' = a + b t: the RK4 start and every AB2 step (3/2 f_k - 1/2 f_(k-1) = f at t_k + h/2) are exact. An Euler
    start or swapped weights are not."""
    a, b = (float(c) for c in rng.uniform(-2.0, 2.0, size=2))
    if abs(b) < 0.5:
        b = math.copysign(0.5, b) + b
    f = student.define(f"lambda t, y: 0.0 * y + ({a!r} + {b!r} * t)")
    y0 = random_value(rng)
    t0, t1 = random_interval(rng, 0.5, 2.0)
    n = int(rng.integers(4, 15))
    times = t0 + (t1 - t0) * np.arange(n + 1) / n
    ys = trajectory(student, "ab2", f, y0, t0, t1, n, problem=f"y' = {a:.3f} + {b:.3f} t")
    exact = y0 + a * (times - t0) + b / 2 * (times**2 - t0**2)
    compare(ys, exact, rtol=1e-9, atol=1e-9,
            what=f"ab2 for y' = {a:.3f} + {b:.3f} t (exact solution: y0 + a (t - t0) + b (t^2 - t0^2)/2; check the "
                 f"RK4 first step and the weights 3/2, -1/2),")


@check(points=1.5, name="ab2 is second order")
def ab2_order(student: StudentHandle, rng: np.random.Generator) -> None:
    """Error at t1 on y' = lam*y divides by about 4 when h halves."""
    order_check(student, rng, "ab2", 2, AB2_STEPS)


@check(points=1.5, name="ab2 values on a linear system")
def ab2_values(student: StudentHandle, rng: np.random.Generator) -> None:
    """Vector y0 and matrix right-hand side: every row equals the harness's AB2 with an RK4 first step."""
    values_check(student, rng, "ab2")


@check(points=1, name="both methods on a forced system")
def forced_system(student: StudentHandle, rng: np.random.Generator) -> None:
    """y' = A y + sin(omega t) c: a right-hand side that depends on t and y, so the stage times and the time grid
    must both be right."""
    matrix = random_matrix(rng, 2)
    forcing = rng.uniform(-1.0, 1.0, size=2)
    omega = float(rng.uniform(1.0, 3.0))
    f = student.define(f"lambda t, y, _np=__import__('numpy'), _A={literal(matrix)}, _c={literal(forcing)}: "
                       f"_A @ y + _np.sin({omega!r} * t) * _c")
    y0 = random_value(rng, size=2)
    t0, t1 = random_interval(rng, 1.0, 3.0)
    n = int(rng.integers(10, 30))
    for method, reference in (("rk4", rk4_reference), ("ab2", ab2_reference)):
        ys = trajectory(student, method, f, y0, t0, t1, n, problem=f"y' = A y + sin({omega:.3f} t) c")
        expected = reference(lambda t, y: matrix @ y + math.sin(omega * t) * forcing, y0, t0, t1, n)
        compare(ys, expected, rtol=VALUE_RTOL, atol=VALUE_ATOL,
                what=f"{method} on y' = A y + sin({omega:.3f} t) c (n = {n}; check that f is called at the right "
                     f"times),")
