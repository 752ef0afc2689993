"""Known-wrong: the loss written literally as np.log(1 + np.exp(-m)); exp(-m) overflows to inf for margins
m below about -710, so the loss is inf there. Everything else is right (1 / (1 + exp(m)) is a safe sigmoid(-m):
its overflow gives 1/inf = 0)."""
import numpy as np


def logistic_loss_grad(w, X, y):
    margins = y * (X @ w)
    loss = np.mean(np.log(1 + np.exp(-margins)))  # the bug: overflows for large negative margins
    grad = -X.T @ (y / (1 + np.exp(margins))) / len(y)
    return loss, grad


def gradient_descent(X, y, lr, steps):
    W = np.zeros((steps + 1, X.shape[1]))
    for k in range(steps):
        W[k + 1] = W[k] - lr * logistic_loss_grad(W[k], X, y)[1]
    return W
