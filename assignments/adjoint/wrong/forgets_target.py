"""Known-wrong: the terminal condition forgets the target, a(T) = y(T) (the gradient of 0.5 |y(T)|^2).

The adjoint equation and the quadrature are right, so the shapes are right and nothing else is.
"""
import numpy as np


def rk4_step(f, y, h):
    k1 = f(y)
    k2 = f(y + h / 2 * k1)
    k3 = f(y + h / 2 * k2)
    k4 = f(y + h * k3)
    return y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)


def adjoint_gradients(A, y0, T, target, n):
    h = T / n
    ys = [np.asarray(y0, dtype=float)]
    for _ in range(n):
        ys.append(rk4_step(lambda y: A @ y, ys[-1], h))
    adjoints = [ys[-1].copy()]  # the bug: a(T) = y(T) - target
    for _ in range(n):
        adjoints.append(rk4_step(lambda a: -A.T @ a, adjoints[-1], -h))
    adjoints = adjoints[::-1]
    weights = np.full(n + 1, h)
    weights[0] = weights[-1] = h / 2
    grad_A = sum(w * np.outer(a, y) for w, a, y in zip(weights, adjoints, ys))
    return adjoints[0], grad_A
