"""Linear and logistic regression in numpy, trained by mini-batch gradient descent.

Function names, argument names and defaults follow `torch.nn.functional`; the tests use
torch as the oracle. float32 inputs give float32 results, as in torch: every constant
below is a Python scalar, which numpy 2 does not let promote an array's dtype.
"""
from dataclasses import dataclass

import numpy as np
from tqdm.auto import tqdm

from ..data.batching import iterations_per_epoch, minibatch_indices
from ._reduction import reduce


def _same_shape(input, target):
    # torch only warns for mse_loss, but a (n, 1) input against an (n,) target
    # broadcasts to (n, n) and gives a silently wrong loss.
    if np.shape(input) != np.shape(target):
        raise ValueError(f"input and target must have the same shape, "
                         f"got {np.shape(input)} and {np.shape(target)}")


def sigmoid(x):
    """1 / (1 + exp(-x)), without overflow for large |x|."""
    # exp(-|x|) lies in (0, 1]: it can underflow to 0 but never overflow.
    exp_minus_abs = np.exp(-np.abs(x))
    probabilities = np.where(np.asarray(x) >= 0, 1 / (1 + exp_minus_abs),
                             exp_minus_abs / (1 + exp_minus_abs))
    return probabilities[()]  # a scalar for a scalar x, the array otherwise


def mse_loss(input, target, reduction="mean"):
    """Squared error (input - target)^2, averaged (or summed) over all entries."""
    _same_shape(input, target)
    return reduce((np.asarray(input) - target) ** 2, reduction)


def binary_cross_entropy_with_logits(input, target, reduction="mean"):
    """-[t log sigmoid(x) + (1 - t) log(1 - sigmoid(x))] for logits x, never taking log(0).

    Computed as max(x, 0) - x t + log(1 + exp(-|x|)), the same quantity rearranged.
    """
    _same_shape(input, target)
    x = np.asarray(input)
    return reduce(np.maximum(x, 0) - x * target + np.log1p(np.exp(-np.abs(x))), reduction)


def _regression_shapes(X, y, w):
    if np.ndim(X) != 2:
        raise ValueError(f"X must be a matrix [n, d], got shape {np.shape(X)}")
    n, d = np.shape(X)
    if np.shape(y) != (n,):
        raise ValueError(f"y must have shape ({n},) to match X of shape {np.shape(X)}, "
                         f"got {np.shape(y)}")
    if np.shape(w) != (d,):
        raise ValueError(f"w must have shape ({d},) to match X of shape {np.shape(X)}, "
                         f"got {np.shape(w)}")


def linear_regression_gradients(X, y, w, b):
    """Mean squared error of predictions X @ w + b, and its gradients: (loss, grad_w, grad_b)."""
    _regression_shapes(X, y, w)
    predictions = X @ w + b
    grad_predictions = 2 * (predictions - y) / len(y)  # d loss / d prediction, per sample
    return mse_loss(predictions, y), X.T @ grad_predictions, grad_predictions.sum()


def logistic_regression_gradients(X, y, w, b):
    """Mean binary cross-entropy of logits X @ w + b for 0/1 labels y: (loss, grad_w, grad_b)."""
    _regression_shapes(X, y, w)
    logits = X @ w + b
    grad_logits = (sigmoid(logits) - y) / len(y)  # d loss / d logit, per sample
    return binary_cross_entropy_with_logits(logits, y), X.T @ grad_logits, grad_logits.sum()


@dataclass
class GradientDescentResult:
    """Final parameters and the loss curves of one run of mini-batch gradient descent."""
    w: np.ndarray
    b: float
    iteration_losses: np.ndarray  # each mini-batch's loss, before the step it caused
    epoch_losses: np.ndarray  # each epoch's training loss, averaged over its samples
    steps: int


def minibatch_gradient_descent(X, y, gradients, *, lr, batch_size, epochs, rng,
                               drop_last=False, w=None, b=0.0, progress=False):
    """Fit `w, b` by gradient descent on mini-batches reshuffled every epoch.

    `gradients(X_batch, y_batch, w, b)` returns `(loss, grad_w, grad_b)`, e.g.
    `linear_regression_gradients` or `logistic_regression_gradients`.
    """
    if iterations_per_epoch(len(X), batch_size, drop_last) == 0:
        raise ValueError(f"{len(X)} samples make no batch of {batch_size} with drop_last=True, "
                         f"so there would be nothing to train on")
    w = np.zeros(np.shape(X)[1], dtype=np.asarray(X).dtype) if w is None else np.array(w)
    iteration_losses, epoch_losses = [], []
    for _ in tqdm(range(epochs), desc="epochs", disable=not progress):
        loss_sum, samples_seen = 0.0, 0
        for batch in minibatch_indices(len(X), batch_size, rng, drop_last=drop_last):
            loss, grad_w, grad_b = gradients(X[batch], y[batch], w, b)
            w = w - lr * grad_w
            b = b - lr * grad_b
            iteration_losses.append(float(loss))
            # weighted by batch size, so a small last batch counts for only its samples
            loss_sum += float(loss) * len(batch)
            samples_seen += len(batch)
        epoch_losses.append(loss_sum / samples_seen)
    return GradientDescentResult(
        w=w, b=float(b), iteration_losses=np.array(iteration_losses, dtype=np.float64),
        epoch_losses=np.array(epoch_losses, dtype=np.float64), steps=len(iteration_losses))
