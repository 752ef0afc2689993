"""Hidden checks for neural-ode: a fixed-step RK4 solver in PyTorch, the adjoint method, and fitting a trajectory.

The student implements, in PyTorch,

    odeint_rk4(f, y0, t)       y' = f(t, y), y(t[0]) = y0, one classical RK4 step from t[k] to t[k + 1] (t a 1-D
                               tensor, not necessarily uniform); returns a tensor (len(t),) + y0.shape, differentiable
    class ODEFunc(nn.Module)   __init__(self, dim, hidden): self.net = Sequential(Linear(dim, hidden), Tanh(),
                               Linear(hidden, dim)); forward(t, y) = self.net(y)
    adjoint_grad(func, y0, t, loss_fn) -> (grad_y0, grad_params)
                               the gradients of loss_fn(y(t[-1])) by the adjoint method: the augmented state
                               (y, a, g) integrated backward over the reversed grid with odeint_rk4, with
                               y' = f, a' = -a^T df/dy, g' = -a^T df/dtheta (vector-Jacobian products)
    fit_trajectory(ts, ys, steps, seed) -> ODEFunc trained so that odeint_rk4(func, ys[0], ts) matches ys

The harness has no torch. Right-hand sides, loss functions and the linear test field are lambdas defined in the
kernel with `student.define`, using torch only. References are computed here in float64 numpy: the RK4 recursion
re-implemented, matrix exponentials (scipy), Van Loan's block exponential for the parameter gradient of a linear
field, and the MLP read back with `get_attr` and integrated here. The one reference computed in the kernel is
backpropagation through the student's own odeint_rk4 (torch.autograd.grad, not the student's adjoint), against
which the adjoint of a nonlinear field is compared. Every problem is drawn from the harness's `rng`; the kernel's
torch generator (default initial weights) is seeded by the harness before every check.

Points: 10 in all.
"""
from __future__ import annotations

import math

import numpy as np
from scipy.linalg import expm

from gradeflow_graders import (
    CheckFailed,
    Ref,
    StudentError,
    StudentHandle,
    Tensor,
    as_array,
    check,
    compare,
    expect,
    expect_order,
)

NET = "torch.nn.Sequential(torch.nn.Linear(dim, hidden), torch.nn.Tanh(), torch.nn.Linear(hidden, dim))"
PARAMETERS = ("net.0.weight", "net.0.bias", "net.2.weight", "net.2.bias")
# float64 throughout the solver checks: the student's RK4 may differ from the harness's only by rounding.
VALUE_RTOL = 1e-9
VALUE_ATOL = 1e-11
# Over 1000 problems drawn as in `order`, the observed orders of RK4 (norm of the error at the last time) stay
# within 0.14 of 4.
ORDER_STEPS = (20, 40, 80)
ORDER_TOLERANCE = 0.25
# Linear field, 40 RK4 steps over T <= 1: the adjoint's discretisation error is ~1e-8 of the largest entry.
ADJOINT_STEPS = 40
ADJOINT_RTOL = 1e-6
# Adjoint against backpropagation through the same solver, for an ODEFunc(2, 16) with weights drawn here (tanh well
# into its nonlinear range), 10 steps over T <= 1. Over 100 problems the two differ by at most 0.1 of the tolerance
# for RK4 (O(h^4)), and by at least 12 times the tolerance for the known wrong adjoints and solvers (a linear field
# would not do: for it the discrete and continuous adjoints of any Runge-Kutta method coincide).
BACKPROP_STEPS = 10
BACKPROP_HIDDEN = 16
BACKPROP_RTOL = 1e-4
# Fit: a damped oscillator sampled at 6 times; relative RMS error of the fitted field's own flow at the 5 midpoints.
# Over 60 problems the reference solution gets 0.004-0.043; a field trained through an Euler solver is off by 0.146
# or more (it learns to make Euler's steps match the data), one trained through RK4 with k2 weighted 1 by 0.2 or more.
FIT_TIMES = 6
FIT_STEPS = 200
FIT_ERROR = 0.08


# ---------------------------------------------------------------- helpers (harness side)

def torch_literal(array: np.ndarray) -> str:
    """A float64 torch tensor as Python source needing no import in the student's kernel (reprs round-trip)."""
    return f"__import__('torch').tensor({np.asarray(array, dtype=float).tolist()!r}, dtype=__import__('torch').float64)"


def linear_rhs(student: StudentHandle, matrix: np.ndarray) -> Ref:
    """f(t, y) = A y for a batch y of shape (..., d), in the kernel."""
    return student.define(f"lambda t, y, _A={torch_literal(matrix)}: y @ _A.T")


def forced_rhs(student: StudentHandle, matrix: np.ndarray, forcing: np.ndarray, omega: float) -> Ref:
    """f(t, y) = A y + sin(omega t) c: depends on t, so the stage times matter."""
    return student.define(
        f"lambda t, y, _A={torch_literal(matrix)}, _c={torch_literal(forcing)}, _torch=__import__('torch'): "
        f"y @ _A.T + _torch.sin({omega!r} * _torch.as_tensor(t, dtype=_torch.float64)) * _c")


def solve(student: StudentHandle, f: Ref, y0: np.ndarray, t: np.ndarray, problem: str) -> np.ndarray:
    """The student's odeint_rk4 on float64 tensors, as a finite array of shape (len(t),) + y0.shape."""
    shape = (len(t),) + y0.shape
    what = f"odeint_rk4 for {problem} with y0 of shape {y0.shape} and {len(t)} times from {t[0]:.4g} to {t[-1]:.4g}"
    value = student.call("odeint_rk4", f, Tensor(y0, dtype="float64"), Tensor(t, dtype="float64"))
    if value is None:
        raise CheckFailed(f"{what} returned None; it should return a tensor of shape {shape}")
    ys = as_array(value, what=what, shape=shape)
    expect(np.all(np.isfinite(ys)), f"{what} contains NaN or infinity")
    return ys


def rk4_reference(f, y0: np.ndarray, t: np.ndarray) -> np.ndarray:
    """One classical RK4 step per interval of the grid t (f a harness-side function of (t, y))."""
    ys = [np.asarray(y0, dtype=float)]
    for t0, t1 in zip(t[:-1], t[1:]):
        h, y = t1 - t0, ys[-1]
        k1 = f(t0, y)
        k2 = f(t0 + h / 2, y + h / 2 * k1)
        k3 = f(t0 + h / 2, y + h / 2 * k2)
        k4 = f(t0 + h, y + h * k3)
        ys.append(y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4))
    return np.array(ys)


def random_grid(rng: np.random.Generator, n: int) -> np.ndarray:
    """n times from t0 in [-1, 1], with unequal steps in [0.05, 0.3]."""
    return float(rng.uniform(-1.0, 1.0)) + np.concatenate([[0.0], np.cumsum(rng.uniform(0.05, 0.3, size=n - 1))])


def random_matrix(rng: np.random.Generator, d: int) -> np.ndarray:
    """Non-symmetric, norm about 1, eigenvalues of real part <= about 0.3."""
    return rng.normal(size=(d, d)) / math.sqrt(d) - 0.5 * np.eye(d)


def mlp(params: tuple[np.ndarray, ...], y: np.ndarray) -> np.ndarray:
    w1, b1, w2, b2 = (np.asarray(p, dtype=float) for p in params)
    return np.tanh(y @ w1.T + b1) @ w2.T + b2


def read_net(student: StudentHandle, obj: Ref, prefix: str, what: str,
             dim: int, hidden: int | None = None) -> tuple[np.ndarray, ...]:
    """(W1, b1, W2, b2) of an ODEFunc, read by name and shape-checked (hidden taken from W1 when None)."""
    params = []
    for name in PARAMETERS:
        try:
            params.append(np.asarray(student.get_attr(obj, prefix + name), dtype=float))
        except StudentError as exc:
            raise CheckFailed(f"{what}: could not read {name} ({exc}); ODEFunc must keep its layers in "
                              f"self.net = {NET}") from None
    hidden = params[0].shape[0] if hidden is None and params[0].ndim == 2 else hidden
    for value, name, shape in zip(params, PARAMETERS, ((hidden, dim), (hidden,), (dim, hidden), (dim,))):
        if value.shape != shape:
            raise CheckFailed(f"{what}: {name} should have shape {shape}, got {value.shape} (self.net = {NET})")
    return tuple(params)


def adjoint(student: StudentHandle, func: Ref, y0: np.ndarray, t: np.ndarray, loss: Ref,
            shapes: list[tuple[int, ...]], what: str) -> tuple[np.ndarray, list[np.ndarray]]:
    """The student's adjoint_grad as (grad_y0, [one array per parameter]), shape-checked."""
    value = student.call("adjoint_grad", func, Tensor(y0, dtype="float64"), Tensor(t, dtype="float64"), loss)
    return split_gradients(value, y0.shape, shapes, what)


def split_gradients(value, y0_shape: tuple[int, ...], shapes: list[tuple[int, ...]],
                    what: str) -> tuple[np.ndarray, list[np.ndarray]]:
    if not isinstance(value, list | tuple) or len(value) != 2 or not isinstance(value[1], list | tuple):
        raise CheckFailed(f"{what} should return a pair (grad_y0, grad_params) with grad_params a list of tensors, "
                          f"got {type(value).__name__}")
    grad_y0 = as_array(value[0], what=f"grad_y0 from {what}", shape=y0_shape)
    if len(value[1]) != len(shapes):
        raise CheckFailed(f"{what}: grad_params should hold one gradient per tensor of func.parameters() "
                          f"({len(shapes)}), got {len(value[1])}")
    grads = [as_array(g, what=f"grad_params[{i}] from {what}", shape=s) for i, (g, s) in enumerate(zip(value[1], shapes))]
    return grad_y0, grads


def compare_relative(actual: np.ndarray, expected: np.ndarray, rtol: float, what: str) -> None:
    """compare() with the tolerance relative to the largest entry (gradients may have entries near 0)."""
    compare(actual, expected, rtol=rtol, atol=rtol * float(np.max(np.abs(expected))), what=what)


def linear_field(student: StudentHandle, matrix: np.ndarray) -> Ref:
    """A torch module f(t, y) = A y whose one parameter (`weight`) is A, float64, in the kernel."""
    field = student.define(
        "(lambda torch, m: (setattr(m, 'forward', lambda t, y: torch.nn.functional.linear(y, m.weight)), m)[1])"
        f"(__import__('torch'), __import__('torch').nn.Linear({matrix.shape[0]}, {matrix.shape[0]}, bias=False)"
        f".double())")
    student.call(student.define("lambda m, w: (m.weight.data.copy_(w), None)[1]"), field, Tensor(matrix, dtype="float64"))
    return field


def squared_loss(student: StudentHandle, target: np.ndarray, scale: float) -> Ref:
    """L(y) = scale * |y - target|^2, in the kernel."""
    return student.define(f"lambda y, _c={torch_literal(target)}: {scale!r} * ((y - _c) ** 2).sum()")


def van_loan(M: np.ndarray, Q: np.ndarray, N: np.ndarray, T: float) -> np.ndarray:
    """integral_0^T e^(M (T - s)) Q e^(N s) ds, exactly (up to expm's rounding)."""
    d = M.shape[0]
    return expm(T * np.block([[M, Q], [np.zeros((d, d)), N]]))[:d, d:]


def linear_problem(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A, y0, target and the time grid for the linear adjoint checks (d from 2 to 4, T in [0.5, 1])."""
    d = int(rng.integers(2, 5))
    T = float(rng.uniform(0.5, 1.0))
    return random_matrix(rng, d), rng.normal(size=d), rng.normal(size=d), np.linspace(0.0, T, ADJOINT_STEPS + 1)


def linear_gradients(A: np.ndarray, y0: np.ndarray, target: np.ndarray, T: float) -> tuple[np.ndarray, np.ndarray]:
    """For L = 0.5 |y(T) - target|^2, y' = A y: a(T) = y(T) - target, dL/dy0 = e^(A^T T) a(T) and
    dL/dA = integral_0^T a(s) y(s)^T ds with a(s) = e^(A^T (T - s)) a(T), y(s) = e^(A s) y0."""
    residual = expm(A * T) @ y0 - target
    return expm(A.T * T) @ residual, van_loan(A.T, np.outer(residual, y0), A.T, T)


def describe(A: np.ndarray, y0: np.ndarray, target: np.ndarray, t: np.ndarray) -> str:
    return (f"f(t, y) = A y with A = {np.round(A, 3).tolist()}, y0 = {np.round(y0, 3).tolist()}, "
            f"L = 0.5 |y(T) - target|^2 with target = {np.round(target, 3).tolist()}, t = linspace(0, "
            f"{t[-1]:.4g}, {len(t)})")


# ---------------------------------------------------------------- checks

@check(points=1, name="odeint_rk4 shape and first value")
def shape_and_first_value(student: StudentHandle, rng: np.random.Generator) -> None:
    """(len(t), d) for y0 of shape (d,) and (len(t), N, d) for a batch; row 0 is y0 itself."""
    for y0 in (rng.normal(size=3), rng.normal(size=(4, 2))):
        t = random_grid(rng, int(rng.integers(4, 12)))
        f = linear_rhs(student, random_matrix(rng, y0.shape[-1]))
        ys = solve(student, f, y0, t, problem="y' = A y")
        expect(np.array_equal(ys[0], y0), f"odeint_rk4(f, y0, t)[0] should be y0 itself, got {np.round(ys[0], 4)} "
                                          f"for y0 = {np.round(y0, 4)}")


@check(points=1.5, name="odeint_rk4 values on a forced linear system")
def values(student: StudentHandle, rng: np.random.Generator) -> None:
    """y' = A y + sin(omega t) c for a batch of 5 initial values on an unequal grid: every row equals one RK4 step
    per interval, as re-implemented here."""
    d = 3
    A, c, omega = random_matrix(rng, d), rng.uniform(-1.0, 1.0, size=d), float(rng.uniform(1.0, 3.0))
    y0 = rng.normal(size=(5, d))
    t = random_grid(rng, int(rng.integers(8, 16)))
    ys = solve(student, forced_rhs(student, A, c, omega), y0, t, problem=f"y' = A y + sin({omega:.3f} t) c")
    expected = rk4_reference(lambda s, y: y @ A.T + math.sin(omega * s) * c, y0, t)
    compare(ys, expected, rtol=VALUE_RTOL, atol=VALUE_ATOL,
            what=f"odeint_rk4 for y' = A y + sin({omega:.3f} t) c on the grid t = {np.round(t, 3).tolist()} (one RK4 "
                 f"step per interval, h = t[k+1] - t[k], stages at t[k], t[k] + h/2, t[k] + h/2, t[k] + h), row k")


@check(points=1.5, name="odeint_rk4 is fourth order")
def order(student: StudentHandle, rng: np.random.Generator) -> None:
    """y' = A y on uniform grids of 20, 40, 80 steps: the error at the last time against e^(A T) y0 falls by about
    16 each time the step halves."""
    A, y0 = random_matrix(rng, 3), rng.normal(size=3)
    t0, T = float(rng.uniform(-1.0, 1.0)), float(rng.uniform(1.0, 2.0))
    f = linear_rhs(student, A)
    exact = expm(A * T) @ y0
    errors = {n: float(np.linalg.norm(solve(student, f, y0, np.linspace(t0, t0 + T, n + 1), problem="y' = A y")[-1]
                                      - exact)) for n in ORDER_STEPS}
    expect_order(errors, 4, tolerance=ORDER_TOLERANCE,
                 what=f"odeint_rk4 on y' = A y (A = {np.round(A, 3).tolist()}), error at t = t0 + {T:.3f} against "
                      f"exp(A T) y0 (halving the step should divide it by about 16)")


@check(points=0.5, name="ODEFunc is the stated MLP")
def odefunc(student: StudentHandle, rng: np.random.Generator) -> None:
    """ODEFunc(dim, hidden): self.net's layers have the stated shapes and func(t, y) = W2 tanh(W1 y + b1) + b2."""
    dim, hidden = int(rng.integers(2, 4)), int(rng.integers(8, 33))
    func = student.define(f"ODEFunc({dim}, {hidden})")
    what = f"ODEFunc({dim}, {hidden})"
    params = read_net(student, func, "", what, dim, hidden)
    y = rng.normal(size=(6, dim)).astype(np.float32)
    out = student.call_method(func, "__call__", float(rng.uniform(0.0, 1.0)), Tensor(y, dtype="float32"),
                              no_grad=True)
    compare(as_array(out, what=f"{what}(t, y) for y of shape {y.shape}", shape=y.shape), mlp(params, y),
            rtol=1e-4, atol=1e-5, what=f"{what}(t, y) (should be self.net(y) = W2 tanh(W1 y + b1) + b2)")


@check(points=1.5, name="adjoint gradient for y0 (linear field)")
def adjoint_y0(student: StudentHandle, rng: np.random.Generator) -> None:
    """f = A y (a module whose one parameter is A): grad_y0 = e^(A^T T)(e^(A T) y0 - target) for
    L = 0.5 |y(T) - target|^2."""
    A, y0, target, t = linear_problem(rng)
    what = f"adjoint_grad(func, y0, t, loss_fn) for {describe(A, y0, target, t)}"
    grad_y0, _ = adjoint(student, linear_field(student, A), y0, t, squared_loss(student, target, 0.5),
                         [A.shape], what)
    compare_relative(grad_y0, linear_gradients(A, y0, target, float(t[-1]))[0], ADJOINT_RTOL,
                     what=f"grad_y0 = a(t0) = exp(A^T T)(y(T) - target) from {what} (check a(T) = dL/dy(T), "
                          f"a' = -a^T df/dy and that the augmented state is integrated from t[-1] back to t[0]),")


@check(points=1, name="adjoint gradient for the parameters (linear field)")
def adjoint_params(student: StudentHandle, rng: np.random.Generator) -> None:
    """f = A y: dL/dA = integral of a(s) y(s)^T ds, exactly by Van Loan's block exponential. Needs y(s) along the
    way, so y must be integrated backward with a."""
    A, y0, target, t = linear_problem(rng)
    what = f"adjoint_grad(func, y0, t, loss_fn) for {describe(A, y0, target, t)}"
    _, (grad_A,) = adjoint(student, linear_field(student, A), y0, t, squared_loss(student, target, 0.5),
                           [A.shape], what)
    compare_relative(grad_A, linear_gradients(A, y0, target, float(t[-1]))[1], ADJOINT_RTOL,
                     what=f"grad_params[0] = dL/dA = integral of a(s) y(s)^T ds from {what} (check g' = -a^T df/dA "
                          f"and that y is integrated backward alongside a),")


@check(points=1.5, name="adjoint agrees with backpropagation through odeint_rk4")
def adjoint_vs_backprop(student: StudentHandle, rng: np.random.Generator) -> None:
    """An ODEFunc(2, 16) in float64 with weights drawn here and L = |y(T) - target|^2: adjoint_grad against
    torch.autograd.grad of L through the student's own odeint_rk4 (computed in the kernel, with torch only)."""
    hidden = BACKPROP_HIDDEN
    func = student.define(f"ODEFunc(2, {hidden}).double()")
    what = f"ODEFunc(2, {hidden}).double()"
    read_net(student, func, "", what, 2, hidden)
    weights = (rng.normal(size=(hidden, 2)), rng.normal(size=hidden),
               rng.normal(scale=1 / math.sqrt(hidden), size=(2, hidden)), rng.normal(scale=0.5, size=2))
    assign = student.define("lambda m, name, w: (m.get_parameter(name).data.copy_(w), None)[1]")
    for name, value in zip(PARAMETERS, weights):
        student.call(assign, func, name, Tensor(value, dtype="float64"))
    y0, target = rng.normal(size=2), rng.normal(size=2)
    t = np.linspace(0.0, float(rng.uniform(0.5, 1.0)), BACKPROP_STEPS + 1)
    loss = squared_loss(student, target, 1.0)
    backprop = student.define(
        "lambda func, y0, t, loss_fn, _torch=__import__('torch'): (lambda y0, params: (lambda grads: "
        "[grads[0], list(grads[1:])])(_torch.autograd.grad(loss_fn(odeint_rk4(func, y0, t)[-1]), [y0] + params)))"
        "(y0.detach().clone().requires_grad_(True), list(func.parameters()))")
    shapes = [w.shape for w in weights]
    problem = (f"{what} with weights W1 = {np.round(weights[0], 3).tolist()}, b1, W2, b2 drawn by the grader, "
               f"y0 = {np.round(y0, 3).tolist()}, L = |y(T) - target|^2 with target = {np.round(target, 3).tolist()}, "
               f"t = linspace(0, {t[-1]:.4g}, {len(t)})")
    want_y0, want = split_gradients(
        student.call(backprop, func, Tensor(y0, dtype="float64"), Tensor(t, dtype="float64"), loss), y0.shape, shapes,
        f"backpropagation through odeint_rk4 for {problem}")
    got_y0, got = adjoint(student, func, y0, t, loss, shapes, f"adjoint_grad for {problem}")
    names = ["grad_y0"] + [f"grad_params[{i}] ({name})" for i, name in enumerate(PARAMETERS)]
    for name, actual, expected in zip(names, [got_y0] + got, [want_y0] + want):
        compare_relative(actual, expected, BACKPROP_RTOL,
                         what=f"{name} from adjoint_grad, against backpropagation through your odeint_rk4 (check that "
                              f"y is integrated backward with a, and the signs of a' and g'), for {problem}:")


@check(points=1.5, name="fits a damped oscillator")
def fit(student: StudentHandle, rng: np.random.Generator) -> None:
    """fit_trajectory on y' = A y, A = [[-alpha, -omega], [omega, -alpha]] sampled at 6 times of [0, T]; the fitted
    ODEFunc's own flow (integrated here from ys[0]) must match the exact solution at the 5 held-out midpoints to a
    relative RMS error below 0.08."""
    alpha, omega = float(rng.uniform(0.1, 0.3)), float(rng.uniform(1.0, 1.5))
    A = np.array([[-alpha, -omega], [omega, -alpha]])
    angle = float(rng.uniform(0.0, 2 * np.pi))
    y0 = float(rng.uniform(1.5, 2.0)) * np.array([math.cos(angle), math.sin(angle)])
    ts = np.linspace(0.0, float(rng.uniform(2.0, 2.5)), FIT_TIMES)
    ys = np.array([expm(A * s) @ y0 for s in ts])
    seed = int(rng.integers(0, 10_000))
    call = f"fit_trajectory(ts, ys, steps={FIT_STEPS}, seed={seed})"
    box = student.define("[]")
    student.call(student.define("lambda box, *args: box.append(fit_trajectory(*args))"), box,
                 Tensor(ts, dtype="float32"), Tensor(ys, dtype="float32"), FIT_STEPS, seed)
    params = read_net(student, box, "0.", f"the ODEFunc returned by {call}", 2)
    held_out = (ts[:-1] + ts[1:]) / 2
    fine = np.linspace(0.0, ts[-1], 32 * (FIT_TIMES - 1) + 1)  # 16 RK4 steps per half interval
    predicted = rk4_reference(lambda s, y: mlp(params, y), y0, fine)[16::32]  # at the midpoints
    exact = np.array([expm(A * s) @ y0 for s in held_out])
    if not np.all(np.isfinite(predicted)):
        raise CheckFailed(f"the flow of the ODEFunc returned by {call} is not finite")
    error = float(np.sqrt(np.mean((predicted - exact) ** 2) / np.mean(exact ** 2)))
    expect(error <= FIT_ERROR,
           f"{call} on a damped oscillator y' = A y, A = {np.round(A, 3).tolist()}, y0 = {np.round(y0, 3).tolist()}, "
           f"ts = linspace(0, {ts[-1]:.3f}, {FIT_TIMES}) (float32 tensors; ys of shape ({FIT_TIMES}, 2)): the flow "
           f"of the fitted field, integrated accurately from ys[0], is off by {error:.1%} (relative RMS) at the "
           f"held-out midpoints; at most {FIT_ERROR:.0%} is expected. Train through odeint_rk4 on the mean squared "
           f"error with Adam")
