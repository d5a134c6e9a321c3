"""The learning-rate range test (Smith 2015, as fastai and pytorch-lr-finder run it).

Train for `num_iter` mini-batches while the learning rate grows exponentially from
`start_lr` to `end_lr`, recording the loss of each batch (taken before its step). The raw
losses are noisy, so they are smoothed by an exponential moving average with Adam's bias
correction (without it the first averages would be pulled towards 0):

    average_i = beta * average_{i-1} + (1 - beta) * loss_i,   average_{-1} = 0
    smoothed_i = average_i / (1 - beta ** (i + 1))

The sweep stops early once the smoothed loss is not finite or exceeds `diverge_th` times
the best smoothed loss so far: past that point the rates only blow the model up.

The suggested rate is where the smoothed loss falls fastest: the most negative slope of
the smoothed loss against log(lr), leaving out the first `skip_start` iterations (the
average is still settling) and the last `skip_end` (the climb into divergence). Learning
is then quick but not yet unstable; None when the loss never falls in that window.

The test trains the model, so `find_lr_numpy` and `find_lr_torch` put the model and the
optimizer back exactly as they were (parameters bit for bit, optimizer state and
hyperparameters, and for torch the buffers, gradients and train/eval mode), even if the
sweep raises. Both share one sweep, `lr_range_test`, which knows only a step function.
"""
import itertools
from collections.abc import Iterator
from copy import deepcopy
from dataclasses import dataclass

import numpy as np


@dataclass
class LRFinderResult:
    """What the range test measured, one entry per iteration it ran."""
    lrs: list[float]
    losses: list[float]  # each batch's loss, before its step
    smoothed_losses: list[float]  # bias-corrected exponential moving average of `losses`
    suggested_lr: float | None  # steepest descent of the smoothed loss, see the module docstring
    diverged_at: int | None  # the iteration that diverged (the last one run), or None


def lr_range_test(step, set_lr, batches, *, start_lr=1e-7, end_lr=10.0, num_iter=200,
                  beta=0.98, diverge_th=5.0, skip_start=10, skip_end=5):
    """Sweep the learning rate: for each iteration i, `set_lr(lr_i)` then `step(X, y)`, one
    optimizer step on the next batch returning its loss (a float) before the step.

    lr_i = start_lr * (end_lr / start_lr) ** (i / (num_iter - 1)), so the first rate is
    `start_lr` and the last `end_lr`. `batches` is any iterable of (X, y), started again
    (a DataLoader reshuffles) when it runs out before `num_iter`. This does not restore
    anything; `find_lr_numpy` and `find_lr_torch` do.
    """
    if not 0 < start_lr < end_lr:
        raise ValueError(f"need 0 < start_lr < end_lr, got start_lr={start_lr}, end_lr={end_lr}")
    if num_iter < 2:
        raise ValueError(f"num_iter must be at least 2, got {num_iter}")
    if not 0 <= beta < 1:
        raise ValueError(f"beta must lie in [0, 1), got {beta}")
    if diverge_th <= 1:
        raise ValueError(f"diverge_th must exceed 1, got {diverge_th}")
    result = LRFinderResult(lrs=[], losses=[], smoothed_losses=[], suggested_lr=None,
                            diverged_at=None)
    average, best = 0.0, np.inf
    schedule = np.geomspace(start_lr, end_lr, num_iter)  # endpoints exact
    for iteration, (lr, (X, y)) in enumerate(zip(schedule, _endless(batches))):
        set_lr(float(lr))
        loss = float(step(X, y))
        average = beta * average + (1 - beta) * loss
        smoothed = average / (1 - beta ** (iteration + 1))
        result.lrs.append(float(lr))
        result.losses.append(loss)
        result.smoothed_losses.append(smoothed)
        if not np.isfinite(smoothed) or smoothed > diverge_th * best:
            result.diverged_at = iteration
            break
        best = min(best, smoothed)
    if not result.losses:
        raise ValueError("batches yielded no (X, y) pairs")
    result.suggested_lr = suggest_lr(result.lrs, result.smoothed_losses,
                                     skip_start=skip_start, skip_end=skip_end)
    return result


def suggest_lr(lrs, smoothed_losses, *, skip_start=10, skip_end=5):
    """The rate at the most negative slope d(smoothed loss)/d(log lr), searched over the
    iterations from `skip_start` to `len - skip_end` (exclusive); None if that window has
    no falling point."""
    lrs, smoothed_losses = np.asarray(lrs, dtype=float), np.asarray(smoothed_losses, dtype=float)
    if len(lrs) < 2:
        return None
    with np.errstate(invalid="ignore", over="ignore"):  # a diverged last loss may be inf or nan
        slopes = np.gradient(smoothed_losses, np.log(lrs))
    window = slopes[skip_start:len(slopes) - skip_end]
    window = np.where(np.isfinite(window), window, np.inf)
    if len(window) == 0 or window.min() >= 0:
        return None
    return float(lrs[skip_start + int(window.argmin())])


def find_lr_numpy(params, loss_and_gradients, optimizer, batches, **options):
    """The range test for a numpy model: `params` is a dict of arrays that `optimizer` (a
    `course_lib.optim` optimizer over some of those arrays) updates in place, and
    `loss_and_gradients(params, X, y)` returns (loss, dict of gradients keyed like
    `params`), as `scratch.mlp.mlp_loss_and_gradients` does. `options` are
    `lr_range_test`'s. Parameters and optimizer are restored afterwards."""
    name_of = {id(array): name for name, array in params.items()}
    optimized = optimizer.param_groups[0]["params"]
    if any(id(param) not in name_of for param in optimized):
        raise ValueError("the optimizer must update the arrays of `params` themselves "
                         "(build it on [params[name] for name in params], not on copies)")
    names = [name_of[id(param)] for param in optimized]  # gradients in the optimizer's order

    def step(X, y):
        loss, grads = loss_and_gradients(params, X, y)
        optimizer.step([grads[name] for name in names])
        return loss

    def set_lr(lr):
        optimizer.lr = lr

    saved_params = {name: array.copy() for name, array in params.items()}
    saved_optimizer = optimizer.state_dict()  # a deep copy
    try:
        return lr_range_test(step, set_lr, batches, **options)
    finally:
        for name, array in params.items():
            # in place: the optimizer (and the caller) hold these very arrays
            array[...] = saved_params[name]
        optimizer.load_state_dict(saved_optimizer)


def find_lr_torch(model, loss_fn, optimizer, loader, **options):
    """The range test for a torch model trained by a torch optimizer, in train mode; every
    parameter group gets the swept rate. `options` are `lr_range_test`'s. Parameters,
    buffers, gradients, train/eval modes and the optimizer are restored afterwards."""
    def step(inputs, targets):
        optimizer.zero_grad()
        loss = loss_fn(model(inputs), targets)
        loss.backward()
        optimizer.step()
        return loss.item()

    def set_lr(lr):
        for group in optimizer.param_groups:
            group["lr"] = lr

    # state_dict() returns the live tensors: deepcopy to keep their values of now
    saved_model = deepcopy(model.state_dict())
    saved_optimizer = deepcopy(optimizer.state_dict())
    saved_grads = [None if p.grad is None else p.grad.clone() for p in model.parameters()]
    saved_modes = [module.training for module in model.modules()]
    model.train()
    try:
        return lr_range_test(step, set_lr, loader, **options)
    finally:
        model.load_state_dict(saved_model)
        optimizer.load_state_dict(saved_optimizer)
        for param, grad in zip(model.parameters(), saved_grads):
            param.grad = grad
        for module, training in zip(model.modules(), saved_modes):
            module.training = training


def _endless(batches):
    """`batches` pass after pass; a one-shot iterator is replayed from memory instead."""
    if isinstance(batches, Iterator):
        yield from itertools.cycle(batches)
        return
    while True:
        empty = True
        for batch in batches:
            empty = False
            yield batch
        if empty:
            return
