from copy import deepcopy

import numpy as np
import pytest
import torch
from torch import nn

from course_lib.optim import SGD
from course_lib.optim.lr_finder import (LRFinderResult, find_lr_numpy, find_lr_torch,
                                        lr_range_test, suggest_lr)
from course_lib.scratch.mlp import init_mlp, mlp_loss_and_gradients, train_mlp

NO_BATCHES = [(None, None)]  # for steps that ignore their batch; cycled


def sweep(loss_of_lr, **options):
    """The range test on a synthetic loss curve: each step's loss is `loss_of_lr(current lr)`."""
    current = {}
    return lr_range_test(lambda X, y: loss_of_lr(current["lr"]),
                         lambda lr: current.update(lr=lr), NO_BATCHES, **options)


def test_the_rate_grows_exponentially_from_start_lr_to_end_lr_exactly():
    set_rates = []
    result = lr_range_test(lambda X, y: 1.0, set_rates.append, NO_BATCHES,
                           start_lr=1e-6, end_lr=3.0, num_iter=50)
    assert isinstance(result, LRFinderResult)
    assert result.lrs == set_rates and len(result.lrs) == 50
    assert result.lrs[0] == 1e-6 and result.lrs[-1] == 3.0
    ratios = np.array(result.lrs[1:]) / np.array(result.lrs[:-1])
    np.testing.assert_allclose(ratios, (3.0 / 1e-6) ** (1 / 49), rtol=1e-12)
    assert result.diverged_at is None


def test_smoothing_is_a_bias_corrected_exponential_moving_average():
    losses = iter([3.0, 1.0, 2.0, 0.5])
    result = lr_range_test(lambda X, y: next(losses), lambda lr: None, NO_BATCHES,
                           num_iter=4, beta=0.9)
    assert result.losses == [3.0, 1.0, 2.0, 0.5]
    # averages 0.3, 0.37, 0.533, 0.5297 divided by 1 - 0.9 ** (i + 1)
    np.testing.assert_allclose(result.smoothed_losses,
                               [0.3 / 0.1, 0.37 / 0.19, 0.533 / 0.271, 0.5297 / 0.3439], rtol=1e-12)


def test_beta_zero_leaves_the_losses_unsmoothed():
    result = sweep(lambda lr: 1 / lr, start_lr=1.0, end_lr=2.0, num_iter=5, beta=0.0)
    assert result.smoothed_losses == result.losses


@pytest.mark.parametrize("bad_loss", [1000.0, float("inf"), float("nan")])
def test_the_sweep_stops_at_the_first_smoothed_loss_above_diverge_th_times_the_best(bad_loss):
    losses = [1.0] * 20 + [bad_loss] + [1.0] * 79
    calls = []

    def step(X, y):
        calls.append(None)
        return losses[len(calls) - 1]
    result = lr_range_test(step, lambda lr: None, NO_BATCHES, num_iter=100)
    assert result.diverged_at == 20
    assert len(calls) == len(result.lrs) == len(result.losses) == len(result.smoothed_losses) == 21
    np.testing.assert_equal(result.losses[-1], bad_loss)


def test_a_rise_below_diverge_th_does_not_stop_the_sweep():
    result = sweep(lambda lr: 1.0 if lr < 1e-3 else 4.0, num_iter=100, beta=0.0)
    assert result.diverged_at is None and len(result.losses) == 100


def test_the_suggestion_is_where_the_loss_falls_fastest_against_log_lr():
    # falls fastest at lr = 1e-3 (a tanh step in log10 lr), then blows up past lr = 1
    def loss_of_lr(lr):
        return 2 - np.tanh(2 * (np.log10(lr) + 3)) + (lr if lr > 1 else 0) ** 3
    result = sweep(loss_of_lr, start_lr=1e-7, end_lr=100.0, num_iter=200, beta=0.0)
    assert result.diverged_at is not None  # the blow-up stopped it
    ratio = result.lrs[1] / result.lrs[0]
    assert 1e-3 / ratio <= result.suggested_lr <= 1e-3 * ratio
    # the default smoothing lags behind the raw loss, but only by a little on 200 iterations
    smoothed = sweep(loss_of_lr, start_lr=1e-7, end_lr=100.0, num_iter=200)
    assert 1e-3 <= smoothed.suggested_lr <= 1e-2


def test_suggest_lr_leaves_out_the_ends_and_wants_a_falling_loss():
    lrs = np.geomspace(1e-5, 1, 30)
    falling_at_the_start = np.r_[np.linspace(10, 2, 5), np.linspace(2, 1, 25)]
    assert suggest_lr(lrs, falling_at_the_start, skip_start=0, skip_end=0) < lrs[4]
    assert suggest_lr(lrs, falling_at_the_start, skip_start=10, skip_end=5) > lrs[9]
    assert suggest_lr(lrs, np.linspace(1, 2, 30)) is None  # never falls
    assert suggest_lr(lrs[:12], np.linspace(2, 1, 12)) is None  # nothing left between the ends
    with_a_nan_at_the_end = np.r_[np.linspace(2, 1, 29), np.nan]
    assert suggest_lr(lrs, with_a_nan_at_the_end, skip_start=0, skip_end=0) is not None


def test_batches_shorter_than_num_iter_are_cycled_and_a_one_shot_iterator_too():
    batches = [(np.array([index]), None) for index in range(3)]
    for source in (batches, iter(batches)):
        seen = []
        lr_range_test(lambda X, y: seen.append(int(X[0])) or 1.0, lambda lr: None, source,
                      num_iter=7)
        assert seen == [0, 1, 2, 0, 1, 2, 0]


@pytest.mark.parametrize("batches", [[], iter([])])
def test_no_batches_at_all_is_refused(batches):
    with pytest.raises(ValueError, match="no \\(X, y\\) pairs"):
        lr_range_test(lambda X, y: 1.0, lambda lr: None, batches)


@pytest.mark.parametrize("options", [dict(start_lr=0.0), dict(start_lr=1.0, end_lr=0.1),
                                     dict(num_iter=1), dict(beta=1.0), dict(diverge_th=1.0)])
def test_settings_that_make_no_sweep_are_refused(options):
    with pytest.raises(ValueError):
        lr_range_test(lambda X, y: 1.0, lambda lr: None, NO_BATCHES, **options)


# --- the numpy MLP -------------------------------------------------------------------------

def blobs(rng, n=256, classes=3, features=4):
    """Gaussian clusters, one per class, well apart: an MLP learns them in a few epochs."""
    centres = 3 * rng.standard_normal((classes, features))
    y = rng.integers(0, classes, n)
    return centres[y] + rng.standard_normal((n, features)), y


def mini_batches(X, y, batch_size=32):
    return [(X[start:start + batch_size], y[start:start + batch_size])
            for start in range(0, len(X), batch_size)]


def numpy_mlp_and_sgd(warm_steps):
    """An MLP on blobs and its SGD with momentum, after `warm_steps` steps (so 0 leaves the
    optimizer's state empty); the MLP's params, the optimizer and the batches."""
    rng = np.random.default_rng(0)
    X, y = blobs(rng)
    params = init_mlp([4, 16, 3], generator=rng, dtype=np.float64)
    optimizer = SGD(list(params.values()), lr=0.05, momentum=0.9, weight_decay=1e-4)
    batches = mini_batches(X, y)
    for X_batch, y_batch in batches[:warm_steps]:
        optimizer.step(list(mlp_loss_and_gradients(params, X_batch, y_batch)[1].values()))
    return params, optimizer, batches


def assert_same_state_dicts(ours, expected):
    assert ours.keys() == expected.keys()
    for key, value in expected.items():
        if isinstance(value, dict):
            assert_same_state_dicts(ours[key], value)
        elif isinstance(value, list):
            assert len(ours[key]) == len(value)
            for ours_item, item in zip(ours[key], value):
                assert_same_state_dicts({0: ours_item}, {0: item})
        elif isinstance(value, torch.Tensor):
            assert torch.equal(ours[key], value)
        elif isinstance(value, np.ndarray):
            assert ours[key].dtype == value.dtype
            np.testing.assert_array_equal(ours[key], value)
        else:
            assert ours[key] == value


@pytest.mark.parametrize("warm_steps", [0, 3])
def test_numpy_model_and_optimizer_are_restored_exactly(warm_steps):
    params, optimizer, batches = numpy_mlp_and_sgd(warm_steps)
    arrays = dict(params)
    saved_params = {name: array.copy() for name, array in params.items()}
    saved_optimizer = optimizer.state_dict()
    result = find_lr_numpy(params, mlp_loss_and_gradients, optimizer, batches, num_iter=100)
    assert len(result.losses) > 20  # it really trained
    assert all(params[name] is arrays[name] for name in params)
    for name in params:
        np.testing.assert_array_equal(params[name], saved_params[name])
    assert_same_state_dicts(optimizer.state_dict(), saved_optimizer)
    assert optimizer.lr == 0.05
    assert optimizer.param_groups[0]["params"][0] is params["W1"]


def test_numpy_model_is_restored_even_when_a_step_fails():
    params, optimizer, batches = numpy_mlp_and_sgd(warm_steps=2)
    saved_params = {name: array.copy() for name, array in params.items()}
    calls = []

    def failing_after_five(params, X, y):
        calls.append(None)
        if len(calls) > 5:
            raise RuntimeError("out of data")
        return mlp_loss_and_gradients(params, X, y)
    with pytest.raises(RuntimeError, match="out of data"):
        find_lr_numpy(params, failing_after_five, optimizer, batches)
    for name in params:
        np.testing.assert_array_equal(params[name], saved_params[name])
    assert optimizer.lr == 0.05


def test_an_optimizer_over_copies_of_the_params_is_refused():
    params, _, batches = numpy_mlp_and_sgd(warm_steps=0)
    optimizer = SGD([array.copy() for array in params.values()], lr=0.1)
    with pytest.raises(ValueError, match="arrays of `params` themselves"):
        find_lr_numpy(params, mlp_loss_and_gradients, optimizer, batches)


def test_the_gradients_follow_the_optimizers_order_of_the_params():
    params, _, batches = numpy_mlp_and_sgd(warm_steps=0)
    reordered = SGD([params[name] for name in reversed(params)], lr=0.1)
    # the wrong order would hand W2's gradient to b2 and fail the optimizer's shape check
    find_lr_numpy(params, mlp_loss_and_gradients, reordered, batches, num_iter=10)


def test_the_suggested_rate_trains_the_numpy_mlp():
    params, optimizer, batches = numpy_mlp_and_sgd(warm_steps=0)
    result = find_lr_numpy(params, mlp_loss_and_gradients, optimizer, batches, num_iter=100)
    assert result.diverged_at is not None  # end_lr = 10 with momentum blows up
    assert 1e-4 < result.suggested_lr < 10
    X, y = np.concatenate([X for X, _ in batches]), np.concatenate([y for _, y in batches])
    history = train_mlp(params, X, y, lr=result.suggested_lr, momentum=0.9, batch_size=32,
                        epochs=3, generator=np.random.default_rng(1))
    assert history.train_loss[-1] < 0.3 * history.train_loss[0]


# --- a torch model -------------------------------------------------------------------------

def torch_model_and_adam():
    """A Sequential with batch norm (buffers) and dropout, half in eval mode, and Adam after
    two steps, so that the model's buffers, gradients and modes and Adam's state all matter."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.1),
                          nn.Linear(16, 3)).double()
    X, y = blobs(np.random.default_rng(0))
    batches = mini_batches(torch.from_numpy(X), torch.from_numpy(y))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4)
    loss_fn = nn.CrossEntropyLoss()
    for inputs, targets in batches[:2]:
        optimizer.zero_grad()
        loss_fn(model(inputs), targets).backward()
        optimizer.step()
    model.eval()
    model[3].train()
    return model, loss_fn, optimizer, batches


def test_torch_model_and_optimizer_are_restored_exactly():
    model, loss_fn, optimizer, batches = torch_model_and_adam()
    saved_model = {name: tensor.clone() for name, tensor in model.state_dict().items()}
    saved_optimizer = deepcopy(optimizer.state_dict())  # its tensors are the live ones
    saved_grads = [param.grad.clone() for param in model.parameters()]
    result = find_lr_torch(model, loss_fn, optimizer, batches, num_iter=100)
    assert len(result.losses) > 20
    assert_same_state_dicts(model.state_dict(), saved_model)
    assert_same_state_dicts(optimizer.state_dict(), saved_optimizer)
    assert optimizer.param_groups[0]["lr"] == 1e-3
    for param, grad in zip(model.parameters(), saved_grads):
        assert torch.equal(param.grad, grad)
    assert [module.training for module in model.modules()] == [False, False, False, False, True,
                                                               False]
    # the optimizer still updates the model's own parameters
    assert all(p is q for p, q in zip(optimizer.param_groups[0]["params"], model.parameters()))


def test_the_suggested_rate_for_a_torch_model_is_a_sensible_one():
    model, loss_fn, optimizer, batches = torch_model_and_adam()
    result = find_lr_torch(model, loss_fn, optimizer, batches, num_iter=100)
    assert result.diverged_at is None or result.diverged_at > 20
    assert 1e-5 < result.suggested_lr < 10
