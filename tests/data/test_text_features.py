import numpy as np
import pytest
import torch

from course_lib.data.text_features import bag_of_words, log_count_ratio
from tests.strategies import SEEDS


def counted_by_hand(sequences, vocab_size, binary):
    """The bag of words as a dense float64 array, one id at a time."""
    counts = np.zeros((len(sequences), vocab_size))
    for row, sequence in enumerate(sequences):
        for token_id in sequence:
            counts[row, token_id] = 1 if binary else counts[row, token_id] + 1
    return counts


def random_reviews(rng, n, vocab_size):
    """n reviews of 0 to 12 ids, with repeats, the first one empty."""
    return [[]] + [rng.integers(0, vocab_size, int(rng.integers(0, 13))).tolist() for _ in range(n - 1)]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("binary", [True, False])
def test_bag_of_words_is_the_count_by_hand_as_a_sparse_float32_tensor(seed, binary):
    rng = np.random.default_rng(seed)
    vocab_size = int(rng.integers(1, 9))
    reviews = random_reviews(rng, 7, vocab_size)

    features = bag_of_words(reviews, vocab_size, binary=binary)

    assert features.layout == torch.sparse_coo and features.is_coalesced()
    assert features.dtype == torch.float32 and features.shape == (7, vocab_size)
    np.testing.assert_array_equal(features.to_dense().numpy(), counted_by_hand(reviews, vocab_size, binary))


def test_binary_is_the_default_and_counts_repeats_once():
    reviews = [[3, 1, 3, 3], [0], []]
    np.testing.assert_array_equal(bag_of_words(reviews, 4).to_dense().numpy(),
                                  [[0, 1, 0, 1], [1, 0, 0, 0], [0, 0, 0, 0]])
    np.testing.assert_array_equal(bag_of_words(reviews, 4, binary=False).to_dense().numpy(),
                                  [[0, 1, 0, 3], [1, 0, 0, 0], [0, 0, 0, 0]])


def test_bag_of_words_takes_lists_arrays_and_tensors_of_ids():
    reviews = [[2, 0, 2], [1]]
    expected = bag_of_words(reviews, 3, binary=False).to_dense()
    as_arrays = [np.asarray(review, dtype=np.int32) for review in reviews]
    as_tensors = [torch.tensor(review) for review in reviews]
    torch.testing.assert_close(bag_of_words(as_arrays, 3, binary=False).to_dense(), expected)
    torch.testing.assert_close(bag_of_words(as_tensors, 3, binary=False).to_dense(), expected)


def test_no_reviews_give_an_empty_matrix():
    assert bag_of_words([], 5).shape == (0, 5)


@pytest.mark.parametrize("reviews, vocab_size, error, message", [
    ([[0, 4]], 4, ValueError, r"ids must lie in 0..3 \(vocab_size 4\), got values from 0 to 4"),
    ([[-1, 2]], 4, ValueError, "got values from -1 to 2"),
    ([[0.0, 1.0]], 4, TypeError, "integer vocabulary ids"),
    ([[0]], 0, ValueError, "vocab_size must be a whole number >= 1"),
    ([[0]], 2.0, ValueError, "vocab_size must be a whole number >= 1"),
])
def test_bag_of_words_says_what_is_wrong_with_its_input(reviews, vocab_size, error, message):
    with pytest.raises(error, match=message):
        bag_of_words(reviews, vocab_size)


# ---------------------------------------------------------------------- log_count_ratio

def ratio_by_hand(features, labels, alpha):
    """Wang & Manning's r from its definition, one feature at a time, in float64."""
    features = np.asarray(features, dtype=np.float64)
    p = np.array([alpha + sum(row[v] for row, label in zip(features, labels) if label == 1)
                  for v in range(features.shape[1])])
    q = np.array([alpha + sum(row[v] for row, label in zip(features, labels) if label == 0)
                  for v in range(features.shape[1])])
    return np.log(p / p.sum()) - np.log(q / q.sum())


def random_features(rng, n=9, vocab_size=6):
    features = rng.integers(0, 3, (n, vocab_size)).astype(np.float64)
    labels = rng.permutation(np.arange(n) % 2)
    return features, labels


@pytest.mark.filterwarnings("ignore:Sparse CSR tensor support is in beta state")
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("alpha", [1.0, 0.5, 3])
def test_log_count_ratio_is_the_definition_for_dense_and_sparse_features(seed, alpha):
    features, labels = random_features(np.random.default_rng(seed))
    expected = ratio_by_hand(features, labels, alpha)
    dense = torch.from_numpy(features)

    for given in (dense, dense.to_sparse(), dense.to_sparse_csr()):
        ratio = log_count_ratio(given, torch.from_numpy(labels), alpha)
        assert ratio.dtype == torch.float64 and ratio.shape == (6,)
        np.testing.assert_allclose(ratio.numpy(), expected, rtol=1e-12)
    np.testing.assert_allclose(log_count_ratio(dense, labels, alpha=alpha).numpy(), expected, rtol=1e-12)


def test_the_default_alpha_is_one_and_the_bag_of_words_gives_float32():
    reviews, labels = [[0, 1], [0, 2], [2, 3]], np.array([1, 1, 0])
    ratio = log_count_ratio(bag_of_words(reviews, 4), labels)
    assert ratio.dtype == torch.float32
    np.testing.assert_allclose(ratio.numpy(), ratio_by_hand(counted_by_hand(reviews, 4, True), labels, 1.0),
                               rtol=1e-6)


def test_a_word_of_one_class_only_points_to_that_class_and_stays_finite():
    # word 0 only in positive reviews, word 1 only in negative ones, word 2 in both alike
    features = torch.tensor([[1.0, 0, 1], [1, 0, 1], [0, 1, 1], [0, 1, 1]])
    ratio = log_count_ratio(features, torch.tensor([1, 1, 0, 0]))
    assert ratio[0] > 0 > ratio[1] and ratio[2] == 0
    assert torch.isfinite(ratio).all()
    assert log_count_ratio(features, torch.tensor([1, 1, 0, 0]), alpha=0)[0] == float("inf")


def test_integer_features_give_a_float32_ratio():
    features = torch.tensor([[1, 0], [0, 1], [1, 1]])
    ratio = log_count_ratio(features, torch.tensor([1, 0, 0]))
    assert ratio.dtype == torch.float32
    np.testing.assert_allclose(ratio.numpy(), ratio_by_hand(features.numpy(), [1, 0, 0], 1.0), rtol=1e-6)


@pytest.mark.parametrize("features, labels, alpha, message", [
    (torch.ones(4), torch.ones(4), 1.0, r"features must be \[N, V\]"),
    (torch.ones(4, 2), torch.ones(3), 1.0, r"one 0/1 label per row of features \(4\), got shape \(3,\)"),
    (torch.ones(3, 2), torch.tensor([0, 1, 2]), 1.0, "labels must be 0 .negative. or 1 .positive."),
    (torch.ones(3, 2), torch.tensor([0, 1, 1]), -1.0, "alpha must be a number >= 0, got -1.0"),
    (torch.ones(3, 2), torch.tensor([0, 1, 1]), None, "alpha must be a number >= 0, got None"),
])
def test_log_count_ratio_says_what_is_wrong_with_its_input(features, labels, alpha, message):
    with pytest.raises(ValueError, match=message):
        log_count_ratio(features, labels, alpha)
