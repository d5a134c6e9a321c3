"""Adamax, as `torch.optim.Adamax`: Adam with the root mean square of the gradients replaced
by a decaying maximum of their absolute values (the infinity norm).

The update, for each parameter p with gradient g at step t = 1, 2, ... (torch's documented
algorithm):

    g = -g                                   if maximize
    g = g + weight_decay * p                 if weight_decay != 0
    m = beta1 * m + (1 - beta1) * g          (m and u start at 0)
    u = max(beta2 * u, |g| + eps)
    p = p - lr / (1 - beta1^t) * m / u
"""
import numpy as np

from .optimizer import Optimizer, check_hyperparameters


def adamax_update(param, grad, state, *, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, maximize=False):
    """One Adamax step of `param` in place; `state` is its dict of buffers, empty at first."""
    beta1, beta2 = betas
    if not state:
        state["step"] = 0
        state["exp_avg"] = np.zeros_like(param)
        state["exp_inf"] = np.zeros_like(param)
    state["step"] += 1
    # New arrays from here on: the caller's gradient stays untouched.
    if maximize:
        grad = -grad
    if weight_decay != 0:
        grad = grad + weight_decay * param

    exp_avg, exp_inf = state["exp_avg"], state["exp_inf"]
    exp_avg += (1 - beta1) * (grad - exp_avg)
    exp_inf *= beta2
    np.maximum(exp_inf, np.abs(grad) + eps, out=exp_inf)
    param -= lr / (1 - beta1 ** state["step"]) * (exp_avg / exp_inf)


class Adamax(Optimizer):
    """`torch.optim.Adamax` for numpy arrays. `state[i]` holds `"step"`, `"exp_avg"` (m) and
    `"exp_inf"` (u), as in torch."""

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 *, maximize=False):
        # torch's checks and messages, in torch's order
        check_hyperparameters(lr=lr, eps=eps, betas=betas, weight_decay=weight_decay)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize))

    update_rule = staticmethod(adamax_update)
