"""Checks for linear and logistic regression written by hand, and for mini-batch gradient
descent in numpy (assignment 01).

`check_linear_regression_gradients` and `check_logistic_regression_gradients` run the
student's `gradients(X, y, w, b) -> (loss, grad_w, grad_b)` on float64 data drawn from
`seed` and compare with autograd through `F.mse_loss` and
`F.binary_cross_entropy_with_logits`, naming the usual mistakes by recomputing them: the sum
over the batch for its mean, the factor 2 of the square forgotten, the error taken on the
logits instead of the probabilities. `check_minibatch_gradient_descent` runs the student's
loop with a gradients function of the check's own and compares with the same loop written
out here, its batches drawn as the answer cell is told to draw them
(`course_lib.data.minibatch_indices`, once per epoch, from the rng passed in).

The answers must not run their course_lib references, nor torch's loss functions or
autograd (see `harness`): the gradients are to be derived by hand.
"""
from builtins import ValueError, float, isinstance, len, range, zip
from types import SimpleNamespace

from torch import enable_grad as _enable_grad
from torch import float64 as _torch_float64
from torch import from_numpy as _from_numpy
from torch import sigmoid as _torch_sigmoid
from torch import tensor as _tensor
from torch.autograd import grad as _autograd_grad
from torch.nn import functional as F
from torch.optim import SGD

from course_lib.data.batching import minibatch_indices as _minibatch_indices
from course_lib.scratch import regression as _scratch

from ._trusted import default_rng, isclose, np
from .failure import CheckFailure, fail, unpacked, wrong_kind
from .harness import AUTOGRAD, Answer, exercise, trusted
from .values import check_array, check_integer, check_scalar

LINEAR_REGRESSION_GRADIENTS = exercise(_scratch.linear_regression_gradients,
                                       forbidden=(_scratch.mse_loss, F.mse_loss, *AUTOGRAD))
LOGISTIC_REGRESSION_GRADIENTS = exercise(_scratch.logistic_regression_gradients,
                                         forbidden=(F.binary_cross_entropy_with_logits, *AUTOGRAD))
MINIBATCH_GRADIENT_DESCENT = exercise(_scratch.minibatch_gradient_descent, forbidden=(SGD,))

RTOL = 1e-7  # float64 sums in another order agree to ~1e-15; this leaves room
PERFECT_FIT_ATOL = 1e-12
NAMES = ("loss", "grad_w", "grad_b")
ORDER_HINT = ("record each batch's loss, in order, before the step it leads to, and draw each "
              "epoch's batches with reference_minibatch_indices(len(X), batch_size, rng, "
              "drop_last=drop_last) inside the loop over epochs, with the rng passed in — once per "
              "epoch, not once in all.")


# ------------------------------------------------------------------------------ oracles

def _loss_and_gradients(loss_function, X, y, w, b):
    """(loss, grad_w, grad_b) of loss_function(X @ w + b, y) by autograd, in float64."""
    with _enable_grad():
        weights = _from_numpy(np.asarray(w, dtype=np.float64)).requires_grad_()
        bias = _tensor(float(b), dtype=_torch_float64, requires_grad=True)
        loss = loss_function(_from_numpy(X) @ weights + bias, _from_numpy(y))
        grad_w, grad_b = _autograd_grad(loss, [weights, bias])
    return loss.item(), grad_w.numpy(), grad_b.item()


def _mean_squared_error(X, y, w, b):
    return _loss_and_gradients(F.mse_loss, X, y, w, b)


def _binary_cross_entropy(X, y, w, b):
    return _loss_and_gradients(F.binary_cross_entropy_with_logits, X, y, w, b)


# ---------------------------------------------------------------------- the gradients

def _check_gradients(answer, X, y, w, b, expected, situation, *, known_mistakes=None, atol=1e-8,
                     hint=None):
    """Run the answer on (X, y, w, b) and compare its (loss, grad_w, grad_b) with `expected`;
    `known_mistakes` ({name: [(wrong value, explanation)]}) name the usual mistakes, and a
    failure starts with the call and the `situation` ("with X of shape (8, 3)")."""
    __tracebackhide__ = True
    call = answer.words(X, y, w, b)
    result = answer.run(call, X, y, w, b)
    unpacked(f"{call} returned", result, 3, "the tuple (loss, grad_w, grad_b)")
    factor_hints = {"the batch size n": len(y)}
    mistakes = known_mistakes or {}
    for name, actual, wanted in zip(NAMES, result, expected):
        compare = check_array if name == "grad_w" else check_scalar
        try:
            compare(name, actual, wanted, atol=atol, factor_hints=factor_hints,
                    known_mistakes=mistakes.get(name), hint=hint)
        except CheckFailure as failure:
            fail(f"{call} {situation}: {failure.message}")


def _regression_data(seed, n_samples, n_features):
    rng = default_rng(seed)
    return rng, rng.standard_normal((n_samples, n_features)), rng.standard_normal(n_samples)


def check_linear_regression_gradients(linear_regression_gradients, *, seed=11, n_samples=8,
                                      n_features=3, bias=0.5, perfect_fit=False):
    """Run `linear_regression_gradients(X, y, w, b)` on X of shape (n_samples, n_features)
    and compare (loss, grad_w, grad_b) with autograd through F.mse_loss. `perfect_fit`: y is
    X @ w + b exactly, so the loss and both gradients are 0."""
    __tracebackhide__ = True
    answer = Answer(LINEAR_REGRESSION_GRADIENTS, linear_regression_gradients)
    rng, X, y = _regression_data(seed, n_samples, n_features)
    w = rng.standard_normal(n_features)
    if perfect_fit:
        y = X @ w + bias
        _check_gradients(answer, X, y, w, bias, (0.0, np.zeros(n_features), 0.0),
                         "for a perfect fit (y = X @ w + b exactly)", atol=PERFECT_FIT_ATOL)
        return
    loss, grad_w, grad_b = expected = _mean_squared_error(X, y, w, bias)
    half = ("half the right value: the derivative of (ŷ - y)² is 2(ŷ - y), so the factor 2 is "
            "missing.")
    summed = (f"n = {n_samples} times the right value: the sum over the batch, where the loss is "
              f"its mean — divide by n.")
    _check_gradients(answer, X, y, w, bias, expected, f"with X of shape {X.shape}", known_mistakes={
        "loss": [(loss * n_samples, "the sum of the squared errors; the loss is their mean.")],
        "grad_w": [(grad_w / 2, half), (grad_w * n_samples, summed)],
        "grad_b": [(grad_b / 2, half), (grad_b * n_samples, summed)]})


def check_logistic_regression_gradients(logistic_regression_gradients, *, seed=21, n_samples=6,
                                        n_features=4, bias=-0.3, logits="random"):
    """Run `logistic_regression_gradients(X, y, w, b)` on X of shape (n_samples, n_features)
    and 0/1 labels y, and compare (loss, grad_w, grad_b) with autograd through
    F.binary_cross_entropy_with_logits. `logits`: "random" (standard normal data), "zero"
    (w = 0 and b = 0, where every probability is 1/2 and the loss log 2), or "large" (logits
    in the hundreds, confidently right and wrong, where everything must stay finite)."""
    __tracebackhide__ = True
    answer = Answer(LOGISTIC_REGRESSION_GRADIENTS, logistic_regression_gradients)
    rng, X, scores = _regression_data(seed, n_samples, n_features)
    y = (scores > 0).astype(np.float64)
    w = rng.standard_normal(n_features)
    situation, hint = f"with X of shape {X.shape}", None
    if logits == "zero":
        w, bias = np.zeros(n_features), 0.0
        situation = "at w = 0 and b = 0, where every probability is 1/2"
    elif logits == "large":
        X = 300 * X
        situation = "with logits in the hundreds"
        hint = ("the logits here are in the hundreds: compute the loss with "
                "binary_cross_entropy_with_logits(logits, y) and the probabilities with "
                "sigmoid(logits), which stay finite for any logit.")
    elif logits != "random":
        raise ValueError(f'logits must be "random", "zero" or "large", got {logits!r}')
    expected = _binary_cross_entropy(X, y, w, bias)
    z = X @ w + bias
    errors = _torch_sigmoid(_from_numpy(z)).numpy() - y
    on_logits = ("those are the gradients for the logits themselves, X.T @ (z - y) / n: the error "
                 "is sigmoid(z) - y, the probability minus the label.")
    summed = "that is the sum over the batch: divide by n for the mean."
    _check_gradients(answer, X, y, w, bias, expected, situation, hint=hint, known_mistakes={
        "loss": [(expected[0] * n_samples, summed)],
        "grad_w": [(X.T @ (z - y) / n_samples, on_logits), (X.T @ errors, summed)],
        "grad_b": [((z - y).mean(), on_logits), (errors.sum(), summed)]})


# ------------------------------------------------------------------- the training loop

def _descend(X, y, gradients, rng, *, lr, batch_size, epochs, drop_last=False, w=None, b=0.0):
    """Mini-batch gradient descent as the docstring of the exercise describes it."""
    w = np.zeros(X.shape[1]) if w is None else np.asarray(w, dtype=np.float64)
    iteration_losses, epoch_losses = [], []
    for _ in range(epochs):
        loss_sum, samples_seen = 0.0, 0
        for batch in _minibatch_indices(len(X), batch_size, rng, drop_last=drop_last):
            loss, grad_w, grad_b = gradients(X[batch], y[batch], w, b)
            w, b = w - lr * grad_w, b - lr * grad_b
            iteration_losses.append(loss)
            loss_sum += loss * len(batch)
            samples_seen += len(batch)
        epoch_losses.append(loss_sum / samples_seen)
    return SimpleNamespace(w=w, b=b, iteration_losses=np.asarray(iteration_losses),
                           epoch_losses=np.asarray(epoch_losses), steps=len(iteration_losses))


def _check_losses(call, result, expected):
    __tracebackhide__ = True
    per_epoch = len(expected.iteration_losses) // len(expected.epoch_losses)
    check_integer(f"{call}.steps", result.steps, expected.steps,
                  hint=f"one step per batch: {per_epoch} per epoch here.")
    losses = result.iteration_losses
    if (isinstance(losses, np.ndarray) and losses.shape == expected.iteration_losses.shape
            and isclose(losses[:per_epoch], expected.iteration_losses[:per_epoch], rtol=RTOL,
                        atol=0).all()
            and not isclose(losses, expected.iteration_losses, rtol=RTOL, atol=0).all()):
        fail(f"{call}.iteration_losses are right for the first epoch but not from the second on: "
             f"is every epoch reusing the first epoch's batches? Call reference_minibatch_indices("
             f"len(X), batch_size, rng, drop_last=drop_last) at the start of every epoch, so each "
             f"epoch gets a fresh shuffle.")
    check_array(f"{call}.iteration_losses", losses, expected.iteration_losses, rtol=RTOL,
                hint=ORDER_HINT)
    by_epoch = expected.iteration_losses.reshape(len(expected.epoch_losses), -1)
    check_array(f"{call}.epoch_losses", result.epoch_losses, expected.epoch_losses, rtol=RTOL,
                known_mistakes=[
                    (by_epoch.mean(axis=1),
                     "that is the plain mean of each epoch's batch losses, but the last batch is "
                     "smaller than the others: weight each batch's loss by its size and divide "
                     "by the number of samples seen."),
                    (by_epoch[:, -1], "that is the loss of each epoch's last batch; average over "
                                      "the whole epoch."),
                    (by_epoch.sum(axis=1), "that is the sum of each epoch's batch losses; take "
                                           "their mean, weighted by batch size.")])


def check_minibatch_gradient_descent(minibatch_gradient_descent, *, seed=3, n_samples=10,
                                     n_features=3, task="linear", lr=0.1, batch_size=4,
                                     epochs=3, drop_last=False, w=None, b=None, progress=False):
    """Run `minibatch_gradient_descent(X, y, gradients, lr=..., batch_size=..., epochs=...,
    rng=rng)` on float64 data of `n_samples` samples — labels 0/1 and the logistic loss for
    task="logistic" — and compare the GradientDescentResult with the loop written out, step
    count, losses and final w and b. drop_last, w, b and progress are passed when given."""
    __tracebackhide__ = True
    answer = Answer(MINIBATCH_GRADIENT_DESCENT, minibatch_gradient_descent)
    if task not in ("linear", "logistic"):
        raise ValueError(f'task must be "linear" or "logistic", got {task!r}')
    _, X, y = _regression_data(seed, n_samples, n_features)
    gradients = _mean_squared_error
    if task == "logistic":
        y, gradients = (y > 0).astype(np.float64), _binary_cross_entropy
    settings = {"lr": lr, "batch_size": batch_size, "epochs": epochs}
    options = {}
    if drop_last:
        options["drop_last"] = True
    if w is not None:
        options["w"] = np.asarray(w, dtype=np.float64)
    if b is not None:
        options["b"] = b
    expected = _descend(X, y, gradients, default_rng(seed), **settings, **options)
    if progress:
        options["progress"] = True
    call = answer.words(X, y, gradients, **settings, rng=default_rng(seed), **options)
    result = answer.run(call, X, y, trusted(gradients), **settings, rng=default_rng(seed),
                        **options)
    if not isinstance(result, _scratch.GradientDescentResult):
        wrong_kind(f"{call} returned", result, "a GradientDescentResult(w=..., b=..., "
                                               "iteration_losses=..., epoch_losses=..., steps=...)")
    _check_losses(call, result, expected)
    check_array(f"{call}.w", result.w, expected.w, rtol=RTOL)
    check_scalar(f"{call}.b", result.b, expected.b, rtol=RTOL)
