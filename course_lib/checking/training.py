"""Checks for a PyTorch training step and epoch (assignment 01; later loops reuse them).

Each runs the student's function on a tiny float64 model whose optimizer records every
`step()` it is asked for, then compares with the same step done by the book.
"""
import copy
import time
from builtins import all, any, bool, enumerate, float, hasattr, int, isinstance, len, list, sum, super, zip

import torch
from torch.utils.data import DataLoader, TensorDataset

from ._trusted import isclose
from .failure import fail, kind_of, number
from .values import check_integer, check_scalar


class _RecordingSGD(torch.optim.SGD):
    """Plain SGD that remembers, at each step(), the parameters and their gradients."""

    def __init__(self, params, lr):
        super().__init__(params, lr=lr)
        self.records = []  # one (parameters, gradients) pair of lists of arrays per step

    def step(self, closure=None):
        parameters = self.param_groups[0]["params"]
        self.records.append((
            [p.detach().numpy().copy() for p in parameters],
            [None if p.grad is None else p.grad.detach().numpy().copy() for p in parameters]))
        return super().step(closure)


def _tiny_problem(seed, n_samples):
    """A float64 linear classifier with 3 classes and a batch for it, drawn without
    disturbing the student's global torch random state."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = torch.nn.Linear(4, 3).double()
        inputs = torch.randn(n_samples, 4, dtype=torch.float64)
        targets = torch.randint(0, 3, (n_samples,))
    return model, inputs, targets


def _loss_and_gradients(model, parameters, loss_fn, inputs, targets):
    """Loss and gradients of one batch for a copy of `model` holding `parameters`."""
    reference = copy.deepcopy(model)
    with torch.no_grad():
        for own, value in zip(reference.parameters(), parameters):
            own.copy_(torch.as_tensor(value))
    loss = loss_fn(reference(inputs), targets)
    gradients = torch.autograd.grad(loss, list(reference.parameters()))
    return loss.item(), [gradient.numpy() for gradient in gradients]


def _current(model):
    return [p.detach().numpy().copy() for p in model.parameters()]


def _same(arrays, others):
    return all(array is not None and isclose(array, other, rtol=1e-7, atol=1e-10).all()
               for array, other in zip(arrays, others))


def _check_gradients(gradients, expected, previous, when):
    """Diagnose the gradients optimizer.step() saw; `previous` are those of the step before."""
    if all(gradient is None for gradient in gradients):
        fail(f"{when}, the parameters had no gradients: call loss.backward() before "
             f"optimizer.step(), and optimizer.zero_grad() before the forward pass, not "
             f"between backward() and step() (zero_grad() erases the fresh gradients).")
    if all(gradient is not None and (gradient == 0).all() for gradient in gradients):
        fail(f"{when}, every gradient was zero: is optimizer.zero_grad() called between "
             f"loss.backward() and optimizer.step()? It belongs before the forward pass.")
    if _same(gradients, expected):
        return
    if previous is not None and _same(gradients, [p + e for p, e in zip(previous, expected)]):
        fail(f"{when}, the gradients were this batch's plus the previous step's: loss.backward() "
             f"adds to .grad, so call optimizer.zero_grad() at the start of every step.")
    fail(f"{when}, the gradients were not those of loss_fn(model(inputs), targets) for this "
         f"batch: is backward() called on the loss of this batch's outputs and targets?")


def _times(count):
    return {1: "once", 2: "twice"}.get(count, f"{count} times")


def _check_step_count(records, expected_count, call, what):
    if len(records) != expected_count:
        fail(f"{call} called optimizer.step() {_times(len(records))} {what}, but should call it "
             f"{_times(expected_count)}: one step per batch.")


def check_train_step(train_step, *, seed=0):
    """Run `train_step(model, inputs, targets, loss_fn, optimizer)` twice on a tiny model:
    one optimizer.step() per call, on fresh gradients of this batch, returning loss.item()."""
    __tracebackhide__ = True
    call = f"{train_step.__name__}(model, inputs, targets, loss_fn, optimizer)"
    model, inputs, targets = _tiny_problem(seed, n_samples=8)
    loss_fn = torch.nn.CrossEntropyLoss()
    optimizer = _RecordingSGD(model.parameters(), lr=0.1)
    previous_gradients = None
    for attempt in ("first", "second"):  # the second call shows gradients left over from the first
        expected_loss, expected_gradients = _loss_and_gradients(
            model, _current(model), loss_fn, inputs, targets)
        records_before = len(optimizer.records)
        returned = train_step(model, inputs, targets, loss_fn, optimizer)
        new_records = optimizer.records[records_before:]
        _check_step_count(new_records, 1, call, f"in its {attempt} call")
        (_, gradients), = new_records
        _check_gradients(gradients, expected_gradients, previous_gradients,
                         when=f"When the {attempt} call of {call} called optimizer.step()")
        loss_after, _ = _loss_and_gradients(model, _current(model), loss_fn, inputs, targets)
        check_scalar(call, returned, expected_loss, rtol=1e-6, known_mistakes={
            loss_after: "that is the loss after the update; return the loss the step was "
                        "computed from."})
        previous_gradients = gradients


def check_train_epoch(train_epoch, *, seed=0):
    """Run `train_epoch(model, loader, loss_fn, optimizer)` for one epoch of batches of 4, 4
    and 2 samples on a tiny model that starts in eval mode: training mode, one step per
    batch on fresh gradients, and the returned mean_loss (weighted by batch size),
    steps and seconds."""
    __tracebackhide__ = True
    call = f"{train_epoch.__name__}(model, loader, loss_fn, optimizer)"
    model, inputs, targets = _tiny_problem(seed, n_samples=10)
    # its own generator: iterating a DataLoader otherwise draws from the global torch RNG
    loader = DataLoader(TensorDataset(inputs, targets), batch_size=4, generator=torch.Generator())
    modes_seen = []

    def loss_fn(scores, batch_targets):
        modes_seen.append(model.training)
        return torch.nn.functional.cross_entropy(scores, batch_targets)

    optimizer = _RecordingSGD(model.parameters(), lr=0.1)
    model.eval()  # as evaluate() may have left it: train_epoch must switch training on itself
    start = time.perf_counter()
    stats = train_epoch(model, loader, loss_fn, optimizer)
    elapsed = time.perf_counter() - start

    _check_step_count(optimizer.records, len(loader), call,
                      f"for a loader of {len(loader)} batches")
    if any(not training for training in modes_seen):
        fail(f"{call} ran the model in eval mode: call model.train() at its start. The model may "
             f"arrive in eval mode, e.g. after evaluation, with dropout off and batch norm frozen.")
    batch_losses, batch_sizes, previous_gradients = [], [], None
    for position, ((parameters, gradients), (batch_inputs, batch_targets)) in enumerate(
            zip(optimizer.records, loader)):
        loss, expected_gradients = _loss_and_gradients(
            model, parameters, torch.nn.functional.cross_entropy, batch_inputs, batch_targets)
        _check_gradients(gradients, expected_gradients, previous_gradients,
                         when=f"When {call} stepped on batch {position}")
        batch_losses.append(loss)
        batch_sizes.append(len(batch_targets))
        previous_gradients = gradients

    fields = ("mean_loss", "steps", "seconds")
    if stats is None or not all(hasattr(stats, field) for field in fields):
        fail(f"{call} returned {kind_of(stats)}, but should return the epoch's statistics, "
             f"an object with .mean_loss, .steps and .seconds (EpochStats).")
    check_integer(f"{call}.steps", stats.steps, len(loader))
    weighted_sum = sum(loss * size for loss, size in zip(batch_losses, batch_sizes))
    check_scalar(f"{call}.mean_loss", stats.mean_loss, weighted_sum / sum(batch_sizes), rtol=1e-6,
                 known_mistakes=[
                     (sum(batch_losses) / len(batch_losses),
                      "that is the plain average of the batch losses; weight each by its batch "
                      "size, as the last batch holds only 2 of the 10 samples."),
                     (sum(batch_losses), "that is the sum of the batch losses, not their average."),
                     (weighted_sum,
                      "that is the total loss over all samples; divide it by their number."),
                     (batch_losses[-1],
                      "that is the last batch's loss alone; average over the whole epoch."),
                 ])
    # timed inside the call, so at most `elapsed`; the slack allows for another clock
    seconds = stats.seconds
    is_number = isinstance(seconds, (int, float)) and not isinstance(seconds, bool)
    if not (is_number and 0 < seconds <= 1.5 * elapsed + 1e-3):
        shown = number(seconds) if is_number else kind_of(seconds)
        fail(f"{call}.seconds is {shown}, but the call took {number(elapsed)} s: time the "
             f"epoch with time.perf_counter() before and after the loop over batches.")
