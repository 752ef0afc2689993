"""Known-wrong: the adjoint equation with the wrong sign, a' = +A^T a (as if it were another forward equation).

Everything else is right (RK4 both ways, a(T) = y(T) - target, trapezoid rule), so when y(T) = target the
gradients still vanish.
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
    adjoints = [ys[-1] - target]
    for _ in range(n):
        adjoints.append(rk4_step(lambda a: A.T @ a, adjoints[-1], -h))  # the bug: a' = -A^T a
    adjoints = adjoints[::-1]
    products = np.array([np.outer(a, y) for a, y in zip(adjoints, ys)])
    grad_A = h * (products.sum(axis=0) - (products[0] + products[-1]) / 2)
    return adjoints[0], grad_A
