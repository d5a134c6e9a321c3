import math

import numpy as np
import pytest
import torch

from course_lib.checking.batching import check_epoch_batches, check_minibatch_indices, check_minibatches
from course_lib.checking.failure import CheckFailure
from course_lib.data.batching import minibatch_indices, minibatches
from tests.strategies import tampered

CONFIGURATIONS = [  # n_samples, batch_size, shuffle, drop_last
    (100, 32, True, False), (100, 32, True, True), (96, 32, True, False), (96, 32, True, True),
    (10, 3, False, False), (10, 3, False, True), (7, 10, True, False), (7, 10, True, True),
    (0, 4, True, False), (1, 1, True, False), (50, 1, True, False),
]


@pytest.mark.parametrize("n_samples, batch_size, shuffle, drop_last", CONFIGURATIONS)
def test_reference_generators_pass(n_samples, batch_size, shuffle, drop_last):
    check_minibatch_indices(minibatch_indices, n_samples, batch_size, shuffle=shuffle, drop_last=drop_last)
    check_minibatches(minibatches, n_samples, batch_size, shuffle=shuffle, drop_last=drop_last)


def test_check_epoch_batches_returns_the_batches_for_the_next_epochs_check():
    rng = np.random.default_rng(0)
    first = check_epoch_batches(minibatch_indices(100, 32, rng), 100, 32, drop_last=False)
    assert [len(batch) for batch in first] == [32, 32, 32, 4]
    check_epoch_batches(minibatch_indices(100, 32, rng), 100, 32, drop_last=False, previous_epoch=first)
    with pytest.raises(CheckFailure, match="exactly the same batches as in the epoch before"):
        check_epoch_batches(first, 100, 32, drop_last=False, previous_epoch=first)


# Wrong answers students write. Each takes minibatch_indices' arguments.

def slices(order, batch_size, n_batches):
    return [order[start * batch_size:(start + 1) * batch_size] for start in range(n_batches)]


def returns_a_list(n, batch_size, rng, *, shuffle=True, drop_last=False):
    return list(minibatch_indices(n, batch_size, rng, shuffle=shuffle, drop_last=drop_last))


def forgets_to_yield(n, batch_size, rng, *, shuffle=True, drop_last=False):
    rng.permutation(n)


def yields_lists(n, batch_size, rng, *, shuffle=True, drop_last=False):
    for batch in minibatch_indices(n, batch_size, rng, shuffle=shuffle, drop_last=drop_last):
        yield batch.tolist()


def yields_pairs(n, batch_size, rng, *, shuffle=True, drop_last=False):
    for batch in minibatch_indices(n, batch_size, rng, shuffle=shuffle, drop_last=drop_last):
        yield batch, batch


def yields_single_indices(n, batch_size, rng, *, shuffle=True, drop_last=False):
    yield from rng.permutation(n)


def yields_floats(n, batch_size, rng, *, shuffle=True, drop_last=False):
    for batch in minibatch_indices(n, batch_size, rng, shuffle=shuffle, drop_last=drop_last):
        yield batch.astype(float)


def yields_columns(n, batch_size, rng, *, shuffle=True, drop_last=False):
    for batch in minibatch_indices(n, batch_size, rng, shuffle=shuffle, drop_last=drop_last):
        yield batch[:, None]


def yields_tensors(n, batch_size, rng, *, shuffle=True, drop_last=False):
    for batch in minibatch_indices(n, batch_size, rng, shuffle=shuffle, drop_last=drop_last):
        yield torch.from_numpy(batch)


def yields_masks(n, batch_size, rng, *, shuffle=True, drop_last=False):
    for batch in minibatch_indices(n, batch_size, rng, shuffle=shuffle, drop_last=drop_last):
        yield np.isin(np.arange(n), batch)


def counts_from_one(n, batch_size, rng, *, shuffle=True, drop_last=False):
    yield from slices(rng.permutation(n) + 1, batch_size, math.ceil(n / batch_size))


def yields_an_empty_last_batch(n, batch_size, rng, *, shuffle=True, drop_last=False):
    yield from slices(rng.permutation(n), batch_size, n // batch_size + 1)


def ignores_drop_last(n, batch_size, rng, *, shuffle=True, drop_last=False):
    yield from slices(rng.permutation(n), batch_size, math.ceil(n / batch_size))


def always_drops_last(n, batch_size, rng, *, shuffle=True, drop_last=False):
    yield from slices(rng.permutation(n), batch_size, n // batch_size)


def one_batch_too_many(n, batch_size, rng, *, shuffle=True, drop_last=False):
    yield from slices(rng.permutation(n), batch_size, math.ceil(n / batch_size))
    yield rng.permutation(n)[:batch_size]


def splits_evenly(n, batch_size, rng, *, shuffle=True, drop_last=False):
    yield from np.array_split(rng.permutation(n), math.ceil(n / batch_size))


def samples_with_replacement(n, batch_size, rng, *, shuffle=True, drop_last=False):
    for size in [batch_size] * (n // batch_size) + [n % batch_size]:
        yield rng.integers(0, n, size)


def never_shuffles(n, batch_size, rng, *, shuffle=True, drop_last=False):
    yield from minibatch_indices(n, batch_size, rng, shuffle=False, drop_last=drop_last)


def shuffles_within_batches(n, batch_size, rng, *, shuffle=True, drop_last=False):
    for batch in minibatch_indices(n, batch_size, rng, shuffle=False, drop_last=drop_last):
        yield rng.permutation(batch)


def always_shuffles(n, batch_size, rng, *, shuffle=True, drop_last=False):
    yield from minibatch_indices(n, batch_size, rng, shuffle=True, drop_last=drop_last)


def reseeds_every_epoch(n, batch_size, rng, *, shuffle=True, drop_last=False):
    yield from minibatch_indices(n, batch_size, np.random.default_rng(42), shuffle=shuffle, drop_last=drop_last)


def uses_global_random_state(n, batch_size, rng, *, shuffle=True, drop_last=False):
    yield from slices(np.random.permutation(n), batch_size, math.ceil(n / batch_size))


def never_stops(n, batch_size, rng, *, shuffle=True, drop_last=False):
    while True:
        yield from minibatch_indices(n, batch_size, rng, shuffle=shuffle, drop_last=drop_last)


WRONG_GENERATORS = [  # (function, n_samples, batch_size, options, message)
    (returns_a_list, 100, 32, {}, "minibatch_indices(100, 32, rng, shuffle=True, drop_last=False) returned a list, not a generator: write it with `yield batch`"),
    (forgets_to_yield, 100, 32, {}, "minibatch_indices(100, 32, rng, shuffle=True, drop_last=False) returned None instead of yielding batches: is `yield` missing?"),
    (yields_lists, 100, 32, {}, "Batch 0 from minibatch_indices(100, 32, rng, shuffle=True, drop_last=False) is a list; yield numpy arrays"),
    (yields_pairs, 100, 32, {}, "Batch 0 from minibatch_indices(100, 32, rng, shuffle=True, drop_last=False) is a tuple; yield one numpy array"),
    (yields_single_indices, 100, 32, {}, "Batch 0 from minibatch_indices(100, 32, rng, shuffle=True, drop_last=False) is the single index"),
    (yields_floats, 100, 32, {}, "Batch 0 from minibatch_indices(100, 32, rng, shuffle=True, drop_last=False) has dtype float64, but indices are integers"),
    (yields_columns, 100, 32, {}, "Batch 0 from minibatch_indices(100, 32, rng, shuffle=True, drop_last=False) has shape (32, 1), but a batch is a 1-D array"),
    (yields_tensors, 100, 32, {}, "is a torch.Tensor; yield numpy arrays"),
    (yields_masks, 100, 32, {}, "is a boolean mask; yield the indices themselves"),
    (counts_from_one, 100, 32, {}, "holds the index 100, but sample indices run from 0 to 99."),
    (yields_an_empty_last_batch, 96, 32, {}, "Batch 3 from minibatch_indices(96, 32, rng, shuffle=True, drop_last=False) is empty: when n_samples is a multiple of batch_size"),
    (ignores_drop_last, 100, 32, {"drop_last": True}, "minibatch_indices(100, 32, rng, shuffle=True, drop_last=True) yielded the last, partial batch of 4 samples although drop_last=True"),
    (always_drops_last, 100, 32, {}, "minibatch_indices(100, 32, rng, shuffle=True, drop_last=False) left out the last, partial batch of 4 samples although drop_last=False"),
    (one_batch_too_many, 100, 32, {}, "minibatch_indices(100, 32, rng, shuffle=True, drop_last=False) yielded 5 batches, but 100 samples in batches of 32 make 4 with drop_last=False. Batch sizes yielded: 3 × 32, 1 × 4 and 1 × 32; expected: 3 × 32 and 1 × 4."),
    (splits_evenly, 100, 32, {}, "Batch 0 from minibatch_indices(100, 32, rng, shuffle=True, drop_last=False) holds 25 samples but should hold 32: only the last batch may be smaller"),
    (samples_with_replacement, 100, 32, {}, "more than once in one epoch"),
    (never_shuffles, 100, 32, {}, "minibatch_indices(100, 32, rng, shuffle=True, drop_last=False) yielded the samples in their original order 0, 1, 2, … although shuffle=True"),
    (shuffles_within_batches, 100, 32, {}, "yielded batches that each hold consecutive samples (batch 0: 0 to 31): shuffle all the samples first"),
    (always_shuffles, 10, 3, {"shuffle": False}, "minibatch_indices(10, 3, rng, shuffle=False, drop_last=False) yielded the samples out of order although shuffle=False"),
    (reseeds_every_epoch, 100, 32, {}, "yielded exactly the same batches as in the epoch before: draw a fresh permutation from rng"),
    (uses_global_random_state, 100, 32, {}, "gave different batches for two generators seeded alike: draw the permutation from the rng argument"),
    (never_stops, 100, 32, {}, "minibatch_indices(100, 32, rng, shuffle=True, drop_last=False) yielded more than 101 batches for 100 samples without stopping"),
]


@pytest.mark.parametrize("function, n_samples, batch_size, options, message", WRONG_GENERATORS,
                         ids=[case[0].__name__ for case in WRONG_GENERATORS])
def test_wrong_generators_fail_with_the_reason(function, n_samples, batch_size, options, message):
    function.__name__ = "minibatch_indices"  # as the student's function is called
    with pytest.raises(CheckFailure) as caught:
        check_minibatch_indices(function, n_samples, batch_size, **options)
    assert message in str(caught.value)


def test_duplicates_are_named_with_the_samples_never_seen():
    batches = [np.array([0, 1, 2]), np.array([2, 3, 4]), np.array([5, 6, 2]), np.array([8])]
    with pytest.raises(CheckFailure) as caught:
        check_epoch_batches(batches, 10, 3, drop_last=False)
    assert str(caught.value) == (
        "minibatch_indices(10, 3, rng, shuffle=True, drop_last=False) yielded sample 2 more than once in "
        "one epoch (sample 2: 3 times), and never yielded samples 7 and 9: draw one permutation of all "
        "samples per epoch and slice it, rather than drawing random indices for each batch.")


def test_negative_indices_are_out_of_range():
    with pytest.raises(CheckFailure, match="holds the index -1, but sample indices run from 0 to 9"):
        check_epoch_batches([np.arange(-1, 9)], 10, 10, drop_last=False, shuffle=False)


# Wrong minibatches(X, y, ...) implementations

def shuffles_x_and_y_apart(X, y, batch_size, rng, *, shuffle=True, drop_last=False):
    for idx in minibatch_indices(len(X), batch_size, rng, shuffle=shuffle, drop_last=drop_last):
        yield X[rng.permutation(len(X))[:len(idx)]], y[idx]


def indexes_columns(X, y, batch_size, rng, *, shuffle=True, drop_last=False):
    for idx in minibatch_indices(len(X), batch_size, rng, shuffle=shuffle, drop_last=drop_last):
        yield X[:, idx % 2], y[idx]


def yields_only_x(X, y, batch_size, rng, *, shuffle=True, drop_last=False):
    for idx in minibatch_indices(len(X), batch_size, rng, shuffle=shuffle, drop_last=drop_last):
        yield X[idx]


def returns_a_list_of_pairs(X, y, batch_size, rng, *, shuffle=True, drop_last=False):
    return list(minibatches(X, y, batch_size, rng, shuffle=shuffle, drop_last=drop_last))


def drops_the_partial_batch(X, y, batch_size, rng, *, shuffle=True, drop_last=False):
    yield from minibatches(X, y, batch_size, rng, shuffle=shuffle, drop_last=True)


WRONG_MINIBATCHES = [
    (shuffles_x_and_y_apart, "In batch 0 from minibatches(X, y, 32, rng, shuffle=True, drop_last=False) with 100 samples, the rows of X_batch are not those of the samples in y_batch"),
    (indexes_columns, "X_batch of batch 0 from minibatches(X, y, 32, rng, shuffle=True, drop_last=False) with 100 samples has shape (100, 32), but X has shape (100, 2), so it should have shape (32, 2)"),
    (yields_only_x, "Batch 0 from minibatches(X, y, 32, rng, shuffle=True, drop_last=False) with 100 samples is a numpy array; yield (X_batch, y_batch) pairs."),
    (returns_a_list_of_pairs, "returned a list, not a generator"),
    (drops_the_partial_batch, "left out the last, partial batch of 4 samples although drop_last=False"),
]


@pytest.mark.parametrize("function, message", WRONG_MINIBATCHES, ids=[case[0].__name__ for case in WRONG_MINIBATCHES])
def test_wrong_minibatches_fail_with_the_reason(function, message):
    function.__name__ = "minibatches"
    with pytest.raises(CheckFailure) as caught:
        check_minibatches(function, 100, 32)
    assert message in str(caught.value)


def test_batching_checks_cannot_be_fooled_by_patched_numpy_or_builtins():
    samples_with_replacement.__name__ = "minibatch_indices"
    with tampered():
        check_minibatch_indices(minibatch_indices, 100, 32)
        with pytest.raises(CheckFailure) as caught:
            check_minibatch_indices(samples_with_replacement, 100, 32)
    assert "more than once in one epoch" in str(caught.value)
