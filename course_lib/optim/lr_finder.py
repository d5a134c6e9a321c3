"""The learning-rate range test (Smith 2015; the "LR finder" of fastai and pytorch-lr-finder).

The sweep, `lr_range_test(train_step, ...)` — the function Exercise 8 of assignment 04 has
students write —, runs for i = 0, 1, ..., num_iter - 1:

    lr_i = start_lr * (end_lr / start_lr) ** (i / (num_iter - 1))
    loss_i = train_step(lr_i)    # one optimizer step at lr_i on the next mini-batch,
                                 # returning that batch's loss, taken before the step
    average_i = beta * average_{i-1} + (1 - beta) * loss_i,    average_{-1} = 0
    smoothed_i = average_i / (1 - beta ** (i + 1))              # Adam's bias correction

and stops after the first iteration whose smoothed loss is not finite or exceeds
`diverge_th` times the lowest smoothed loss before it: past that point the rates only blow
the model up. It returns (lrs, losses, smoothed_losses), one entry per iteration run.

The moving average lags: smoothed_i is made mostly of losses about beta / (1 - beta)
iterations old (49 at beta = 0.98, 19 at 0.95). Against log(lr), that is
beta / (1 - beta) / (iterations per decade) decades: 300 iterations over six decades with
beta = 0.98 draw the smoothed curve a whole decade to the right of the raw losses, and
every rate read from it with it. The defaults — 200 iterations per decade, beta = 0.95 —
keep the lag to a tenth of a decade.

Two readings (`LRFinderResult`): `lr_at_minimum`, where the smoothed loss is lowest, and
`suggested_lr`, where it falls fastest against log(lr) on its way down to that minimum
(`suggest_lr`; a fall after the minimum is a diverging run's noise, not learning).

`find_lr_numpy` and `find_lr_torch` build the train_step of a model (the batches started
again when they run out), run a sweep — `lr_range_test`, or the one passed as `sweep` —
and put the model and the optimizer back exactly as they were (parameters bit for bit,
optimizer state and hyperparameters, and for torch the buffers, gradients and train/eval
mode), even if the sweep raises.
"""
import itertools
from collections.abc import Iterator
from copy import deepcopy
from dataclasses import dataclass

import numpy as np

START_LR, END_LR, NUM_ITER, BETA, DIVERGE_TH = 1e-5, 10.0, 1200, 0.95, 5.0
SKIP_START = 10  # iterations whose average still rests on a handful of batches


@dataclass
class LRFinderResult:
    """What the range test measured, one entry per iteration it ran, and its readings."""
    lrs: list[float]
    losses: list[float]  # each batch's loss, before its step
    smoothed_losses: list[float]  # bias-corrected exponential moving average of `losses`
    suggested_lr: float | None  # steepest fall of the smoothed loss before its minimum
    lr_at_minimum: float  # where the smoothed loss is lowest
    diverged_at: int | None  # the iteration that diverged (the last one run), or None


def lr_range_test(train_step, *, start_lr=START_LR, end_lr=END_LR, num_iter=NUM_ITER, beta=BETA,
                  diverge_th=DIVERGE_TH):
    """The sweep of the module docstring: `train_step(lr)` takes one optimizer step at rate lr
    on the next mini-batch and returns that batch's loss before the step. Returns the lists
    (lrs, losses, smoothed_losses), shorter than num_iter when the loss diverged."""
    if not 0 < start_lr < end_lr:
        raise ValueError(f"need 0 < start_lr < end_lr, got start_lr={start_lr}, end_lr={end_lr}")
    if num_iter < 2:
        raise ValueError(f"num_iter must be at least 2, got {num_iter}")
    if not 0 <= beta < 1:
        raise ValueError(f"beta must lie in [0, 1), got {beta}")
    if diverge_th <= 1:
        raise ValueError(f"diverge_th must exceed 1, got {diverge_th}")
    lrs, losses, smoothed_losses = [], [], []
    average, lowest = 0.0, np.inf
    for iteration, lr in enumerate(np.geomspace(start_lr, end_lr, num_iter)):  # endpoints exact
        loss = float(train_step(float(lr)))
        average = beta * average + (1 - beta) * loss
        smoothed = average / (1 - beta ** (iteration + 1))
        lrs.append(float(lr))
        losses.append(loss)
        smoothed_losses.append(smoothed)
        if not np.isfinite(smoothed) or smoothed > diverge_th * lowest:
            break
        lowest = min(lowest, smoothed)
    return lrs, losses, smoothed_losses


def suggest_lr(lrs, smoothed_losses, *, skip_start=SKIP_START):
    """The rate at the most negative slope d(smoothed loss)/d(log lr), searched from
    iteration `skip_start` up to the minimum of the smoothed loss; None if the loss does
    not fall there."""
    lrs, smoothed_losses = np.asarray(lrs, dtype=float), np.asarray(smoothed_losses, dtype=float)
    if len(lrs) < 2:
        return None
    with np.errstate(invalid="ignore", over="ignore"):  # a diverged last loss may be inf or nan
        slopes = np.gradient(smoothed_losses, np.log(lrs))
    window = slopes[skip_start:_minimum(smoothed_losses)]
    window = np.where(np.isfinite(window), window, np.inf)
    if len(window) == 0 or window.min() >= 0:
        return None
    return float(lrs[skip_start + int(window.argmin())])


def _minimum(smoothed_losses):
    """The iteration of the lowest finite smoothed loss."""
    return int(np.where(np.isfinite(smoothed_losses), smoothed_losses, np.inf).argmin())


def _result(swept, *, diverge_th, skip_start):
    """The LRFinderResult of a sweep's (lrs, losses, smoothed_losses)."""
    lrs, losses, smoothed_losses = (list(values) for values in swept)
    if not lrs:
        raise ValueError("the sweep ran no iteration")
    last, before = smoothed_losses[-1], smoothed_losses[:-1]
    diverged = not np.isfinite(last) or (len(before) > 0 and last > diverge_th * min(before))
    return LRFinderResult(lrs=lrs, losses=losses, smoothed_losses=smoothed_losses,
                          suggested_lr=suggest_lr(lrs, smoothed_losses, skip_start=skip_start),
                          lr_at_minimum=lrs[_minimum(np.asarray(smoothed_losses, dtype=float))],
                          diverged_at=len(lrs) - 1 if diverged else None)


def _sweep_with(train_step, sweep, skip_start, options):
    return _result(sweep(train_step, **options), diverge_th=options.get("diverge_th", DIVERGE_TH),
                   skip_start=skip_start)


def find_lr_numpy(params, loss_and_gradients, optimizer, batches, *, sweep=lr_range_test,
                  skip_start=SKIP_START, **options):
    """The range test for a numpy model: `params` is a dict of arrays that `optimizer` (a
    `course_lib.optim` optimizer over some of those arrays) updates in place, and
    `loss_and_gradients(params, X, y)` returns (loss, dict of gradients keyed like
    `params`), as `scratch.mlp.mlp_loss_and_gradients` does. `options` are the sweep's
    keywords. Parameters and optimizer are restored afterwards."""
    name_of = {id(array): name for name, array in params.items()}
    optimized = optimizer.param_groups[0]["params"]
    if any(id(param) not in name_of for param in optimized):
        raise ValueError("the optimizer must update the arrays of `params` themselves "
                         "(build it on [params[name] for name in params], not on copies)")
    names = [name_of[id(param)] for param in optimized]  # gradients in the optimizer's order
    next_batch = _batch_stream(batches)

    def train_step(lr):
        optimizer.lr = lr
        loss, grads = loss_and_gradients(params, *next_batch())
        optimizer.step([grads[name] for name in names])
        return loss

    saved_params = {name: array.copy() for name, array in params.items()}
    saved_optimizer = optimizer.state_dict()  # a deep copy
    try:
        return _sweep_with(train_step, sweep, skip_start, options)
    finally:
        for name, array in params.items():
            # in place: the optimizer (and the caller) hold these very arrays
            array[...] = saved_params[name]
        optimizer.load_state_dict(saved_optimizer)


def find_lr_torch(model, loss_fn, optimizer, loader, *, sweep=lr_range_test, skip_start=SKIP_START,
                  **options):
    """The range test for a torch model trained by a torch optimizer, in train mode; every
    parameter group gets the swept rate. `options` are the sweep's keywords. Parameters,
    buffers, gradients, train/eval modes and the optimizer are restored afterwards."""
    next_batch = _batch_stream(loader)

    def train_step(lr):
        for group in optimizer.param_groups:
            group["lr"] = lr
        inputs, targets = next_batch()
        optimizer.zero_grad()
        loss = loss_fn(model(inputs), targets)
        loss.backward()
        optimizer.step()
        return loss.item()

    # state_dict() returns the live tensors: deepcopy to keep their values of now
    saved_model = deepcopy(model.state_dict())
    saved_optimizer = deepcopy(optimizer.state_dict())
    saved_grads = [None if p.grad is None else p.grad.clone() for p in model.parameters()]
    saved_modes = [module.training for module in model.modules()]
    model.train()
    try:
        return _sweep_with(train_step, sweep, skip_start, options)
    finally:
        model.load_state_dict(saved_model)
        optimizer.load_state_dict(saved_optimizer)
        for param, grad in zip(model.parameters(), saved_grads):
            param.grad = grad
        for module, training in zip(model.modules(), saved_modes):
            module.training = training


def _batch_stream(batches):
    """A function returning the next (X, y) of `batches`, pass after pass."""
    endless = _endless(batches)

    def next_batch():
        try:
            return next(endless)
        except StopIteration:
            raise ValueError("batches yielded no (X, y) pairs") from None
    return next_batch


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
