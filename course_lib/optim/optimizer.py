"""The base of the numpy optimizers, as `torch.optim.Optimizer` is the base of torch's.

It keeps what every optimizer shares, laid out as torch lays it out, so that code written
for a torch optimizer (a learning-rate schedule, a checkpoint) works on these unchanged:

- `param_groups`: a list with one dict holding `"params"` (the numpy arrays, updated in
  place) and the hyperparameters; `optimizer.lr` reads and writes `param_groups[0]["lr"]`.
- `state`: one dict per parameter (torch's `optimizer.state[p]`), empty until the
  parameter's first update, then holding the optimizer's buffers, e.g. `"momentum_buffer"`.
- `state_dict()` / `load_state_dict()`: torch's layout, parameters named by their index.

A subclass checks its hyperparameters, passes them to `__init__` as `defaults`, and names
its `update_rule`: a function `update_rule(param, grad, state, **hyperparameters)` that
updates one parameter in place from its gradient and keeps its buffers in `state` (an
empty dict before the first step). These functions are public (`sgd_update`,
`adam_update`, ...): they are the update rules the assignment 03 notebook has students
write, and a notebook can call them directly on a single array. An update rule must leave
`grad` untouched, as torch leaves p.grad untouched.
"""
from copy import deepcopy

import numpy as np


class Optimizer:
    """Holds the parameters, their hyperparameters and their state; `step(grads)` updates them."""

    def __init__(self, params, defaults):
        params = _parameter_list(params)
        self.defaults = dict(defaults)
        self.param_groups = [{"params": params, **self.defaults}]
        self.state = [{} for _ in params]

    @property
    def lr(self):
        """The learning rate, `param_groups[0]["lr"]`; a schedule may set it between steps."""
        return self.param_groups[0]["lr"]

    @lr.setter
    def lr(self, value):
        self.param_groups[0]["lr"] = value

    def step(self, grads):
        """Update each parameter in place from its gradient (numpy arrays carry no `.grad`,
        so the gradients come as a list in the order of the parameters); a None gradient
        skips its parameter and leaves its state alone, as in torch."""
        group = self.param_groups[0]
        params = group["params"]
        grads = list(grads)
        if len(grads) != len(params):
            raise ValueError(f"step got {len(grads)} gradients for {len(params)} parameters; "
                             f"pass one gradient per parameter, in the same order")
        for index, (param, grad) in enumerate(zip(params, grads)):
            if grad is not None:
                _check_gradient(index, param, grad)
                self._update(param, grad, self.state[index], group)

    def _update(self, param, grad, state, group):
        """Update `param` in place from `grad`, keeping its buffers in `state`: the
        subclass's `update_rule` (e.g. `adam_update`) with the group's hyperparameters —
        only the optimizer's own: schedulers add entries such as "initial_lr" to the group."""
        self.update_rule(param, grad, state, **{name: group[name] for name in self.defaults})

    def state_dict(self):
        """A deep copy of the state and hyperparameters, in torch's layout:
        {"state": {index: {...}}, "param_groups": [{hyperparameters..., "params": [indices]}]}.
        As in torch, only parameters that have been updated appear in "state"."""
        group = self.param_groups[0]
        hyperparameters = {name: value for name, value in group.items() if name != "params"}
        return {
            "state": {index: deepcopy(state) for index, state in enumerate(self.state) if state},
            "param_groups": [{**deepcopy(hyperparameters), "params": list(range(len(group["params"])))}],
        }

    def load_state_dict(self, state_dict):
        """Take the state and hyperparameters of `state_dict` (copied: the two optimizers
        share nothing afterwards), keeping this optimizer's own parameter arrays."""
        saved_groups = state_dict["param_groups"]
        # torch's checks and messages
        if len(saved_groups) != len(self.param_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        params = self.param_groups[0]["params"]
        if len(saved_groups[0]["params"]) != len(params):
            raise ValueError("loaded state dict contains a parameter group "
                             "that doesn't match the size of optimizer's group")
        saved_state = state_dict["state"]
        self.state = [deepcopy(saved_state.get(index, {})) for index in saved_groups[0]["params"]]
        hyperparameters = {name: value for name, value in saved_groups[0].items() if name != "params"}
        self.param_groups = [{"params": params, **deepcopy(hyperparameters)}]


# torch's wording for a negative hyperparameter; epsilon and the learning rate are spelt out
_HYPERPARAMETER_WORDS = {"lr": "learning rate", "eps": "epsilon value"}


def check_hyperparameters(**values):
    """Raise torch's ValueError for the first negative value, or beta outside [0, 1), in
    the order given (each optimizer passes torch's order, so the first error is torch's)."""
    for name, value in values.items():
        if name == "betas":
            for index, beta in enumerate(value):
                if not 0.0 <= beta < 1.0:
                    raise ValueError(f"Invalid beta parameter at index {index}: {beta}")
        elif not 0.0 <= value:
            raise ValueError(f"Invalid {_HYPERPARAMETER_WORDS.get(name, f'{name} value')}: {value}")


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
