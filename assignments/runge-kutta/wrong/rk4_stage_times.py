"""Known-wrong: the middle RK4 stages are evaluated at t_k instead of t_k + h/2 (k2 = f(t_k, y_k + h/2 k1), ...).

Harmless when f does not depend on t, so the order and the linear-system values still come out right; wrong as soon
as it does. ab2 is correct but starts with this rk4 step.
"""
import numpy as np


def rk4_step(f, t, y, h):
    k1 = np.asarray(f(t, y), dtype=float)
    k2 = np.asarray(f(t, y + h / 2 * k1), dtype=float)  # the bug: should be t + h/2
    k3 = np.asarray(f(t, y + h / 2 * k2), dtype=float)  # the bug: should be t + h/2
    k4 = np.asarray(f(t + h, y + h * k3), dtype=float)
    return y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)


def rk4(f, y0, t0, t1, n):
    h = (t1 - t0) / n
    ys = [np.asarray(y0, dtype=float)]
    for k in range(n):
        ys.append(rk4_step(f, t0 + k * h, ys[-1], h))
    return np.array(ys)


def ab2(f, y0, t0, t1, n):
    h = (t1 - t0) / n
    ys = [np.asarray(y0, dtype=float), rk4_step(f, t0, np.asarray(y0, dtype=float), h)]
    for k in range(1, n):
        ys.append(ys[k] + h * (1.5 * np.asarray(f(t0 + k * h, ys[k])) - 0.5 * np.asarray(f(t0 + (k - 1) * h, ys[k - 1]))))
    return np.array(ys)
