"""Hidden checks for planar-flow: the planar flow of Rezende and Mohamed (2015) and its invertibility constraint.

The student implements

    planar_flow(z, u, w, b) -> (x, log_det)    x = z + u tanh(w.z + b)                      (row by row)
                                               log_det = log|1 + u.psi|, psi = (1 - tanh^2(w.z + b)) w
    invertible_u(u, w) -> u_hat                u_hat = u + (m(w.u) - w.u) w / |w|^2,  m(a) = -1 + log(1 + e^a)

for a batch z of shape (N, d), u and w of shape (d,) and a float b; a returned tuple crosses the boundary as a
list of two arrays.

All reference values are computed here with numpy: the formulas above, the log-determinant by central differences
of the student's own map (gradeflow_graders.expect_log_det), and the inverse of the flow by scalar root finding
along w (scipy's brentq), using that w.x = a + (w.u) tanh(a + b) with a = w.z determines a, and then
z = x - u tanh(a + b). Vectors, biases and batches come from the harness's `rng`.

Points: 10 in all.
"""
from __future__ import annotations

import math

import numpy as np
from gradeflow_graders import (
    CheckFailed,
    StudentHandle,
    as_array,
    check,
    compare,
    expect,
    expect_log_det,
)
from scipy.optimize import brentq

# ---------------------------------------------------------------- helpers (harness side)

def flow(student: StudentHandle, z: np.ndarray, u: np.ndarray, w: np.ndarray, b: float) -> tuple[np.ndarray, np.ndarray]:
    """The student's planar_flow(z, u, w, b) as two float arrays of shapes (N, d) and (N,), or a CheckFailed."""
    n, d = z.shape
    value = student.call("planar_flow", z, u, w, b)
    what = f"planar_flow(z, u, w, b) for z of shape {z.shape}"
    if not isinstance(value, list | tuple) or len(value) != 2:
        shown = type(value).__name__ + (f" of length {len(value)}" if isinstance(value, list | tuple) else "")
        raise CheckFailed(f"{what} should return a pair (x, log_det), got a {shown}")
    x = as_array(value[0], what=f"x from {what}", shape=(n, d))
    log_det = as_array(value[1], what=f"log_det from {what}", shape=(n,))
    return x, log_det


def u_hat(student: StudentHandle, u: np.ndarray, w: np.ndarray) -> np.ndarray:
    """The student's invertible_u(u, w) as a float array of shape (d,), or a CheckFailed."""
    value = student.call("invertible_u", u, w)
    if value is None:
        raise CheckFailed("invertible_u(u, w) returned None; it should return a numpy array shaped like u")
    return as_array(value, what=f"invertible_u(u, w) for u, w of shape {u.shape}", shape=u.shape)


def reference_flow(z: np.ndarray, u: np.ndarray, w: np.ndarray, b: float) -> tuple[np.ndarray, np.ndarray]:
    activation = np.tanh(z @ w + b)
    x = z + np.outer(activation, u)
    log_det = np.log(np.abs(1.0 + (1.0 - activation**2) * (w @ u)))
    return x, log_det


def reference_u_hat(u: np.ndarray, w: np.ndarray) -> np.ndarray:
    dot = float(w @ u)
    m = -1.0 + float(np.logaddexp(0.0, dot))  # log(1 + e^a) without overflow
    return u + (m - dot) * w / float(w @ w)


def random_direction(rng: np.random.Generator, d: int, norm: float) -> np.ndarray:
    v = rng.normal(size=d)
    return norm * v / np.linalg.norm(v)


def with_dot(rng: np.random.Generator, w: np.ndarray, dot: float) -> np.ndarray:
    """A vector u with w.u = dot exactly in exact arithmetic: a random part orthogonal to w plus dot w / |w|^2."""
    v = rng.normal(size=w.size)
    v -= (v @ w) / (w @ w) * w
    return v + dot * w / (w @ w)


def setup(rng: np.random.Generator, dot_low: float, dot_high: float, *, w_norm=(0.5, 2.0)):
    """Dimension, batch size, w, u with w.u in [dot_low, dot_high] and b, for one check."""
    d = int(rng.integers(2, 5))
    n = int(rng.integers(5, 9))
    w = random_direction(rng, d, float(rng.uniform(*w_norm)))
    u = with_dot(rng, w, float(rng.uniform(dot_low, dot_high)))
    b = float(rng.uniform(-1.0, 1.0))
    return d, n, w, u, b


def describe(u: np.ndarray, w: np.ndarray, b: float) -> str:
    return f"u = {np.round(u, 3).tolist()}, w = {np.round(w, 3).tolist()}, b = {b:.3f}"


# ---------------------------------------------------------------- checks

@check(points=1, name="planar_flow returns x and log_det")
def returns_pair(student: StudentHandle, rng: np.random.Generator) -> None:
    """(x, log_det) with x of shape (N, d) and log_det of shape (N,)."""
    d, n, w, u, b = setup(rng, 0.0, 1.0)
    flow(student, rng.normal(size=(n, d)), u, w, b)


@check(points=1.5, name="planar_flow x values")
def x_values(student: StudentHandle, rng: np.random.Generator) -> None:
    """x = z + u tanh(w.z + b), row by row."""
    d, n, w, u, b = setup(rng, -2.0, 2.0)
    z = rng.normal(size=(n, d))
    x, _ = flow(student, z, u, w, b)
    compare(x, reference_flow(z, u, w, b)[0], what=f"x = z + u tanh(w.z + b) for {describe(u, w, b)},")


@check(points=1.5, name="planar_flow log_det values")
def log_det_values(student: StudentHandle, rng: np.random.Generator) -> None:
    """log|1 + u.psi| with psi = (1 - tanh^2(w.z + b)) w, for u with w.u in [0.5, 2] (so 1 + u.psi >= 1 here)."""
    d, n, w, u, b = setup(rng, 0.5, 2.0)
    z = rng.normal(size=(n, d))
    _, log_det = flow(student, z, u, w, b)
    compare(log_det, reference_flow(z, u, w, b)[1],
            what=f"log_det = log|1 + u.psi|, psi = (1 - tanh^2(w.z + b)) w, for {describe(u, w, b)},")


@check(points=1.5, name="log_det matches the Jacobian")
def log_det_brute_force(student: StudentHandle, rng: np.random.Generator) -> None:
    """log|det dx/dz| by central differences of the student's own x, for a u with w.u in [-4, -2]: rows where
    w.z + b is near 0 have det dx/dz = 1 + (w.u) sech^2 < -0.9 (a negative determinant: log of the absolute value),
    rows where it is beyond +-3 have det > 0.9. Every determinant is far from 0, so the differences are accurate."""
    d, n, w, u, b = setup(rng, -4.0, -2.0)
    z = rng.normal(size=(n, d))
    # Move each row along w so that w.z + b takes a chosen value: near 0 (negative det) or beyond +-3 (positive).
    targets = np.where(np.arange(n) % 2 == 0, rng.uniform(-0.2, 0.2, size=n),
                       rng.choice([-1.0, 1.0], size=n) * rng.uniform(3.0, 4.0, size=n))
    z += np.outer(targets - (z @ w + b), w) / (w @ w)
    _, log_det = flow(student, z, u, w, b)
    expect_log_det(log_det, lambda batch: flow(student, batch, u, w, b)[0], z,
                   what=f"log_det for {describe(u, w, b)} (here 1 + u.psi is negative in some rows; "
                        f"log|det| needs the absolute value),")


@check(points=1.5, name="invertible_u values")
def invertible_u_values(student: StudentHandle, rng: np.random.Generator) -> None:
    """u_hat = u + (m(w.u) - w.u) w / |w|^2 with m(a) = -1 + log(1 + e^a), for |w| well away from 1."""
    d = int(rng.integers(2, 6))
    for dot in (float(rng.uniform(-5.0, -1.0)), float(rng.uniform(-1.0, 1.0)), float(rng.uniform(1.0, 5.0))):
        w = random_direction(rng, d, float(rng.choice([rng.uniform(0.3, 0.8), rng.uniform(1.3, 2.5)])))
        u = with_dot(rng, w, dot)
        compare(u_hat(student, u, w), reference_u_hat(u, w),
                what=f"invertible_u(u, w) = u + (m(w.u) - w.u) w / |w|^2 for u = {np.round(u, 3).tolist()}, "
                     f"w = {np.round(w, 3).tolist()} (w.u = {dot:.3f}),")


@check(points=1.5, name="invertible_u keeps w.u_hat >= -1")
def constraint(student: StudentHandle, rng: np.random.Generator) -> None:
    """w.u_hat = m(w.u) > -1 whatever u is, also when w.u is very negative (then u_hat is almost a new vector)."""
    d = int(rng.integers(2, 6))
    for dot in (-float(rng.uniform(1.2, 3.0)), -float(rng.uniform(20.0, 60.0)), -float(rng.uniform(500.0, 1500.0))):
        w = random_direction(rng, d, float(rng.uniform(0.3, 0.8)))
        u = with_dot(rng, w, dot)
        value = float(w @ u_hat(student, u, w))
        expect(math.isfinite(value), f"invertible_u(u, w) is not finite for w.u = {dot:.4g}")
        # Round-off in w.u is ~1e-16 |w.u| |...|; anything below -1 by more than that breaks invertibility.
        expect(value >= -1.0 - 1e-9 * (1.0 + abs(dot)),
               f"w.invertible_u(u, w) = {value:.6g} for w.u = {dot:.4g} (|w| = {np.linalg.norm(w):.3f}); it must be "
               f">= -1, and equals m(w.u) = -1 + log(1 + e^(w.u)) when u_hat is right")


@check(points=1.5, name="the flow with u_hat is invertible")
def flow_is_invertible(student: StudentHandle, rng: np.random.Generator) -> None:
    """With u_hat = invertible_u(u, w) for a u with w.u in [-8, -3] (for which the plain flow folds over):
    w.x must increase strictly along w through the steepest point w.z + b = 0, and every x in a random batch must
    come from exactly the z the harness recovers by solving w.x = a + (w.u_hat) tanh(a + b) for a = w.z."""
    d, n, w, u, b = setup(rng, -8.0, -3.0, w_norm=(0.3, 0.8))
    uh = u_hat(student, u, w)
    direction = w / np.linalg.norm(w)
    # A line along w through a point where w.z + b = 0, where 1 + (w.u_hat) sech^2 is smallest.
    base = rng.normal(size=d)
    base -= (base @ w + b) / (w @ w) * w
    steps = np.linspace(-4.0, 4.0, 41) / np.linalg.norm(w)
    line = base + np.outer(steps, direction)
    x, _ = flow(student, line, uh, w, b)
    along = x @ w
    fold = np.flatnonzero(np.diff(along) <= 0)
    if fold.size:
        k = int(fold[0])
        raise CheckFailed(f"the flow with u_hat = invertible_u(u, w) is not invertible: moving z along w from "
                          f"w.z + b = {float(line[k] @ w + b):.3f} to {float(line[k + 1] @ w + b):.3f}, w.x goes from "
                          f"{along[k]:.6g} down to {along[k + 1]:.6g} (w.u_hat = {float(w @ uh):.4g} should be >= -1; "
                          f"{describe(u, w, b)})")
    z = rng.normal(size=(n, d)) * 1.5
    x, _ = flow(student, z, uh, w, b)
    c = float(w @ uh)
    recovered = np.empty_like(z)
    for i, (row, target) in enumerate(zip(x, x @ w)):
        # a + c tanh(a + b) = target has its root within |c| of target; increasing in a when c >= -1.
        low, high = target - abs(c) - 1.0, target + abs(c) + 1.0
        a = brentq(lambda s, target=target: s + c * math.tanh(s + b) - target, low, high, xtol=1e-14, rtol=1e-14)
        recovered[i] = row - uh * math.tanh(a + b)
    compare(recovered, z, rtol=1e-7, atol=1e-8,
            what=f"z recovered from x = planar_flow(z, u_hat, w, b) by solving along w ({describe(uh, w, b)}, "
                 f"u_hat from your invertible_u),")
