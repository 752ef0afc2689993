"""Known-wrong: the adjoint equation with A where A^T belongs, a' = -A a.

Right for symmetric A only; the checks use non-symmetric A. When y(T) = target the gradients still vanish.
"""
import numpy as np


def adjoint_gradients(A, y0, T, target, n):
    A = np.asarray(A, dtype=float)
    h = T / n

    def step(M, v, h):
        k1 = M @ v
        k2 = M @ (v + h / 2 * k1)
        k3 = M @ (v + h / 2 * k2)
        k4 = M @ (v + h * k3)
        return v + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)

    ys = np.zeros((n + 1, len(y0)))
    ys[0] = y0
    for k in range(n):
        ys[k + 1] = step(A, ys[k], h)
    adjoints = np.zeros_like(ys)
    adjoints[n] = ys[n] - target
    for k in range(n, 0, -1):
        adjoints[k - 1] = step(-A, adjoints[k], -h)  # the bug: the adjoint matrix is -A^T
    grad_A = np.zeros((len(y0), len(y0)))
    for k in range(n):
        grad_A += h / 2 * (np.outer(adjoints[k], ys[k]) + np.outer(adjoints[k + 1], ys[k + 1]))
    return adjoints[0], grad_A
