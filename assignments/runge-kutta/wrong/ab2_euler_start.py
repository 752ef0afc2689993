"""Known-wrong: AB2 takes its first step with explicit Euler instead of RK4.

The one Euler step adds an O(h^2) error, so AB2 still looks second order; but the values differ from AB2 with an
RK4 start, and the method is no longer exact for linear slopes. rk4 is correct.
"""
import numpy as np


def rk4(f, y0, t0, t1, n):
    h = (t1 - t0) / n
    ys = [np.asarray(y0, dtype=float)]
    for k in range(n):
        t, y = t0 + k * h, ys[-1]
        k1 = np.asarray(f(t, y))
        k2 = np.asarray(f(t + h / 2, y + h / 2 * k1))
        k3 = np.asarray(f(t + h / 2, y + h / 2 * k2))
        k4 = np.asarray(f(t + h, y + h * k3))
        ys.append(y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4))
    return np.array(ys)


def ab2(f, y0, t0, t1, n):
    h = (t1 - t0) / n
    y0 = np.asarray(y0, dtype=float)
    ys = [y0, y0 + h * np.asarray(f(t0, y0))]  # the bug: an Euler step where one RK4 step belongs
    for k in range(1, n):
        ys.append(ys[k] + h * (1.5 * np.asarray(f(t0 + k * h, ys[k])) - 0.5 * np.asarray(f(t0 + (k - 1) * h, ys[k - 1]))))
    return np.array(ys)
