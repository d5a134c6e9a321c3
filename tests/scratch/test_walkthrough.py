import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib.models import mlp
from course_lib.scratch.walkthrough import WALKTHROUGH, init_walkthrough_mlp, train_walkthrough_mlp


def test_the_initial_weights_are_normal_with_standard_deviation_a_hundredth_and_the_biases_zero():
    params = init_walkthrough_mlp(np.random.default_rng(0))

    assert {name: array.shape for name, array in params.items()} == {
        "W1": (128, 784), "b1": (128,), "W2": (64, 128), "b2": (64,), "W3": (10, 64), "b3": (10,)}
    assert all(array.dtype == np.float32 for array in params.values())
    # W1 holds 100 352 draws: their spread is 0.01 to within a fraction of a percent
    assert params["W1"].std() == pytest.approx(0.01, rel=0.01)
    assert abs(params["W1"].mean()) < 1e-4
    assert all(not params[f"b{layer}"].any() for layer in (1, 2, 3))


def batch(rng, n, dtype=np.float64):
    return rng.uniform(0, 1, (n, 784)).astype(dtype), rng.integers(0, 10, n)


def test_training_is_torch_sgd_at_the_walkthrough_rate_without_momentum():
    # one batch of 64 samples: each epoch is one step on all of them, in whatever order
    X, y = batch(np.random.default_rng(1), WALKTHROUGH.batch_size)
    model = mlp(WALKTHROUGH.sizes).double()
    initial = init_walkthrough_mlp(np.random.default_rng(7), dtype=np.float64)
    with torch.no_grad():
        for layer, linear in enumerate(model[::2], start=1):
            linear.weight.copy_(torch.from_numpy(initial[f"W{layer}"]))
            linear.bias.copy_(torch.from_numpy(initial[f"b{layer}"]))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(2):  # a second step would differ if momentum were on
        optimizer.zero_grad()
        F.cross_entropy(model(torch.from_numpy(X)), torch.from_numpy(y)).backward()
        optimizer.step()

    params, history = train_walkthrough_mlp(X, y, epochs=2, seed=7)

    for layer, linear in enumerate(model[::2], start=1):
        np.testing.assert_allclose(params[f"W{layer}"], linear.weight.detach().numpy(), rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(params[f"b{layer}"], linear.bias.detach().numpy(), rtol=1e-10, atol=1e-14)
    assert history.iteration_lr == [0.1, 0.1]


def test_every_epoch_takes_one_step_per_batch_of_64():
    X, y = batch(np.random.default_rng(2), 200, dtype=np.float32)

    params, history = train_walkthrough_mlp(X, y, epochs=3, seed=0)

    assert len(history.iteration_loss) == 3 * math.ceil(200 / 64) and len(history.train_loss) == 3
    assert all(array.dtype == np.float32 for array in params.values())


def test_the_seed_fixes_the_weights_and_the_shuffles():
    X, y = batch(np.random.default_rng(3), 130)

    first, _ = train_walkthrough_mlp(X, y, epochs=2, seed=5)
    again, _ = train_walkthrough_mlp(X, y, epochs=2, seed=5)
    other, _ = train_walkthrough_mlp(X, y, epochs=2, seed=6)

    assert all(np.array_equal(first[name], again[name]) for name in first)
    assert not np.array_equal(first["W1"], other["W1"])


@pytest.mark.parametrize("X", [np.zeros((4, 28, 28), np.float32), np.zeros((4, 784), np.uint8)])
def test_images_not_flattened_and_scaled_are_refused_with_the_function_that_does_it(X):
    with pytest.raises(ValueError, match=r"floats of shape \[N, 784\] .*flatten_and_scale"):
        train_walkthrough_mlp(X, np.zeros(4, np.int64), epochs=1)
