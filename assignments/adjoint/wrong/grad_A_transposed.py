"""Known-wrong: grad_A = integral of y(t) a(t)^T dt, the transpose of the right integral a(t) y(t)^T.

grad_y0 is right (and so is everything at the optimum, where both vanish).
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
        adjoints.append(rk4_step(lambda a: -A.T @ a, adjoints[-1], -h))
    adjoints = adjoints[::-1]
    products = np.array([np.outer(y, a) for a, y in zip(adjoints, ys)])  # the bug: np.outer(a, y)
    grad_A = np.trapezoid(products, dx=h, axis=0) if hasattr(np, "trapezoid") else np.trapz(products, dx=h, axis=0)
    return adjoints[0], grad_A
