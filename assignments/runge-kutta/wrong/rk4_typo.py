"""Known-wrong: a typo in the third stage, k3 = f(t + h/2, y + h/2 k1) (k1 where k2 belongs).

The method drops to second order (its stability polynomial is 1 + z + z^2/2 + z^3/12). With f depending on t only
the stages do not see y, so it is still exact for cubic slopes. ab2 is correct apart from this RK4 start, which
keeps AB2 second order but changes its values.
"""
import numpy as np


def rk4_step(f, t, y, h):
    k1 = np.asarray(f(t, y), dtype=float)
    k2 = np.asarray(f(t + h / 2, y + h / 2 * k1), dtype=float)
    k3 = np.asarray(f(t + h / 2, y + h / 2 * k1), dtype=float)  # the bug: k1 instead of k2
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
