"""Known-wrong: RK4 with k2 weighted 1 instead of 2, y + h/6 (k1 + k2 + 2 k3 + k4).

The weights sum to 5/6, so the method is not even consistent: it integrates (roughly) y' = 5/6 f. Shapes are fine;
values, order and the adjoint (which reuses the solver) are not, and the fitted field comes out about 6/5 too fast.
"""
import numpy as np
import torch
from torch import nn

torch.set_num_threads(1)  # the grader's machines are small


def rk4_step(f, t, y, h):
    """One classical Runge-Kutta step for y' = f(t, y) from (t, y) with step h (h < 0 integrates backward)."""
    k1 = f(t, y)
    k2 = f(t + h / 2, y + h / 2 * k1)
    k3 = f(t + h / 2, y + h / 2 * k2)
    k4 = f(t + h, y + h * k3)
    return y + h / 6 * (k1 + k2 + 2 * k3 + k4)


def odeint_rk4(f, y0, t):
    """One RK4 step from t[k] to t[k + 1] for y' = f(t, y); a tensor of shape (len(t),) + y0.shape."""
    ys = [y0]
    for k in range(len(t) - 1):
        ys.append(rk4_step(f, t[k], ys[-1], t[k + 1] - t[k]))
    return torch.stack(ys)


class ODEFunc(nn.Module):
    """f(t, y) = self.net(y), self.net = Linear(dim, hidden) -> Tanh -> Linear(hidden, dim)."""

    def __init__(self, dim, hidden):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim, hidden), nn.Tanh(), nn.Linear(hidden, dim))

    def forward(self, t, y):
        return self.net(y)


def adjoint_grad(func, y0, t, loss_fn):
    """(dL/dy0, [dL/dp for p in func.parameters()]) for L = loss_fn(y(t[-1])), by the adjoint method.

    The augmented state s = (y, a, g), flattened into one vector, is integrated from t[-1] back to t[0] with
    y' = f, a' = -a^T df/dy, g' = -a^T df/dtheta, from (y(T), dL/dy(T), 0).
    """
    params = list(func.parameters())
    with torch.no_grad():
        y_T = odeint_rk4(func, y0, t)[-1]
    with torch.enable_grad():
        y_T = y_T.detach().requires_grad_(True)
        (a_T,) = torch.autograd.grad(loss_fn(y_T), y_T)
    shapes = [y0.shape, y0.shape] + [p.shape for p in params]
    sizes = [int(np.prod(shape)) for shape in shapes]

    def unpack(state):
        return [part.reshape(shape) for part, shape in zip(torch.split(state, sizes), shapes)]

    def augmented(s, state):
        y, a = unpack(state)[:2]
        with torch.enable_grad():
            y = y.detach().requires_grad_(True)
            f = func(s, y)
            vjps = torch.autograd.grad(f, [y] + params, grad_outputs=a, allow_unused=True)
        vjps = [torch.zeros_like(x) if v is None else v for v, x in zip(vjps, [y] + params)]
        return torch.cat([f.detach().reshape(-1)] + [-v.reshape(-1) for v in vjps])

    state_T = torch.cat([y_T.detach().reshape(-1), a_T.reshape(-1)] + [torch.zeros_like(p).reshape(-1) for p in params])
    with torch.no_grad():
        state_0 = odeint_rk4(augmented, state_T, t.flip(0))[-1]
    parts = unpack(state_0)
    return parts[1], parts[2:]


def fit_trajectory(ts, ys, steps, seed):
    """An ODEFunc trained so that odeint_rk4(func, ys[0], ts) matches ys."""
    torch.manual_seed(seed)
    ts = torch.as_tensor(ts, dtype=torch.float32)
    ys = torch.as_tensor(ys, dtype=torch.float32)
    func = ODEFunc(ys.shape[-1], 32)
    with torch.no_grad():  # start from the zero field: the fit is then much more reliable
        func.net[2].weight.zero_()
        func.net[2].bias.zero_()
    optimizer = torch.optim.Adam(func.parameters(), lr=0.05)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps)
    for _ in range(steps):
        optimizer.zero_grad()
        loss = ((odeint_rk4(func, ys[0], ts) - ys) ** 2).mean()
        loss.backward()
        optimizer.step()
        schedule.step()
    return func
