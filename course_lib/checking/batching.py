"""Checks for mini-batching (assignment 01): the batches of an epoch, and reshuffling.

`check_minibatch_indices(minibatch_indices, 100, 32)` runs a student's generator for two
epochs and explains the first thing wrong with what it yields; `check_minibatches` does
the same for a generator of (X_batch, y_batch) pairs; `check_epoch_batches` checks one
epoch's batches that are already at hand.
"""
import itertools
from builtins import all, divmod, enumerate, hasattr, int, isinstance, len, list, next, tuple, zip

import torch

from ._trusted import default_rng, np
from .failure import fail, kind_of, listing

# Below this many samples, a shuffled epoch may come out sorted, or like the last, by chance.
MIN_SAMPLES_TO_JUDGE_ORDER = 10


def _call(function_name, n_samples, batch_size, shuffle, drop_last):
    return (f"{function_name}({n_samples}, {batch_size}, rng, shuffle={shuffle}, "
            f"drop_last={drop_last})")


def _expected_sizes(n_samples, batch_size, drop_last):
    full_batches, leftover = divmod(n_samples, batch_size)
    return [batch_size] * full_batches + ([leftover] if leftover and not drop_last else [])


def _sizes_text(sizes):
    """[32, 32, 32, 4] -> '3 × 32 and 1 × 4'."""
    runs = [f"{len(list(run))} × {size}" for size, run in itertools.groupby(sizes)]
    return listing(runs) if runs else "none"


def _samples(indices):
    return f"sample {indices[0]}" if len(indices) == 1 else f"samples {listing(indices)}"


def _collect(batches, call, n_samples):
    """What `batches` yields, stopping after more batches than an epoch can have."""
    if batches is None:
        fail(f"{call} returned None instead of yielding batches: is `yield` missing?")
    if not hasattr(batches, "__iter__"):
        fail(f"{call} returned {kind_of(batches)}, not a generator of index arrays.")
    # an epoch has at most n_samples batches; anything beyond means it never ends
    most = n_samples + 1
    collected = list(itertools.islice(batches, most + 1))
    if len(collected) > most:
        fail(f"{call} yielded more than {most} batches for {n_samples} samples without "
             f"stopping: does its loop run past the end of the epoch?")
    return collected


def _batch_kind_problem(batch):
    if isinstance(batch, (int, np.integer)):
        return (f"is the single index {batch}; yield a whole batch of indices at a time, "
                f"e.g. permutation[start:start + batch_size]")
    if isinstance(batch, tuple):
        return "is a tuple; yield one numpy array of sample indices per batch"
    if isinstance(batch, (list, torch.Tensor)):
        return f"is {kind_of(batch)}; yield numpy arrays, e.g. slices of one permutation"
    if not isinstance(batch, np.ndarray):
        return f"is {kind_of(batch)}, not a numpy array of sample indices"
    if batch.dtype.kind == "b":
        return "is a boolean mask; yield the indices themselves"
    if batch.dtype.kind not in "iu":
        return (f"has dtype {batch.dtype}, but indices are integers — rng.permutation(n) "
                f"gives int64 ones")
    if batch.ndim != 1:
        return f"has shape {batch.shape}, but a batch is a 1-D array of indices"
    return None


def _check_sizes(batches, call, n_samples, batch_size, drop_last):
    sizes = [len(batch) for batch in batches]
    expected = _expected_sizes(n_samples, batch_size, drop_last)
    if sizes == expected:
        return
    full_batches, leftover = divmod(n_samples, batch_size)
    if drop_last and leftover and sizes == expected + [leftover]:
        fail(f"{call} yielded the last, partial batch of {leftover} samples although "
             f"drop_last=True: then an epoch is {full_batches} full batches, and the "
             f"{leftover} samples left over sit this epoch out.")
    if not drop_last and leftover and sizes == expected[:-1]:
        fail(f"{call} left out the last, partial batch of {leftover} samples although "
             f"drop_last=False: every sample is seen once per epoch, so the last batch is smaller.")
    if len(sizes) != len(expected):
        fail(f"{call} yielded {len(sizes)} batches, but {n_samples} samples in batches of "
             f"{batch_size} make {len(expected)} with drop_last={drop_last}. "
             f"Batch sizes yielded: {_sizes_text(sizes)}; expected: {_sizes_text(expected)}.")
    position = next(i for i, (size, wanted) in enumerate(zip(sizes, expected)) if size != wanted)
    fail(f"Batch {position} from {call} holds {sizes[position]} samples but should hold "
         f"{expected[position]}: only the last batch may be smaller than batch_size.")


def _check_order(batches, order, call, shuffle):
    if not shuffle:
        if not (order == np.arange(len(order))).all():
            fail(f"{call} yielded the samples out of order although shuffle=False: unshuffled, "
                 f"batch k holds samples k * batch_size, k * batch_size + 1, and so on.")
        return
    if len(order) < MIN_SAMPLES_TO_JUDGE_ORDER:
        return
    if (order[1:] > order[:-1]).all():
        fail(f"{call} yielded the samples in their original order 0, 1, 2, … although "
             f"shuffle=True: cut the batches from a permutation, rng.permutation(n_samples).")
    # with no sample repeated, a batch spanning exactly len(batch) values is a run of them
    if (len(batches) >= 3 and len(batches[0]) >= 2
            and all(batch.max() - batch.min() + 1 == len(batch) for batch in batches)):
        fail(f"{call} yielded batches that each hold consecutive samples (batch 0: "
             f"{batches[0].min()} to {batches[0].max()}): shuffle all the samples first, then "
             f"cut that permutation into batches.")


def check_epoch_batches(batches, n_samples, batch_size, drop_last, *, shuffle=True,
                        previous_epoch=None, call=None):
    """Check one epoch's batches of sample indices; return them as a list of arrays.

    `batches` is what the student's generator yielded (the generator itself, or a list).
    `previous_epoch`, the list this returned for the epoch before, adds the check that the
    order changed. `call` names the source in messages.
    """
    __tracebackhide__ = True
    call = call or _call("minibatch_indices", n_samples, batch_size, shuffle, drop_last)
    batches = _collect(batches, call, n_samples)
    for position, batch in enumerate(batches):
        problem = _batch_kind_problem(batch)
        if problem:
            fail(f"Batch {position} from {call} {problem}.")
        outside = batch[(batch < 0) | (batch >= n_samples)]
        if len(outside):
            fail(f"Batch {position} from {call} holds the index {outside[0]}, but sample "
                 f"indices run from 0 to {n_samples - 1}.")
        if len(batch) == 0:
            fail(f"Batch {position} from {call} is empty: when n_samples is a multiple of "
                 f"batch_size there is no partial batch, not even an empty one.")
    _check_sizes(batches, call, n_samples, batch_size, drop_last)
    order = np.concatenate(batches) if batches else np.arange(0)
    counts = np.bincount(order, minlength=n_samples)
    repeated = np.flatnonzero(counts > 1)
    if len(repeated):
        never_seen = np.flatnonzero(counts == 0)
        unseen = "" if drop_last else f", and never yielded {_samples(never_seen)}"
        fail(f"{call} yielded {_samples(repeated)} more than once in one epoch "
             f"(sample {repeated[0]}: {counts[repeated[0]]} times){unseen}: draw one "
             f"permutation of all samples per epoch and slice it, rather than drawing random "
             f"indices for each batch.")
    _check_order(batches, order, call, shuffle)
    if (previous_epoch is not None and shuffle and len(order) >= MIN_SAMPLES_TO_JUDGE_ORDER
            and _same_batches(batches, previous_epoch)):
        fail(f"{call} yielded exactly the same batches as in the epoch before: draw a fresh "
             f"permutation from rng every time the function is called — not once outside it, "
             f"and not from a freshly seeded generator.")
    return batches


def _same_batches(batches, others):
    return len(batches) == len(others) and all(
        batch.shape == other.shape and (batch == other).all()
        for batch, other in zip(batches, others))


def _require_generator(result, call):
    if result is not None and not hasattr(result, "__next__"):
        fail(f"{call} returned {kind_of(result)}, not a generator: write it with `yield batch` "
             f"in the loop, so that each batch is made when the training loop asks for it.")


def check_minibatch_indices(minibatch_indices, n_samples, batch_size, *, shuffle=True,
                            drop_last=False, seed=0):
    """Run `minibatch_indices` for two epochs and check both, the reshuffling, and that the
    shuffle comes from the `rng` argument (alike seeded generators give alike batches)."""
    __tracebackhide__ = True
    call = _call(minibatch_indices.__name__, n_samples, batch_size, shuffle, drop_last)

    def one_epoch(rng, previous_epoch=None):
        result = minibatch_indices(n_samples, batch_size, rng, shuffle=shuffle, drop_last=drop_last)
        _require_generator(result, call)
        return check_epoch_batches(result, n_samples, batch_size, drop_last, shuffle=shuffle,
                                   previous_epoch=previous_epoch, call=call)

    rng = default_rng(seed)
    first_epoch = one_epoch(rng)
    one_epoch(rng, previous_epoch=first_epoch)
    if shuffle and not _same_batches(one_epoch(default_rng(seed)), first_epoch):
        fail(f"{call} gave different batches for two generators seeded alike: draw the "
             f"permutation from the rng argument (rng.permutation), not from np.random's "
             f"global state.")


def check_minibatches(minibatches, n_samples, batch_size, *, shuffle=True, drop_last=False,
                      seed=0):
    """Run `minibatches(X, y, ...)` for two epochs: like `check_minibatch_indices`, plus
    that each (X_batch, y_batch) pair holds the rows of X and the labels of the same samples."""
    __tracebackhide__ = True
    call = (f"{minibatches.__name__}(X, y, {batch_size}, rng, shuffle={shuffle}, "
            f"drop_last={drop_last}) with {n_samples} samples")
    X = np.arange(2 * n_samples).reshape(n_samples, 2)  # row i is [2i, 2i + 1]
    y = np.arange(n_samples)  # label i: each y_batch is the batch's sample indices

    def one_epoch(rng, previous_epoch=None):
        result = minibatches(X, y, batch_size, rng, shuffle=shuffle, drop_last=drop_last)
        _require_generator(result, call)
        pairs = _collect(result, call, n_samples)
        for position, pair in enumerate(pairs):
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                fail(f"Batch {position} from {call} is {kind_of(pair)}; "
                     f"yield (X_batch, y_batch) pairs.")
        labels = check_epoch_batches([y_batch for _, y_batch in pairs], n_samples, batch_size,
                                     drop_last, shuffle=shuffle, previous_epoch=previous_epoch,
                                     call=call)
        for position, ((X_batch, _), y_batch) in enumerate(zip(pairs, labels)):
            if not isinstance(X_batch, np.ndarray) or X_batch.shape != (len(y_batch), 2):
                what = (f"has shape {X_batch.shape}" if isinstance(X_batch, np.ndarray)
                        else f"is {kind_of(X_batch)}")
                fail(f"X_batch of batch {position} from {call} {what}, but X has shape "
                     f"{X.shape}, so it should have shape ({len(y_batch)}, 2): take rows, X[idx].")
            if not (X_batch[:, 0] == 2 * y_batch).all():
                fail(f"In batch {position} from {call}, the rows of X_batch are not those of "
                     f"the samples in y_batch: index X and y with the same indices.")
        return labels

    rng = default_rng(seed)
    first_epoch = one_epoch(rng)
    one_epoch(rng, previous_epoch=first_epoch)
    if shuffle and not _same_batches(one_epoch(default_rng(seed)), first_epoch):
        fail(f"{call} gave different batches for two generators seeded alike: draw the "
             f"permutation from the rng argument, not from np.random's global state.")
