"""Adagrad, as `torch.optim.Adagrad`: each coordinate's step divided by the root of the sum of
all its squared gradients so far, so coordinates that have moved a lot slow down for good.

The update, for each parameter p with gradient g at step t = 1, 2, ... (torch's documented
algorithm):

    g = -g                               if maximize
    g = g + weight_decay * p             if weight_decay != 0
    lr_t = lr / (1 + (t - 1) * lr_decay)
    s = s + g²                           (s starts at initial_accumulator_value)
    p = p - lr_t * g / (sqrt(s) + eps)
"""
import numpy as np

from .optimizer import Optimizer, check_hyperparameters


def _initial_state(param, initial_accumulator_value):
    return {"step": 0, "sum": np.full_like(param, initial_accumulator_value)}


def adagrad_update(param, grad, state, *, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                   eps=1e-10, maximize=False):
    """One Adagrad step of `param` in place; `state` is its dict of buffers, empty at first."""
    if not state:
        state.update(_initial_state(param, initial_accumulator_value))
    state["step"] += 1
    # New arrays from here on: the caller's gradient stays untouched.
    if maximize:
        grad = -grad
    if weight_decay != 0:
        grad = grad + weight_decay * param

    lr_t = lr / (1 + (state["step"] - 1) * lr_decay)
    state["sum"] += grad * grad
    std = np.sqrt(state["sum"]) + eps
    param -= lr_t * (grad / std)


class Adagrad(Optimizer):
    """`torch.optim.Adagrad` for numpy arrays. `state[i]` holds `"step"` and `"sum"` (s), and,
    as in torch, is filled at construction rather than at the first step, so the starting
    accumulator appears in `state_dict()` before any step."""

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10, *, maximize=False):
        # torch's checks and messages, in torch's order
        check_hyperparameters(
            lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value, eps=eps)
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      eps=eps, maximize=maximize))
        self.state = [_initial_state(param, initial_accumulator_value)
                      for param in self.param_groups[0]["params"]]

    update_rule = staticmethod(adagrad_update)
