import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from course_lib.data.batching import iterations_per_epoch, minibatch_indices, minibatches, total_updates

SIZES = [(1000, 64), (960, 64), (10, 3), (3, 10), (7, 7), (1, 1), (0, 4), (100, 1)]


def torch_batches(n_samples, batch_size, drop_last):
    loader = DataLoader(range(n_samples), batch_size=batch_size, shuffle=False, drop_last=drop_last)
    return [batch.numpy() for batch in loader]


@pytest.mark.parametrize("drop_last", [False, True])
@pytest.mark.parametrize("n_samples, batch_size", SIZES)
def test_iterations_per_epoch_matches_dataloader_length(n_samples, batch_size, drop_last):
    loader = DataLoader(range(n_samples), batch_size=batch_size, drop_last=drop_last)
    count = iterations_per_epoch(n_samples, batch_size, drop_last)
    assert count == len(loader)
    assert type(count) is int


def test_iterations_per_epoch_rounds_up_unless_drop_last():
    assert iterations_per_epoch(1000, 64) == 16
    assert iterations_per_epoch(1000, 64, drop_last=True) == 15
    assert iterations_per_epoch(np.int64(1000), np.int32(64)) == 16


@pytest.mark.parametrize("n_samples, batch_size, message", [
    (100, 0, "batch_size must be at least 1"),
    (100, -5, "batch_size must be at least 1"),
    (-1, 10, "n_samples must be at least 0"),
    (100, 32.0, "batch_size must be a whole number"),
    (100.0, 32, "n_samples must be a whole number"),
    (100, True, "batch_size must be a whole number"),
    (np.bool_(True), 3, "n_samples must be a whole number"),
    (100, "32", "batch_size must be a whole number"),
    (100, None, "batch_size must be a whole number"),
])
def test_iterations_per_epoch_rejects_bad_arguments(n_samples, batch_size, message):
    with pytest.raises(ValueError, match=message):
        iterations_per_epoch(n_samples, batch_size)


def test_total_updates_is_epochs_times_iterations():
    assert total_updates(1000, 64, 10) == 160
    assert total_updates(1000, 64, 10, drop_last=True) == 150
    assert total_updates(1000, 64, 0) == 0
    with pytest.raises(ValueError, match="epochs must be at least 0"):
        total_updates(1000, 64, -1)
    with pytest.raises(ValueError, match="epochs must be a whole number"):
        total_updates(1000, 64, 2.5)


@pytest.mark.parametrize("drop_last", [False, True])
@pytest.mark.parametrize("n_samples, batch_size", SIZES)
def test_unshuffled_batches_are_those_of_a_dataloader(n_samples, batch_size, drop_last):
    batches = list(minibatch_indices(n_samples, batch_size, None, shuffle=False, drop_last=drop_last))
    expected = torch_batches(n_samples, batch_size, drop_last)
    assert len(batches) == len(expected)
    for batch, wanted in zip(batches, expected):
        assert batch.dtype == np.int64
        np.testing.assert_array_equal(batch, wanted)


@pytest.mark.parametrize("drop_last", [False, True])
@pytest.mark.parametrize("n_samples, batch_size", SIZES)
def test_shuffled_batches_have_dataloader_sizes_and_cover_each_sample_once(n_samples, batch_size, drop_last):
    rng = np.random.default_rng(0)
    batches = list(minibatch_indices(n_samples, batch_size, rng, drop_last=drop_last))
    assert [len(b) for b in batches] == [len(b) for b in torch_batches(n_samples, batch_size, drop_last)]
    assert all(batch.dtype == np.int64 and batch.ndim == 1 for batch in batches)
    seen = np.concatenate(batches) if batches else np.array([], dtype=np.int64)
    assert len(np.unique(seen)) == len(seen)
    if not drop_last:
        np.testing.assert_array_equal(np.sort(seen), np.arange(n_samples))


def test_each_call_reshuffles_and_a_seed_reproduces():
    rng = np.random.default_rng(1)
    first = np.concatenate(list(minibatch_indices(50, 8, rng)))
    second = np.concatenate(list(minibatch_indices(50, 8, rng)))
    assert not np.array_equal(first, second)
    assert not np.array_equal(first, np.arange(50))
    replay = np.concatenate(list(minibatch_indices(50, 8, np.random.default_rng(1))))
    np.testing.assert_array_equal(first, replay)


def test_permutation_is_drawn_at_the_call_like_a_dataloader_iterator():
    rng = np.random.default_rng(2)
    first_epoch = minibatch_indices(50, 8, rng)
    second_epoch = minibatch_indices(50, 8, rng)  # drawn before the first is consumed
    reference = np.random.default_rng(2)
    np.testing.assert_array_equal(np.concatenate(list(first_epoch)), reference.permutation(50))
    np.testing.assert_array_equal(np.concatenate(list(second_epoch)), reference.permutation(50))


def test_arguments_are_checked_at_the_call_not_at_the_first_batch():
    with pytest.raises(ValueError, match="batch_size"):
        minibatch_indices(10, 0, np.random.default_rng(0))
    with pytest.raises(TypeError, match="np.random.Generator"):
        minibatch_indices(10, 2, 0)


def test_minibatches_pair_rows_of_x_with_their_labels():
    X = np.arange(20).reshape(10, 2)
    y = np.arange(10) * 10
    batches = list(minibatches(X, y, 4, np.random.default_rng(0)))
    assert [len(y_batch) for _, y_batch in batches] == [4, 4, 2]
    for X_batch, y_batch in batches:
        np.testing.assert_array_equal(X_batch[:, 0], y_batch // 5)
    np.testing.assert_array_equal(np.sort(np.concatenate([yb for _, yb in batches])), y)


def test_minibatches_index_torch_tensors_too():
    X, y = torch.arange(20.0).reshape(10, 2), torch.arange(10)
    for X_batch, y_batch in minibatches(X, y, 3, np.random.default_rng(0), drop_last=True):
        assert X_batch.shape == (3, 2)
        torch.testing.assert_close(X_batch[:, 0], 2.0 * y_batch)


def test_minibatches_reject_unequal_lengths():
    with pytest.raises(ValueError, match="same number of samples"):
        minibatches(np.zeros((5, 2)), np.zeros(4), 2, np.random.default_rng(0))
