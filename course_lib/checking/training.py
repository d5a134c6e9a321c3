"""Checks for a PyTorch training step and epoch (assignment 01; later loops reuse them).

Each runs the student's function on a tiny float64 model whose optimizer records every
`step()` it is asked for, then compares with the same step done by the book: the gradients
each step saw, the number of steps, the loss returned. With `task="regression"` the step
runs on a small tanh network with a mean-squared-error loss and momentum, so that an answer
that ignores loss_fn or keeps its own optimizer shows; with `batch_size=`, the epoch runs on
a network with dropout and momentum, next to the same epoch written out with the same random
draws. These exercises are about torch: the answer may use any of it, but not its own
course_lib reference (see `harness`).
"""
import copy
import time
from builtins import (
    ValueError, all, any, bool, enumerate, float, hasattr, int, isinstance, len, list, range, sum,
    super, zip,
)

import torch
from torch.utils.data import DataLoader, TensorDataset

from course_lib.training import loop as _loop

from ._trusted import isclose
from .failure import fail, kind_of, number
from .harness import Answer, exercise, trusted
from .values import check_array, check_integer, check_scalar

TRAIN_STEP = exercise(_loop.train_step)
TRAIN_EPOCH = exercise(_loop.train_epoch)

ORDINALS = ("first", "second", "third")
BOOK_SAMPLES = 23  # the by-the-book epoch's dataset: not a multiple of most batch sizes


class _RecordingSGD(torch.optim.SGD):
    """SGD that remembers, at each step(), the parameters and their gradients."""

    def __init__(self, params, lr, momentum=0.0):
        super().__init__(params, lr=lr, momentum=momentum)
        self.records = []  # one (parameters, gradients) pair of lists of arrays per step

    def step(self, closure=None):
        parameters = self.param_groups[0]["params"]
        self.records.append((
            [p.detach().numpy().copy() for p in parameters],
            [None if p.grad is None else p.grad.detach().numpy().copy() for p in parameters]))
        return super().step(closure)


def _forked(seed, build):
    """build(), with torch's global random state seeded by `seed` and then put back: the
    student's own random draws go on as if the check had not run."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return build()


def _classification_problem(seed, n_samples):
    """A float64 linear classifier with 3 classes and a batch for it."""
    return _forked(seed, lambda: (torch.nn.Linear(4, 3).double(),
                                  torch.randn(n_samples, 4, dtype=torch.float64),
                                  torch.randint(0, 3, (n_samples,))))


def _regression_problem(seed):
    """A small tanh network with one output and three different batches for it."""
    return _forked(seed, lambda: (
        torch.nn.Sequential(torch.nn.Linear(5, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1)).double(),
        [(torch.randn(6, 5, dtype=torch.float64), torch.randn(6, 1, dtype=torch.float64))
         for _ in range(3)]))


def _loss_and_gradients(model, parameters, loss_fn, inputs, targets):
    """Loss and gradients of one batch for a copy of `model` holding `parameters`."""
    reference = copy.deepcopy(model)
    with torch.no_grad():
        for own, value in zip(reference.parameters(), parameters):
            own.copy_(torch.as_tensor(value))
    with torch.enable_grad():
        loss = loss_fn(reference(inputs), targets)
        gradients = torch.autograd.grad(loss, list(reference.parameters()))
    return loss.item(), [gradient.numpy() for gradient in gradients]


def _current(model):
    return [p.detach().numpy().copy() for p in model.parameters()]


def _same(arrays, others):
    return all(array is not None and isclose(array, other, rtol=1e-7, atol=1e-10).all()
               for array, other in zip(arrays, others))


def _check_gradients(gradients, expected, previous, when, losses=None):
    """Diagnose the gradients optimizer.step() saw; `previous` are those of the step before;
    `losses`, (returned, expected), the loss the answer returned and this batch's."""
    __tracebackhide__ = True
    if all(gradient is None for gradient in gradients):
        fail(f"{when}, the parameters had no gradients: call loss.backward() before "
             f"optimizer.step(), and optimizer.zero_grad() before the forward pass, not "
             f"between backward() and step() (zero_grad() erases the fresh gradients).")
    if all(gradient is not None and (gradient == 0).all() for gradient in gradients):
        returned, wanted = losses or (None, None)
        if isinstance(returned, float) and not isclose(returned, wanted, rtol=1e-6, atol=1e-12):
            fail(f"{when}, every gradient was zero, and the loss returned, {number(returned)}, is "
                 f"not this batch's loss_fn(model(inputs), targets) = {number(wanted)}: compute "
                 f"the loss with the loss_fn passed in, from model(inputs) and targets.")
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
    __tracebackhide__ = True
    if len(records) != expected_count:
        fail(f"{call} called optimizer.step() {_times(len(records))} {what}, but should call it "
             f"{_times(expected_count)}: one step per batch.")


def check_train_step(train_step, *, seed=0, task="classification"):
    """Run `train_step(model, inputs, targets, loss_fn, optimizer)` on a tiny model: one
    optimizer.step() per call, on fresh gradients of this batch, returning loss.item().
    task="classification": twice on one batch of a linear classifier, cross-entropy, plain
    SGD (the second call shows gradients left over from the first); task="regression": on
    three batches of a tanh network, mean squared error, SGD with momentum 0.9."""
    __tracebackhide__ = True
    answer = Answer(TRAIN_STEP, train_step)
    if task == "classification":
        model, inputs, targets = _classification_problem(seed, n_samples=8)
        batches, loss_fn = [(inputs, targets)] * 2, torch.nn.CrossEntropyLoss()
        optimizer = _RecordingSGD(model.parameters(), lr=0.1)
    elif task == "regression":
        model, batches = _regression_problem(seed)
        loss_fn = torch.nn.MSELoss()
        optimizer = _RecordingSGD(model.parameters(), lr=0.05, momentum=0.9)
    else:
        raise ValueError(f'task must be "classification" or "regression", got {task!r}')
    call = answer.words(model, *batches[0], loss_fn, optimizer)
    previous_gradients = None
    for attempt, (inputs, targets) in zip(ORDINALS, batches):
        expected_loss, expected_gradients = _loss_and_gradients(
            model, _current(model), loss_fn, inputs, targets)
        records_before = len(optimizer.records)
        returned = answer.run(call, model, inputs, targets, loss_fn, optimizer)
        new_records = optimizer.records[records_before:]
        _check_step_count(new_records, 1, call, f"in its {attempt} call")
        (_, gradients), = new_records
        _check_gradients(gradients, expected_gradients, previous_gradients,
                         when=f"When the {attempt} call of {call} called optimizer.step()",
                         losses=(returned, expected_loss))
        loss_after, _ = _loss_and_gradients(model, _current(model), loss_fn, inputs, targets)
        check_scalar(call, returned, expected_loss, rtol=1e-6, known_mistakes={
            loss_after: "that is the loss after the update; return the loss the step was "
                        "computed from."})
        previous_gradients = gradients


def _check_stats(stats, call):
    __tracebackhide__ = True
    fields = ("mean_loss", "steps", "seconds")
    if stats is None or not all(hasattr(stats, field) for field in fields):
        fail(f"{call} returned {kind_of(stats)}, but should return the epoch's statistics, "
             f"an object with .mean_loss, .steps and .seconds (EpochStats).")


def _check_recorded_epoch(answer, seed, drop_last, progress):
    """One epoch of batches of 4 (4, 4 and 2 samples, or 4 and 4 with drop_last) on a tiny
    model that starts in eval mode, every optimizer step recorded and checked."""
    __tracebackhide__ = True
    model, inputs, targets = _classification_problem(seed, n_samples=10)
    # its own generator: iterating a DataLoader otherwise draws from the global torch RNG
    loader = DataLoader(TensorDataset(inputs, targets), batch_size=4, drop_last=drop_last,
                        generator=torch.Generator())
    modes_seen = []

    def loss_fn(scores, batch_targets):
        modes_seen.append(model.training)
        return torch.nn.functional.cross_entropy(scores, batch_targets)

    optimizer = _RecordingSGD(model.parameters(), lr=0.1)
    model.eval()  # as evaluate() may have left it: train_epoch must switch training on itself
    options = {"progress": True} if progress else {}
    call = answer.words(model, loader, loss_fn, optimizer, **options)
    if drop_last:
        call = f"{call} with a loader of 10 samples in batches of 4, drop_last=True"
    start = time.perf_counter()
    stats = answer.run(call, model, loader, trusted(loss_fn), optimizer, **options)
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

    _check_stats(stats, call)
    check_integer(f"{call}.steps", stats.steps, len(loader), known_mistakes={
        3: "the loader yields only its 2 full batches: count the batches you trained on, not "
           "⌈len(dataset) / batch_size⌉."} if drop_last else None)
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


def _book_epoch(model, loader, loss_fn, optimizer):
    """One epoch written out: the loop the exercise describes."""
    model.train()
    loss_sum, n_samples, steps = 0.0, 0, 0
    for inputs, targets in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(inputs), targets)
        loss.backward()
        optimizer.step()
        loss_sum += loss.item() * len(targets)
        n_samples += len(targets)
        steps += 1
    return loss_sum / n_samples, steps


def _check_epoch_by_the_book(answer, seed, batch_size, progress):
    """An epoch of BOOK_SAMPLES samples in a fixed shuffled order on a network with dropout,
    SGD with momentum, from eval mode: the student's and the book's, with the same draws."""
    __tracebackhide__ = True
    model, data, order = _forked(seed, lambda: (
        torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.ReLU(), torch.nn.Dropout(0.3),
                            torch.nn.Linear(8, 3)).double(),
        TensorDataset(torch.randn(BOOK_SAMPLES, 6, dtype=torch.float64),
                      torch.randint(0, 3, (BOOK_SAMPLES,))),
        # the order is fixed in advance, so it does not depend on how often the answer calls
        # iter(loader): tqdm.auto(loader) calls it twice
        torch.randperm(BOOK_SAMPLES, generator=torch.Generator().manual_seed(seed + 1)).tolist()))
    book_model = copy.deepcopy(model)

    def arguments(epoch_model):
        loader = DataLoader(data, batch_size=batch_size, sampler=order,
                            generator=torch.Generator().manual_seed(seed + 2))
        optimizer = torch.optim.SGD(epoch_model.parameters(), lr=0.1, momentum=0.5)
        epoch_model.eval()
        return epoch_model, loader, torch.nn.CrossEntropyLoss(), optimizer

    options = {"progress": True} if progress else {}
    students = arguments(model)
    call = (f"{answer.words(*students, **options)} with {BOOK_SAMPLES} samples, "
            f"batch_size={batch_size}, dropout and momentum")
    stats = _forked(seed, lambda: answer.run(call, *students, **options))
    book = arguments(book_model)
    mean_loss, steps = _forked(seed, lambda: _book_epoch(*book))
    _check_stats(stats, call)
    check_integer(f"{call}.steps", stats.steps, steps)
    check_scalar(f"{call}.mean_loss", stats.mean_loss, mean_loss, rtol=1e-9,
                 hint="the same draws give the same dropout masks: call the model once per "
                      "batch, through reference_train_step.")
    for (name, parameter), expected in zip(model.named_parameters(), book_model.parameters()):
        check_array(f"parameter {name} after {call}", parameter.detach(), expected.detach(),
                    rtol=1e-9)


def check_train_epoch(train_epoch, *, seed=0, batch_size=None, progress=False):
    """Run `train_epoch(model, loader, loss_fn, optimizer)` for one epoch.

    Without batch_size: batches of 4, 4 and 2 samples on a tiny model that starts in eval
    mode — training mode, one step per batch on fresh gradients, and the returned mean_loss
    (weighted by batch size), steps and seconds — then a loader with drop_last=True, whose
    steps must be those of its full batches. With batch_size: an epoch of 23 samples in a
    fixed shuffled order on a network with dropout, SGD with momentum, compared with the
    same epoch written out. progress=True passes progress=True."""
    __tracebackhide__ = True
    answer = Answer(TRAIN_EPOCH, train_epoch)
    if batch_size is not None:
        _check_epoch_by_the_book(answer, seed, batch_size, progress)
        return
    for drop_last in (False, True):
        _check_recorded_epoch(answer, seed, drop_last, progress)
