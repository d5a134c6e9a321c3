import warnings

import numpy as np
import pytest
import torch

from course_lib.metrics import (
    accuracy, binary_accuracy, calibration_bins, confusion_matrix, expected_calibration_error, precision_recall,
)
from tests.strategies import SEEDS


def torch_accuracy(scores, targets):
    return (scores.argmax(dim=1) == targets).double().mean().item()


@pytest.mark.parametrize("seed", range(4))
def test_class_scores_use_the_argmax_for_numpy_and_torch(seed):
    generator = torch.Generator().manual_seed(seed)
    scores, targets = torch.randn(50, 4, generator=generator), torch.randint(0, 4, (50,), generator=generator)
    expected = torch_accuracy(scores, targets)
    assert accuracy(scores, targets) == expected
    assert accuracy(scores.numpy(), targets.numpy()) == expected
    assert accuracy(scores.requires_grad_(), targets.numpy()) == expected
    assert type(accuracy(scores, targets)) is float


def test_single_logits_predict_class_1_above_zero():
    logits = np.array([-2.0, -0.1, 0.0, 0.3, 5.0])
    targets = np.array([0, 1, 0, 1, 0])
    assert accuracy(logits, targets) == 3 / 5
    assert accuracy(torch.tensor(logits)[:, None], torch.tensor(targets, dtype=torch.float32)[:, None]) == 3 / 5


@pytest.mark.parametrize("logit_shape", ["[N]", "[N, 1]"])
@pytest.mark.parametrize("target_shape", ["[N]", "[N, 1]"])
@pytest.mark.parametrize("target_dtype", [torch.int64, torch.float32])
def test_binary_logits_score_against_int_or_float_targets_of_either_shape(logit_shape, target_shape, target_dtype):
    logits = torch.tensor([-2.0, -0.1, 0.0, 0.3, 5.0, 1.0])
    targets = torch.tensor([0, 1, 0, 1, 0, 1], dtype=target_dtype)
    logits = logits[:, None] if logit_shape == "[N, 1]" else logits
    targets = targets[:, None] if target_shape == "[N, 1]" else targets
    # [N, 1] against [N] must not broadcast to [N, N] pairs
    assert accuracy(logits, targets) == 4 / 6
    assert accuracy(logits.numpy(), targets.numpy()) == 4 / 6


def test_fractional_targets_are_refused_rather_than_counted_wrong():
    with pytest.raises(ValueError, match="fractional values.*targets > 0.5"):
        accuracy(torch.tensor([1.0, -1.0]), torch.tensor([0.9, 0.1]))


def test_class_probabilities_as_targets_count_their_largest_class():
    scores = torch.tensor([[2.0, 1.0, 0.0], [0.0, 3.0, 1.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
    one_hot = np.eye(3)[[0, 1, 1, 2]]
    mixed = torch.tensor([[0.7, 0.3, 0.0], [0.0, 0.6, 0.4], [0.0, 0.55, 0.45], [0.2, 0.0, 0.8]])
    assert accuracy(scores, one_hot) == accuracy(scores, mixed) == 2 / 4


@pytest.mark.parametrize("scores, targets, message", [
    (np.zeros((5, 3)), np.zeros(4), "scores hold 5 samples but targets 4"),
    (np.zeros(5), np.zeros(6), "scores hold 5 samples but targets 6"),
    (np.zeros((5, 3)), np.zeros((5, 3, 2)), "class probabilities"),
    (np.zeros((2, 3)), np.array([[0.5, 0.2, 0.1], [1.0, 0.0, 0.0]]), "neither class indices nor class probabilities"),
    (np.zeros((2, 3)), np.array([[1.5, -0.5, 0.0], [1.0, 0.0, 0.0]]), "neither class indices nor class probabilities"),
    (np.zeros((5, 3, 2)), np.zeros(5), r"got shape \(5, 3, 2\)"),
    (np.zeros((0, 3)), np.zeros(0), "zero samples"),
])
def test_accuracy_explains_inputs_it_cannot_score(scores, targets, message):
    with pytest.raises(ValueError, match=message):
        accuracy(scores, targets)


def binary_accuracy_by_hand(logits, targets):
    return sum((logit > 0) == (target == 1) for logit, target in zip(logits, targets)) / len(targets)


@pytest.mark.parametrize("seed", SEEDS)
def test_binary_accuracy_predicts_class_1_above_a_logit_of_0_for_numpy_and_torch(seed):
    rng = np.random.default_rng(seed)
    logits, targets = rng.standard_normal(int(rng.integers(1, 30))), rng.integers(0, 2, 30)
    targets = targets[:len(logits)]
    expected = binary_accuracy_by_hand(logits, targets)

    for given_logits in (logits, logits[:, None], torch.from_numpy(logits).float(),
                         torch.from_numpy(logits)[:, None].requires_grad_()):
        for given_targets in (targets, targets.astype(bool), torch.from_numpy(targets).float(),
                              torch.from_numpy(targets)[:, None]):
            value = binary_accuracy(given_logits, given_targets)
            assert type(value) is float and value == pytest.approx(expected, rel=1e-12)


def test_a_logit_of_exactly_0_predicts_class_0():
    assert binary_accuracy(torch.tensor([0.0, 0.0]), torch.tensor([0, 1])) == 0.5
    assert binary_accuracy(np.array([0.0]), np.array([0.0])) == 1.0


def test_n_by_1_logits_are_compared_row_by_row_with_n_targets():
    logits, targets = torch.tensor([[2.0], [-1.0], [3.0]]), torch.tensor([1, 0, 1])
    assert binary_accuracy(logits, targets) == 1.0
    # what the classic broadcasting bug would report: 5 of the 9 (logit, target) pairs agree
    assert ((logits > 0) == targets).float().mean().item() == pytest.approx(5 / 9)


@pytest.mark.parametrize("logits, targets, message", [
    (np.zeros((4, 2)), np.zeros(4), r"logits must be one value per sample, \[N\] or \[N, 1\], got shape \(4, 2\)"),
    (np.zeros(4), np.zeros((4, 3)), r"targets must be one value per sample"),
    (np.zeros(4), np.zeros(3), "logits hold 4 samples but targets 3"),
    (np.zeros(0), np.zeros(0), "zero samples"),
    (np.zeros(3), np.array([0, 1, 2]), "targets must be the labels 0 and 1"),
    (np.zeros(2), np.array([0.5, 1.0]), "targets must be the labels 0 and 1"),
])
def test_binary_accuracy_explains_inputs_it_cannot_score(logits, targets, message):
    with pytest.raises(ValueError, match=message):
        binary_accuracy(logits, targets)


def counted_confusion(targets, predictions, num_classes):
    """The confusion matrix, one sample at a time."""
    counts = np.zeros((num_classes, num_classes), dtype=np.int64)
    for true, predicted in zip(targets, predictions, strict=True):
        counts[true, predicted] += 1
    return counts


@pytest.mark.parametrize("seed", SEEDS)
def test_confusion_matrix_counts_true_classes_in_rows_for_numpy_and_torch(seed):
    rng = np.random.default_rng(seed)
    num_classes, n = int(rng.integers(1, 6)), int(rng.integers(0, 40))
    targets, predictions = rng.integers(0, num_classes, n), rng.integers(0, num_classes, n)
    expected = counted_confusion(targets, predictions, num_classes)
    confusion = confusion_matrix(targets, predictions, num_classes)
    assert confusion.dtype == np.int64
    np.testing.assert_array_equal(confusion, expected)
    np.testing.assert_array_equal(confusion_matrix(torch.from_numpy(targets), torch.from_numpy(predictions),
                                                   num_classes), expected)


def test_confusion_matrix_puts_a_missed_class_in_its_row():
    # one sample of class 2 predicted as 0: row 2, column 0
    np.testing.assert_array_equal(confusion_matrix(np.array([2, 1]), np.array([0, 1]), 3),
                                  [[0, 0, 0], [0, 1, 0], [1, 0, 0]])
    labels = np.array([29, 28], dtype=np.uint8)  # 29 * 30 overflows uint8
    assert confusion_matrix(labels, labels, 30)[29, 29] == 1


@pytest.mark.parametrize("targets, predictions, message", [
    (np.array([0, 1]), np.array([0]), "targets hold 2 samples but predictions 1"),
    (np.array([0, 3]), np.array([0, 1]), r"targets must lie in 0\.\.2, got values from 0 to 3"),
    (np.array([0, 1]), np.array([-1, 1]), r"predictions must lie in 0\.\.2"),
    (np.zeros((2, 3)), np.array([0, 1]), "targets must be N integer class indices"),
    (np.array([0, 1]), np.array([0.0, 1.0]), "predictions must be N integer class indices"),
])
def test_confusion_matrix_rejects_what_it_cannot_count(targets, predictions, message):
    with pytest.raises(ValueError, match=message):
        confusion_matrix(targets, predictions, 3)


@pytest.mark.parametrize("seed", SEEDS)
def test_precision_and_recall_are_torchs_ratios_of_correct_to_predicted_and_to_true(seed):
    rng = np.random.default_rng(seed)
    num_classes = int(rng.integers(1, 6))
    targets, predictions = rng.integers(0, num_classes, 50), rng.integers(0, num_classes, 50)
    t, p = torch.from_numpy(targets), torch.from_numpy(predictions)
    classes = torch.arange(num_classes)[:, None]
    correct = ((t == classes) & (p == classes)).sum(1).double()
    expected_precision = torch.nan_to_num(correct / (p == classes).sum(1), nan=0.0)
    expected_recall = torch.nan_to_num(correct / (t == classes).sum(1), nan=0.0)
    precision, recall = precision_recall(confusion_matrix(targets, predictions, num_classes))
    assert precision.dtype == recall.dtype == np.float64
    np.testing.assert_allclose(precision, expected_precision.numpy(), rtol=1e-15)
    np.testing.assert_allclose(recall, expected_recall.numpy(), rtol=1e-15)


def test_precision_and_recall_of_classes_never_predicted_or_present_are_zero_without_warning():
    confusion = np.array([[2, 0, 0], [3, 0, 0], [0, 0, 0]])  # class 1 never predicted, class 2 absent
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        precision, recall = precision_recall(torch.from_numpy(confusion))
    np.testing.assert_array_equal(precision, [0.4, 0.0, 0.0])
    np.testing.assert_array_equal(recall, [1.0, 0.0, 0.0])


def test_precision_recall_needs_a_square_matrix():
    with pytest.raises(ValueError, match=r"square \[C, C\] matrix, got shape \(2, 3\)"):
        precision_recall(np.zeros((2, 3), dtype=np.int64))


def test_accuracy_takes_integer_predictions_as_classes_not_as_logits():
    predictions, targets = np.array([3, 1, 0, 7]), np.array([3, 2, 0, 7])

    assert accuracy(predictions, targets) == 3 / 4
    assert accuracy(torch.from_numpy(predictions), torch.from_numpy(targets)) == 3 / 4


def bucketed_calibration(confidences, correct, n_bins):
    """(counts, mean confidence, accuracy) per bin by torch.bucketize, whose right=False puts a
    value v in bin i when edges[i - 1] < v <= edges[i]: the (lo, hi] bins of Guo et al."""
    confidences, correct = torch.as_tensor(confidences, dtype=torch.float64), torch.as_tensor(correct).double()
    inner_edges = torch.arange(1, n_bins, dtype=torch.float64) / n_bins
    bins = torch.bucketize(confidences, inner_edges, right=False)
    counts = torch.zeros(n_bins, dtype=torch.float64).index_add_(0, bins, torch.ones_like(confidences))
    confidence_sums = torch.zeros(n_bins, dtype=torch.float64).index_add_(0, bins, confidences)
    correct_sums = torch.zeros(n_bins, dtype=torch.float64).index_add_(0, bins, correct)
    return counts, confidence_sums / counts, correct_sums / counts


def random_predictions(seed):
    rng = np.random.default_rng(seed)
    n, n_bins = int(rng.integers(1, 200)), int(rng.integers(1, 20))
    confidences = rng.beta(5, 1, n)  # mostly confident, as a trained classifier is
    correct = rng.random(n) < confidences ** 1.5  # a little overconfident
    return confidences, correct, n_bins


@pytest.mark.parametrize("seed", SEEDS)
def test_calibration_bins_are_torchs_bucketize_of_lo_hi_bins_for_numpy_and_torch(seed):
    confidences, correct, n_bins = random_predictions(seed)
    counts, confidence, accuracy_per_bin = bucketed_calibration(confidences, correct, n_bins)
    for given in ((confidences, correct), (torch.from_numpy(confidences), torch.from_numpy(correct))):
        bins = calibration_bins(*given, n_bins=n_bins)
        np.testing.assert_array_equal(bins.edges, np.arange(n_bins + 1) / n_bins)
        assert bins.counts.dtype == np.int64
        np.testing.assert_array_equal(bins.counts, counts.numpy())
        np.testing.assert_allclose(bins.confidence, confidence.numpy(), rtol=1e-14)  # nan where empty, alike
        np.testing.assert_allclose(bins.accuracy, accuracy_per_bin.numpy(), rtol=1e-14)


def test_a_confidence_on_an_edge_belongs_to_the_bin_below_and_0_to_the_first():
    confidences = np.array([0.0, 0.25, 0.2500001, 0.5, 0.75, 1.0, 1.0])
    bins = calibration_bins(confidences, np.ones(7, dtype=bool), n_bins=4)
    np.testing.assert_array_equal(bins.counts, [2, 2, 1, 2])
    np.testing.assert_array_equal(bins.confidence, [0.125, (0.2500001 + 0.5) / 2, 0.75, 1.0])


def test_an_empty_bin_has_no_mean_but_counts_zero():
    bins = calibration_bins(np.array([0.9, 0.95]), np.array([True, False]), n_bins=2)
    np.testing.assert_array_equal(bins.counts, [0, 2])
    assert np.isnan(bins.confidence[0]) and np.isnan(bins.accuracy[0])
    assert bins.accuracy[1] == 0.5


def test_the_expected_calibration_error_of_a_small_example_by_hand():
    # bin (0.5, 1]: confidences 0.6, 0.8, 1.0 (mean 0.8), 2 of 3 right: gap |2/3 - 0.8| = 2/15
    # bin [0, 0.5]: 0.5 alone, wrong: gap 0.5. Weighted: 3/4 * 2/15 + 1/4 * 0.5 = 0.225
    ece = expected_calibration_error(np.array([0.6, 0.8, 1.0, 0.5]), np.array([1, 1, 0, 0]), n_bins=2)
    assert type(ece) is float
    assert ece == pytest.approx(0.225, rel=1e-14)


@pytest.mark.parametrize("seed", SEEDS)
def test_the_expected_calibration_error_weighs_each_non_empty_bins_gap_by_its_share(seed):
    confidences, correct, n_bins = random_predictions(seed)
    counts, confidence, accuracy_per_bin = bucketed_calibration(confidences, correct, n_bins)
    filled = counts > 0
    expected = (counts[filled] / len(confidences) * (accuracy_per_bin[filled] - confidence[filled]).abs()).sum()
    assert expected_calibration_error(confidences, correct, n_bins) == pytest.approx(expected.item(), rel=1e-12)
    assert expected_calibration_error(torch.from_numpy(confidences), torch.from_numpy(correct),
                                      n_bins) == pytest.approx(expected.item(), rel=1e-12)


def test_one_bin_measures_the_overall_gap_and_a_perfect_model_has_none():
    confidences, correct = np.array([0.9, 0.7, 0.2]), np.array([True, True, False])
    assert expected_calibration_error(confidences, correct, n_bins=1) == pytest.approx(abs(2 / 3 - 0.6))
    assert expected_calibration_error(np.ones(5), np.ones(5, dtype=bool)) == 0.0


@pytest.mark.parametrize("confidences, correct, n_bins, message", [
    (np.array([0.5, 1.2]), np.array([1, 0]), 15, r"must lie in \[0, 1\].*got values from 0.5 to 1.2"),
    (np.array([0.5, np.nan]), np.array([1, 0]), 15, r"must lie in \[0, 1\]"),
    (np.array([1, 0]), np.array([1, 0]), 15, "must be probabilities"),
    (np.array([0.5, 0.7]), np.array([1, 2]), 15, "correct must say per sample"),
    (np.array([0.5, 0.7]), np.array([1]), 15, "confidences hold 2 samples but correct 1"),
    (np.zeros((2, 3)), np.zeros(2), 15, r"one value per sample \(\[N\]\)"),
    (np.zeros(0), np.zeros(0), 15, "zero samples"),
    (np.array([0.5]), np.array([1]), 0, "n_bins must be a whole number >= 1, got 0"),
    (np.array([0.5]), np.array([1]), 2.0, "n_bins must be a whole number"),
])
def test_calibration_explains_inputs_it_cannot_bin(confidences, correct, n_bins, message):
    with pytest.raises(ValueError, match=message):
        expected_calibration_error(confidences, correct, n_bins)
