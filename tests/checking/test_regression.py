import numpy as np
import pytest
import torch

from course_lib.checking.failure import CheckFailure, DelegationFailure
from course_lib.checking.regression import (
    check_linear_regression_gradients, check_logistic_regression_gradients, check_minibatch_gradient_descent,
)
from course_lib.data import minibatch_indices as reference_minibatch_indices  # handed out
from course_lib.scratch import GradientDescentResult, regression
from course_lib.scratch import binary_cross_entropy_with_logits, sigmoid  # handed out
from tests.checking.failures import failure_message
from tests.grading.answer_cells import solution
from tests.strategies import SEEDS, assert_global_random_state_untouched, tampered

NOTEBOOK = "01_epochs_iterations"
LINEAR = "linear_regression_gradients(X, y, w, 0.5) with X of shape (8, 3)"
LOGISTIC = "logistic_regression_gradients(X, y, w, -0.3) with X of shape (6, 4)"
RUN = "minibatch_gradient_descent(X, y, gradients, lr=0.1, batch_size=4, epochs=3, rng=rng)"


def linear_regression_gradients(X, y, w, b, *, factor=2.0, divide=True):
    """A right answer, written as a student would; `factor` and `divide` give the usual mistakes."""
    residuals = X @ w + b - y
    n = len(y) if divide else 1
    return np.mean(residuals ** 2), factor * X.T @ residuals / n, factor * np.sum(residuals) / n


def logistic_regression_gradients(X, y, w, b, *, probabilities=True, divide=True):
    logits = X @ w + b
    errors = (sigmoid(logits) if probabilities else logits) - y
    n = len(y) if divide else 1
    return binary_cross_entropy_with_logits(logits, y), X.T @ errors / n, np.sum(errors) / n


def minibatch_gradient_descent(X, y, gradients, *, lr, batch_size, epochs, rng, drop_last=False, w=None, b=0.0,
                               progress=False, reshuffle=True, weighted=True, in_place=False):
    """A right answer; the keyword-only flags after progress give the usual mistakes."""
    w = np.zeros(X.shape[1]) if w is None else (w if in_place else np.array(w))
    iteration_losses, epoch_losses = [], []
    batches = None
    for _ in range(epochs):
        if reshuffle or batches is None:
            batches = list(reference_minibatch_indices(len(X), batch_size, rng, drop_last=drop_last))
        losses, sizes = [], []
        for batch in batches:
            loss, grad_w, grad_b = gradients(X[batch], y[batch], w, b)
            if in_place:
                w -= lr * grad_w
            else:
                w = w - lr * grad_w
            b = b - lr * grad_b
            losses.append(float(loss))
            sizes.append(len(batch))
        iteration_losses += losses
        epoch_losses.append(sum(loss * size for loss, size in zip(losses, sizes)) / sum(sizes) if weighted
                            else sum(losses) / len(losses))
    return GradientDescentResult(w=w, b=float(b), iteration_losses=np.array(iteration_losses),
                                 epoch_losses=np.array(epoch_losses), steps=len(iteration_losses))


def with_options(function, **options):
    return lambda *args, **kwargs: function(*args, **kwargs, **options)


# -------------------------------------------------------------------------- right answers

@pytest.mark.parametrize("seed", SEEDS)
def test_right_gradients_pass(seed):
    for linear in (linear_regression_gradients, solution(NOTEBOOK, "linear_regression_gradients")):
        check_linear_regression_gradients(linear, seed=seed)
        for n_samples, n_features, bias in [(1, 1, -2.0), (20, 5, 0.0), (33, 7, 3)]:
            check_linear_regression_gradients(linear, seed=seed, n_samples=n_samples, n_features=n_features, bias=bias)
        check_linear_regression_gradients(linear, seed=seed, n_samples=6, n_features=4, bias=1.5, perfect_fit=True)
    for logistic in (logistic_regression_gradients, solution(NOTEBOOK, "logistic_regression_gradients")):
        check_logistic_regression_gradients(logistic, seed=seed)
        check_logistic_regression_gradients(logistic, seed=seed, n_samples=25, n_features=6, bias=0.0)
        check_logistic_regression_gradients(logistic, seed=seed, n_samples=10, n_features=3, logits="zero")
        check_logistic_regression_gradients(logistic, seed=seed, n_samples=8, n_features=2, logits="large")


@pytest.mark.parametrize("seed", SEEDS[:3])
def test_right_loops_pass(seed):
    for loop in (minibatch_gradient_descent, solution(NOTEBOOK, "minibatch_gradient_descent")):
        check_minibatch_gradient_descent(loop, seed=seed)
        check_minibatch_gradient_descent(loop, seed=seed, drop_last=True)
        check_minibatch_gradient_descent(loop, seed=seed, lr=0.05, batch_size=16, epochs=4)
        check_minibatch_gradient_descent(loop, seed=seed, lr=0.02, batch_size=1, epochs=1)
        check_minibatch_gradient_descent(loop, seed=seed, task="logistic", lr=0.5, batch_size=3, epochs=2,
                                         w=[0.5, -0.5, 1.0], b=0.3, progress=True)


# ------------------------------------------------------------------------- wrong answers

def returns_two(X, y, w, b):
    return linear_regression_gradients(X, y, w, b)[1:]


def sums_the_loss(X, y, w, b):
    _, grad_w, grad_b = linear_regression_gradients(X, y, w, b)
    return np.sum((X @ w + b - y) ** 2), grad_w, grad_b


def naive_logistic(X, y, w, b):
    probabilities = 1 / (1 + np.exp(-(X @ w + b)))
    loss = -np.mean(y * np.log(probabilities) + (1 - y) * np.log(1 - probabilities))
    return loss, X.T @ (probabilities - y) / len(y), np.mean(probabilities - y)


WRONG_GRADIENTS = [  # (check, function, options, message)
    (check_linear_regression_gradients, with_options(linear_regression_gradients, divide=False), {},
     f"{LINEAR}: grad_w has the wrong values: n = 8 times the right value: the sum over the batch, where the loss is "
     f"its mean — divide by n."),
    (check_linear_regression_gradients, with_options(linear_regression_gradients, factor=1.0), {},
     f"{LINEAR}: grad_w has the wrong values: half the right value: the derivative of (ŷ - y)² is 2(ŷ - y), so the "
     f"factor 2 is missing."),
    (check_linear_regression_gradients, sums_the_loss, {},
     f"{LINEAR}: loss is 34.1342, expected 4.26677: the sum of the squared errors; the loss is their mean."),
    (check_linear_regression_gradients, returns_two, {},
     "linear_regression_gradients(X, y, w, 0.5) returned a tuple of 2 values, but the tuple (loss, grad_w, grad_b) "
     "is expected."),
    (check_linear_regression_gradients, with_options(linear_regression_gradients, factor=-2.0), {},
     f"{LINEAR}: grad_w has the right size but the opposite sign"),
    (check_linear_regression_gradients, lambda X, y, w, b: (0.0, np.zeros(3), 0.0), {"perfect_fit": True}, None),
    (check_logistic_regression_gradients, with_options(logistic_regression_gradients, probabilities=False), {},
     f"{LOGISTIC}: grad_w has the wrong values: those are the gradients for the logits themselves, X.T @ (z - y) / n: "
     f"the error is sigmoid(z) - y, the probability minus the label."),
    (check_logistic_regression_gradients, with_options(logistic_regression_gradients, divide=False), {},
     f"{LOGISTIC}: grad_w has the wrong values: that is the sum over the batch: divide by n for the mean."),
    (check_logistic_regression_gradients, naive_logistic, {"logits": "large"},
     "logistic_regression_gradients(X, y, w, -0.3) with logits in the hundreds: loss is nan; nan comes from 0/0, "
     "inf - inf, 0 * inf, or the log or square root of a negative number.\nHint: the logits here are in the "
     "hundreds: compute the loss with binary_cross_entropy_with_logits(logits, y)"),
]


@pytest.mark.parametrize("check, function, options, message", WRONG_GRADIENTS)
def test_wrong_gradients_fail_with_the_reason(check, function, options, message):
    if message is None:  # right for a perfect fit only: passes that case
        check(function, **options)
        return
    assert message in failure_message(check, function, **options)


def test_the_naive_logistic_loss_passes_on_ordinary_logits():
    check_logistic_regression_gradients(naive_logistic)


WRONG_LOOPS = [
    ({"reshuffle": False}, {},
     f"{RUN}.iteration_losses are right for the first epoch but not from the second on: is every epoch reusing the "
     f"first epoch's batches?"),
    ({"weighted": False}, {},
     f"{RUN}.epoch_losses has the wrong values: that is the plain mean of each epoch's batch losses, but the last "
     f"batch is smaller than the others"),
    ({"in_place": True}, {"w": [0.5, -0.5, 1.0], "b": 0.3},
     "minibatch_gradient_descent(X, y, gradients, lr=0.1, batch_size=4, epochs=3, rng=rng, w=w, b=0.3) changed its "
     "argument w in place: `w -= ...`"),
]


@pytest.mark.parametrize("mistake, options, message", WRONG_LOOPS)
def test_wrong_loops_fail_with_the_reason(mistake, options, message):
    assert message in failure_message(check_minibatch_gradient_descent,
                                      with_options(minibatch_gradient_descent, **mistake), **options)


def test_a_loop_that_returns_something_else_is_told_what_to_return():
    assert failure_message(check_minibatch_gradient_descent, lambda *args, **kwargs: None) == (
        f"{RUN} returned None, but a GradientDescentResult(w=..., b=..., iteration_losses=..., epoch_losses=..., "
        f"steps=...) is expected: did the function end without a `return` statement?")


def test_a_loop_that_ignores_drop_last_fails_on_its_steps():
    def ignores_drop_last(*args, drop_last=False, **kwargs):
        return minibatch_gradient_descent(*args, **kwargs)
    assert failure_message(check_minibatch_gradient_descent, ignores_drop_last, drop_last=True).startswith(
        "minibatch_gradient_descent(X, y, gradients, lr=0.1, batch_size=4, epochs=3, rng=rng, drop_last=True).steps "
        "is 9, expected 6.\nHint: one step per batch: 2 per epoch here.")


# ---------------------------------------------------------------------------- delegation

def autograd_gradients(loss_function):
    def gradients(X, y, w, b):
        weights = torch.from_numpy(w).requires_grad_()
        bias = torch.tensor(float(b), dtype=torch.float64, requires_grad=True)
        loss = loss_function(torch.from_numpy(X) @ weights + bias, torch.from_numpy(y))
        loss.backward()
        return loss.item(), weights.grad.numpy(), bias.grad.item()
    return gradients


DELEGATING = [
    (check_linear_regression_gradients, regression.linear_regression_gradients,
     "course_lib.scratch.linear_regression_gradients, the course's own solution"),
    (check_linear_regression_gradients, autograd_gradients(torch.nn.functional.mse_loss),
     "torch.nn.functional.mse_loss"),
    (check_linear_regression_gradients, lambda X, y, w, b: (regression.mse_loss(X @ w + b, y),
                                                            *linear_regression_gradients(X, y, w, b)[1:]),
     "course_lib.scratch.mse_loss"),
    (check_logistic_regression_gradients, regression.logistic_regression_gradients,
     "course_lib.scratch.logistic_regression_gradients"),
    (check_logistic_regression_gradients, autograd_gradients(torch.nn.BCEWithLogitsLoss()),
     "torch.nn.functional.binary_cross_entropy_with_logits"),
    (check_minibatch_gradient_descent, regression.minibatch_gradient_descent,
     "course_lib.scratch.minibatch_gradient_descent"),
]


@pytest.mark.parametrize("check, function, name", DELEGATING)
def test_answers_that_delegate_fail(check, function, name):
    with pytest.raises(DelegationFailure, match=f"called {name}"):
        check(function)


def test_the_gradients_a_loop_is_given_run_unwatched():
    # the check hands the loop gradients of its own, computed with torch's losses and autograd
    check_minibatch_gradient_descent(minibatch_gradient_descent, task="logistic")


# -------------------------------------------------------------------------------- safety

def test_checks_leave_the_students_random_state_alone():
    assert_global_random_state_untouched(lambda: (
        check_linear_regression_gradients(linear_regression_gradients),
        check_logistic_regression_gradients(logistic_regression_gradients),
        check_minibatch_gradient_descent(minibatch_gradient_descent)))


def test_checks_cannot_be_fooled_by_patched_numpy_torch_or_builtins():
    with tampered(builtin_names=()):
        check_minibatch_gradient_descent(minibatch_gradient_descent)
        with pytest.raises(CheckFailure, match="the factor 2 is missing"):
            check_linear_regression_gradients(with_options(linear_regression_gradients, factor=1.0))
        with pytest.raises(CheckFailure, match="right for the first epoch but not from the second on"):
            check_minibatch_gradient_descent(with_options(minibatch_gradient_descent, reshuffle=False))
