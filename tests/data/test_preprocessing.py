import numpy as np
import pytest
import torch

from course_lib.data.preprocessing import (
    flatten_and_scale, grouped_validation_split, mean_and_std, one_hot, pixel_mean_and_std, standardize,
    train_validation_split,
)
from tests.strategies import SEEDS, random_shape


def test_flatten_and_scale_matches_torch_conversion():
    images = np.random.default_rng(0).integers(0, 256, size=(5, 28, 28), dtype=np.uint8)
    flat = flatten_and_scale(images)
    assert flat.dtype == np.float32
    assert flat.shape == (5, 784)
    expected = torch.from_numpy(images).reshape(5, -1).float().div(255).numpy()
    np.testing.assert_array_equal(flat, expected)


def test_flatten_and_scale_maps_0_and_255_to_the_ends_of_the_unit_interval():
    flat = flatten_and_scale(np.array([[[0, 255]]], dtype=np.uint8))
    np.testing.assert_array_equal(flat, [[0.0, 1.0]])


@pytest.mark.parametrize("images, message", [
    (np.zeros((2, 3, 3), dtype=np.float32), "uint8"),
    (np.zeros((2, 3, 3), dtype=np.int64), "uint8"),
    (np.zeros(5, dtype=np.uint8), r"\[N, H, W\]"),
])
def test_flatten_and_scale_rejects_what_is_not_a_stack_of_8_bit_images(images, message):
    with pytest.raises(ValueError, match=message):
        flatten_and_scale(images)


@pytest.mark.parametrize("validation_size, n_validation", [(20, 20), (np.int64(1), 1), (0.25, 25), (0.7, 70)])
def test_split_sizes(validation_size, n_validation):
    X, y = np.arange(200).reshape(100, 2), np.arange(100)
    X_train, y_train, X_val, y_val = train_validation_split(X, y, validation_size, np.random.default_rng(0))
    assert (len(X_train), len(y_train)) == (100 - n_validation,) * 2
    assert (len(X_val), len(y_val)) == (n_validation,) * 2


def test_split_is_a_seeded_shuffle_into_disjoint_parts_that_keep_pairs():
    X, y = np.arange(200).reshape(100, 2), np.arange(100)
    X_train, y_train, X_val, y_val = train_validation_split(X, y, 30, np.random.default_rng(3))
    np.testing.assert_array_equal(np.sort(np.concatenate([y_train, y_val])), y)
    np.testing.assert_array_equal(X_train[:, 0], 2 * y_train)
    np.testing.assert_array_equal(X_val[:, 0], 2 * y_val)
    assert not np.array_equal(y_val, np.arange(30))
    again = train_validation_split(X, y, 30, np.random.default_rng(3))
    np.testing.assert_array_equal(again[3], y_val)
    other_seed = train_validation_split(X, y, 30, np.random.default_rng(4))
    assert not np.array_equal(other_seed[3], y_val)


@pytest.mark.parametrize("validation_size, message", [
    (0, "at least one sample"), (100, "at least one sample"), (0.001, "at least one sample"),
    (0.0, "strictly between 0 and 1"), (1.0, "strictly between 0 and 1"), (1.5, "strictly between"),
    (True, "count or a fraction"), ("10", "int count or a float fraction"),
])
def test_split_rejects_bad_validation_sizes(validation_size, message):
    with pytest.raises(ValueError, match=message):
        train_validation_split(np.zeros((100, 2)), np.zeros(100), validation_size, np.random.default_rng(0))


def test_split_rejects_unequal_lengths():
    with pytest.raises(ValueError, match="same number of samples"):
        train_validation_split(np.zeros((10, 2)), np.zeros(9), 2, np.random.default_rng(0))


@pytest.mark.parametrize("seed", SEEDS)
def test_one_hot_matches_torch_for_any_shape(seed):
    rng = np.random.default_rng(seed)
    classes = rng.integers(0, 5, random_shape(rng))
    expected = torch.nn.functional.one_hot(torch.from_numpy(classes)).numpy()
    np.testing.assert_array_equal(one_hot(classes), expected)
    assert one_hot(classes).dtype == np.int64 and one_hot(classes).shape == classes.shape + (classes.max() + 1,)
    wider = torch.nn.functional.one_hot(torch.from_numpy(classes), num_classes=7).numpy()
    np.testing.assert_array_equal(one_hot(classes.astype(np.uint8), num_classes=7), wider)


def test_one_hot_of_no_indices_is_empty_when_told_the_number_of_classes():
    assert one_hot(np.zeros(0, dtype=np.int64), num_classes=3).shape == (0, 3)


@pytest.mark.parametrize("tensor, num_classes, message", [
    (np.array([1, -1]), -1, "non-negative, got -1"),
    (np.array([1, 3]), 3, "smaller than num_classes=3, got 3"),
    (np.array([1.0, 2.0]), -1, "integer class indices, got dtype float64"),
    (np.array([True, False]), -1, "dtype bool"),
    (np.zeros(0, dtype=np.int64), -1, "pass num_classes"),
])
def test_one_hot_rejects_what_torch_rejects(tensor, num_classes, message):
    with pytest.raises(ValueError, match=message):
        one_hot(tensor, num_classes)


def test_mean_and_std_are_torchs_population_statistics_over_every_entry():
    X = np.random.default_rng(0).random((50, 7), dtype=np.float32) * 3 + 1
    mean, std = mean_and_std(X)
    as_torch = torch.from_numpy(X).double()
    assert (type(mean), type(std)) == (float, float)
    assert mean == pytest.approx(as_torch.mean().item(), rel=1e-12)
    assert std == pytest.approx(as_torch.std(correction=0).item(), rel=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_standardizing_with_the_training_statistics_centres_and_scales_only_the_training_split(dtype):
    rng = np.random.default_rng(1)
    X_train, X_val = (rng.normal(5.0, 2.0, (200, 3)).astype(dtype) for _ in range(2))
    mean, std = mean_and_std(X_train)

    train, val = standardize(X_train, mean, std), standardize(X_val, mean, std)

    assert train.dtype == val.dtype == dtype
    assert mean_and_std(train) == pytest.approx((0.0, 1.0), abs=1e-5)
    expected = (torch.from_numpy(X_val).double() - mean) / std  # torchvision's Normalize, one channel
    np.testing.assert_allclose(val, expected.numpy(), rtol=0, atol=1e-6 if dtype == np.float32 else 1e-12)
    assert mean_and_std(val) != pytest.approx((0.0, 1.0), abs=1e-3)  # its own statistics were not used


def test_standardize_leaves_its_input_unchanged():
    X = np.arange(6, dtype=np.float64).reshape(2, 3)
    standardize(X, 2.5, 1.5)
    np.testing.assert_array_equal(X, np.arange(6).reshape(2, 3))


@pytest.mark.parametrize("X, std, message", [
    (np.zeros((2, 3), dtype=np.uint8), 1.0, "floating-point inputs .* flatten_and_scale"),
    (np.zeros((2, 3)), 0.0, "std must be positive"),
    (np.zeros((2, 3)), float("nan"), "std must be positive"),
])
def test_standardize_rejects_integer_inputs_and_a_zero_std(X, std, message):
    with pytest.raises(ValueError, match=message):
        standardize(X, 0.0, std)


def test_mean_and_std_of_nothing_is_an_error():
    with pytest.raises(ValueError, match="no values"):
        mean_and_std(np.zeros((0, 3)))


@pytest.mark.parametrize("shape", [(5, 7, 6), (5, 1, 7, 6)])
def test_pixel_mean_and_std_are_torchs_population_statistics_of_the_scaled_pixels(shape):
    images = np.random.default_rng(2).integers(0, 256, shape, dtype=np.uint8)
    scaled = torch.from_numpy(images).double() / 255
    for given in (images, torch.from_numpy(images)):
        mean, std = pixel_mean_and_std(given)
        assert (type(mean), type(std)) == (float, float)
        assert mean == pytest.approx(scaled.mean().item(), rel=1e-12)
        assert std == pytest.approx(scaled.std(correction=0).item(), rel=1e-12)


def test_pixel_mean_and_std_of_a_small_set_are_the_population_ones():
    # 0 and 255: mean 0.5, population std 0.5 (the sample std would be 0.707)
    assert pixel_mean_and_std(np.array([[[0, 255]]], dtype=np.uint8)) == (0.5, 0.5)


def test_pixel_mean_and_std_need_8_bit_pixels():
    with pytest.raises(ValueError, match="expected uint8 images .* got dtype float32"):
        pixel_mean_and_std(np.zeros((2, 3, 3), dtype=np.float32))


GROUPS = np.array(["a", "b", "a", "c", "b", "d", "a", "e", "e", "f"])


@pytest.mark.parametrize("seed", range(5))
def test_grouped_split_keeps_each_group_on_one_side(seed):
    train, validation = grouped_validation_split(GROUPS, 3, np.random.default_rng(seed))
    assert not set(GROUPS[train]) & set(GROUPS[validation])
    assert sorted(train.tolist() + validation.tolist()) == list(range(len(GROUPS)))
    assert train.tolist() == sorted(train.tolist()) and validation.tolist() == sorted(validation.tolist())
    # whole groups until at least 3 samples: never more than the last group's size (≤ 3) too many
    assert 3 <= len(validation) < 3 + 3


def test_grouped_split_takes_a_fraction_and_depends_on_the_generator_only():
    first = grouped_validation_split(GROUPS, 0.3, np.random.default_rng(1))
    again = grouped_validation_split(GROUPS, 0.3, np.random.default_rng(1))
    assert [part.tolist() for part in first] == [part.tolist() for part in again]
    assert len(first[1]) >= 3


def test_grouped_split_of_single_sample_groups_is_an_ordinary_split():
    train, validation = grouped_validation_split(np.arange(10), 4, np.random.default_rng(0))
    assert len(validation) == 4 and len(train) == 6


def test_grouped_split_refuses_to_empty_the_training_side():
    with pytest.raises(ValueError, match="takes every group into validation"):
        grouped_validation_split(np.array(["a"] * 5 + ["b"] * 5), 6, np.random.default_rng(0))


def test_grouped_split_refuses_a_table_of_groups():
    with pytest.raises(ValueError, match="one label per sample"):
        grouped_validation_split(np.zeros((3, 2)), 1, np.random.default_rng(0))
