"""Gradient accumulation: one optimizer step on a batch too large to run at once, taken in
micro-batches.

`.backward()` adds to `.grad`, so the gradients of several micro-batches add up by
themselves; what must be right is the weighting. A mean-reduced loss of the whole batch
is the sample-weighted mean of the micro-batches' mean losses, so each micro-batch's loss
is scaled by its share of the samples, len(targets) / total — 1/k when all k are equally
large, less for a short last one. Then k micro-batches of B give the gradient of one batch
of kB (models whose output for a sample does not depend on the rest of its batch: no batch
norm), and one step on it.
"""
from ..errors import CourseError


def accumulated_step(model, loss_fn, micro_batches, optimizer):
    """One optimizer step on all `micro_batches` (a sequence of (inputs, targets) pairs)
    together: their gradients accumulated, each loss weighted by its share of the samples.
    Returns the loss of all their samples (the mean, for a mean-reduced `loss_fn`) before
    the step, as a float.

    Wrapped in DistributedDataParallel, `model` would average the gradients across workers
    after every micro-batch's backward; `with model.no_sync():` around all but the last one
    saves those all-reduces, and the result is the same.
    """
    micro_batches = list(micro_batches)
    total = sum(len(targets) for _, targets in micro_batches)
    if total == 0:
        raise CourseError("accumulated_step needs at least one micro-batch with samples")
    optimizer.zero_grad()  # once: the micro-batches' gradients are meant to add up
    loss_of_all = 0.0
    for inputs, targets in micro_batches:
        share = len(targets) / total
        loss = loss_fn(model(inputs), targets) * share
        loss.backward()
        loss_of_all += loss.item()
    optimizer.step()
    return loss_of_all
