import math

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from course_lib.checking.batching import (
    check_iterations_per_epoch, check_minibatch_indices, check_minibatches, check_total_updates,
)
from course_lib.checking.failure import CheckFailure, DelegationFailure
from course_lib.data import batching
from tests.checking.failures import failure_message
from tests.grading.answer_cells import solution
from tests.strategies import tampered

CONFIGURATIONS = [  # n_samples, batch_size, shuffle, drop_last
    (100, 32, True, False), (100, 32, True, True), (96, 32, True, False), (96, 32, True, True),
    (10, 3, False, False), (10, 3, False, True), (7, 10, True, False), (7, 10, True, True),
    (0, 4, True, False), (1, 1, True, False), (50, 1, True, False),
]
EPOCHS = [(10, 3), (5, 8), (0, 16), (7, 1), (64, 64), (1_000_001, 1000), (59_999, 60_000)]
RUNS = [(10, 3, 7), (10, 3, 0), (5, 8, 4), (64, 64, 3), (0, 4, 5)]


def minibatch_indices(n_samples, batch_size, rng, *, shuffle=True, drop_last=False):
    """A right answer, written as a student would."""
    order = rng.permutation(n_samples) if shuffle else np.arange(n_samples)
    stop = n_samples - n_samples % batch_size if drop_last else n_samples
    for start in range(0, stop, batch_size):
        yield order[start:start + batch_size]


def minibatches(X, y, batch_size, rng, *, shuffle=True, drop_last=False):
    for batch in minibatch_indices(len(X), batch_size, rng, shuffle=shuffle, drop_last=drop_last):
        yield X[batch], y[batch]


@pytest.mark.parametrize("n_samples, batch_size, shuffle, drop_last", CONFIGURATIONS)
def test_right_generators_pass(n_samples, batch_size, shuffle, drop_last):
    check_minibatch_indices(solution("01_epochs_iterations", "minibatch_indices"), n_samples, batch_size,
                            shuffle=shuffle, drop_last=drop_last)
    check_minibatch_indices(minibatch_indices, n_samples, batch_size, shuffle=shuffle, drop_last=drop_last)
    check_minibatches(minibatches, n_samples, batch_size, shuffle=shuffle, drop_last=drop_last)


# ---------------------------------------------------------------------------- counts

def test_right_counts_pass():
    iterations_per_epoch = solution("01_epochs_iterations", "iterations_per_epoch")
    total_updates = solution("01_epochs_iterations", "total_updates")
    check_iterations_per_epoch(iterations_per_epoch)
    check_total_updates(total_updates)
    for n_samples, batch_size in EPOCHS:
        check_iterations_per_epoch(iterations_per_epoch, n_samples, batch_size)
    for n_samples, batch_size, epochs in RUNS:
        check_total_updates(total_updates, n_samples, batch_size, epochs)


def floor_always(n_samples, batch_size, drop_last=False):
    return n_samples // batch_size


def ceil_always(n_samples, batch_size, drop_last=False):
    return math.ceil(n_samples / batch_size)


def one_more_unless_dropped(n_samples, batch_size, drop_last=False):
    return n_samples // batch_size + (0 if drop_last else 1)


def divides(n_samples, batch_size, drop_last=False):
    return n_samples / batch_size


def rounds_up_as_float(n_samples, batch_size, drop_last=False):
    return float(math.ceil(n_samples / batch_size)) if not drop_last else n_samples // batch_size


def keyword_only(n_samples, batch_size, *, drop_last=False):
    full, leftover = divmod(n_samples, batch_size)
    return full + (1 if leftover and not drop_last else 0)


def delegates_to_torch(n_samples, batch_size, drop_last=False):
    return len(DataLoader(range(n_samples), batch_size=batch_size, drop_last=drop_last))


WRONG_COUNTS = [  # (function, options, message)
    (floor_always, {}, "iterations_per_epoch(60000, 64) returned 937, expected 938: that is ⌊60000/64⌋: 937 full "
                       "batches of 64 hold 59968 samples, and the 32 left over still make one more, smaller batch — "
                       "one more step. Round up unless drop_last=True."),
    (ceil_always, {}, "iterations_per_epoch(60000, 64, drop_last=True) returned 938, expected 937: that is "
                      "⌈60000/64⌉, but with drop_last=True the last 32 samples are not a batch of their own: the "
                      "partial batch is skipped, so round down."),
    (one_more_unless_dropped, {}, "iterations_per_epoch(6400, 64) returned 101, expected 100: 64 divides 6400 "
                                  "exactly, so there is no partial batch and no extra step"),
    (one_more_unless_dropped, {"n_samples": 0, "batch_size": 16},
     "iterations_per_epoch(0, 16) returned 1, expected 0: with no samples there are no batches, so no steps."),
    (divides, {}, "iterations_per_epoch(60000, 64) returned 937.5, but the whole number 938 is expected"),
    (rounds_up_as_float, {}, "iterations_per_epoch(60000, 64) returned 938.0, a float, but the int 938 is expected"),
    (keyword_only, {"n_samples": 10, "batch_size": 4},
     "iterations_per_epoch(10, 4, True) raised TypeError: keyword_only() takes 2 positional arguments but 3 were "
     "given\nHint: the signature is iterations_per_epoch(n_samples, batch_size, drop_last=False)."),
]


@pytest.mark.parametrize("function, options, message", WRONG_COUNTS, ids=[case[0].__name__ for case in WRONG_COUNTS])
def test_wrong_counts_fail_with_the_reason(function, options, message):
    assert message in failure_message(check_iterations_per_epoch, function, **options)


def test_keyword_only_drop_last_passes_the_visible_check():
    check_iterations_per_epoch(keyword_only)


def ceil_of_all_samples(n_samples, batch_size, epochs, drop_last=False):
    if drop_last:
        return epochs * n_samples // batch_size
    return math.ceil(epochs * n_samples / batch_size)


def floor_of_all_samples_when_dropping(n_samples, batch_size, epochs, drop_last=False):
    if drop_last:
        return epochs * n_samples // batch_size
    return epochs * math.ceil(n_samples / batch_size)


def ignores_drop_last(n_samples, batch_size, epochs, drop_last=False):
    return epochs * math.ceil(n_samples / batch_size)


def forgets_the_epochs(n_samples, batch_size, epochs, drop_last=False):
    return keyword_only(n_samples, batch_size, drop_last=drop_last)


WRONG_RUNS = [
    (ceil_of_all_samples, {}, "total_updates(60000, 64, 10) returned 9375, expected 9380: that is ⌈10 · 60000 / 64⌉, "
                              "as if batches ran on across the end of an epoch; every epoch ends with its own partial "
                              "batch of 32, so it is 10 × 938."),
    (floor_of_all_samples_when_dropping, {"n_samples": 10, "batch_size": 3, "epochs": 7},
     "total_updates(10, 3, 7, drop_last=True) returned 23, expected 21: that is ⌊7 · 10 / 3⌋, as if batches ran on "
     "across the end of an epoch; every epoch drops its own last 1 samples, so it is 7 × 3."),
    (ignores_drop_last, {}, "total_updates(60000, 64, 10, drop_last=True) returned 9380, expected 9370: that is 10 × "
                            "938, the count with drop_last=False: with drop_last=True each epoch has only its 937 full "
                            "batches."),
    (forgets_the_epochs, {}, "total_updates(60000, 64, 10) returned 938, expected 9380: that is the steps of one "
                             "epoch; 10 epochs make 10 times as many."),
]


@pytest.mark.parametrize("function, options, message", WRONG_RUNS, ids=[case[0].__name__ for case in WRONG_RUNS])
def test_wrong_run_counts_fail_with_the_reason(function, options, message):
    assert message in failure_message(check_total_updates, function, **options)


def test_a_count_that_delegates_fails():
    with pytest.raises(DelegationFailure, match="called torch.utils.data.BatchSampler"):
        check_iterations_per_epoch(delegates_to_torch)
    with pytest.raises(DelegationFailure, match="called course_lib.data.iterations_per_epoch, the course's own"):
        check_iterations_per_epoch(batching.iterations_per_epoch)
    with pytest.raises(DelegationFailure, match="called course_lib.data.total_updates"):
        check_total_updates(lambda n_samples, batch_size, epochs, drop_last=False:
                            batching.total_updates(n_samples, batch_size, epochs, drop_last))
    # the handed-out count of one epoch is allowed
    check_total_updates(lambda n_samples, batch_size, epochs, drop_last=False:
                        epochs * batching.iterations_per_epoch(n_samples, batch_size, drop_last))


def test_a_blank_count_gets_the_advice():
    def blank(n_samples, batch_size, drop_last=False):
        raise NotImplementedError()
    assert "iterations_per_epoch(60000, 64) raised NotImplementedError: replace `raise NotImplementedError()`" in \
        failure_message(check_iterations_per_epoch, blank)


# --------------------------------------------------------------------------- batches

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
    assert message in failure_message(check_minibatch_indices, function, n_samples=n_samples,
                                      batch_size=batch_size, **options)


def yielding(*batches):
    def generator(n_samples, batch_size, rng, *, shuffle=True, drop_last=False):
        yield from (np.array(batch) for batch in batches)
    return generator


def test_duplicates_are_named_with_the_samples_never_seen():
    duplicates = yielding([0, 1, 2], [2, 3, 4], [5, 6, 2], [8])
    assert failure_message(check_minibatch_indices, duplicates, n_samples=10, batch_size=3) == (
        "minibatch_indices(10, 3, rng, shuffle=True, drop_last=False) yielded sample 2 more than once in "
        "one epoch (sample 2: 3 times), and never yielded samples 7 and 9: draw one permutation of all "
        "samples per epoch and slice it, rather than drawing random indices for each batch.")


def test_negative_indices_are_out_of_range():
    assert "holds the index -1, but sample indices run from 0 to 9" in failure_message(
        check_minibatch_indices, yielding(np.arange(-1, 9)), n_samples=10, batch_size=10, shuffle=False)


def test_a_generator_that_delegates_fails_also_when_it_only_delegates_while_iterated():
    for delegating, name in [
            (batching.minibatch_indices, "course_lib.data.minibatch_indices"),
            (lambda n_samples, batch_size, rng, *, shuffle=True, drop_last=False:
             (batch for batch in batching.minibatch_indices(n_samples, batch_size, rng, shuffle=shuffle,
                                                             drop_last=drop_last)), "course_lib.data.minibatch_indices"),
            (lambda n_samples, batch_size, rng, *, shuffle=True, drop_last=False:
             (batch.numpy() for batch in DataLoader(torch.arange(n_samples), batch_size=batch_size, shuffle=shuffle,
                                                    drop_last=drop_last)), "torch.utils.data.RandomSampler")]:
        with pytest.raises(DelegationFailure, match=f"called {name}"):
            check_minibatch_indices(delegating, 100, 32)


def test_a_blank_generator_gets_the_advice_when_it_is_iterated():
    def blank(n_samples, batch_size, rng, *, shuffle=True, drop_last=False):
        raise NotImplementedError()
        yield
    assert failure_message(check_minibatch_indices, blank, n_samples=100, batch_size=32).startswith(
        "minibatch_indices(100, 32, rng, shuffle=True, drop_last=False) raised NotImplementedError: replace")


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
    assert message in failure_message(check_minibatches, function, n_samples=100, batch_size=32)


def test_batching_checks_cannot_be_fooled_by_patched_numpy_or_builtins():
    with tampered():
        check_minibatch_indices(minibatch_indices, 100, 32)
        check_iterations_per_epoch(keyword_only)
        with pytest.raises(CheckFailure) as caught:
            check_minibatch_indices(samples_with_replacement, 100, 32)
        assert "more than once in one epoch" in str(caught.value)
        with pytest.raises(CheckFailure) as caught:
            check_iterations_per_epoch(floor_always)
        assert "that is ⌊60000/64⌋" in str(caught.value)
