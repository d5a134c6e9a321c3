"""For every exercise of 03 and 04, an answer that only calls what the exercise asks the
student to write — the course's reference, or torch's implementation of the operation —,
as the full source of its answer cell, each by another route.

Same format as wrong_answers.py: {assignment: {grade_id: source}}. Each must lose exactly
its exercise's points in the nbgrader round trip, through a DelegationFailure.
"""

DELEGATING_03_04 = {
    "03_optimizers": {
        # an import inside the function
        "sgd_update": '''
def sgd_update(param, grad, state, *, lr, weight_decay=0.0):
    """One step of torch.optim.SGD without momentum."""
    from course_lib.optim import sgd_update as reference
    reference(param, grad, state, lr=lr, weight_decay=weight_decay)
''',
        # torch.optim.SGD on tensors that share memory with the arrays
        "momentum_update": '''
import torch


def momentum_update(param, grad, state, *, lr, momentum, dampening=0.0, weight_decay=0.0):
    """One step of torch.optim.SGD with momentum."""
    if "optimizer" not in state:
        state["tensor"] = torch.from_numpy(param)
        state["optimizer"] = torch.optim.SGD([state["tensor"]], lr=lr, momentum=momentum,
                                             dampening=dampening, weight_decay=weight_decay)
    state["optimizer"].param_groups[0]["lr"] = lr
    state["tensor"].grad = torch.from_numpy(grad.copy())
    state["optimizer"].step()
''',
        # functools.partial of the reference: the EMA form is SGD with lr * (1 - beta)
        "ema_momentum_update": '''
import functools

from course_lib.optim import sgd_update


def ema_momentum_update(param, grad, state, *, lr, beta):
    """One step of momentum in exponential-moving-average form."""
    step = functools.partial(sgd_update, momentum=beta)
    step(param, grad, state, lr=lr * (1 - beta))
''',
        # an alias imported at the top of the cell
        "nesterov_update": '''
from course_lib.optim import sgd_update as _step


def nesterov_update(param, grad, state, *, lr, momentum, weight_decay=0.0):
    """One step of torch.optim.SGD with nesterov=True."""
    _step(param, grad, state, lr=lr, momentum=momentum, weight_decay=weight_decay, nesterov=True)
''',
        # importlib
        "rmsprop_update": '''
import importlib


def rmsprop_update(param, grad, state, *, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0):
    """One step of torch.optim.RMSprop."""
    module = importlib.import_module("course_lib.optim")
    module.rmsprop_update(param, grad, state, lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay)
''',
        # a reference captured before the check runs (`optim` is the setup cell's course_lib.optim)
        "adam_update": '''
_solution = optim.adam_update


def adam_update(param, grad, state, *, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
    """One step of torch.optim.Adam."""
    _solution(param, grad, state, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
''',
        # torch's functional AdamW on converted arrays (reference_adam_update stays unused)
        "adamw_update": '''
import torch
from torch.optim.adamw import adamw

from course_lib.optim import adam_update as reference_adam_update


def adamw_update(param, grad, state, *, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
    """One step of torch.optim.AdamW."""
    if not state:
        state.update(step=torch.tensor(0.0, dtype=torch.float64),
                     exp_avg=torch.zeros(param.shape, dtype=torch.float64),
                     exp_avg_sq=torch.zeros(param.shape, dtype=torch.float64))
    tensor = torch.from_numpy(param)
    adamw([tensor], [torch.from_numpy(grad.astype(param.dtype))], [state["exp_avg"]],
          [state["exp_avg_sq"]], [], [state["step"]], amsgrad=False, beta1=betas[0],
          beta2=betas[1], lr=lr, weight_decay=weight_decay, eps=eps, maximize=False)
''',
        # a copy of the reference's function object
        "adamax_update": '''
import types


def adamax_update(param, grad, state, *, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
    """One step of torch.optim.Adamax."""
    copy = types.FunctionType(optim.adamax_update.__code__, optim.adamax_update.__globals__)
    copy(param, grad, state, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, maximize=False)
''',
    },
    "04_schedules": {
        # torch's StepLR stepped `epoch` times
        "step_lr": '''
import torch


def step_lr(epoch, *, base_lr, step_size, gamma=0.1):
    """Learning rate at step `epoch` of step decay."""
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=base_lr)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size, gamma)
    for _ in range(epoch):
        optimizer.step()
        scheduler.step()
    return scheduler.get_last_lr()[0]
''',
        # torch's ExponentialLR, reached through importlib
        "exponential_lr": '''
import importlib

import torch


def exponential_lr(epoch, *, base_lr, gamma, decay_epochs=1, staircase=False):
    """Learning rate at step `epoch` of exponential decay."""
    schedulers = importlib.import_module("torch.optim.lr_scheduler")
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=base_lr)
    if staircase:
        scheduler = schedulers.StepLR(optimizer, decay_epochs, gamma)
    else:
        scheduler = schedulers.ExponentialLR(optimizer, gamma ** (1 / decay_epochs))
    for _ in range(epoch):
        scheduler.step()
    return scheduler.get_last_lr()[0]
''',
        # course_lib's own CosineAnnealingLR, as the setup cell imports it
        "cosine_annealing_lr": '''
def cosine_annealing_lr(epoch, *, base_lr, T_max, eta_min=0.0):
    """Learning rate at step `epoch` of cosine annealing."""
    scheduler = CosineAnnealingLR(SGD([np.zeros(1)], lr=base_lr), T_max, eta_min)
    for _ in range(epoch):
        scheduler.step()
    return scheduler.get_last_lr()[0]
''',
        # torch's SequentialLR of LinearLR and CosineAnnealingLR
        "warmup_cosine_lr": '''
import torch
from torch.optim.lr_scheduler import CosineAnnealingLR as TorchCosine
from torch.optim.lr_scheduler import LinearLR as TorchLinear
from torch.optim.lr_scheduler import SequentialLR as TorchSequential


def warmup_cosine_lr(step, *, base_lr, warmup_steps, total_steps, start_factor=0.1, eta_min=0.0):
    """Learning rate at step `step` of linear warmup followed by cosine annealing."""
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=base_lr)
    scheduler = TorchSequential(optimizer, [
        TorchLinear(optimizer, start_factor=start_factor, end_factor=1.0, total_iters=warmup_steps),
        TorchCosine(optimizer, T_max=total_steps - warmup_steps, eta_min=eta_min)],
        milestones=[warmup_steps])
    for _ in range(step):
        scheduler.step()
    return scheduler.get_last_lr()[0]
''',
        # functools.partial of torch's OneCycleLR
        "one_cycle_lr": '''
import functools

import torch


def one_cycle_lr(step, *, max_lr, total_steps, pct_start=0.3, div_factor=25.0, final_div_factor=1e4,
                 three_phase=False):
    """Learning rate at iteration `step` of the one-cycle policy."""
    make = functools.partial(torch.optim.lr_scheduler.OneCycleLR, anneal_strategy="cos",
                             cycle_momentum=False)
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=max_lr)
    scheduler = make(optimizer, max_lr=max_lr, total_steps=total_steps, pct_start=pct_start,
                     div_factor=div_factor, final_div_factor=final_div_factor, three_phase=three_phase)
    for _ in range(step):
        scheduler.step()
    return scheduler.get_last_lr()[0]
''',
        # course_lib's CyclicLR, captured in a default argument before the check runs
        "cyclic_lr": '''
def cyclic_lr(step, *, base_lr, max_lr, step_size_up=2000, step_size_down=None, mode="triangular", gamma=1.0,
              _cyclic=CyclicLR):
    """Learning rate at iteration `step` of a cyclical schedule."""
    scheduler = _cyclic(SGD([np.zeros(1)], lr=base_lr, momentum=0.9), base_lr=base_lr, max_lr=max_lr,
                        step_size_up=step_size_up, step_size_down=step_size_down, mode=mode, gamma=gamma,
                        cycle_momentum=False)
    for _ in range(step):
        scheduler.step()
    return scheduler.get_last_lr()[0]
''',
        # torch's ReduceLROnPlateau on a torch optimizer whose rate is copied back
        "ReduceLROnPlateau": '''
import torch


class ReduceLROnPlateau:
    """Reduce optimizer.lr when the metric stops improving."""

    def __init__(self, optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4,
                 threshold_mode="rel", cooldown=0, min_lr=0.0):
        self.optimizer = optimizer
        self._torch_optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=optimizer.lr)
        self._scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
            self._torch_optimizer, mode=mode, factor=factor, patience=patience, threshold=threshold,
            threshold_mode=threshold_mode, cooldown=cooldown, min_lr=min_lr, eps=0.0)

    def step(self, metrics):
        """Take one epoch's metric and reduce the rate if needed."""
        self._scheduler.step(metrics)
        self.optimizer.lr = self._torch_optimizer.param_groups[0]["lr"]
''',
    },
}
