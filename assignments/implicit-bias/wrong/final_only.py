"""Known-wrong: a correct loss, gradient and loop, but gradient_descent returns only the final iterate w_steps."""
import numpy as np


def logistic_loss_grad(w, X, y):
    margins = y * (X @ w)
    loss = np.mean(np.logaddexp(0.0, -margins))
    grad = -X.T @ (y * np.exp(-np.logaddexp(0.0, margins))) / len(y)
    return loss, grad


def gradient_descent(X, y, lr, steps):
    w = np.zeros(X.shape[1])
    for _ in range(steps):
        w = w - lr * logistic_loss_grad(w, X, y)[1]
    return w  # the bug: the assignment asks for every iterate, shape (steps + 1, d)
