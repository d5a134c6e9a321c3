
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib.data.batching import minibatch_indices
from course_lib.scratch.regression import (
    GradientDescentResult, binary_cross_entropy_with_logits, linear_regression_gradients,
    logistic_regression_gradients, minibatch_gradient_descent, mse_loss, sigmoid,
)
from tests.strategies import SEEDS, random_array, random_shape, t



@pytest.mark.parametrize("seed", SEEDS)
def test_sigmoid_matches_torch_including_extreme_inputs(seed):
    rng = np.random.default_rng(seed)
    x = random_array(rng, random_shape(rng), extremes=True)
    np.testing.assert_allclose(sigmoid(x), torch.sigmoid(t(x)).numpy(), rtol=1e-12, atol=0)


def test_sigmoid_keeps_float32_and_saturates_without_overflow():
    x = np.array([-1000, -30, 0, 30, 1000], dtype=np.float32)
    result = sigmoid(x)
    assert result.dtype == np.float32
    np.testing.assert_allclose(result, torch.sigmoid(t(x)).numpy(), rtol=1e-6, atol=0)
    assert sigmoid(0.0) == 0.5 and np.ndim(sigmoid(0.0)) == 0


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("seed", SEEDS)
def test_mse_loss_matches_torch(seed, reduction):
    rng = np.random.default_rng(seed)
    shape = random_shape(rng)
    input, target = random_array(rng, shape), random_array(rng, shape)
    expected = F.mse_loss(t(input), t(target), reduction=reduction).numpy()
    np.testing.assert_allclose(mse_loss(input, target, reduction=reduction), expected, rtol=1e-12)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("seed", SEEDS)
def test_bce_with_logits_matches_torch_including_extreme_logits(seed, reduction):
    rng = np.random.default_rng(seed)
    shape = random_shape(rng)
    logits = random_array(rng, shape, extremes=True)
    targets = np.where(rng.random(shape) < 0.2, rng.random(shape), rng.integers(0, 2, shape)).astype(np.float64)
    loss = binary_cross_entropy_with_logits(logits, targets, reduction=reduction)
    expected = F.binary_cross_entropy_with_logits(t(logits), t(targets), reduction=reduction).numpy()
    assert np.all(np.isfinite(loss))
    np.testing.assert_allclose(loss, expected, rtol=1e-12, atol=1e-12)


def test_losses_keep_float32_as_torch_does():
    rng = np.random.default_rng(0)
    input, target = random_array(rng, (4, 3), np.float32), (rng.random((4, 3)) > 0.5).astype(np.float32)
    for loss_fn, torch_fn in [(mse_loss, F.mse_loss), (binary_cross_entropy_with_logits, F.binary_cross_entropy_with_logits)]:
        for reduction in ("mean", "sum", "none"):
            loss = loss_fn(input, target, reduction=reduction)
            assert loss.dtype == np.float32
            np.testing.assert_allclose(loss, torch_fn(t(input), t(target), reduction=reduction).numpy(), rtol=1e-6)


@pytest.mark.parametrize("loss_fn", [mse_loss, binary_cross_entropy_with_logits])
def test_losses_reject_unknown_reductions_and_mismatched_shapes(loss_fn):
    with pytest.raises(ValueError, match="reduction must be one of"):
        loss_fn(np.zeros(3), np.zeros(3), reduction="average")
    with pytest.raises(ValueError, match=r"same shape, got \(3, 1\) and \(3,\)"):
        loss_fn(np.zeros((3, 1)), np.zeros(3))


def torch_loss_and_gradients(torch_loss, X, y, w, b):
    w, b = t(w).requires_grad_(), torch.tensor(float(b), dtype=torch.float64, requires_grad=True)
    loss = torch_loss(t(X) @ w + b, t(y))
    loss.backward()
    return loss.item(), w.grad.numpy(), b.grad.item()


GRADIENT_CASES = [
    (linear_regression_gradients, F.mse_loss, False),
    (logistic_regression_gradients, F.binary_cross_entropy_with_logits, True),
]


@pytest.mark.parametrize("gradients, torch_loss, binary", GRADIENT_CASES)
@pytest.mark.parametrize("seed", SEEDS)
def test_gradients_match_autograd(gradients, torch_loss, binary, seed):
    rng = np.random.default_rng(seed)
    n, d = (int(size) for size in rng.integers(1, 12, size=2))
    X, w, b = random_array(rng, (n, d)), random_array(rng, d) * (30 if binary else 1), rng.normal()
    y = rng.integers(0, 2, n).astype(np.float64) if binary else random_array(rng, n)
    loss, grad_w, grad_b = gradients(X, y, w, b)
    expected_loss, expected_grad_w, expected_grad_b = torch_loss_and_gradients(torch_loss, X, y, w, b)
    np.testing.assert_allclose(loss, expected_loss, rtol=1e-12)
    np.testing.assert_allclose(grad_w, expected_grad_w, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(grad_b, expected_grad_b, rtol=1e-10, atol=1e-14)
    assert grad_w.shape == (d,) and np.ndim(grad_b) == 0


@pytest.mark.parametrize("gradients", [linear_regression_gradients, logistic_regression_gradients])
def test_gradients_keep_float32(gradients):
    rng = np.random.default_rng(0)
    X, y, w = random_array(rng, (6, 3), np.float32), np.ones(6, np.float32), np.zeros(3, np.float32)
    loss, grad_w, grad_b = gradients(X, y, w, 0.0)
    assert (loss.dtype, grad_w.dtype, grad_b.dtype) == (np.float32,) * 3


@pytest.mark.parametrize("gradients", [linear_regression_gradients, logistic_regression_gradients])
def test_gradients_reject_shapes_that_would_broadcast(gradients):
    X = np.zeros((5, 3))
    with pytest.raises(ValueError, match=r"y must have shape \(5,\)"):
        gradients(X, np.zeros((5, 1)), np.zeros(3), 0.0)
    with pytest.raises(ValueError, match=r"w must have shape \(3,\)"):
        gradients(X, np.zeros(5), np.zeros((3, 1)), 0.0)
    with pytest.raises(ValueError, match="X must be a matrix"):
        gradients(np.zeros(5), np.zeros(5), np.zeros(3), 0.0)


def torch_minibatch_sgd(X, y, torch_loss, *, lr, batch_size, epochs, seed, drop_last):
    """The same training with torch.optim.SGD, on the batches an identically seeded rng gives."""
    w = torch.zeros(X.shape[1], dtype=torch.float64, requires_grad=True)
    b = torch.zeros((), dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.SGD([w, b], lr=lr)
    rng, losses = np.random.default_rng(seed), []
    for _ in range(epochs):
        for batch in minibatch_indices(len(X), batch_size, rng, drop_last=drop_last):
            optimizer.zero_grad()
            loss = torch_loss(t(X[batch]) @ w + b, t(y[batch]))
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    return w.detach().numpy(), b.item(), np.array(losses)


def regression_data(binary, n=37, d=3, seed=0):
    rng = np.random.default_rng(seed)
    X = random_array(rng, (n, d))
    scores = X @ np.array([1.5, -2.0, 0.5]) + 0.3
    y = (scores > 0).astype(np.float64) if binary else scores + 0.1 * rng.standard_normal(n)
    return X, y


@pytest.mark.parametrize("drop_last", [False, True])
@pytest.mark.parametrize("gradients, torch_loss, binary", GRADIENT_CASES)
def test_gradient_descent_is_torch_sgd_on_the_same_batches(gradients, torch_loss, binary, drop_last):
    X, y = regression_data(binary)
    settings = dict(lr=0.1, batch_size=8, epochs=4, drop_last=drop_last)
    result = minibatch_gradient_descent(X, y, gradients, rng=np.random.default_rng(5), **settings)
    w, b, losses = torch_minibatch_sgd(X, y, torch_loss, seed=5, **settings)
    assert isinstance(result, GradientDescentResult)
    np.testing.assert_allclose(result.w, w, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(result.b, b, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(result.iteration_losses, losses, rtol=1e-10)
    assert result.steps == len(losses) == 4 * (4 if drop_last else 5)


def test_epoch_losses_are_batch_size_weighted_means_of_the_iteration_losses():
    X, y = regression_data(binary=False, n=10)  # batches of 4, 4 and 2
    result = minibatch_gradient_descent(X, y, linear_regression_gradients, lr=0.05, batch_size=4,
                                        epochs=3, rng=np.random.default_rng(0))
    assert result.epoch_losses.shape == (3,) and result.iteration_losses.shape == (9,)
    per_epoch = result.iteration_losses.reshape(3, 3)
    np.testing.assert_allclose(result.epoch_losses, per_epoch @ np.array([4, 4, 2]) / 10, rtol=1e-12)


def test_gradient_descent_fits_the_data_and_leaves_the_callers_w_alone():
    X, y = regression_data(binary=False, n=200)
    w_start = np.zeros(3)
    result = minibatch_gradient_descent(X, y, linear_regression_gradients, lr=0.1, batch_size=16,
                                        epochs=20, rng=np.random.default_rng(0), w=w_start, progress=True)
    np.testing.assert_allclose(result.w, [1.5, -2.0, 0.5], atol=0.05)
    assert abs(result.b - 0.3) < 0.05 and isinstance(result.b, float)
    assert result.epoch_losses[-1] < result.epoch_losses[0] / 10
    np.testing.assert_array_equal(w_start, np.zeros(3))


def test_gradient_descent_hands_each_batch_to_the_gradients_function():
    X, y = regression_data(binary=False, n=10)
    seen = []

    def spy(X_batch, y_batch, w, b):
        seen.append(y_batch)
        return linear_regression_gradients(X_batch, y_batch, w, b)

    minibatch_gradient_descent(X, y, spy, lr=0.1, batch_size=3, epochs=2, rng=np.random.default_rng(0))
    rng = np.random.default_rng(0)
    expected = [y[batch] for _ in range(2) for batch in minibatch_indices(10, 3, rng)]
    assert len(seen) == len(expected) == 8
    for batch, wanted in zip(seen, expected):
        np.testing.assert_array_equal(batch, wanted)


def test_gradient_descent_keeps_float32_parameters():
    X, y = regression_data(binary=False)
    result = minibatch_gradient_descent(X.astype(np.float32), y.astype(np.float32), linear_regression_gradients,
                                        lr=0.1, batch_size=8, epochs=1, rng=np.random.default_rng(0))
    assert result.w.dtype == np.float32


def test_gradient_descent_refuses_an_epoch_without_batches():
    X, y = regression_data(binary=False, n=5)
    with pytest.raises(ValueError, match="no batch of 8"):
        minibatch_gradient_descent(X, y, linear_regression_gradients, lr=0.1, batch_size=8, epochs=1,
                                   rng=np.random.default_rng(0), drop_last=True)
