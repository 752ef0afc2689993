"""Known-wrong: the ReLU is applied to the inputs instead of the pre-activations, Phi = max(X, 0) W / sqrt(p).

These features are linear in W, so Phi has rank at most d whatever p is: no interpolation threshold at p = n and
no peak. min_norm_fit is right.
"""
import numpy as np


def relu_features(X, W):
    return np.maximum(X, 0) @ W / np.sqrt(W.shape[1])  # the bug: np.maximum(X @ W, 0)


def min_norm_fit(Phi, y):
    return np.linalg.pinv(Phi) @ y
