"""Hidden checks for implicit-bias: gradient descent on the logistic loss and the max-margin direction (lecture 7).

The student implements, for data X of shape (n, d) and labels y in {-1, +1} (no bias term),

    logistic_loss_grad(w, X, y) -> (loss, grad)   loss = mean(log(1 + exp(-y * X w))), computed stably,
                                                  grad = -X^T (y * sigmoid(-y * X w)) / n
    gradient_descent(X, y, lr, steps) -> W         W[0] = 0, W[k+1] = W[k] - lr * grad(W[k]); shape (steps+1, d)

On linearly separable data the loss has no minimiser: |w_t| grows like |w_hat| log t and w_t/|w_t| tends to the
direction of the hard-margin SVM w_hat = argmin |w| s.t. y_i x_i.w >= 1 (Soudry et al., 2018).

Every reference value is computed here: the loss and gradient in float64 numpy (np.logaddexp and scipy's expit,
both stable), gradient descent re-implemented, the SVM direction with scikit-learn. All data come from the
harness's `rng`.

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
    expect_gradient,
)
from scipy.special import expit
from sklearn.svm import SVC

# The student's loss and gradient may differ from the harness's only by rounding.
VALUE_RTOL = 1e-7
VALUE_ATOL = 1e-10
# Gradient descent re-implemented here: 20-40 steps at lr <= 1.5/L accumulate only rounding (~1e-14 relative).
ITERATE_RTOL = 1e-6
ITERATE_ATOL = 1e-9
# Long runs on separable data (2-D, n = 12, lr = 2/L, 5000 steps). Measured over 300 seeds of `separable_data`:
# the slope of |w_t| against log t over t in [500, 5000] is 0.937..0.976 times |w_hat| for gradient descent, and
# over 2000 times it when |w_t| grows linearly (a sign error, or {0,1}-label formulas); the angle to the SVM
# direction after 5000 steps is at most 0.35 degrees, against 21 degrees or more for those mistakes.
LONG_STEPS = 5000
SLOPE_RANGE = (0.85, 1.15)
MAX_FINAL_ANGLE_DEG = 1.0
# The monotone-decrease run (non-separable 3-D data, lr = 1/L, 500 steps): gradient descent ends within 0.0014 of
# the minimum over 1000 seeds; the {0,1}-label formula ends 0.016 or more above it, and its loss goes up.
MONOTONE_STEPS = 500
MONOTONE_GAP = 5e-3


# ---------------------------------------------------------------- references (harness side)

def reference_loss(w: np.ndarray, X: np.ndarray, y: np.ndarray) -> float:
    """mean(log(1 + exp(-m))) with margins m = y * X w, without overflow."""
    return float(np.mean(np.logaddexp(0.0, -y * (X @ w))))


def reference_grad(w: np.ndarray, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """-X^T (y * sigmoid(-m)) / n."""
    return -(X.T @ (y * expit(-y * (X @ w)))) / len(y)


def reference_descent(X: np.ndarray, y: np.ndarray, lr: float, steps: int) -> np.ndarray:
    iterates = np.zeros((steps + 1, X.shape[1]))
    for k in range(steps):
        iterates[k + 1] = iterates[k] - lr * reference_grad(iterates[k], X, y)
    return iterates


def smoothness(X: np.ndarray) -> float:
    """L = lambda_max(X^T X) / (4 n): the logistic loss's gradient is L-Lipschitz."""
    return float(np.linalg.eigvalsh(X.T @ X / len(X))[-1] / 4)


def max_margin_direction(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The hard-margin SVM without bias, w_hat = argmin |w| s.t. y_i x_i.w >= 1, with scikit-learn.

    SVC always fits an intercept; on the data together with its mirror image (-x_i, -y_i) the problem is symmetric,
    so the optimal intercept is 0 and the SVC's weights are w_hat."""
    svm = SVC(kernel="linear", C=1e8, tol=1e-10).fit(np.vstack([X, -X]), np.concatenate([y, -y]))
    w_hat = svm.coef_[0]
    margins = y * (X @ w_hat)
    if abs(svm.intercept_[0]) > 1e-6 or margins.min() < 1 - 1e-6:  # a bug in the check's data, not the student's
        raise RuntimeError(f"SVM failed: intercept {svm.intercept_[0]}, smallest margin {margins.min()}")
    return w_hat


def angle_deg(a: np.ndarray, b: np.ndarray) -> float:
    """The angle between two vectors, accurate for tiny angles (unlike arccos of the cosine)."""
    a, b = a / np.linalg.norm(a), b / np.linalg.norm(b)
    return math.degrees(2 * math.atan2(np.linalg.norm(a - b), np.linalg.norm(a + b)))


# ---------------------------------------------------------------- data (harness side)

def random_problem(rng: np.random.Generator, n: int, d: int) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian inputs and labels from a logistic model (not separable in general), with both labels present."""
    X = rng.normal(size=(n, d))
    beta = rng.normal(size=d)
    beta *= 1.5 / np.linalg.norm(beta)
    y = np.where(X @ beta + rng.logistic(size=n) > 0, 1.0, -1.0)
    y[:2] = (1.0, -1.0)
    return X, y


def non_separable(rng: np.random.Generator, n: int = 40, d: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Logistic-model data with one input repeated under the opposite label: no w separates it, so the loss has a
    unique finite minimiser and gradient descent converges to it."""
    X, y = random_problem(rng, n, d)
    X[-1], y[-1] = X[0], -y[0]
    return X, y


def separable_data(rng: np.random.Generator, n: int = 12) -> tuple[np.ndarray, np.ndarray]:
    """2-D data separable through the origin, with a clear max-margin structure.

    In coordinates (u, v) along a random unit vector u: two support vectors y_i x_i = g u +- c v (one per label)
    at margin g, and the other points at 2g..3g along u, each label's on its own side in v (so the max-margin
    direction, along u, is far from the directions of the class means). The checks still compute w_hat with the SVM.
    """
    theta = rng.uniform(0.0, 2 * np.pi)
    u = np.array([np.cos(theta), np.sin(theta)])
    v = np.array([-u[1], u[0]])
    g, c = rng.uniform(0.5, 1.0), rng.uniform(0.5, 1.5)
    k = (n - 2) // 2
    labels = np.concatenate([[1.0, -1.0], np.repeat([1.0, -1.0], [k, n - 2 - k])])
    side = rng.choice([-1.0, 1.0])
    along = np.concatenate([[g, g], g * rng.uniform(2.0, 3.0, n - 2)])
    across = np.concatenate([[c, -c], -side * labels[2:] * rng.uniform(1.0, 2.0, n - 2)])
    signed = along[:, None] * u + across[:, None] * v  # y_i x_i
    order = rng.permutation(n)
    return (labels[:, None] * signed)[order], labels[order]


# ---------------------------------------------------------------- calling the student

def loss_and_grad(student: StudentHandle, w: np.ndarray, X: np.ndarray, y: np.ndarray, *,
                  what: str) -> tuple[float, np.ndarray]:
    """The student's (loss, grad) at w as (float, array of shape (d,)), or a CheckFailed naming the call."""
    call = f"logistic_loss_grad(w, X, y) {what}"
    value = student.call("logistic_loss_grad", w, X, y)
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise CheckFailed(f"{call} should return a pair (loss, grad), got {type(value).__name__}"
                          + (f" of length {len(value)}" if isinstance(value, list | tuple) else ""))
    loss = as_array(value[0], what=f"the loss from {call}")
    expect(loss.size == 1, f"the loss from {call} should be a number (the mean over the samples), got an array "
                           f"of shape {loss.shape}")
    grad = as_array(value[1], what=f"the gradient from {call}")
    if grad.shape != w.shape:
        raise CheckFailed(f"the gradient from {call} should have the shape of w, {w.shape}, got {grad.shape}")
    return float(loss.reshape(())), grad


def iterates(student: StudentHandle, X: np.ndarray, y: np.ndarray, lr: float, steps: int, *,
             what: str) -> np.ndarray:
    """The student's gradient_descent(X, y, lr, steps) as a finite array of shape (steps+1, d) starting at 0."""
    shape = (steps + 1, X.shape[1])
    call = f"gradient_descent(X, y, lr={lr:.4g}, steps={steps}) {what}"
    value = student.call("gradient_descent", X, y, lr, steps)
    if value is None:
        raise CheckFailed(f"{call} returned None; it should return the array of all iterates, shape {shape}")
    W = as_array(value, what=call)
    if W.shape != shape:
        hint = ""
        if W.shape == shape[1:]:
            hint = " (it looks like only the final iterate: return every iterate w_0, ..., w_steps, one per row)"
        elif W.shape == (steps, shape[1]):
            hint = " (one row short: row 0 must be the starting point w_0 = 0)"
        raise CheckFailed(f"{call} should have shape {shape}, got {W.shape}{hint}")
    expect(np.all(np.isfinite(W)), f"{call} contains NaN or infinity")
    expect(np.all(W[0] == 0), f"{call}: row 0 should be the starting point w_0 = 0, got {W[0]}")
    return W


# ---------------------------------------------------------------- checks

@check(points=1.5, name="loss values")
def loss_values(student: StudentHandle, rng: np.random.Generator) -> None:
    """The mean logistic loss at w = 0 (log 2) and at random w, on random data of random size."""
    n, d = int(rng.integers(15, 31)), int(rng.integers(3, 5))
    X, y = random_problem(rng, n, d)
    zero = np.zeros(d)
    loss, _ = loss_and_grad(student, zero, X, y, what=f"at w = 0 (X of shape {X.shape})")
    compare(loss, math.log(2.0), rtol=VALUE_RTOL, atol=VALUE_ATOL,
            what=f"the loss at w = 0 (every margin is 0, so it is log 2) for X of shape {X.shape}")
    for _ in range(2):
        w = rng.normal(size=d)
        loss, _ = loss_and_grad(student, w, X, y, what=f"at w = {np.round(w, 3)}")
        compare(loss, reference_loss(w, X, y), rtol=VALUE_RTOL, atol=VALUE_ATOL,
                what=f"the loss mean(log(1 + exp(-y * X w))) at w = {np.round(w, 3)} (labels y in {{-1, +1}}, "
                     f"X of shape {X.shape})")


@check(points=1.5, name="gradient values")
def gradient_values(student: StudentHandle, rng: np.random.Generator) -> None:
    """The gradient -X^T (y * sigmoid(-y * X w)) / n at w = 0 and at random w."""
    n, d = int(rng.integers(15, 31)), int(rng.integers(3, 5))
    X, y = random_problem(rng, n, d)
    for w in (np.zeros(d), rng.normal(size=d), rng.normal(size=d)):
        _, grad = loss_and_grad(student, w, X, y, what=f"at w = {np.round(w, 3)}")
        compare(grad, reference_grad(w, X, y), rtol=VALUE_RTOL, atol=VALUE_ATOL,
                what=f"the gradient at w = {np.round(w, 3)} (labels y in {{-1, +1}}, X of shape {X.shape})")


@check(points=1, name="gradient matches finite differences of your loss")
def gradient_matches_own_loss(student: StudentHandle, rng: np.random.Generator) -> None:
    """Central differences of the student's own loss against the student's own gradient: consistency, whatever
    the formulas."""
    X, y = random_problem(rng, 20, 3)
    w = rng.normal(scale=0.5, size=3)
    _, grad = loss_and_grad(student, w, X, y, what=f"at w = {np.round(w, 3)}")

    def own_loss(v: np.ndarray) -> float:
        return loss_and_grad(student, v, X, y, what=f"at w = {np.round(v, 3)}")[0]

    expect_gradient(grad, own_loss, w,
                    what=f"your gradient at w = {np.round(w, 3)} (compared with central differences of your loss)")


@check(points=1, name="stable for large margins")
def stable_for_large_margins(student: StudentHandle, rng: np.random.Generator) -> None:
    """The most negative margin y x.w is -1000..-3000: exp(-m) overflows for badly misclassified points, so
    log(1 + exp(-m)) must be computed another way (np.logaddexp, or log1p(exp(-|m|)) + max(-m, 0))."""
    X, y = random_problem(rng, 20, 3)
    w = rng.normal(size=3)
    if np.all(y * (X @ w) > 0):  # make sure some point is misclassified ...
        w = -w
    w *= rng.uniform(1000.0, 3000.0) / np.max(-y * (X @ w))  # ... with margin -1000..-3000 (exp(710) overflows)
    margins = y * (X @ w)
    what = f"at a large w = {np.round(w, 1)} (margins y * X w from {margins.min():.0f} to {margins.max():.0f})"
    hint = ("; with margins this large exp(-m) overflows to inf (np.log(1 + np.exp(-m)) gives inf, "
            "np.exp(-m) / (1 + np.exp(-m)) gives nan): use np.logaddexp(0, -m) for the loss and a sigmoid that never "
            "exponentiates a large positive number")
    loss, grad = loss_and_grad(student, w, X, y, what=what)
    expect(math.isfinite(loss), f"the loss {what} is {loss}{hint}")
    expect(np.all(np.isfinite(grad)), f"the gradient {what} is {grad}{hint}")
    compare(loss, reference_loss(w, X, y), rtol=VALUE_RTOL, atol=VALUE_ATOL, what=f"the loss {what}")
    compare(grad, reference_grad(w, X, y), rtol=VALUE_RTOL, atol=VALUE_ATOL, what=f"the gradient {what}")


@check(points=1.5, name="gradient descent iterates")
def gradient_descent_iterates(student: StudentHandle, rng: np.random.Generator) -> None:
    """Shape (steps+1, d), row 0 = 0, and every row equal to w_(k+1) = w_k - lr * grad(w_k)."""
    X, y = random_problem(rng, int(rng.integers(20, 31)), 3)
    lr = float(rng.uniform(0.5, 1.5) / smoothness(X))
    steps = int(rng.integers(20, 41))
    W = iterates(student, X, y, lr, steps, what=f"on X of shape {X.shape}")
    compare(W, reference_descent(X, y, lr, steps), rtol=ITERATE_RTOL, atol=ITERATE_ATOL,
            what=f"the iterates of gradient_descent(X, y, lr={lr:.4g}, steps={steps}) (row k is w_k, "
                 f"w_(k+1) = w_k - lr * gradient of the loss at w_k)")


@check(points=1, name="loss decreases monotonically for a small step")
def loss_decreases(student: StudentHandle, rng: np.random.Generator) -> None:
    """lr = 1/L on non-separable data: the (harness's) loss of every iterate is no larger than the previous one,
    and after 500 steps it is close to the minimum."""
    X, y = non_separable(rng)
    lr = 1.0 / smoothness(X)
    W = iterates(student, X, y, lr, MONOTONE_STEPS, what=f"on non-separable X of shape {X.shape}")
    losses = np.array([reference_loss(w, X, y) for w in W])
    rises = np.flatnonzero(np.diff(losses) > 1e-12 * (1.0 + losses[:-1]))
    if rises.size:
        k = int(rises[0])
        raise CheckFailed(f"with lr = 1/L = {lr:.4g} (L = lambda_max(X^T X)/(4n), the gradient's Lipschitz constant) "
                          f"the loss must never go up, but from step {k} to step {k + 1} it rose from "
                          f"{losses[k]:.6g} to {losses[k + 1]:.6g} (the loss here is the true mean logistic loss "
                          f"of your iterates); check the sign of the step and the labels in your gradient")
    minimum = min(reference_loss(w, X, y) for w in _newton_minimiser(X, y))
    expect(losses[-1] <= minimum + MONOTONE_GAP,
           f"with lr = 1/L = {lr:.4g} the loss went down, but after {MONOTONE_STEPS} steps it is {losses[-1]:.6g}, "
           f"while its minimum on these (non-separable) data is {minimum:.6g}: gradient descent gets within "
           f"{MONOTONE_GAP:g} of it")


def _newton_minimiser(X: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
    """Newton's method on the (strictly convex, here) logistic loss; every iterate, so the best one can be taken."""
    w = np.zeros(X.shape[1])
    path = [w]
    for _ in range(50):
        p = expit(-y * (X @ w))
        hessian = (X.T * (p * (1 - p))) @ X / len(y)
        step = np.linalg.solve(hessian, reference_grad(w, X, y))
        # Backtracking keeps Newton's method from overshooting far from the minimum.
        t = 1.0
        while reference_loss(w - t * step, X, y) > reference_loss(w, X, y) and t > 1e-8:
            t /= 2
        w = w - t * step
        path.append(w)
        if np.linalg.norm(step) < 1e-12:
            break
    return path


@check(points=1, name="the norm grows like log t")
def norm_grows_like_log_t(student: StudentHandle, rng: np.random.Generator) -> None:
    """On separable data |w_t| ~ |w_hat| log t: the slope of |w_t| against log t over t in [500, 5000] is
    about |w_hat| = 1/margin (here within 15%)."""
    X, y = separable_data(rng)
    lr = 2.0 / smoothness(X)
    W = iterates(student, X, y, lr, LONG_STEPS, what=f"on separable 2-D data X of shape {X.shape}")
    w_hat = max_margin_direction(X, y)
    times = np.unique(np.geomspace(LONG_STEPS / 10, LONG_STEPS, 8).astype(int))
    norms = np.linalg.norm(W[times], axis=1)
    shown = ", ".join(f"|w_{t}| = {r:.4g}" for t, r in zip(times, norms))
    expect(np.all(np.diff(norms) > 0),
           f"on separable data the loss has no minimiser and |w_t| should keep growing, but {shown}")
    slope = float(np.polyfit(np.log(times), norms, 1)[0])
    target = float(np.linalg.norm(w_hat))
    low, high = SLOPE_RANGE
    if not low * target <= slope <= high * target:
        hint = (" Growth much faster than log t means the gradient does not vanish as the margins grow: check the "
                "sign of the gradient and that the labels are used as -1/+1." if slope > high * target else "")
        raise CheckFailed(f"|w_t| should grow like |w_hat| log t with |w_hat| = 1/margin = {target:.4g} (lr = "
                          f"{lr:.4g}, {LONG_STEPS} steps); a fit of |w_t| against log t over t = {times[0]}..{times[-1]} "
                          f"has slope {slope:.4g}, expected {low * target:.4g}..{high * target:.4g} ({shown}).{hint}")


@check(points=1.5, name="the direction approaches the max-margin SVM")
def direction_approaches_svm(student: StudentHandle, rng: np.random.Generator) -> None:
    """w_t/|w_t| -> w_hat/|w_hat|, the hard-margin SVM direction (scikit-learn, no bias): after 5000 steps the
    angle is below 1 degree."""
    X, y = separable_data(rng)
    lr = 2.0 / smoothness(X)
    W = iterates(student, X, y, lr, LONG_STEPS, what=f"on separable 2-D data X of shape {X.shape}")
    w_hat = max_margin_direction(X, y)
    times = (LONG_STEPS // 100, LONG_STEPS // 10, LONG_STEPS)
    angles = [angle_deg(W[t], w_hat) if np.linalg.norm(W[t]) > 0 else 90.0 for t in times]
    shown = ", ".join(f"{a:.3g} deg at t = {t}" for t, a in zip(times, angles))
    expect(angles[-1] <= MAX_FINAL_ANGLE_DEG,
           f"the direction w_t/|w_t| should approach the max-margin (hard-margin SVM, no bias) direction "
           f"w_hat/|w_hat| = {np.round(w_hat / np.linalg.norm(w_hat), 4)} (lr = {lr:.4g}); the angle between them is "
           f"{shown}; expected at most {MAX_FINAL_ANGLE_DEG:g} deg after {LONG_STEPS} steps")
