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


class SGD:
    """`torch.optim.SGD` for numpy arrays.

    As in torch, the hyperparameters live in `param_groups[0]` (a dict that also holds
    `"params"`), so a learning-rate schedule sets `optimizer.param_groups[0]["lr"]` just as
    it would for a torch optimizer. `momentum_buffers[i]` is the momentum buffer of the
    i-th parameter (None until its first step with momentum), torch's
    `state[p]["momentum_buffer"]`.
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False,
                 *, maximize=False):
        # torch's checks and messages, in torch's order
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        params = _parameter_list(params)
        self.param_groups = [{
            "params": params, "lr": lr, "momentum": momentum, "dampening": dampening,
            "weight_decay": weight_decay, "nesterov": nesterov, "maximize": maximize,
        }]
        self.momentum_buffers = [None] * len(params)

    def step(self, grads):
        """Update each parameter in place from its gradient; None skips it, as in torch."""
        params = self.param_groups[0]["params"]
        grads = list(grads)
        if len(grads) != len(params):
            raise ValueError(f"step got {len(grads)} gradients for {len(params)} parameters; "
                             f"pass one gradient per parameter, in the same order")
        for index, (param, grad) in enumerate(zip(params, grads)):
            if grad is not None:
                _check_gradient(index, param, grad)
                self._update(index, param, grad)

    def _update(self, index, param, grad):
        group = self.param_groups[0]
        momentum = group["momentum"]
        # Every operation on `grad` below makes a new array (or, for a 0-d array, a numpy
        # scalar): the caller's gradient stays untouched, as torch leaves p.grad untouched.
        if group["maximize"]:
            grad = -grad
        if group["weight_decay"] != 0:
            grad = grad + group["weight_decay"] * param
        if momentum != 0:
            buffer = self.momentum_buffers[index]
            if buffer is None:
                # No dampening on the first step: the buffer starts as the gradient itself.
                # np.array, not .copy(): a numpy scalar's copy could not be updated in place.
                buffer = self.momentum_buffers[index] = np.array(grad)
            else:
                buffer *= momentum
                buffer += grad if group["dampening"] == 0 else (1 - group["dampening"]) * grad
            grad = grad + momentum * buffer if group["nesterov"] else buffer
        param -= group["lr"] * grad


def _parameter_list(params):
    if isinstance(params, np.ndarray):
        # list(array) would silently optimise its rows, views into it, one by one
        raise TypeError(f"params argument given to the optimizer should be an iterable of "
                        f"numpy arrays, but got a single array of shape {params.shape}; "
                        f"wrap it in a list")
    params = list(params)
    if len(params) == 0:
        raise ValueError("optimizer got an empty parameter list")
    for param in params:
        # A float or a fresh np.asarray copy cannot be updated in place: the caller's
        # model would never change.
        if not isinstance(param, np.ndarray) or not np.issubdtype(param.dtype, np.floating):
            raise TypeError(f"optimizer can only optimize numpy arrays of floats, but one of "
                            f"the params is {type(param).__name__}"
                            + (f" of dtype {param.dtype}" if isinstance(param, np.ndarray) else ""))
    return params


def _check_gradient(index, param, grad):
    if not isinstance(grad, np.ndarray) or grad.shape != param.shape or grad.dtype != param.dtype:
        described = (f"an array of shape {grad.shape} and dtype {grad.dtype}"
                     if isinstance(grad, np.ndarray) else type(grad).__name__)
        raise ValueError(f"gradient {index} must be an array like its parameter (shape "
                         f"{param.shape}, dtype {param.dtype}), got {described}")
