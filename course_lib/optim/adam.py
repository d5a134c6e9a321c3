"""Adam, as `torch.optim.Adam`: momentum (a running mean of the gradients) divided by a
running root mean square of the gradients, both corrected for starting at zero.

The update, for each parameter p with gradient g at step t = 1, 2, ... (torch's documented
algorithm):

    g = -g                                  if maximize
    p = p * (1 - lr * weight_decay)         if decoupled_weight_decay (AdamW)
    g = g + weight_decay * p                otherwise (L2 penalty folded into the gradient)
    m = beta1 * m + (1 - beta1) * g         (m and v start at 0)
    v = beta2 * v + (1 - beta2) * g²
    v_max = max(v_max, v)                   if amsgrad (v_max starts at 0), then used as v
    p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
"""
import numpy as np

from .optimizer import Optimizer, check_hyperparameters


def adam_update(param, grad, state, *, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False,
                maximize=False, decoupled_weight_decay=False):
    """One Adam step of `param` in place; `state` is its dict of buffers, empty at first."""
    beta1, beta2 = betas
    if not state:
        state["step"] = 0
        state["exp_avg"] = np.zeros_like(param)
        state["exp_avg_sq"] = np.zeros_like(param)
        if amsgrad:
            state["max_exp_avg_sq"] = np.zeros_like(param)
    state["step"] += 1
    step = state["step"]
    # New arrays from here on: the caller's gradient stays untouched.
    if maximize:
        grad = -grad
    if weight_decay != 0:
        if decoupled_weight_decay:
            param *= 1 - lr * weight_decay
        else:
            grad = grad + weight_decay * param

    exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
    exp_avg += (1 - beta1) * (grad - exp_avg)
    exp_avg_sq *= beta2
    exp_avg_sq += (1 - beta2) * grad * grad
    if amsgrad:
        np.maximum(state["max_exp_avg_sq"], exp_avg_sq, out=state["max_exp_avg_sq"])
        exp_avg_sq = state["max_exp_avg_sq"]

    step_size = lr / (1 - beta1 ** step)
    # ** 0.5 rather than np.sqrt keeps a Python float, which leaves float32 arrays float32
    denom = np.sqrt(exp_avg_sq) / (1 - beta2 ** step) ** 0.5 + eps
    param -= step_size * (exp_avg / denom)


class Adam(Optimizer):
    """`torch.optim.Adam` for numpy arrays. `state[i]` holds `"step"`, `"exp_avg"` (m),
    `"exp_avg_sq"` (v) and, with amsgrad, `"max_exp_avg_sq"` (v_max), as in torch."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False,
                 *, maximize=False, decoupled_weight_decay=False):
        # torch's checks and messages, in torch's order
        check_hyperparameters(lr=lr, eps=eps, betas=betas, weight_decay=weight_decay)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad, maximize=maximize,
                                      decoupled_weight_decay=decoupled_weight_decay))

    update_rule = staticmethod(adam_update)
