"""Checks for epochs and mini-batching (assignment 01): how many optimizer steps an epoch
and a run take, the batches of an epoch, and reshuffling.

`check_iterations_per_epoch(iterations_per_epoch)` and `check_total_updates(total_updates)`
compare counts with and without drop_last (drop_last also passed by position, for other
inputs); `check_minibatch_indices(minibatch_indices, 100, 32)` runs a student's generator
for two epochs and explains the first thing wrong with what it yields; `check_minibatches`
does the same for a generator of (X_batch, y_batch) pairs.

What an answer must not run (see `harness`): its course_lib reference, and for the batches
torch's own machinery for them, `BatchSampler` and `RandomSampler` (a `DataLoader` over
`range(n)` runs both).
"""
import itertools
from builtins import all, divmod, enumerate, hasattr, int, isinstance, len, list, next, tuple, zip

import torch
from torch.utils.data import BatchSampler, RandomSampler

from course_lib.data import batching as _data

from ._trusted import default_rng, np
from .failure import fail, kind_of, listing
from .harness import Answer, exercise
from .values import check_integer

ITERATIONS_PER_EPOCH = exercise(_data.iterations_per_epoch, forbidden=(BatchSampler,))
TOTAL_UPDATES = exercise(_data.total_updates)
MINIBATCH_INDICES = exercise(_data.minibatch_indices,
                             forbidden=(_data.minibatches, BatchSampler, RandomSampler))
MINIBATCHES = exercise(_data.minibatches)

# Below this many samples, a shuffled epoch may come out sorted, or like the last, by chance.
MIN_SAMPLES_TO_JUDGE_ORDER = 10
# MNIST's 60 000 images in batches of 64, 100 samples in batches of 32, and a batch size
# that divides the dataset: the visible tests' (n_samples, batch_size)
VISIBLE_EPOCHS = ((60000, 64), (100, 32), (6400, 64))
VISIBLE_RUNS = ((60000, 64, 10), (100, 32, 3))


# ---------------------------------------------------------------------------- counts

def _expected_sizes(n_samples, batch_size, drop_last):
    full_batches, leftover = divmod(n_samples, batch_size)
    return [batch_size] * full_batches + ([leftover] if leftover and not drop_last else [])


def _count_mistakes(n_samples, batch_size, drop_last):
    """{wrong count: explanation} for one epoch, the usual mistakes that differ from the answer."""
    full, leftover = divmod(n_samples, batch_size)
    if n_samples == 0:
        return {1: "with no samples there are no batches, so no steps."}
    if leftover == 0:
        return {full + 1: f"{batch_size} divides {n_samples} exactly, so there is no partial batch "
                          f"and no extra step: n_samples // batch_size + 1 counts one too many."}
    if drop_last:
        return {full + 1: f"that is ⌈{n_samples}/{batch_size}⌉, but with drop_last=True the last "
                          f"{leftover} samples are not a batch of their own: the partial batch is "
                          f"skipped, so round down."}
    return {full: f"that is ⌊{n_samples}/{batch_size}⌋: {full} full batches of {batch_size} hold "
                  f"{full * batch_size} samples, and the {leftover} left over still make one more, "
                  f"smaller batch — one more step. Round up unless drop_last=True."}


def _drop_last_calls(answer, arguments, *, by_position):
    """(call words, args, kwargs, drop_last) for drop_last left at its default, passed by
    keyword, and, with `by_position`, passed by position."""
    calls = [(answer.words(*arguments), arguments, {}, False),
             (answer.words(*arguments, drop_last=True), arguments, {"drop_last": True}, True)]
    if by_position:
        calls.append((answer.words(*arguments, True), (*arguments, True), {}, True))
    return calls


def check_iterations_per_epoch(iterations_per_epoch, n_samples=None, batch_size=None):
    """Run `iterations_per_epoch(n_samples, batch_size)` with drop_last left out and with
    drop_last=True, for MNIST in batches of 64, 100 samples in batches of 32 and 6400 in
    batches of 64 — or, given `n_samples` and `batch_size`, for those, drop_last also passed
    by position."""
    __tracebackhide__ = True
    answer = Answer(ITERATIONS_PER_EPOCH, iterations_per_epoch)
    cases = VISIBLE_EPOCHS if n_samples is None else ((n_samples, batch_size),)
    for n, b in cases:
        for call, args, kwargs, drop_last in _drop_last_calls(answer, (n, b),
                                                               by_position=n_samples is not None):
            check_integer(call, answer.run(call, *args, **kwargs),
                          len(_expected_sizes(n, b, drop_last)),
                          known_mistakes=_count_mistakes(n, b, drop_last))


def _run_mistakes(n_samples, batch_size, epochs, drop_last):
    """(wrong count, explanation) for a run of `epochs` epochs: the usual mistakes that
    differ from the answer."""
    full, leftover = divmod(n_samples, batch_size)
    with_partial = full + (1 if leftover else 0)
    per_epoch = full if drop_last else with_partial
    product = f"{epochs} · {n_samples} / {batch_size}"
    every_epoch = (f"drops its own last {leftover} samples" if drop_last
                   else f"ends with its own partial batch of {leftover}")
    across = (f"as if batches ran on across the end of an epoch; every epoch {every_epoch}, so "
              f"it is {epochs} × {per_epoch}.")
    mistakes = [(-(-epochs * n_samples // batch_size), f"that is ⌈{product}⌉, {across}")]
    if drop_last:
        mistakes += [
            (epochs * n_samples // batch_size, f"that is ⌊{product}⌋, {across}"),
            (epochs * with_partial, f"that is {epochs} × {with_partial}, the count with "
                                    f"drop_last=False: with drop_last=True each epoch has only its "
                                    f"{full} full batches.")]
    else:
        mistakes.append((epochs * full,
                         f"that is {epochs} × {full}, the count with drop_last=True: without it "
                         f"every epoch also takes a step on its last {leftover} samples."))
    mistakes.append((per_epoch, f"that is the steps of one epoch; {epochs} epochs make {epochs} "
                                f"times as many."))
    return [(wrong, explanation) for wrong, explanation in mistakes if wrong != epochs * per_epoch]


def check_total_updates(total_updates, n_samples=None, batch_size=None, epochs=None):
    """Run `total_updates(n_samples, batch_size, epochs)` with drop_last left out and with
    drop_last=True, for 10 epochs of MNIST in batches of 64 and 3 epochs of 100 samples in
    batches of 32 — or, given the three, for those, drop_last also passed by position."""
    __tracebackhide__ = True
    answer = Answer(TOTAL_UPDATES, total_updates)
    cases = VISIBLE_RUNS if n_samples is None else ((n_samples, batch_size, epochs),)
    for n, b, e in cases:
        for call, args, kwargs, drop_last in _drop_last_calls(answer, (n, b, e),
                                                               by_position=n_samples is not None):
            check_integer(call, answer.run(call, *args, **kwargs),
                          e * len(_expected_sizes(n, b, drop_last)),
                          known_mistakes=_run_mistakes(n, b, e, drop_last))


# --------------------------------------------------------------------------- batches

def _sizes_text(sizes):
    """[32, 32, 32, 4] -> '3 × 32 and 1 × 4'."""
    runs = [f"{len(list(run))} × {size}" for size, run in itertools.groupby(sizes)]
    return listing(runs) if runs else "none"


def _samples(indices):
    return f"sample {indices[0]}" if len(indices) == 1 else f"samples {listing(indices)}"


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


def _check_epoch(batches, call, n_samples, batch_size, drop_last, shuffle, previous_epoch=None):
    """Check one epoch's batches of sample indices (a list); return them. `previous_epoch`,
    the batches of the epoch before, adds the check that the order changed."""
    __tracebackhide__ = True
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


def _epoch_of(answer, call, n_samples, *args, **kwargs):
    """What one call of the student's generator yields, as a list, stopping after more
    batches than an epoch can have."""
    __tracebackhide__ = True
    result = answer.run(call, *args, **kwargs)
    if result is None:
        fail(f"{call} returned None instead of yielding batches: is `yield` missing?")
    if not hasattr(result, "__next__"):
        fail(f"{call} returned {kind_of(result)}, not a generator: write it with `yield batch` "
             f"in the loop, so that each batch is made when the training loop asks for it.")
    # an epoch has at most n_samples batches; anything beyond means it never ends
    most = n_samples + 1
    collected = answer.collect(call, result, most + 1)
    if len(collected) > most:
        fail(f"{call} yielded more than {most} batches for {n_samples} samples without "
             f"stopping: does its loop run past the end of the epoch?")
    return collected


def _check_reshuffling(one_epoch, call, seed, shuffle):
    """Two epochs from one generator, each checked, the second against the first; then a
    generator seeded alike must give the first epoch's batches again."""
    __tracebackhide__ = True
    rng = default_rng(seed)
    first_epoch = one_epoch(rng)
    one_epoch(rng, first_epoch)
    if shuffle and not _same_batches(one_epoch(default_rng(seed)), first_epoch):
        fail(f"{call} gave different batches for two generators seeded alike: draw the "
             f"permutation from the rng argument (rng.permutation), not from np.random's "
             f"global state.")


def check_minibatch_indices(minibatch_indices, n_samples, batch_size, *, shuffle=True,
                            drop_last=False, seed=0):
    """Run `minibatch_indices` for two epochs and check both, the reshuffling, and that the
    shuffle comes from the `rng` argument (alike seeded generators give alike batches)."""
    __tracebackhide__ = True
    answer = Answer(MINIBATCH_INDICES, minibatch_indices)
    call = answer.words(n_samples, batch_size, default_rng(seed), shuffle=shuffle,
                        drop_last=drop_last)

    def one_epoch(rng, previous_epoch=None):
        batches = _epoch_of(answer, call, n_samples, n_samples, batch_size, rng, shuffle=shuffle,
                            drop_last=drop_last)
        return _check_epoch(batches, call, n_samples, batch_size, drop_last, shuffle,
                            previous_epoch)

    _check_reshuffling(one_epoch, call, seed, shuffle)


def check_minibatches(minibatches, n_samples, batch_size, *, shuffle=True, drop_last=False,
                      seed=0):
    """Run `minibatches(X, y, ...)` for two epochs: like `check_minibatch_indices`, plus
    that each (X_batch, y_batch) pair holds the rows of X and the labels of the same samples."""
    __tracebackhide__ = True
    answer = Answer(MINIBATCHES, minibatches)
    X = np.arange(2 * n_samples).reshape(n_samples, 2)  # row i is [2i, 2i + 1]
    y = np.arange(n_samples)  # label i: each y_batch is the batch's sample indices
    words = answer.words(X, y, batch_size, default_rng(seed), shuffle=shuffle, drop_last=drop_last)
    call = f"{words} with {n_samples} samples"

    def one_epoch(rng, previous_epoch=None):
        pairs = _epoch_of(answer, call, n_samples, X, y, batch_size, rng, shuffle=shuffle,
                          drop_last=drop_last)
        for position, pair in enumerate(pairs):
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                fail(f"Batch {position} from {call} is {kind_of(pair)}; "
                     f"yield (X_batch, y_batch) pairs.")
        labels = _check_epoch([y_batch for _, y_batch in pairs], call, n_samples, batch_size,
                              drop_last, shuffle, previous_epoch)
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

    _check_reshuffling(one_epoch, call, seed, shuffle)
