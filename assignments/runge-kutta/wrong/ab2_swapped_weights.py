"""Known-wrong: the AB2 weights are attached to the wrong slopes, y_(k+1) = y_k + h (3/2 f_(k-1) - 1/2 f_k).

Still consistent (the weights sum to 1), so it converges, but only with order 1. rk4 is correct.
"""
import numpy as np


def rk4_step(f, t, y, h):
    k1 = np.asarray(f(t, y), dtype=float)
    k2 = np.asarray(f(t + h / 2, y + h / 2 * k1), dtype=float)
    k3 = np.asarray(f(t + h / 2, y + h / 2 * k2), dtype=float)
    k4 = np.asarray(f(t + h, y + h * k3), dtype=float)
    return y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)


def rk4(f, y0, t0, t1, n):
    h = (t1 - t0) / n
    ys = np.zeros((n + 1,) + np.shape(y0))
    ys[0] = y0
    for k in range(n):
        ys[k + 1] = rk4_step(f, t0 + k * h, ys[k], h)
    return ys


def ab2(f, y0, t0, t1, n):
    h = (t1 - t0) / n
    ys = np.zeros((n + 1,) + np.shape(y0))
    ys[0] = y0
    ys[1] = rk4_step(f, t0, ys[0], h)
    for k in range(1, n):
        new, old = np.asarray(f(t0 + k * h, ys[k])), np.asarray(f(t0 + (k - 1) * h, ys[k - 1]))
        ys[k + 1] = ys[k] + h * (1.5 * old - 0.5 * new)  # the bug: 3/2 belongs to the newest slope f_k
    return ys
