"""Measurements of a trained model."""
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
    `targets` holds N class indices (0/1 for logits), or [N, C] class probabilities — one-hot
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
    if len(scores) != len(targets):
        raise ValueError(f"scores hold {len(scores)} samples but targets {len(targets)}")
    if len(targets) == 0:
        raise ValueError("accuracy of zero samples is undefined")
    return int((_predicted_classes(scores) == targets).sum())


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
