"""One realistic wrong answer per autograded exercise, as the full source of its answer cell.

The nbgrader round trip (test_roundtrip.py) puts each into an otherwise correct submission
and requires that exactly that exercise's points are lost.
"""

WRONG_ANSWERS = {
    "01_epochs_iterations": {
        # Floor division whatever drop_last says: the last, partial batch is forgotten.
        "iterations_per_epoch": '''
def iterations_per_epoch(n_samples, batch_size, drop_last=False):
    """Number of optimizer steps in one epoch."""
    return n_samples // batch_size
''',
        # Batches as if they ran on across epoch boundaries: one partial batch in all,
        # instead of one per epoch.
        "total_updates": '''
import math

from course_lib.data import iterations_per_epoch as reference_iterations_per_epoch


def total_updates(n_samples, batch_size, epochs, drop_last=False):
    """Number of optimizer steps in `epochs` epochs."""
    if drop_last:
        return epochs * n_samples // batch_size
    return math.ceil(epochs * n_samples / batch_size)
''',
        # The permutation comes from numpy's global generator, not from `rng`: every
        # epoch is shuffled, but the run cannot be reproduced from its seed.
        "minibatch_indices": '''
def minibatch_indices(n_samples, batch_size, rng, *, shuffle=True, drop_last=False):
    """Yield the sample indices of one epoch's mini-batches."""
    order = np.random.permutation(n_samples) if shuffle else np.arange(n_samples)
    stop = n_samples - n_samples % batch_size if drop_last else n_samples
    for start in range(0, stop, batch_size):
        yield order[start:start + batch_size]
''',
        # The gradient summed over the batch instead of averaged: n times too large.
        "linear_regression_gradients": '''
def linear_regression_gradients(X, y, w, b):
    """Mean squared error of X @ w + b against y, and its gradients."""
    residuals = X @ w + b - y
    loss = np.mean(residuals ** 2)
    grad_w = 2 * X.T @ residuals
    grad_b = 2 * np.sum(residuals)
    return loss, grad_w, grad_b
''',
        # The error taken on the logits instead of the probabilities: sigmoid forgotten.
        "logistic_regression_gradients": '''
from course_lib.scratch import binary_cross_entropy_with_logits, sigmoid


def logistic_regression_gradients(X, y, w, b):
    """Mean binary cross-entropy of the logits X @ w + b, and its gradients."""
    logits = X @ w + b
    loss = binary_cross_entropy_with_logits(logits, y)
    errors = logits - y
    return loss, X.T @ errors / len(y), np.mean(errors)
''',
        # The batches are drawn once, before the loop over epochs: every epoch reuses the
        # first epoch's shuffle instead of reshuffling.
        "minibatch_gradient_descent": '''
from course_lib.data import minibatch_indices as reference_minibatch_indices
from course_lib.scratch import GradientDescentResult


def minibatch_gradient_descent(X, y, gradients, *, lr, batch_size, epochs, rng,
                               drop_last=False, w=None, b=0.0, progress=False):
    """Fit w and b by mini-batch gradient descent."""
    w = np.zeros(X.shape[1], dtype=X.dtype) if w is None else np.array(w)
    batches = list(reference_minibatch_indices(len(X), batch_size, rng, drop_last=drop_last))
    iteration_losses, epoch_losses = [], []
    for _ in tqdm(range(epochs), disable=not progress):
        loss_sum, seen = 0.0, 0
        for batch in batches:
            loss, grad_w, grad_b = gradients(X[batch], y[batch], w, b)
            w = w - lr * grad_w
            b = b - lr * grad_b
            iteration_losses.append(float(loss))
            loss_sum += float(loss) * len(batch)
            seen += len(batch)
        epoch_losses.append(loss_sum / seen)
    return GradientDescentResult(w=w, b=float(b), iteration_losses=np.array(iteration_losses),
                                 epoch_losses=np.array(epoch_losses), steps=len(iteration_losses))
''',
        # optimizer.zero_grad() forgotten: from the second step on, the gradients of all
        # earlier steps are added in.
        "train_step": '''
def train_step(model, inputs, targets, loss_fn, optimizer):
    """One iteration on one mini-batch."""
    loss = loss_fn(model(inputs), targets)
    loss.backward()
    optimizer.step()
    return loss.item()
''',
        # The epoch loss as the plain mean of the batch losses: the small last batch
        # counts as much as a full one.
        "train_epoch": '''
from course_lib.training import EpochStats
from course_lib.training import train_step as reference_train_step


def train_epoch(model, loader, loss_fn, optimizer, *, progress=False):
    """Train `model` for one epoch."""
    model.train()
    start = time.perf_counter()
    losses = []
    for inputs, targets in tqdm(loader, leave=False, disable=not progress):
        losses.append(reference_train_step(model, inputs, targets, loss_fn, optimizer))
    return EpochStats(mean_loss=sum(losses) / len(losses), steps=len(losses),
                      seconds=time.perf_counter() - start)
''',
    },
}
