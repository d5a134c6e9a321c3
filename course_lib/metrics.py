"""Measurements of a trained model."""
import numpy as np
import torch


def _as_numpy(values):
    if isinstance(values, torch.Tensor):
        return values.detach().cpu().numpy()
    return np.asarray(values)


def _predicted_classes(scores):
    if scores.ndim == 2 and scores.shape[1] > 1:
        return scores.argmax(axis=1)
    if scores.ndim == 1 or scores.ndim == 2:
        # one logit per sample: class 1 when sigmoid(logit) > 0.5, i.e. logit > 0
        return (scores.reshape(-1) > 0).astype(np.int64)
    raise ValueError(f"scores must be [N, C] class scores or [N] logits, got shape {scores.shape}")


def accuracy(scores, targets):
    """Fraction of samples whose predicted class equals the target class.

    `scores` is [N, C] (prediction: the argmax class) or [N] / [N, 1] logits of the positive
    class (prediction: 1 where the logit is > 0); `targets` holds N class indices (0/1
    for logits). numpy arrays and torch tensors are both accepted.
    """
    return count_correct(scores, targets) / len(targets)


def count_correct(scores, targets):
    """How many samples `accuracy` counts as right; for summing over batches."""
    scores, targets = _as_numpy(scores), _as_numpy(targets)
    if targets.ndim == 2 and targets.shape[1] == 1:
        targets = targets.reshape(-1)
    if targets.ndim != 1:
        raise ValueError(f"targets must be N class indices, got shape {targets.shape}"
                         + (" (one-hot? take targets.argmax(1))" if targets.ndim == 2 else ""))
    if len(scores) != len(targets):
        raise ValueError(f"scores hold {len(scores)} samples but targets {len(targets)}")
    if len(targets) == 0:
        raise ValueError("accuracy of zero samples is undefined")
    return int((_predicted_classes(scores) == targets).sum())
