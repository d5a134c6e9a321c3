"""Measurements of a trained model: accuracy (of class scores, or of one logit per sample),
the confusion matrix, precision and recall, and calibration — whether its confidence matches
how often it is right."""
from typing import NamedTuple

import numpy as np
import torch


def _as_numpy(values):
    if isinstance(values, torch.Tensor):
        return values.detach().cpu().numpy()
    return np.asarray(values)


def _predicted_classes(scores):
    if scores.ndim == 1 and scores.dtype.kind in "iu":
        # integers are classes already (e.g. from argmax); read as logits, a class 3 would
        # count as "logit > 0" and the accuracy would be silently wrong
        return scores
    if scores.ndim == 2 and scores.shape[1] > 1:
        return scores.argmax(axis=1)
    if scores.ndim == 1 or scores.ndim == 2:
        # one logit per sample: class 1 when sigmoid(logit) > 0.5, i.e. logit > 0
        return (scores.reshape(-1) > 0).astype(np.int64)
    raise ValueError(f"scores must be [N, C] class scores or [N] logits, got shape {scores.shape}")


def accuracy(scores, targets):
    """Fraction of samples whose predicted class equals the target class.

    `scores` is [N, C] (prediction: the argmax class), [N] integer predicted classes, or
    [N] / [N, 1] float logits of the positive class (prediction: 1 where the logit is > 0);
    `targets` holds N class indices (0/1 for logits, int or float — `BCEWithLogitsLoss`
    wants float targets —, [N] or [N, 1]), or [N, C] class probabilities — one-hot
    rows, or soft targets such as mixup's — whose largest entry is the target class. numpy
    arrays and torch tensors are both accepted.
    """
    return count_correct(scores, targets) / len(targets)


def count_correct(scores, targets):
    """How many samples `accuracy` counts as right; for summing over batches."""
    scores, targets = _as_numpy(scores), _as_numpy(targets)
    if targets.ndim == 2 and targets.shape[1] == 1:
        targets = targets.reshape(-1)
    elif targets.ndim == 2:
        # regression targets have this shape too: only rows that are distributions are read
        # as classes (a mixup pair's soft target counts as its larger share's class)
        if not (np.all(targets >= 0) and np.allclose(targets.sum(axis=1), 1, atol=1e-4)):
            raise ValueError(f"targets of shape {targets.shape} are neither class indices nor class "
                             f"probabilities (non-negative rows summing to 1); accuracy needs one of those")
        targets = targets.argmax(axis=1)
    if targets.ndim != 1:
        raise ValueError(f"targets must be N class indices or [N, C] class probabilities, "
                         f"got shape {targets.shape}")
    if targets.dtype.kind == "f" and not np.all(targets == np.round(targets)):
        # a fractional target (a smoothed 0.9) would never equal a class and count as wrong
        raise ValueError("targets of shape [N] are class indices, whole numbers even as floats (0.0/1.0 for "
                         "BCEWithLogitsLoss); got fractional values — pass the hard labels, e.g. targets > 0.5")
    if len(scores) != len(targets):
        raise ValueError(f"scores hold {len(scores)} samples but targets {len(targets)}")
    if len(targets) == 0:
        raise ValueError("accuracy of zero samples is undefined")
    return int((_predicted_classes(scores) == targets).sum())


def binary_accuracy(logits, targets):
    """Fraction of samples whose logit predicts their 0/1 target: class 1 where the logit is
    > 0 — sigmoid(logit) > 0.5 —, class 0 otherwise, so a logit of exactly 0 (probability 0.5)
    predicts class 0. Returns a Python float.

    `logits`: [N] or [N, 1] — one logit per sample, as nn.Linear(..., 1) gives it; `targets`:
    [N] (or [N, 1]) labels 0 and 1 — ints, bools or floats, as BCEWithLogitsLoss takes them.
    Both are flattened first, so that [N, 1] logits and [N] targets are compared row by row:
    compared as they are, they would broadcast to an N × N table of every logit against every
    target. numpy arrays and torch tensors are both accepted.
    """
    logits, targets = _as_numpy(logits), _as_numpy(targets)
    for name, values in (("logits", logits), ("targets", targets)):
        if not (values.ndim == 1 or values.ndim == 2 and values.shape[1] == 1):
            raise ValueError(f"{name} must be one value per sample, [N] or [N, 1], got shape {values.shape}")
    logits, targets = logits.reshape(-1), targets.reshape(-1)
    if len(logits) != len(targets):
        raise ValueError(f"logits hold {len(logits)} samples but targets {len(targets)}")
    if len(targets) == 0:
        raise ValueError("accuracy of zero samples is undefined")
    if not np.isin(targets, (0, 1)).all():
        raise ValueError(f"targets must be the labels 0 and 1, got values {np.unique(targets)[:5]}")
    return float(np.mean((logits > 0) == (targets == 1)))


def confusion_matrix(targets, predictions, num_classes):
    """int64 [C, C] counts: entry [i, j] is how many samples of true class i were predicted
    as class j (rows are the truth, as in sklearn). numpy arrays and torch tensors are both
    accepted."""
    targets, predictions = _as_numpy(targets), _as_numpy(predictions)
    for name, values in (("targets", targets), ("predictions", predictions)):
        if values.ndim != 1 or not np.issubdtype(values.dtype, np.integer):
            raise ValueError(f"{name} must be N integer class indices, "
                             f"got shape {values.shape} and dtype {values.dtype}")
        if values.size and not 0 <= values.min() <= values.max() < num_classes:
            raise ValueError(f"{name} must lie in 0..{num_classes - 1}, "
                             f"got values from {values.min()} to {values.max()}")
    if len(targets) != len(predictions):
        raise ValueError(f"targets hold {len(targets)} samples but predictions {len(predictions)}")
    # each (true, predicted) pair gets its own bin number true * C + predicted; int64 first,
    # as uint8 labels would overflow
    pairs = targets.astype(np.int64) * num_classes + predictions
    pair_counts = np.bincount(pairs, minlength=num_classes ** 2)
    return pair_counts.reshape(num_classes, num_classes).astype(np.int64)


def _ratio_or_zero(numerators, denominators):
    # sklearn's zero_division=0: a class never predicted (or never present) scores 0, not nan
    return np.divide(numerators, denominators, out=np.zeros(len(numerators), dtype=np.float64),
                     where=denominators != 0)


def precision_recall(confusion):
    """Per-class (precision, recall), float64 [C] each, from a `confusion_matrix`.

    precision[j]: of the samples predicted as j, the fraction truly j (diagonal / column sum);
    recall[i]: of the samples truly i, the fraction predicted as i (diagonal / row sum).
    A zero denominator gives 0.0, as sklearn's zero_division=0.
    """
    confusion = _as_numpy(confusion)
    if confusion.ndim != 2 or confusion.shape[0] != confusion.shape[1]:
        raise ValueError(f"confusion must be a square [C, C] matrix, got shape {confusion.shape}")
    correct = np.diagonal(confusion)
    return _ratio_or_zero(correct, confusion.sum(axis=0)), _ratio_or_zero(correct, confusion.sum(axis=1))


class CalibrationBins(NamedTuple):
    """What `calibration_bins` returns: the bins' edges and, per bin, how many samples fall in
    it, their mean confidence and the fraction of them predicted right (nan for an empty bin)."""
    edges: np.ndarray  # float64 [n_bins + 1]: 0, 1/n_bins, ..., 1
    counts: np.ndarray  # int64 [n_bins]
    confidence: np.ndarray  # float64 [n_bins]
    accuracy: np.ndarray  # float64 [n_bins]


def _calibration_inputs(confidences, correct, n_bins):
    confidences, correct = _as_numpy(confidences), _as_numpy(correct)
    if isinstance(n_bins, bool) or not isinstance(n_bins, (int, np.integer)) or n_bins < 1:
        raise ValueError(f"n_bins must be a whole number >= 1, got {n_bins!r}")
    if confidences.ndim != 1 or correct.ndim != 1:
        raise ValueError(f"confidences and correct must be one value per sample ([N]), got shapes "
                         f"{confidences.shape} and {correct.shape}")
    if len(confidences) != len(correct):
        raise ValueError(f"confidences hold {len(confidences)} samples but correct {len(correct)}")
    if len(confidences) == 0:
        raise ValueError("the calibration of zero samples is undefined")
    if not np.issubdtype(confidences.dtype, np.floating):
        raise ValueError(f"confidences must be probabilities (floats), got dtype {confidences.dtype}")
    if not 0 <= confidences.min() <= confidences.max() <= 1:  # nan fails this too
        raise ValueError(f"confidences must lie in [0, 1] — each sample's probability of its predicted "
                         f"class, softmax(logits).max(dim=1) — got values from {confidences.min()} to "
                         f"{confidences.max()}")
    if not np.isin(correct, (0, 1)).all():
        raise ValueError(f"correct must say per sample whether its prediction is right (bools, or 0 and 1), "
                         f"got values {np.unique(correct)[:5]}")
    return confidences.astype(np.float64), correct.astype(np.float64)


def calibration_bins(confidences, correct, n_bins=15):
    """Split the samples into `n_bins` equal-width confidence bins on [0, 1] and measure each.

    `confidences` [N]: each sample's probability of its predicted class (softmax(logits).max(1));
    `correct` [N]: whether that prediction is right (bools or 0/1); numpy arrays or torch
    tensors. Bin b holds the confidences in (b / n_bins, (b + 1) / n_bins] — open below,
    closed above, as Guo et al. (2017) bin them — and 0 joins the first bin, so every
    confidence in [0, 1] lands in exactly one bin, 1.0 in the last. Returns a `CalibrationBins`:
    edges, counts, and per bin the mean confidence and the accuracy (nan for an empty bin: its
    mean is 0 / 0, and a nan cannot be averaged in by accident)."""
    confidences, correct = _calibration_inputs(confidences, correct, n_bins)
    # k / n_bins, each edge the double nearest to it; an edge value belongs to the bin below it:
    # side="left" counts only the inner edges strictly below each confidence
    edges = np.arange(n_bins + 1) / n_bins
    bins = np.searchsorted(edges[1:-1], confidences, side="left")
    counts = np.bincount(bins, minlength=n_bins)
    with np.errstate(invalid="ignore"):  # 0 / 0 for an empty bin
        confidence = np.bincount(bins, weights=confidences, minlength=n_bins) / counts
        accuracy = np.bincount(bins, weights=correct, minlength=n_bins) / counts
    return CalibrationBins(edges, counts.astype(np.int64), confidence, accuracy)


def expected_calibration_error(confidences, correct, n_bins=15):
    """The expected calibration error (ECE) of Guo et al. (2017), a Python float: the mean, over
    the non-empty bins of `calibration_bins`, of |accuracy - mean confidence|, each bin weighted
    by its share of the samples. 0 for a model whose confidence matches its accuracy in every
    bin; at most 1. Arguments as for `calibration_bins`."""
    bins = calibration_bins(confidences, correct, n_bins)
    filled = bins.counts > 0
    shares = bins.counts[filled] / bins.counts.sum()
    return float(np.sum(shares * np.abs(bins.accuracy[filled] - bins.confidence[filled])))
