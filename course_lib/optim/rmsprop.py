"""RMSprop, as `torch.optim.RMSprop`: each coordinate's step divided by a running root mean
square of its gradients, so steep and flat directions move at comparable speeds.

The update, for each parameter p with gradient g (torch's documented algorithm):

    g = -g                                    if maximize
    g = g + weight_decay * p                  if weight_decay != 0
    v = alpha * v + (1 - alpha) * g²          (v starts at 0)
    g_avg = alpha * g_avg + (1 - alpha) * g   if centered (g_avg starts at 0)
    denom = sqrt(v - g_avg²) + eps  if centered  else  sqrt(v) + eps
    buf = momentum * buf + g / denom;  p = p - lr * buf    if momentum > 0 (buf starts at 0)
    p = p - lr * g / denom                                  otherwise
"""
import numpy as np

from .optimizer import Optimizer, check_hyperparameters


def rmsprop_update(param, grad, state, *, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                   centered=False, maximize=False):
    """One RMSprop step of `param` in place; `state` is its dict of buffers, empty at first."""
    if not state:
        state["step"] = 0
        state["square_avg"] = np.zeros_like(param)
        if momentum > 0:
            state["momentum_buffer"] = np.zeros_like(param)
        if centered:
            state["grad_avg"] = np.zeros_like(param)
    state["step"] += 1
    # New arrays from here on: the caller's gradient stays untouched.
    if maximize:
        grad = -grad
    if weight_decay != 0:
        grad = grad + weight_decay * param

    square_avg = state["square_avg"]
    square_avg *= alpha
    square_avg += (1 - alpha) * grad * grad
    if centered:
        grad_avg = state["grad_avg"]
        grad_avg += (1 - alpha) * (grad - grad_avg)
        denom = np.sqrt(square_avg - grad_avg * grad_avg) + eps
    else:
        denom = np.sqrt(square_avg) + eps

    if momentum > 0:
        buffer = state["momentum_buffer"]
        buffer *= momentum
        buffer += grad / denom
        param -= lr * buffer
    else:
        param -= lr * (grad / denom)


class RMSprop(Optimizer):
    """`torch.optim.RMSprop` for numpy arrays. `state[i]` holds `"step"`, `"square_avg"` (v),
    and `"momentum_buffer"` if momentum > 0 and `"grad_avg"` if centered, as in torch.

    `maximize` is keyword-only here: torch also accepts it positionally, after its
    `capturable` and `foreach` arguments, which have no numpy counterpart.
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, *, maximize=False):
        # torch's checks and messages, in torch's order
        check_hyperparameters(
            lr=lr, eps=eps, momentum=momentum, weight_decay=weight_decay, alpha=alpha)
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered, maximize=maximize))

    update_rule = staticmethod(rmsprop_update)
