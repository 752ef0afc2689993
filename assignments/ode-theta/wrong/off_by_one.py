"""Known-wrong: a correct Newton-based theta method on the wrong grid, h = (t1 - t0) / (n + 1).

It returns n + 1 points but stops one step short of t1, so everything that depends on reaching t1 fails, while
stability (which only needs a decaying implicit step) still holds.
"""
import numpy as np


def newton(g, z, tol=1e-12):
    for _ in range(50):
        gz = g(z)
        jacobian = np.empty((z.size, z.size))
        for j in range(z.size):
            step = 1e-7 * max(1.0, abs(z[j]))
            shifted = z.copy()
            shifted[j] += step
            jacobian[:, j] = (g(shifted) - gz) / step
        delta = np.linalg.solve(jacobian, gz)
        z = z - delta
        if np.max(np.abs(delta)) <= tol * (1.0 + np.max(np.abs(z))):
            break
    return z


def theta_method(f, y0, t0, t1, n, theta):
    y0 = np.asarray(y0, dtype=float)
    shape = y0.shape

    def rhs(t, y):
        return np.atleast_1d(np.asarray(f(t, y.reshape(shape) if shape else y[0]), dtype=float))

    h = (t1 - t0) / (n + 1)  # the bug: n steps need h = (t1 - t0) / n
    ys = [np.atleast_1d(y0)]
    for k in range(n):
        y = ys[-1]
        known = y + h * theta * rhs(t0 + k * h, y)
        ys.append(newton(lambda z: z - known - h * (1 - theta) * rhs(t0 + (k + 1) * h, z), y.copy()))
    return np.array(ys).reshape((n + 1,) + shape)


best_theta = 0.5
