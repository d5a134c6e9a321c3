"""Checks for class labels and per-class scores (assignment 02): one-hot encoding, the
confusion matrix, and precision and recall.

Each draws its own inputs from `seed` and compares with values computed here — one_hot
with torch's, the confusion matrix by counting with np.bincount — trying the shapes and
values students' mistakes give before reporting a plain difference. The student's function
runs through the harness: on copies of its inputs, and without its course_lib reference
(`course_lib.metrics`, `course_lib.data.preprocessing.one_hot`) or torch's one_hot.
"""
from builtins import float, int, isinstance, len, list, max, range, tuple

import torch

from course_lib import metrics as _metrics
from course_lib.data import preprocessing as _preprocessing

from ._trusted import default_rng, isclose, np
from .failure import fail, kind_of, listing, number
from .harness import Answer, exercise
from .values import check_array

ONE_HOT = exercise(_preprocessing.one_hot, parameters=("labels", "num_classes"),
                   forbidden=(torch.nn.functional.one_hot,))
CONFUSION_MATRIX = exercise(_metrics.confusion_matrix)
PRECISION_RECALL = exercise(_metrics.precision_recall)

TORCH_ONE_HOT = torch.nn.functional.one_hot
FROM_NUMPY = torch.from_numpy
COUNTS_RTOL = 1e-9  # counts must be exact; fractions built as the student would, nearly so


# ------------------------------------------------------------------------------ one_hot

def _one_hot(labels, num_classes):
    return TORCH_ONE_HOT(FROM_NUMPY(labels), num_classes).numpy()


def _check_one_hot_shape(actual, expected, labels, call):
    if not isinstance(actual, np.ndarray):
        check_array(call, actual, expected)  # fails, saying what actual is instead
    if actual.shape == expected.shape:
        return
    n, num_classes = expected.shape
    problem = f"{call} has shape {actual.shape} but should have shape {expected.shape}"
    if actual.shape == (num_classes, n):
        fail(f"{problem}, one row per sample and one column per class: it is transposed — "
             f"labels used as row indices, or the sizes swapped in np.zeros?")
    if actual.shape == (n, 1, num_classes):
        fail(f"{problem}: labels is 1-D, one class index per sample, but an index shaped as a "
             f"column, labels[:, None] or labels.reshape(-1, 1), adds a dimension of size 1.")
    if n and actual.shape == (n, labels.max() + 1):
        fail(f"{problem}: {num_classes} columns, one per class, even though the labels here only "
             f"go up to {labels.max()} — size the array by num_classes, not labels.max() + 1.")
    check_array(call, actual, expected)  # fails with the general shape message


def _shifted_one_hot(values, labels, num_classes, shift):
    """Whether every row whose label can move by `shift` has its 1 moved by `shift`."""
    rows = (labels + shift >= 0) & (labels + shift < num_classes)
    return rows.any() and (values[rows] == _one_hot(labels[rows] + shift, num_classes)).all()


def _check_one_hot_values(actual, expected, labels, call):
    if actual.dtype.kind not in "biuf":
        check_array(call, actual, expected)  # fails: no numbers
    values = actual.astype(np.float64)
    if (values == expected).all():
        return
    n, num_classes = expected.shape
    if (values == 0).all():
        fail(f"{call} is all zeros: put a 1 in each row, in the column of that row's label — "
             f"out[np.arange(len(labels)), labels] = 1.")
    if n == num_classes and (values == expected.T).all():
        fail(f"{call} is transposed: row i is sample i, with its 1 in column labels[i] — "
             f"out[np.arange(len(labels)), labels] = 1, not out[labels, ...].")
    if n >= 2 and (values == expected.max(axis=0)).all():  # 1 in each label's column
        fail(f"{call} has a 1 in every column of a label that occurs, in every row: "
             f"out[:, labels] = 1 sets whole columns. Pair each row with its own label: "
             f"out[np.arange(len(labels)), labels] = 1.")
    for shift, words in ((1, "one column to the right, in column k + 1"),
                         (-1, "one column to the left, in column k - 1")):
        if _shifted_one_hot(values, labels, num_classes, shift):
            fail(f"{call} puts the 1 for label k {words}: the classes are numbered from 0, "
                 f"so label k goes in column k.")
    row = int((values != expected).any(axis=1).argmax())
    fail(f"{call} is wrong in row {row}: labels[{row}] is {labels[row]}, so the row should be "
         f"{expected[row].tolist()} — a 1 in column {labels[row]}, 0 elsewhere — but it is "
         f"{actual[row].tolist()}.")


def check_one_hot(one_hot, *, seed=0, n=8, num_classes=5):
    """Run `one_hot(labels, num_classes)` on `n` labels of which the highest class never
    occurs: an int64 [n, num_classes] array like torch.nn.functional.one_hot's."""
    __tracebackhide__ = True
    rng = default_rng(seed)
    # the last class never occurs (unless it is the only one): it still gets its column
    labels = rng.integers(0, max(num_classes - 1, 1), n)
    expected = _one_hot(labels, num_classes)
    answer = Answer(ONE_HOT, one_hot)
    call = answer.words(labels, num_classes)
    actual = answer.run(call, labels, num_classes)
    _check_one_hot_shape(actual, expected, labels, call)
    _check_one_hot_values(actual, expected, labels, call)
    if actual.dtype != np.int64:
        problem = f"{call} has the right values, but dtype {actual.dtype} instead of int64"
        if actual.dtype.kind == "b":
            fail(f"{problem}: a comparison such as labels[:, None] == np.arange(num_classes) "
                 f"gives booleans — .astype(np.int64) turns them into 0 and 1.")
        if actual.dtype.kind == "f":
            fail(f"{problem}, the dtype of torch's one_hot: np.eye and np.zeros make float64 "
                 f"unless given dtype=np.int64.")
        fail(f"{problem}, the dtype of torch's one_hot: give dtype=np.int64.")


# --------------------------------------------------------------------- confusion_matrix

def _confusion(targets, predictions, num_classes):
    pairs = targets * num_classes + predictions  # (i, j) gets bin i * C + j
    return np.bincount(pairs, minlength=num_classes ** 2).reshape(num_classes, num_classes)


def _fractions(counts, totals):
    with np.errstate(invalid="ignore", divide="ignore"):
        return counts / totals


def _count_mistakes(expected, n):
    diagonal = np.arange(len(expected))
    correct_only = np.zeros(expected.shape, dtype=np.int64)
    correct_only[diagonal, diagonal] = expected[diagonal, diagonal]
    mistakes = [
        (expected.T,
         "rows and columns are swapped. Rows are the true classes, columns the predictions: "
         "entry [i, j] counts the samples of true class i predicted as j."),
        (_fractions(expected, expected.sum(axis=1, keepdims=True)),
         "these are fractions of each row (of each true class): count samples instead."),
        (_fractions(expected, expected.sum(axis=0, keepdims=True)),
         "these are fractions of each column (of each predicted class): count samples instead."),
        (_fractions(expected, n), "these are fractions of all samples: count them instead."),
        (correct_only,
         "only the correct predictions are counted. Every sample counts once, at "
         "[target, prediction] — also when the prediction is wrong."),
    ]
    if (expected > 1).any():
        mistakes.append((
            (expected > 0).astype(np.int64),
            "each entry is 1 where any sample falls, not how many do: cm[targets, predictions] "
            "+= 1 adds 1 only once for each distinct pair, as numpy's fancy-index assignment "
            "does not accumulate repeated indices. Use np.add.at(cm, (targets, predictions), 1), "
            "a loop over the samples, or np.bincount."))
    return mistakes


def _total_hint(actual, expected, n):
    """A note for whole-number counts that miss some samples or count some twice."""
    if not (isinstance(actual, np.ndarray) and actual.shape == expected.shape
            and actual.dtype.kind in "biuf"):
        return None
    with np.errstate(invalid="ignore"):
        whole_numbers = (actual % 1 == 0).all()
    if not whole_numbers or actual.sum() == n:
        return None
    return (f"the counts add up to {number(actual.sum())}, but there are {n} samples: each "
            f"sample adds 1 to exactly one entry.")


def _check_counts(answer, targets, predictions, num_classes):
    __tracebackhide__ = True
    call = answer.words(targets, predictions, num_classes)
    n = len(targets)
    expected = _confusion(targets, predictions, num_classes)
    actual = answer.run(call, targets, predictions, num_classes)
    if isinstance(actual, np.ndarray) and actual.ndim == 2 and actual.shape != expected.shape:
        occurring = max(targets.max(), predictions.max()) + 1 if n else 0
        if actual.shape == (occurring, occurring):
            missing = list(range(occurring, num_classes))
            fail(f"{call} has shape {actual.shape} but should have shape {expected.shape}: "
                 f"class{'es' if len(missing) > 1 else ''} {listing(missing)} never "
                 f"occur{'' if len(missing) > 1 else 's'} in targets or predictions here, but "
                 f"still get{'' if len(missing) > 1 else 's'} a row and a column — size the "
                 f"matrix by num_classes, not by the largest label.")
    check_array(call, actual, expected, rtol=COUNTS_RTOL, atol=1e-12,
                known_mistakes=_count_mistakes(expected, n), hint=_total_hint(actual, expected, n))
    if actual.dtype != np.int64:
        fail(f"{call} has the right counts, but dtype {actual.dtype} instead of int64: counts "
             f"are whole numbers, and np.zeros makes float64 unless given dtype=np.int64.")


def check_confusion_matrix(confusion_matrix, *, seed=0, n=50, num_classes=4):
    """Run `confusion_matrix(targets, predictions, num_classes)` on `n` samples of mostly
    right predictions, then on samples where the highest class never occurs: int64
    [C, C] counts with the true classes in the rows."""
    __tracebackhide__ = True
    answer = Answer(CONFUSION_MATRIX, confusion_matrix)
    rng = default_rng(seed)
    for classes_drawn in (num_classes, num_classes - 1):
        if classes_drawn < 1:
            break
        targets = rng.integers(0, classes_drawn, n)
        predictions = targets.copy()
        wrong = rng.random(n) < 0.4
        predictions[wrong] = rng.integers(0, classes_drawn, int(wrong.sum()))
        _check_counts(answer, targets, predictions, num_classes)


# --------------------------------------------------------------------- precision_recall

def _ratios(confusion):
    """(precision, recall), 0 where a class is never predicted or never present."""
    classes = np.arange(len(confusion))
    correct = confusion[classes, classes].astype(np.float64)
    predicted, present = confusion.sum(axis=0), confusion.sum(axis=1)
    # where a sum is 0 so is `correct`: dividing by 1 there gives the 0 wanted
    return correct / (predicted + (predicted == 0)), correct / (present + (present == 0))


def _pair(result, call, num_classes):
    if isinstance(result, (tuple, list)) and len(result) == 2:
        return result
    if isinstance(result, np.ndarray) and result.shape == (2, num_classes):
        fail(f"{call} returned one array of shape {result.shape}; return the pair of arrays "
             f"itself, `return precision, recall`.")
    fail(f"{call} returned {kind_of(result)}, but a pair (precision, recall) of arrays is "
         f"expected: `return precision, recall`.")


def _is_number(value):
    return isinstance(value, (int, float, np.number)) or (
        isinstance(value, np.ndarray) and value.shape == ())


def _check_zero_division(actual, denominators, what, never, call):
    if not (isinstance(actual, np.ndarray) and actual.shape == denominators.shape
            and actual.dtype.kind == "f"):
        return
    nan_at_zero = np.isnan(actual) & (denominators == 0)
    if nan_at_zero.any():
        k = int(np.flatnonzero(nan_at_zero)[0])
        fail(f"{call} gives {what}[{k}] = nan: class {k} is never {never}, so {what} is 0/0 "
             f"for it. Define it as 0, like sklearn's zero_division=0: e.g. np.divide(correct, "
             f"sums, out=np.zeros(len(sums)), where=sums > 0).")


def _check_ratios(answer, confusion):
    __tracebackhide__ = True
    call = answer.words(confusion)
    num_classes = len(confusion)
    expected_precision, expected_recall = _ratios(confusion)
    result = answer.run(call, confusion)
    precision, recall = _pair(result, call, num_classes)
    if _is_number(precision) and _is_number(recall):
        means = (expected_precision.mean(), expected_recall.mean())
        if (isclose(float(precision), means[0], rtol=1e-9, atol=0)
                and isclose(float(recall), means[1], rtol=1e-9, atol=0)):
            fail(f"{call} returned the averages over the classes (macro precision and recall), "
                 f"{number(precision)} and {number(recall)}: return one value per class, two "
                 f"arrays of shape ({num_classes},).")
    if (isinstance(precision, np.ndarray) and isinstance(recall, np.ndarray)
            and precision.shape == recall.shape == (num_classes,)
            and not isclose(expected_precision, expected_recall, rtol=1e-9, atol=0).all()
            and isclose(precision, expected_recall, rtol=1e-9, atol=0).all()
            and isclose(recall, expected_precision, rtol=1e-9, atol=0).all()):
        fail(f"{call} returned (recall, precision), the other way round: precision divides the "
             f"diagonal by the column sums — how often each class was PREDICTED — and recall by "
             f"the row sums — how often it truly occurs.")
    hint = f"{call} was given confusion = {confusion.tolist()}."
    classes = np.arange(num_classes)
    for what, actual, expected, other, other_expected, axis, axis_name, never in (
            ("precision", precision, expected_precision, "recall", expected_recall, 0, "column",
             "predicted"),
            ("recall", recall, expected_recall, "precision", expected_precision, 1, "row",
             "present")):
        sums = confusion.sum(axis=axis)
        _check_zero_division(actual, sums, what, never, call)
        if (isinstance(actual, np.ndarray) and actual.dtype.kind == "f"
                and actual.dtype != np.float64):  # before the values, which it rounds
            fail(f"{what} has dtype {actual.dtype} instead of float64: divide the integer "
                 f"counts, which gives float64, without converting to {actual.dtype}.", hint)
        floored = confusion[classes, classes] // (sums + (sums == 0))
        check_array(what, actual, expected, rtol=1e-9, atol=1e-12, hint=hint, known_mistakes=[
            (other_expected,
             f"these are the {other} values: {what} divides the diagonal by the {axis_name} "
             f"sums."),
            (floored, "// is integer division, which rounds every ratio down to 0 or 1: "
                      "divide with /."),
        ])
        if actual.dtype != np.float64:
            fail(f"{what} has the right values, but dtype {actual.dtype} instead of float64: "
                 f"divide with /, which gives floats.", hint)


def check_precision_recall(precision_recall, *, seed=0, num_classes=4):
    """Run `precision_recall(confusion)` on a random [C, C] confusion matrix, then on one
    where class C - 1 is never predicted and class 0 never present: per-class float64
    (precision, recall), 0.0 where a sum is 0."""
    __tracebackhide__ = True
    answer = Answer(PRECISION_RECALL, precision_recall)
    rng = default_rng(seed)
    confusion = rng.integers(1, 10, (num_classes, num_classes))
    classes = np.arange(num_classes)
    confusion[classes, classes] += rng.integers(5, 20, num_classes)  # mostly right predictions
    _check_ratios(answer, confusion)
    if num_classes >= 2:
        confusion[:, num_classes - 1] = 0
        confusion[0, :] = 0
        _check_ratios(answer, confusion)
