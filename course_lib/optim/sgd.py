"""Stochastic gradient descent with momentum, weight decay and Nesterov, as `torch.optim.SGD`.

The update, for each parameter p with gradient g (torch's documentation writes it the same way):

    g = -g                            if maximize
    g = g + weight_decay * p          if weight_decay != 0
    buf = g  (first step)             if momentum != 0
    buf = momentum * buf + (1 - dampening) * g   (later steps)
    g = g + momentum * buf  if nesterov  else  buf
    p = p - lr * g

Parameters are numpy arrays updated in place; `step` takes their gradients as a list in
the same order, because numpy arrays, unlike tensors, carry no `.grad`.
"""
import numpy as np

from .optimizer import Optimizer, check_hyperparameters


def sgd_update(param, grad, state, *, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False,
               maximize=False):
    """One SGD step of `param` in place; `state` is its dict of buffers, empty at first."""
    # Every operation on `grad` below makes a new array (or, for a 0-d array, a numpy
    # scalar): the caller's gradient stays untouched, as torch leaves p.grad untouched.
    if maximize:
        grad = -grad
    if weight_decay != 0:
        grad = grad + weight_decay * param
    if momentum != 0:
        if "momentum_buffer" not in state:
            # No dampening on the first step: the buffer starts as the gradient itself.
            # np.array, not .copy(): a numpy scalar's copy could not be updated in place.
            buffer = state["momentum_buffer"] = np.array(grad)
        else:
            buffer = state["momentum_buffer"]
            buffer *= momentum
            buffer += grad if dampening == 0 else (1 - dampening) * grad
        grad = grad + momentum * buffer if nesterov else buffer
    param -= lr * grad


class SGD(Optimizer):
    """`torch.optim.SGD` for numpy arrays.

    As in torch, the hyperparameters live in `param_groups[0]` (a dict that also holds
    `"params"`), so a learning-rate schedule sets `optimizer.lr`, or
    `optimizer.param_groups[0]["lr"]` just as it would for a torch optimizer.
    `state[i]["momentum_buffer"]` is the momentum buffer of the i-th parameter, torch's
    `state[p]["momentum_buffer"]`, there from its first step with momentum.
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False,
                 *, maximize=False):
        # torch's checks and messages, in torch's order
        check_hyperparameters(lr=lr, momentum=momentum, weight_decay=weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov, maximize=maximize))

    update_rule = staticmethod(sgd_update)
