"""Hidden checks for double-descent: random ReLU features and the minimum-norm least-squares fit.

The student implements

    relu_features(X, W) -> Phi     Phi = max(X W, 0) / sqrt(p)          X (n, d), W (d, p), Phi (n, p)
    min_norm_fit(Phi, y) -> beta   beta = pinv(Phi) y                   the least-squares solution of least norm

Reference values are computed here with numpy (np.maximum, np.linalg.pinv, np.linalg.lstsq). The last check runs
the student's two functions on a small teacher-student regression problem drawn here (n = 40 noisy samples of a
linear function of d = 10 inputs, a sweep of p from 10 to 400 random features) and asks for the double-descent
shape of the test error: a sharp peak at the interpolation threshold p = n and a second descent after it.
All data come from the harness's `rng`.

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
)

# The double-descent experiment. With sigma = 0.5 and the geometric mean of the test error over 6 draws, the
# reference's curve (over 400 seeds) always peaks exactly at p = n, at least 11 times above the best p < n and 16
# times above p = 10 n; ridge regression with lambda = 0.1 or features of rank <= d never get past 2.6.
N_TRAIN = 40
DIM = 10
NOISE = 0.5
N_TEST = 400
DRAWS = 6
SWEEP = (10, 20, 30, 36, 40, 44, 50, 80, 160, 400)
PEAK_RATIO = 5.0


# ---------------------------------------------------------------- helpers (harness side)

def features(student: StudentHandle, X: np.ndarray, W: np.ndarray) -> np.ndarray:
    """The student's relu_features(X, W) as a finite float array of shape (n, p), or a CheckFailed."""
    shape = (X.shape[0], W.shape[1])
    value = student.call("relu_features", X, W)
    what = f"relu_features(X, W) for X of shape {X.shape} and W of shape {W.shape}"
    if value is None:
        raise CheckFailed(f"{what} returned None; it should return an array of shape {shape}")
    phi = as_array(value, what=what, shape=shape)
    expect(np.all(np.isfinite(phi)), f"{what} contains NaN or infinity")
    return phi


def fit(student: StudentHandle, phi: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The student's min_norm_fit(Phi, y) as a float array of shape (p,), or a CheckFailed (NaN allowed through,
    for compare to report)."""
    what = f"min_norm_fit(Phi, y) for Phi of shape {phi.shape}"
    value = student.call("min_norm_fit", phi, y)
    if value is None:
        raise CheckFailed(f"{what} returned None; it should return an array of shape {(phi.shape[1],)}")
    return as_array(value, what=what, shape=(phi.shape[1],))


def compare_scaled(actual: np.ndarray, expected: np.ndarray, rtol: float, what: str) -> None:
    """compare() with the absolute tolerance scaled by the largest entry (coefficients may be near 0)."""
    compare(actual, expected, rtol=rtol, atol=rtol * float(np.max(np.abs(expected))), what=what)


def test_error_curve(student: StudentHandle, rng: np.random.Generator) -> np.ndarray:
    """Test MSE for each p in SWEEP (rows: draws), with the student's features and fit.

    Each draw: a teacher theta ~ N(0, I/d), inputs X ~ N(0, I), labels y = X theta + NOISE * noise for N_TRAIN
    training points, noiseless targets for N_TEST test points, and one W ~ N(0, 1) of width max(SWEEP) whose first
    p columns give the p features (nested models, as in the usual plots)."""
    errors = np.empty((DRAWS, len(SWEEP)))
    for draw in range(DRAWS):
        theta = rng.normal(size=DIM) / math.sqrt(DIM)
        X = rng.normal(size=(N_TRAIN + N_TEST, DIM))
        y = X @ theta
        y_train = y[:N_TRAIN] + NOISE * rng.normal(size=N_TRAIN)
        W = rng.normal(size=(DIM, max(SWEEP)))
        for j, p in enumerate(SWEEP):
            phi = features(student, X, W[:, :p])  # training and test rows in one call
            beta = fit(student, phi[:N_TRAIN], y_train)
            if p > N_TRAIN:
                expect_min_norm(phi[:N_TRAIN], y_train, beta)
            errors[draw, j] = float(np.mean((phi[N_TRAIN:] @ beta - y[N_TRAIN:]) ** 2))
    return errors


def expect_min_norm(phi: np.ndarray, y: np.ndarray, beta: np.ndarray) -> None:
    """The optimality conditions of the minimum-norm least-squares solution, loosely (1e-6): beta solves the normal
    equations Phi^T (Phi beta - y) = 0 and has no component in the null space of Phi.

    Past p = n the second descent is a property of exactly this solution; any other least-squares solution adds a
    null-space component that does not change the training fit but does change the test predictions."""
    n, p = phi.shape
    expect(np.all(np.isfinite(beta)), f"in the experiment, min_norm_fit returned NaN or infinity for n = {n}, p = {p}")
    _, singular, vt = np.linalg.svd(phi, full_matrices=False)
    rank = int(np.sum(singular > singular[0] * max(n, p) * np.finfo(float).eps))
    gradient = float(np.linalg.norm(phi.T @ (phi @ beta - y)))
    scale = float(singular[0] * (singular[0] * np.linalg.norm(beta) + np.linalg.norm(y)))
    expect(gradient <= 1e-6 * scale,
           f"in the experiment (n = {n} training points, p = {p} features) your min_norm_fit is not a least-squares "
           f"solution: |Phi^T (Phi beta - y)| = {gradient:.3g} (relative {gradient / scale:.2g}) should be 0")
    row_space = vt[:rank]
    null_part = float(np.linalg.norm(beta - row_space.T @ (row_space @ beta)))
    expect(null_part <= 1e-6 * float(np.linalg.norm(beta)),
           f"in the experiment (n = {n} training points, p = {p} features) your min_norm_fit is a least-squares "
           f"solution but not the one of minimum norm: a part of size {null_part:.3g} (|beta| = "
           f"{np.linalg.norm(beta):.3g}) lies in the null space of Phi, where it changes the test predictions "
           f"but not the training fit")


# ---------------------------------------------------------------- checks

@check(points=2, name="relu_features values")
def relu_features_values(student: StudentHandle, rng: np.random.Generator) -> None:
    """Phi = max(X W, 0) / sqrt(p), shape (n, p), for a few sizes."""
    for _ in range(2):
        n, d, p = int(rng.integers(6, 13)), int(rng.integers(2, 7)), int(rng.integers(3, 17))
        X = rng.normal(size=(n, d))
        W = rng.normal(size=(d, p))
        compare(features(student, X, W), np.maximum(X @ W, 0.0) / math.sqrt(p),
                what=f"relu_features(X, W) = max(X W, 0) / sqrt(p) for n = {n}, d = {d}, p = {p},")


@check(points=1.5, name="min_norm_fit with more samples than features")
def underparameterised(student: StudentHandle, rng: np.random.Generator) -> None:
    """p < n and Phi of full column rank: the unique least-squares solution."""
    n, p = int(rng.integers(25, 40)), int(rng.integers(5, 15))
    phi = rng.normal(size=(n, p))
    y = rng.normal(size=n)
    beta = fit(student, phi, y)
    compare_scaled(beta, np.linalg.lstsq(phi, y, rcond=None)[0], 1e-8,
                   what=f"min_norm_fit(Phi, y) for Phi of shape ({n}, {p}) (the least-squares solution),")


@check(points=2, name="min_norm_fit interpolates with minimum norm when p > n")
def overparameterised(student: StudentHandle, rng: np.random.Generator) -> None:
    """p > n: infinitely many beta solve Phi beta = y; the answer is the one of smallest norm, pinv(Phi) y."""
    n, p = int(rng.integers(8, 20)), int(rng.integers(30, 60))
    phi = rng.normal(size=(n, p))
    y = rng.normal(size=n)
    beta = fit(student, phi, y)
    expect(np.all(np.isfinite(beta)), f"min_norm_fit(Phi, y) for Phi of shape ({n}, {p}) contains NaN or infinity")
    residual = float(np.linalg.norm(phi @ beta - y) / np.linalg.norm(y))
    expect(residual <= 1e-8,
           f"with p = {p} features and n = {n} samples, Phi beta = y has exact solutions, but yours leaves "
           f"|Phi beta - y| / |y| = {residual:.3g}")
    best = np.linalg.pinv(phi) @ y
    size, smallest = float(np.linalg.norm(beta)), float(np.linalg.norm(best))
    expect(size <= smallest * (1 + 1e-7),
           f"with p = {p} > n = {n} your beta interpolates, but |beta| = {size:.6g} while the minimum-norm "
           f"interpolant has |beta| = {smallest:.6g}")
    compare_scaled(beta, best, 1e-7, what=f"min_norm_fit(Phi, y) for Phi of shape ({n}, {p}) (pinv(Phi) y),")


@check(points=1.5, name="min_norm_fit on a rank-deficient Phi")
def rank_deficient(student: StudentHandle, rng: np.random.Generator) -> None:
    """Phi of shape (n, p) with p < n but rank r < p: the least-squares solutions form an affine space (and
    Phi^T Phi is singular); the answer is the one of smallest norm."""
    n, p, r = int(rng.integers(18, 26)), int(rng.integers(9, 14)), int(rng.integers(3, 7))
    phi = rng.normal(size=(n, r)) @ rng.normal(size=(r, p))
    y = rng.normal(size=n)
    beta = fit(student, phi, y)
    compare_scaled(beta, np.linalg.pinv(phi) @ y, 1e-6,
                   what=f"min_norm_fit(Phi, y) for Phi of shape ({n}, {p}) and rank {r} (the minimum-norm "
                        f"least-squares solution pinv(Phi) y; Phi^T Phi is singular here),")


@check(points=3, name="the test error shows double descent")
def double_descent(student: StudentHandle, rng: np.random.Generator) -> None:
    """With the student's relu_features and min_norm_fit on a teacher-student problem (n = 40, d = 10, noise 0.5),
    the test error (geometric mean over 6 draws) must peak at p within 10% of n, at least 5 times above the best
    p < n and above p = 10 n, and be lower at p = 10 n than at p = 2 n. Every fit past p = n must satisfy the
    optimality conditions of the minimum-norm solution (see expect_min_norm): a least-squares solution with a
    null-space part (the normal equations solved for p > n) can show a peak or not, depending on rounding."""
    errors = test_error_curve(student, rng)
    if not np.all(np.isfinite(errors) & (errors > 0)):
        raise CheckFailed("the test error is NaN, infinite or exactly 0 for some p; check relu_features and "
                          "min_norm_fit on the sizes of the sweep (n = 40 training points, p from 10 to 400)")
    curve = np.exp(np.mean(np.log(errors), axis=0))
    table = ", ".join(f"p={p}: {e:.3g}" for p, e in zip(SWEEP, curve))
    peak = int(np.argmax(curve))
    below = [j for j, p in enumerate(SWEEP) if p < N_TRAIN]
    at_2n, at_10n = SWEEP.index(2 * N_TRAIN), SWEEP.index(10 * N_TRAIN)
    expect(0.9 * N_TRAIN <= SWEEP[peak] <= 1.1 * N_TRAIN,
           f"the test error should peak at the interpolation threshold p = n = {N_TRAIN}, but it peaks at "
           f"p = {SWEEP[peak]} (test MSE: {table})")
    best_below = float(np.min(curve[below]))
    expect(curve[peak] >= PEAK_RATIO * best_below,
           f"the peak at p = {SWEEP[peak]} is only {curve[peak] / best_below:.3g} times the best test error for p < n; "
           f"the minimum-norm interpolant should blow up there (at least {PEAK_RATIO:g} times) (test MSE: {table})")
    expect(curve[peak] >= PEAK_RATIO * curve[at_10n] and curve[at_10n] < curve[at_2n],
           f"after the peak the test error should fall again (second descent): at p = {SWEEP[at_10n]} it should be "
           f"below its value at p = {SWEEP[at_2n]} and at least {PEAK_RATIO:g} times below the peak (test MSE: {table})")
