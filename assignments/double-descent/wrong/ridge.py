"""Known-wrong: min_norm_fit adds a ridge penalty "for stability", beta = (Phi^T Phi + 0.1 I)^-1 Phi^T y.

Never singular, but it is not the minimum-norm least-squares solution for any Phi, it does not interpolate when
p > n, and the regularisation smooths the peak at p = n away.
"""
import numpy as np


def relu_features(X, W):
    return np.maximum(X @ W, 0) / np.sqrt(W.shape[1])


def min_norm_fit(Phi, y):
    p = Phi.shape[1]
    return np.linalg.solve(Phi.T @ Phi + 0.1 * np.eye(p), Phi.T @ y)
