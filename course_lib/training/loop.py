"""A plain PyTorch training loop that later assignments extend, one function per level.

No framework on purpose: each line is one idea from the course (zero the gradients,
forward, loss, backward, step; weight each batch's loss by its size; evaluate without
building a graph).
"""
import time
from dataclasses import dataclass

import torch
from tqdm.auto import tqdm

from ..metrics import count_correct


@dataclass
class EpochStats:
    mean_loss: float  # average training loss per sample over the epoch
    steps: int  # optimizer steps taken
    seconds: float  # wall-clock time


@dataclass
class EvalStats:
    loss: float  # average loss per sample
    accuracy: float  # fraction of samples classified correctly


def model_outputs(model, inputs):
    """`model(*inputs)` when a batch's inputs are a tuple or list of tensors (a text model's
    (padded, lengths), an `nn.EmbeddingBag`'s (input, offsets)), else `model(inputs)` — a
    namedtuple such as a `PackedSequence` is one input."""
    return model(*inputs) if type(inputs) in (tuple, list) else model(inputs)


def train_step(model, inputs, targets, loss_fn, optimizer):
    """One optimizer step on one mini-batch; returns the batch's loss before the step.
    `inputs` is a tensor, or a tuple of tensors passed to the model as separate arguments."""
    optimizer.zero_grad()  # .backward() adds to .grad, so clear the previous step's
    loss = loss_fn(model_outputs(model, inputs), targets)
    loss.backward()
    optimizer.step()
    return loss.item()


def batch_progress(loader, *, desc, progress):
    """A progress bar for one pass over `loader`, to be updated by hand after each batch.

    Not tqdm(loader): tqdm.auto's asyncio variant (what it picks in a terminal) calls
    iter(loader) once more than it iterates, and each DataLoader iterator draws a seed
    from the loader's generator, so the shuffles would differ from a plain loop's.
    """
    try:
        total = len(loader)
    except TypeError:  # an iterable dataset without a length: the bar counts without a total
        total = None
    return tqdm(total=total, desc=desc, leave=False, disable=not progress)


def train_epoch(model, loader, loss_fn, optimizer, *, progress=False):
    """One pass over `loader`, one optimizer step per batch."""
    model.train()
    start = time.perf_counter()
    loss_sum, n_samples, steps = 0.0, 0, 0
    with batch_progress(loader, desc="batches", progress=progress) as bar:
        for inputs, targets in loader:
            loss = train_step(model, inputs, targets, loss_fn, optimizer)
            # loss_fn averages over its batch; undo that so a small last batch weighs less
            # (counted by the targets: the inputs may be a tuple such as (padded, lengths))
            loss_sum += loss * len(targets)
            n_samples += len(targets)
            steps += 1
            bar.update()
    if steps == 0:
        raise ValueError("the loader yielded no batches")
    return EpochStats(mean_loss=loss_sum / n_samples, steps=steps,
                      seconds=time.perf_counter() - start)


def evaluate(model, loader, loss_fn):
    """Average loss and accuracy over `loader`, in eval mode and without gradients."""
    was_training = model.training
    model.eval()  # dropout off, batch norm uses its running statistics
    loss_sum, correct, n_samples = 0.0, 0, 0
    try:
        with torch.no_grad():
            for inputs, targets in loader:
                scores = model_outputs(model, inputs)
                loss_sum += loss_fn(scores, targets).item() * len(targets)
                correct += count_correct(scores, targets)
                n_samples += len(targets)
    finally:
        model.train(was_training)
    if n_samples == 0:
        raise ValueError("the loader yielded no batches")
    return EvalStats(loss=loss_sum / n_samples, accuracy=correct / n_samples)
