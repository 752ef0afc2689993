"""Hidden checks for resnet-ode: a residual network is the forward Euler method for an ODE.

The student implements, in PyTorch,

    class ResNetODE(torch.nn.Module)     __init__(self, dim, hidden, depth, T=1.0)
        self.blocks: torch.nn.ModuleList of `depth` blocks, each
                     torch.nn.Sequential(torch.nn.Linear(dim, hidden), torch.nn.Tanh(), torch.nn.Linear(hidden, dim))
        forward(x)      x_(k+1) = x_k + h f_k(x_k), h = T/depth, k = 0..depth-1; returns x_depth, shape (N, dim)
        trajectory(x)   the states x_0 = x, ..., x_depth stacked, shape (depth + 1, N, dim)
    train_classifier(X, y, depth, steps, seed)   a ResNetODE plus a linear read-out trained on 2-D data; returns a
                                                 model whose predict(X) gives integer labels

The harness has no torch: every reference is computed here in float64 numpy, from weights read back with
`get_attr` (blocks.k.0.weight, blocks.k.0.bias, blocks.k.2.weight, blocks.k.2.bias) or set by the harness
through small lambdas defined in the kernel (`student.define`), which only use torch's own methods
(`zero_`, `copy_`). Sizes, T, inputs and data come from the harness's `rng`; the kernel's torch
generator (which draws the default initial weights) is seeded by the harness before every check.

Points: 10 in all.
"""
from __future__ import annotations

import numpy as np

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

BLOCK = "torch.nn.Sequential(torch.nn.Linear(dim, hidden), torch.nn.Tanh(), torch.nn.Linear(hidden, dim))"
PARAMETERS = ("0.weight", "0.bias", "2.weight", "2.bias")
# float32 through a few blocks: rounding is ~1e-6; every wrong variant the suite knows of is off by 1e-2 or more.
RTOL = 1e-4
ATOL = 1e-4
# Depths for the ODE limit with tied weights. Over 300 problems drawn as in `tied_field`, the observed orders of a
# correct network (errors against the exact flow, Frobenius norm over 8 points) stay within 0.12 of 1; a network
# that forgets h, flips the residual's sign or drops the skip connection is off by 0.75 or more.
DEPTHS = (32, 64, 128)
ORDER_TOLERANCE = 0.25
# Two moons with noise 0.1: a linear classifier gets 0.85-0.91 on the held-out points. With 12 blocks a trained
# ResNetODE (and each known variant that keeps a skip connection) gets 0.985-1 over 25 problems; 12 blocks without
# the skip connection, x_(k+1) = h f_k(x_k), shrink the signal by about h each and stay below 0.55.
ACCURACY = 0.95
TRAIN_DEPTH = 12
TRAIN_STEPS = 300


# ---------------------------------------------------------------- helpers (harness side)

def field(params: tuple[np.ndarray, ...], x: np.ndarray) -> np.ndarray:
    """f(x) = W2 tanh(W1 x + b1) + b2, row by row, in float64."""
    w1, b1, w2, b2 = (np.asarray(p, dtype=float) for p in params)
    return np.tanh(x @ w1.T + b1) @ w2.T + b2


def euler_states(blocks: list[tuple[np.ndarray, ...]], x: np.ndarray, T: float) -> list[np.ndarray]:
    """x_0 = x, x_(k+1) = x_k + h f_k(x_k), h = T/depth: the states a correct ResNetODE computes."""
    h = T / len(blocks)
    states = [np.asarray(x, dtype=float)]
    for params in blocks:
        states.append(states[-1] + h * field(params, states[-1]))
    return states


def flow(params: tuple[np.ndarray, ...], x: np.ndarray, T: float, steps: int = 2000) -> np.ndarray:
    """The exact flow of x' = f(x) to time T (classical RK4 with `steps` steps: error ~1e-13)."""
    h = T / steps
    x = np.asarray(x, dtype=float)
    for _ in range(steps):
        k1 = field(params, x)
        k2 = field(params, x + h / 2 * k1)
        k3 = field(params, x + h / 2 * k2)
        k4 = field(params, x + h * k3)
        x = x + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    return x


def build(student: StudentHandle, dim: int, hidden: int, depth: int, T: float) -> Ref:
    return student.define(f"ResNetODE({dim}, {hidden}, {depth}, T={T!r})")


def describe(dim: int, hidden: int, depth: int, T: float) -> str:
    return f"ResNetODE({dim}, {hidden}, {depth}, T={T:.4g})"


def block_params(student: StudentHandle, model: Ref, k: int, dim: int, hidden: int,
                 what: str) -> tuple[np.ndarray, ...]:
    """Block k's (W1, b1, W2, b2), read back by name and shape-checked, or a CheckFailed saying what the interface
    should be."""
    shapes = ((hidden, dim), (hidden,), (dim, hidden), (dim,))
    params = []
    for name, shape in zip(PARAMETERS, shapes):
        path = f"blocks.{k}.{name}"
        try:
            value = student.get_attr(model, path)
        except StudentError as exc:
            raise CheckFailed(f"{what}: could not read model.{path} ({exc}); self.blocks must be a "
                              f"torch.nn.ModuleList whose blocks are {BLOCK}") from None
        params.append(as_array(value, what=f"{what}: model.{path}", shape=shape))
    return tuple(params)


def forward(student: StudentHandle, model: Ref, x: np.ndarray, what: str) -> np.ndarray:
    value = student.call_method(model, "__call__", Tensor(x, dtype="float32"), no_grad=True)
    return as_array(value, what=f"{what}(x) for x of shape {x.shape}", shape=x.shape)


def inputs(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    return rng.normal(size=(n, dim)).astype(np.float32)


def sizes(rng: np.random.Generator, depths: tuple[int, int]) -> tuple[int, int, int]:
    return int(rng.integers(2, 4)), int(rng.integers(4, 13)), int(rng.integers(*depths))


def tie_weights(student: StudentHandle) -> Ref:
    """In the kernel: give every block the same weights (W1, b1, W2, b2), in the order of its parameters()."""
    return student.define(
        "lambda m, w1, b1, w2, b2: [[p.data.copy_(v) for p, v in zip(b.parameters(), (w1, b1, w2, b2))] "
        "for b in m.blocks] and None")


def tied_field(rng: np.random.Generator, dim: int, hidden: int) -> tuple[np.ndarray, ...]:
    """A vector field of Lipschitz constant about 1, so depths 32..128 are in Euler's asymptotic regime."""
    return (rng.normal(size=(hidden, dim)), rng.normal(scale=0.5, size=hidden),
            rng.normal(scale=1.5 / np.sqrt(hidden), size=(dim, hidden)), rng.normal(scale=0.3, size=dim))


def two_moons(rng: np.random.Generator, n: int, noise: float, angle: float) -> tuple[np.ndarray, np.ndarray]:
    """n points of the two interleaved half circles (label 0: upper, 1: lower), rotated by `angle`."""
    theta = rng.uniform(0.0, np.pi, size=n)
    labels = rng.integers(0, 2, size=n)
    x = np.where(labels == 0, np.cos(theta), 1.0 - np.cos(theta))
    y = np.where(labels == 0, np.sin(theta), 0.5 - np.sin(theta))
    points = np.stack([x, y], axis=1) + noise * rng.normal(size=(n, 2))
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    return (points @ rotation.T).astype(np.float32), labels.astype(np.int64)


# ---------------------------------------------------------------- checks

@check(points=1, name="depth blocks of the stated shape")
def structure(student: StudentHandle, rng: np.random.Generator) -> None:
    """len(model.blocks) == depth, and every block's two Linear layers have the stated shapes."""
    dim, hidden, depth = sizes(rng, (2, 7))
    T = float(rng.uniform(0.5, 2.0))
    model = build(student, dim, hidden, depth, T)
    what = describe(dim, hidden, depth, T)
    count = student.call(student.define("lambda m: len(m.blocks)"), model)
    expect(count == depth, f"{what} has {count} blocks in self.blocks; it should have depth = {depth} (one per "
                           f"Euler step)")
    for k in range(depth):
        block_params(student, model, k, dim, hidden, what)


@check(points=1, name="zero weights give the identity")
def identity_at_zero(student: StudentHandle, rng: np.random.Generator) -> None:
    """With every parameter set to zero, f_k = 0, so each step x + h f_k(x) leaves x unchanged."""
    dim, hidden, depth = sizes(rng, (2, 7))
    T = float(rng.uniform(0.5, 2.0))
    model = build(student, dim, hidden, depth, T)
    student.call(student.define("lambda m: [p.data.zero_() for p in m.parameters()] and None"), model)
    x = inputs(rng, 10, dim)
    what = describe(dim, hidden, depth, T)
    compare(forward(student, model, x, what), x, rtol=RTOL, atol=ATOL,
            what=f"{what} with every weight and bias set to 0 (then f_k(x) = 0 and forward(x) should return x "
                 f"itself: check the skip connection x + h f_k(x)), forward(x)")


@check(points=1.5, name="one block is x + h f(x)")
def one_block(student: StudentHandle, rng: np.random.Generator) -> None:
    """depth = 1: forward(x) = x + T f_0(x), with f_0 from the block's own (randomly initialised) weights."""
    dim, hidden, _ = sizes(rng, (1, 2))
    T = float(rng.uniform(1.5, 3.0))
    model = build(student, dim, hidden, 1, T)
    what = describe(dim, hidden, 1, T)
    params = block_params(student, model, 0, dim, hidden, what)
    x = inputs(rng, 12, dim)
    compare(forward(student, model, x, what), x + T * field(params, x), rtol=RTOL, atol=ATOL,
            what=f"{what}: with one block h = T = {T:.4g}, so forward(x) should be x + h f(x) with "
                 f"f(x) = W2 tanh(W1 x + b1) + b2 from blocks[0]; forward(x)")


@check(points=1.5, name="forward is depth Euler steps")
def euler_steps(student: StudentHandle, rng: np.random.Generator) -> None:
    """depth in 3..6, h = T/depth < 1: forward(x) = x_depth with x_(k+1) = x_k + h f_k(x_k), block k's weights."""
    dim, hidden, depth = sizes(rng, (3, 7))
    T = float(rng.uniform(0.5, 2.5))
    model = build(student, dim, hidden, depth, T)
    what = describe(dim, hidden, depth, T)
    blocks = [block_params(student, model, k, dim, hidden, what) for k in range(depth)]
    x = inputs(rng, 12, dim)
    compare(forward(student, model, x, what), euler_states(blocks, x, T)[-1], rtol=RTOL, atol=ATOL,
            what=f"{what}: forward(x) should be x_{depth} from x_0 = x, x_(k+1) = x_k + h f_k(x_k) with "
                 f"h = T/depth = {T / depth:.4g} and f_k from blocks[k]; forward(x)")


@check(points=1, name="trajectory shape, first and last state")
def trajectory(student: StudentHandle, rng: np.random.Generator) -> None:
    """trajectory(x) has shape (depth + 1, N, dim), starts at x and ends at forward(x)."""
    dim, hidden, depth = sizes(rng, (2, 7))
    T = float(rng.uniform(0.5, 2.0))
    model = build(student, dim, hidden, depth, T)
    what = describe(dim, hidden, depth, T)
    x = inputs(rng, 7, dim)
    states = as_array(student.call_method(model, "trajectory", Tensor(x, dtype="float32"), no_grad=True),
                      what=f"{what}.trajectory(x) for x of shape {x.shape}", shape=(depth + 1,) + x.shape)
    expect(np.array_equal(states[0], x), f"{what}.trajectory(x)[0] should be x itself (the state before the first "
                                         f"block), got {np.round(states[0][0], 4)} for x[0] = {np.round(x[0], 4)}")
    compare(states[-1], forward(student, model, x, what), rtol=RTOL, atol=ATOL,
            what=f"{what}.trajectory(x)[-1] (the last state, which forward(x) returns)")


@check(points=2, name="the deep limit is the ODE flow")
def ode_limit(student: StudentHandle, rng: np.random.Generator) -> None:
    """Every block given the same weights (those of a field f drawn here), depth = 32, 64, 128 with h = T/depth:
    forward(x) converges to the flow of x' = f(x) at time T at first order (the error halves with h)."""
    dim, hidden = 2, 8
    params = tied_field(rng, dim, hidden)
    T = float(rng.uniform(1.0, 2.0))
    x = inputs(rng, 8, dim)
    exact = flow(params, x, T)
    tie = tie_weights(student)
    errors = {}
    for depth in DEPTHS:
        model = build(student, dim, hidden, depth, T)
        student.call(tie, model, *(Tensor(p, dtype="float32") for p in params))
        out = forward(student, model, x, describe(dim, hidden, depth, T))
        errors[depth] = float(np.linalg.norm(out - exact))
    expect_order(errors, 1, tolerance=ORDER_TOLERANCE,
                 what=f"ResNetODE({dim}, {hidden}, depth, T={T:.4g}) with the same weights in every block, against "
                      f"the exact flow of x' = f(x) to time T (forward Euler with h = T/depth: doubling depth "
                      f"should halve the error)")


@check(points=2, name="trains a classifier on two moons")
def trains_on_two_moons(student: StudentHandle, rng: np.random.Generator) -> None:
    """train_classifier with depth 12 on 200 noisy two-moons points (rotated at random); predict on 400 held-out
    points must be at least 95% right (a linear classifier gets about 88%)."""
    angle = float(rng.uniform(0.0, 2 * np.pi))
    X, y = two_moons(rng, 200, 0.1, angle)
    X_test, y_test = two_moons(rng, 400, 0.1, angle)
    depth, steps, seed = TRAIN_DEPTH, TRAIN_STEPS, int(rng.integers(0, 10_000))
    call = f"train_classifier(X, y, depth={depth}, steps={steps}, seed={seed}).predict(X_test)"
    train_and_predict = student.define(
        "lambda X, y, depth, steps, seed, X_test: train_classifier(X, y, depth, steps, seed).predict(X_test)")
    labels = as_array(student.call(train_and_predict, Tensor(X, dtype="float32"), Tensor(y, dtype="int64"),
                                   depth, steps, seed, Tensor(X_test, dtype="float32")),
                      what=call, shape=y_test.shape)
    bad = ~np.isin(labels, (0, 1))
    if bad.any():
        raise CheckFailed(f"{call} should return integer labels 0 or 1 (the class of each row), got "
                          f"{labels[bad][0]:.4g} at index {int(np.argmax(bad))}")
    accuracy = float(np.mean(labels == y_test))
    expect(accuracy >= ACCURACY,
           f"{call}: {accuracy:.1%} of 400 held-out two-moons points are classified right; at least "
           f"{ACCURACY:.0%} is expected (X of shape (200, 2), float32, labels y in {{0, 1}}, int64). Train with "
           f"cross-entropy and Adam for the given number of steps")
