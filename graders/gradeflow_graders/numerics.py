"""Numeric checks, computed in the harness: closeness, orders of convergence, gradients and log-determinants.

Everything here works on float64 (or complex128) numpy arrays; the student's functions are reached only through
the callables a check passes in (typically wrapping `student.call`). Each `expect_*` raises CheckFailed with a
message the student can act on: where the answer is wrong, by how much, and against which tolerance.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from gradeflow_graders.api import CheckFailed

# (rtol, atol) per floating-point component size in bytes: a few hundred ulps of slack, so a correct result
# computed in a different but reasonable order still passes.
_FLOAT_TOLERANCES = {8: (1e-7, 1e-9), 4: (1e-4, 1e-5), 2: (1e-2, 1e-3)}


def default_tolerances(dtype: Any) -> tuple[float, float]:
    """The (rtol, atol) a result of this dtype is held to.

    >>> default_tolerances(np.float32)
    (0.0001, 1e-05)

    float64/complex128 -> (1e-7, 1e-9), float32/complex64 -> (1e-4, 1e-5), float16 -> (1e-2, 1e-3),
    integers and bools -> (0, 0): exact.
    """
    dtype = np.dtype(dtype)
    if dtype.kind in "biu":
        return 0.0, 0.0
    if dtype.kind not in "fc":
        raise ValueError(f"no numeric tolerances for dtype {dtype}")
    component = dtype.itemsize // (2 if dtype.kind == "c" else 1)
    return _FLOAT_TOLERANCES[min(max(component, 2), 8)]  # longdouble is held to float64's tolerances


def _numeric(value: Any, what: str) -> np.ndarray:
    """The value as a numeric array with its own dtype kept (so the tolerances can follow it)."""
    try:
        array = np.asarray(value)
    except (TypeError, ValueError):  # ragged lists and the like
        raise CheckFailed(f"{what} should be numeric, got {type(value).__name__}") from None
    if array.dtype.kind not in "biufc":
        raise CheckFailed(f"{what} should be numeric, got {type(value).__name__}")
    return array


def _index(flat: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(int(i) for i in np.unravel_index(flat, shape))


def _worst(err: np.ndarray, allowed: np.ndarray, bad: np.ndarray) -> int:
    """Flat index of the entry furthest outside its tolerance (relative to what it was allowed), ties by error."""
    ratio = np.where(allowed > 0, err / np.where(allowed > 0, allowed, 1.0), np.inf)
    ratio = np.where(bad, ratio, -1.0)
    top = ratio.max()
    return int(np.argmax(np.where(ratio == top, err, -1.0)))


def compare(actual: Any, expected: Any, *, rtol: float | None = None, atol: float | None = None,
            what: str = "the result") -> None:
    """Fail unless `actual` matches `expected` elementwise: |actual - expected| <= atol + rtol * |expected|.

    >>> compare(student.call("solve", A, b), np.linalg.solve(A, b), what="solve(A, b)")

    Shapes must match exactly and `actual` must be finite. Tolerances left as None follow the dtypes (the looser
    of actual's, as it came back, and expected's; see default_tolerances). A failure names the worst entry, what
    was expected there and what came back: "the result at index (88, 1): expected 0.9982, got 0.3412 (off by 0.657;
    tolerance rtol=1e-07, atol=1e-09; 12 of 200 entries outside it)", with as many digits as it takes to tell the
    two apart. A non-finite `expected` is a bug in the check and raises ValueError.
    """
    want = _numeric(expected, "the expected value")
    got = _numeric(actual, what)
    if got.shape != want.shape:
        raise CheckFailed(f"{what} should have shape {want.shape}, got {got.shape}")
    if not np.all(np.isfinite(want)):
        raise ValueError(f"the expected value for {what} contains NaN or infinity")
    finite = np.isfinite(got)
    if not np.all(finite):
        flat = int(np.argmin(finite.ravel()))
        where = f" at index {_index(flat, got.shape)}" if got.ndim else ""
        kind = "NaN" if np.isnan(got.ravel()[flat]) else "infinity"
        raise CheckFailed(f"{what} contains {kind}{where}; it should be finite")
    loose = [default_tolerances(a.dtype) for a in (got, want)]
    rtol = max(t[0] for t in loose) if rtol is None else rtol
    atol = max(t[1] for t in loose) if atol is None else atol
    kind = complex if "c" in (got.dtype.kind, want.dtype.kind) else float
    got, want = got.astype(kind), want.astype(kind)
    err = np.abs(got - want)
    allowed = atol + rtol * np.abs(want)
    bad = err > allowed
    if not np.any(bad):
        return
    flat = _worst(err.ravel(), allowed.ravel(), bad.ravel())
    where = f" at index {_index(flat, got.shape)}" if got.ndim else ""
    count = f"; {int(bad.sum())} of {bad.size} entries outside it" if got.ndim else ""
    shown_want, shown_got = _distinct(want.ravel()[flat], got.ravel()[flat])
    raise CheckFailed(f"{what}{where}: expected {shown_want}, got {shown_got} "
                      f"(off by {err.ravel()[flat]:.4g}; tolerance rtol={rtol:g}, atol={atol:g}{count})")


def _distinct(expected: complex, actual: complex) -> tuple[str, str]:
    """Both values with 4 significant digits, or as many more as it takes for them to read differently."""
    for digits in range(4, 18):
        shown = f"{expected:.{digits}g}", f"{actual:.{digits}g}"
        if shown[0] != shown[1]:
            return shown
    return shown


# ---------------------------------------------------------------- orders of convergence

def observed_orders(errors: Sequence[float], *, ratio: float = 2.0) -> list[float]:
    """log_ratio(e_k / e_(k+1)) for successive errors, the step size divided by `ratio` each time.

    >>> observed_orders([1e-2, 2.5e-3, 6.25e-4])
    [2.0, 2.0]

    Magnitudes are used, so signed errors are fine; zero or non-finite errors raise ValueError.
    """
    sizes = [abs(float(e)) for e in errors]
    if any(not math.isfinite(e) or e == 0 for e in sizes):
        raise ValueError(f"observed orders need non-zero finite errors, got {list(errors)}")
    return [math.log(sizes[k] / sizes[k + 1]) / math.log(ratio) for k in range(len(sizes) - 1)]


def expect_order(errors_by_n: Mapping[int, float], order: float, *, tolerance: float = 0.25,
                 what: str = "the method") -> list[float]:
    """Fail unless every observed order is within `tolerance` of `order`; returns the observed orders.

    >>> errors = {n: abs(solve(n)[-1] - exact) for n in (20, 40, 80)}
    >>> expect_order(errors, 2, what="the trapezoid rule")

    `errors_by_n` maps a number of steps (or points, or any h ~ 1/n) to the error there; n need not double,
    the order between n_k and n_(k+1) is log(e_k / e_(k+1)) / log(n_(k+1) / n_k).
    """
    ns = sorted(errors_by_n)
    if len(ns) < 2:
        raise ValueError("expect_order needs errors for at least two values of n")
    for n in ns:
        error = abs(float(errors_by_n[n]))
        if not math.isfinite(error):
            raise CheckFailed(f"{what}: the error for n = {n} is {error}; it should be finite")
        if error == 0:
            raise CheckFailed(f"{what}: the error for n = {n} is exactly 0, which cannot show an order of "
                              f"convergence (a discretisation should not be exact here)")
    orders = [math.log(abs(errors_by_n[a]) / abs(errors_by_n[b])) / math.log(b / a) for a, b in zip(ns, ns[1:])]
    if any(abs(p - order) > tolerance for p in orders):
        shown = ", ".join(f"{p:.3g}" for p in orders)
        errors = ", ".join(f"{abs(errors_by_n[n]):.4g}" for n in ns)
        raise CheckFailed(f"{what}: observed orders {shown} (errors {errors} for n = {', '.join(map(str, ns))}), "
                          f"expected about {order:g} (within {tolerance:g})")
    return orders


# ---------------------------------------------------------------- finite differences (harness side)

def _evaluate(func: Callable[[np.ndarray], Any], point: np.ndarray, shape: tuple[int, ...], what: str) -> np.ndarray:
    """func at a private copy of point, as a float64 array of the given shape (or a CheckFailed)."""
    value = _numeric(func(point.copy()), what)
    if value.size != math.prod(shape):
        raise CheckFailed(f"{what} should have shape {shape}, got {value.shape}")
    return value.astype(float).reshape(shape)


def _steps(x: np.ndarray, eps: float) -> np.ndarray:
    # Scaled with |x| so the step stays well above float64 rounding for large coordinates.
    return eps * np.maximum(1.0, np.abs(x))


def central_difference_gradient(func: Callable[[np.ndarray], Any], x: Any, *, eps: float = 1e-6) -> np.ndarray:
    """Gradient of a scalar function at x (any shape) by central differences; 2 * x.size calls to func.

    >>> loss = lambda w: student.call("loss", w, X, y)
    >>> central_difference_gradient(loss, w0)        # same shape as w0

    The step along coordinate i is eps * max(1, |x_i|).
    """
    x = np.array(x, dtype=float)
    steps = _steps(x, eps)
    grad = np.empty_like(x)
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += steps[i]
        down[i] -= steps[i]
        value = _evaluate(func, up, (), "the function") - _evaluate(func, down, (), "the function")
        grad[i] = float(value) / (2 * steps[i])
    return grad


def expect_gradient(gradient: Any, func: Callable[[np.ndarray], Any], x: Any, *, eps: float = 1e-6,
                    rtol: float = 1e-4, atol: float = 1e-6, what: str = "the gradient") -> None:
    """Fail unless `gradient` matches the central-difference gradient of func at x (see compare).

    >>> w0 = rng.normal(size=5)
    >>> expect_gradient(student.call("loss_grad", w0, X, y), lambda w: student.call("loss", w, X, y), w0)
    """
    reference = central_difference_gradient(func, x, eps=eps)
    if not np.all(np.isfinite(reference)):
        raise CheckFailed(f"the function is not finite near x, so {what} could not be checked")
    compare(gradient, reference, rtol=rtol, atol=atol, what=what)


def jacobian_fd(func: Callable[[np.ndarray], Any], z: Any, *, eps: float = 1e-6) -> np.ndarray:
    """Jacobian J[i, j] = d func_i / d z_j of a map (d,) -> (d,) by central differences; 2 * d calls to func.

    >>> jacobian_fd(lambda v: np.array([v[0] * v[1], v[1]]), np.array([2.0, 3.0]))   # ~[[3, 2], [0, 1]]
    """
    z = np.array(z, dtype=float)
    if z.ndim != 1:
        raise ValueError(f"jacobian_fd needs a vector, got shape {z.shape}")
    steps = _steps(z, eps)
    columns = []
    for j in range(z.size):
        up, down = z.copy(), z.copy()
        up[j] += steps[j]
        down[j] -= steps[j]
        difference = _evaluate(func, up, z.shape, "the function") - _evaluate(func, down, z.shape, "the function")
        columns.append(difference / (2 * steps[j]))
    return np.stack(columns, axis=1)


def brute_force_log_det(func: Callable[[np.ndarray], Any], z: Any, *, eps: float = 1e-6) -> np.ndarray:
    """log|det J| per sample of a batched map func: (N, d) -> (N, d), shape (N,); 2 * N * d calls to func.

    >>> brute_force_log_det(lambda batch: student.call("flow_forward", params, batch)[0], z)

    Each Jacobian is taken from func applied to one row at a time (a (1, d) batch), so a map that mixes
    samples cannot pass off the mixing as its Jacobian. A singular Jacobian gives -inf.
    """
    z = np.array(z, dtype=float)
    if z.ndim != 2:
        raise ValueError(f"brute_force_log_det needs a batch of shape (N, d), got {z.shape}")
    d = z.shape[1]

    def one_row(row: np.ndarray) -> np.ndarray:
        return _evaluate(func, row[None, :], (1, d), "the function applied to one row")[0]

    return np.array([np.linalg.slogdet(jacobian_fd(one_row, row, eps=eps))[1] for row in z])


def expect_log_det(log_det: Any, func: Callable[[np.ndarray], Any], z: Any, *, rtol: float = 1e-4,
                   atol: float = 1e-5, what: str = "log_det") -> None:
    """Fail unless `log_det` (shape (N,)) matches brute_force_log_det(func, z) (see compare).

    >>> x, log_det = student.call("flow_forward", params, z)
    >>> expect_log_det(log_det, lambda batch: student.call("flow_forward", params, batch)[0], z)
    """
    reference = brute_force_log_det(func, z)
    bad = np.flatnonzero(~np.isfinite(reference))
    if bad.size:
        raise CheckFailed(f"the Jacobian of the map is singular or not finite at sample {int(bad[0])}, "
                          f"so {what} could not be checked")
    compare(log_det, reference, rtol=rtol, atol=atol, what=what)
