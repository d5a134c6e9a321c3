import numpy as np
import pytest
import torch

from course_lib import metrics
from course_lib.checking.classification import check_confusion_matrix, check_one_hot, check_precision_recall
from course_lib.checking.failure import DelegationFailure
from course_lib.data import preprocessing
from tests.checking.failures import failure_message
from tests.grading.answer_cells import solution
from tests.strategies import SEEDS, assert_global_random_state_untouched, tampered

one_hot = solution("02_backprop", "one_hot")
confusion_matrix = solution("02_backprop", "confusion_matrix")
precision_recall = solution("02_backprop", "precision_recall")


# ------------------------------------------------------------------------------ one_hot

@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("n, num_classes", [(8, 5), (5, 5), (0, 3), (1, 1), (6, 1), (1, 2), (300, 10), (3, 40)])
def test_right_one_hot_passes(seed, n, num_classes):
    check_one_hot(one_hot, seed=seed, n=n, num_classes=num_classes)


def torch_one_hot(labels, num_classes):
    return torch.eye(num_classes, dtype=torch.int64)[torch.from_numpy(labels)]


def eye_one_hot(labels, num_classes):
    return np.eye(num_classes, dtype=np.int64)[labels]


def by_columns(labels, num_classes):
    encoded = np.zeros((len(labels), num_classes), dtype=np.int64)
    encoded[:, labels] = 1
    return encoded


def left_all_zero(labels, num_classes):
    return np.zeros((len(labels), num_classes), dtype=np.int64)


WRONG_ONE_HOTS = [
    (lambda labels, num_classes: np.eye(num_classes)[labels],
     "one_hot(labels, 5) has the right values, but dtype float64 instead of int64, the dtype of torch's one_hot: "
     "np.eye and np.zeros make float64 unless given dtype=np.int64."),
    (lambda labels, num_classes: labels[:, None] == np.arange(num_classes),
     "one_hot(labels, 5) has the right values, but dtype bool instead of int64: a comparison such as "
     "labels[:, None] == np.arange(num_classes) gives booleans — .astype(np.int64) turns them into 0 and 1."),
    (lambda labels, num_classes: eye_one_hot(labels, num_classes).astype(np.int32),
     "one_hot(labels, 5) has the right values, but dtype int32 instead of int64, the dtype of torch's one_hot: give dtype=np.int64."),
    (lambda labels, num_classes: eye_one_hot(labels, labels.max() + 1),
     "one_hot(labels, 5) has shape (8, 4) but should have shape (8, 5): 5 columns, one per class, even though the "
     "labels here only go up to 3 — size the array by num_classes, not labels.max() + 1."),
    (lambda labels, num_classes: eye_one_hot(labels, num_classes).T,
     "one_hot(labels, 5) has shape (5, 8) but should have shape (8, 5), one row per sample and one column per class: "
     "it is transposed"),
    (lambda labels, num_classes: eye_one_hot(labels[:, None], num_classes),
     "one_hot(labels, 5) has shape (8, 1, 5) but should have shape (8, 5): labels is 1-D, one class index per sample, "
     "but an index shaped as a column, labels[:, None] or labels.reshape(-1, 1), adds a dimension of size 1."),
    (lambda labels, num_classes: eye_one_hot(labels + 1, num_classes),
     "one_hot(labels, 5) puts the 1 for label k one column to the right, in column k + 1: the classes are numbered "
     "from 0, so label k goes in column k."),
    (lambda labels, num_classes: eye_one_hot(labels - 1, num_classes),
     "one_hot(labels, 5) puts the 1 for label k one column to the left, in column k - 1"),
    (by_columns,
     "one_hot(labels, 5) has a 1 in every column of a label that occurs, in every row: out[:, labels] = 1 sets whole "
     "columns. Pair each row with its own label: out[np.arange(len(labels)), labels] = 1."),
    (left_all_zero, "one_hot(labels, 5) is all zeros: put a 1 in each row"),
    (lambda labels, num_classes: 2 * eye_one_hot(labels, num_classes),
     "one_hot(labels, 5) is wrong in row 0: labels[0] is 3, so the row should be [0, 0, 0, 1, 0] — a 1 in column 3, "
     "0 elsewhere — but it is [0, 0, 0, 2, 0]."),
    (torch_one_hot, "one_hot(labels, 5) returned a torch.Tensor, but a numpy array of shape (8, 5) is expected"),
    (lambda labels, num_classes: eye_one_hot(labels, num_classes).tolist(),
     "one_hot(labels, 5) returned a list, but a numpy array of shape (8, 5) is expected"),
    (lambda labels, num_classes: None, "one_hot(labels, 5) returned None"),
]


@pytest.mark.parametrize("function, message", WRONG_ONE_HOTS, ids=[f"{i}" for i in range(len(WRONG_ONE_HOTS))])
def test_wrong_one_hots_fail_with_the_reason(function, message):
    assert message in failure_message(check_one_hot, function)


def test_a_square_one_hot_transposed_is_named_by_its_values():
    message = failure_message(check_one_hot, lambda labels, num_classes: eye_one_hot(labels, num_classes).T,
                              n=5, num_classes=5)
    assert message.startswith("one_hot(labels, 5) is transposed: row i is sample i")


@pytest.mark.parametrize("seed", SEEDS)
def test_one_hot_mistakes_are_named_for_other_seeds_and_sizes(seed):
    for n, num_classes in [(30, 3), (4, 10)]:
        assert "num_classes, not labels.max() + 1" in failure_message(
            check_one_hot, lambda labels, c: eye_one_hot(labels, labels.max() + 1),
            seed=seed, n=n, num_classes=num_classes)
        assert "one column to the right" in failure_message(
            check_one_hot, lambda labels, c: eye_one_hot(labels + 1, c), seed=seed, n=n, num_classes=num_classes)


# --------------------------------------------------------------------- confusion_matrix

@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("n, num_classes", [(50, 4), (0, 3), (1, 1), (5, 1), (1, 3), (2, 2), (500, 10), (3, 30)])
def test_right_confusion_matrix_passes(seed, n, num_classes):
    check_confusion_matrix(confusion_matrix, seed=seed, n=n, num_classes=num_classes)


def counted(targets, predictions, num_classes, *, dtype=np.int64, swap=False, skip_last=False):
    counts = np.zeros((num_classes, num_classes), dtype=dtype)
    pairs = list(zip(targets, predictions))
    for true, predicted in pairs[:-1] if skip_last else pairs:
        if swap:
            true, predicted = predicted, true
        counts[true, predicted] += 1
    return counts


def fancy_index_increment(targets, predictions, num_classes):
    counts = np.zeros((num_classes, num_classes), dtype=np.int64)
    counts[targets, predictions] += 1
    return counts


def row_fractions(targets, predictions, num_classes):
    counts = counted(targets, predictions, num_classes)
    return counts / counts.sum(axis=1, keepdims=True)


def correct_only(targets, predictions, num_classes):
    counts = counted(targets, predictions, num_classes)
    return np.diag(np.diag(counts))


WRONG_CONFUSIONS = [
    (lambda t, p, c: counted(t, p, c, swap=True),
     "confusion_matrix(targets, predictions, 4) has the wrong values: rows and columns are swapped. Rows are the true "
     "classes, columns the predictions: entry [i, j] counts the samples of true class i predicted as j."),
    (lambda t, p, c: counted(t, p, c, dtype=np.float64),
     "confusion_matrix(targets, predictions, 4) has the right counts, but dtype float64 instead of int64: counts are "
     "whole numbers, and np.zeros makes float64 unless given dtype=np.int64."),
    (lambda t, p, c: counted(t, p, max(t.max(), p.max()) + 1),
     "confusion_matrix(targets, predictions, 4) has shape (3, 3) but should have shape (4, 4): class 3 never occurs "
     "in targets or predictions here, but still gets a row and a column — size the matrix by num_classes, not by the "
     "largest label."),
    (row_fractions,
     "has the wrong values: these are fractions of each row (of each true class): count samples instead."),
    (lambda t, p, c: counted(t, p, c) / len(t), "these are fractions of all samples: count them instead."),
    (correct_only,
     "has the wrong values: only the correct predictions are counted. Every sample counts once, at "
     "[target, prediction] — also when the prediction is wrong.\nHint: the counts add up to 33, but there are 50 "
     "samples: each sample adds 1 to exactly one entry."),
    (fancy_index_increment,
     "has the wrong values: each entry is 1 where any sample falls, not how many do: cm[targets, predictions] += 1 adds "
     "1 only once for each distinct pair"),
    (lambda t, p, c: counted(t, p, c, skip_last=True),
     "confusion_matrix(targets, predictions, 4) differs from the expected values in 1 of 16 entries; the largest "
     "difference is at confusion_matrix(targets, predictions, 4)[2, 2]: 13 instead of 14.\nHint: the counts add up "
     "to 49, but there are 50 samples: each sample adds 1 to exactly one entry."),
    (lambda t, p, c: counted(t, p, c).tolist(),
     "confusion_matrix(targets, predictions, 4) returned a list, but a numpy array of shape (4, 4) is expected"),
]


@pytest.mark.parametrize("function, message", WRONG_CONFUSIONS, ids=[f"{i}" for i in range(len(WRONG_CONFUSIONS))])
def test_wrong_confusion_matrices_fail_with_the_reason(function, message):
    assert message in failure_message(check_confusion_matrix, function)


def test_only_whole_number_counts_get_the_note_on_their_total():
    assert "Hint" not in failure_message(check_confusion_matrix, row_fractions)


@pytest.mark.parametrize("seed", SEEDS)
def test_confusion_mistakes_are_named_for_other_seeds_and_sizes(seed):
    for n, num_classes in [(200, 3), (20, 6)]:
        for function, message in [(lambda t, p, c: counted(t, p, c, swap=True), "rows and columns are swapped"),
                                  (fancy_index_increment, "cm[targets, predictions] += 1 adds 1 only once"),
                                  (lambda t, p, c: counted(t, p, max(t.max(), p.max()) + 1), "size the matrix by num_classes")]:
            assert message in failure_message(check_confusion_matrix, function,
                                              seed=seed, n=n, num_classes=num_classes)


# --------------------------------------------------------------------- precision_recall

@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("num_classes", [1, 2, 3, 4, 10])
def test_right_precision_recall_passes(seed, num_classes):
    check_precision_recall(precision_recall, seed=seed, num_classes=num_classes)


def ratios(confusion, *, divide=np.true_divide, zero_division=True):
    correct = np.diag(confusion)
    predicted, present = confusion.sum(axis=0), confusion.sum(axis=1)
    if zero_division:
        predicted, present = np.maximum(predicted, 1), np.maximum(present, 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return divide(correct, predicted), divide(correct, present)


def swapped(confusion):
    precision, recall = ratios(confusion)
    return recall, precision


WRONG_RATIOS = [
    (swapped,
     "precision_recall(confusion) returned (recall, precision), the other way round: precision divides the diagonal "
     "by the column sums — how often each class was PREDICTED — and recall by the row sums — how often it truly occurs."),
    (lambda confusion: ratios(confusion, zero_division=False),
     "precision_recall(confusion) gives precision[3] = nan: class 3 is never predicted, so precision is 0/0 for it. "
     "Define it as 0, like sklearn's zero_division=0"),
    (lambda confusion: (ratios(confusion)[0], ratios(confusion, zero_division=False)[1]),
     "precision_recall(confusion) gives recall[0] = nan: class 0 is never present, so recall is 0/0 for it."),
    (lambda confusion: ratios(confusion, divide=np.floor_divide),
     "precision has the wrong values: // is integer division, which rounds every ratio down to 0 or 1: divide with /."
     "\nHint: precision_recall(confusion) was given confusion = [["),
    (lambda confusion: (ratios(confusion)[1], ratios(confusion)[1]),
     "precision has the wrong values: these are the recall values: precision divides the diagonal by the column sums."),
    (lambda confusion: (ratios(confusion)[0], ratios(confusion)[0]),
     "recall has the wrong values: these are the precision values: recall divides the diagonal by the row sums."),
    (lambda confusion: tuple(r.mean() for r in ratios(confusion)),
     "precision_recall(confusion) returned the averages over the classes (macro precision and recall), "),
    (lambda confusion: np.stack(ratios(confusion)),
     "precision_recall(confusion) returned one array of shape (2, 4); return the pair of arrays itself, "
     "`return precision, recall`."),
    (lambda confusion: ratios(confusion)[0], "precision_recall(confusion) returned a numpy array, but a pair (precision, recall)"),
    (lambda confusion: None, "precision_recall(confusion) returned None, but a pair (precision, recall) of arrays is expected"),
    (lambda confusion: tuple(r.astype(np.float32) for r in ratios(confusion)),
     "precision has dtype float32 instead of float64: divide the integer counts, which gives float64, without converting to float32."),
    (lambda confusion: tuple(r.tolist() for r in ratios(confusion)),
     "precision is a list, but a numpy array of shape (4,) is expected"),
]


@pytest.mark.parametrize("function, message", WRONG_RATIOS, ids=[f"{i}" for i in range(len(WRONG_RATIOS))])
def test_wrong_precision_recalls_fail_with_the_reason(function, message):
    assert message in failure_message(check_precision_recall, function)


# ----------------------------------------------------------------- all three checks

@pytest.mark.parametrize("check, function, name", [
    (check_one_hot, preprocessing.one_hot, "course_lib.data.preprocessing.one_hot"),
    (check_one_hot, lambda labels, num_classes: torch.nn.functional.one_hot(torch.from_numpy(labels), num_classes).numpy(),
     "torch.nn.functional.one_hot"),
    (check_confusion_matrix, metrics.confusion_matrix, "course_lib.metrics.confusion_matrix"),
    (check_precision_recall, lambda confusion: metrics.precision_recall(confusion), "course_lib.metrics.precision_recall"),
])
def test_answers_that_delegate_fail(check, function, name):
    with pytest.raises(DelegationFailure, match=f"called {name}"):
        check(function)


def test_an_answer_that_changes_its_input_fails():
    def in_place(labels, num_classes):
        labels += 0
        labels[0] = num_classes - 1
        return np.eye(num_classes, dtype=np.int64)[labels]
    assert failure_message(check_one_hot, in_place).startswith("one_hot(labels, 5) changed its argument labels in place")


CHECKS = [(check_one_hot, one_hot), (check_confusion_matrix, confusion_matrix),
          (check_precision_recall, precision_recall)]


def test_checks_leave_the_students_random_state_alone():
    def run_checks():
        for check, reference in CHECKS:
            check(reference)

    assert_global_random_state_untouched(run_checks)


def test_checks_cannot_be_fooled_by_patched_numpy_torch_or_builtins():
    wrong = [(check_one_hot, lambda labels, c: eye_one_hot(labels + 1, c), "one column to the right"),
             (check_confusion_matrix, lambda t, p, c: counted(t, p, c, swap=True), "rows and columns are swapped"),
             (check_precision_recall, swapped, "returned (recall, precision)")]
    with tampered():
        check_one_hot(eye_one_hot)
        check_confusion_matrix(counted)
        check_precision_recall(ratios)
        messages = [failure_message(check, function) for check, function, _ in wrong]
    for message, (_, _, expected) in zip(messages, wrong):
        assert expected in message
