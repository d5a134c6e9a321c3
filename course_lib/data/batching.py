"""Mini-batching: how many optimizer steps an epoch takes, and which samples each one sees.

Semantics are those of `torch.utils.data.DataLoader(dataset, batch_size, shuffle,
drop_last)`: one fresh permutation per epoch, consecutive slices of it as batches, and a
last, smaller batch unless `drop_last=True`.
"""
import numpy as np


def _whole_number(name, value, *, minimum):
    # bool is a subclass of int, but `batch_size=True` is a bug, not a batch size of 1
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be a whole number (an int), got {value!r} "
                         f"of type {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return int(value)


def iterations_per_epoch(n_samples, batch_size, drop_last=False):
    """Optimizer steps in one epoch: ceil(n_samples / batch_size), or floor with drop_last."""
    n_samples = _whole_number("n_samples", n_samples, minimum=0)
    batch_size = _whole_number("batch_size", batch_size, minimum=1)
    full_batches, leftover = divmod(n_samples, batch_size)
    has_partial_batch = leftover > 0 and not drop_last
    return full_batches + int(has_partial_batch)


def total_updates(n_samples, batch_size, epochs, drop_last=False):
    """Optimizer steps in `epochs` epochs."""
    epochs = _whole_number("epochs", epochs, minimum=0)
    return epochs * iterations_per_epoch(n_samples, batch_size, drop_last)


def minibatch_indices(n_samples, batch_size, rng, *, shuffle=True, drop_last=False):
    """Yield the int64 index arrays of one epoch's mini-batches.

    The permutation is drawn from `rng` (a `np.random.Generator`) when this is called,
    so calling it once per epoch reshuffles. Every sample appears exactly once per epoch,
    except the last `n_samples % batch_size` of the permutation when `drop_last=True`.
    """
    n_batches = iterations_per_epoch(n_samples, batch_size, drop_last)
    if shuffle:
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng must be a np.random.Generator such as "
                            f"np.random.default_rng(0), got {type(rng).__name__}")
        order = rng.permutation(n_samples).astype(np.int64, copy=False)
    else:
        order = np.arange(n_samples, dtype=np.int64)
    # A generator expression, not a `def` with `yield`: the arguments are checked and the
    # permutation is drawn now, not at the first `next()`.
    return (order[start:start + batch_size]
            for start in range(0, n_batches * batch_size, batch_size))


def minibatches(X, y, batch_size, rng, *, shuffle=True, drop_last=False):
    """Yield `(X[idx], y[idx])` for each mini-batch `idx` of one epoch."""
    if len(X) != len(y):
        raise ValueError(f"X and y must hold the same number of samples, "
                         f"got len(X)={len(X)} and len(y)={len(y)}")
    batches = minibatch_indices(len(X), batch_size, rng, shuffle=shuffle, drop_last=drop_last)
    return ((X[idx], y[idx]) for idx in batches)
