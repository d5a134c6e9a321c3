from copy import deepcopy

import numpy as np
import pytest
import torch
from torch import nn

from course_lib.optim import SGD
from course_lib.optim.lr_finder import (LRFinderResult, find_lr_numpy, find_lr_torch,
                                        lr_range_test, suggest_lr)
from course_lib.scratch.mlp import init_mlp, mlp_loss_and_gradients, train_mlp


def test_the_rate_grows_exponentially_from_start_lr_to_end_lr_exactly():
    set_rates = []
    lrs, losses, smoothed = lr_range_test(lambda lr: set_rates.append(lr) or 1.0, start_lr=1e-6, end_lr=3.0,
                                          num_iter=50)
    assert lrs == set_rates and len(lrs) == len(losses) == len(smoothed) == 50
    assert lrs[0] == 1e-6 and lrs[-1] == 3.0
    ratios = np.array(lrs[1:]) / np.array(lrs[:-1])
    np.testing.assert_allclose(ratios, (3.0 / 1e-6) ** (1 / 49), rtol=1e-12)
    assert all(type(lr) is float for lr in set_rates)


def test_smoothing_is_a_bias_corrected_exponential_moving_average():
    losses = iter([3.0, 1.0, 2.0, 0.5])
    _, raw, smoothed = lr_range_test(lambda lr: next(losses), num_iter=4, beta=0.9)
    assert raw == [3.0, 1.0, 2.0, 0.5]
    # averages 0.3, 0.37, 0.533, 0.5297 divided by 1 - 0.9 ** (i + 1)
    np.testing.assert_allclose(smoothed, [0.3 / 0.1, 0.37 / 0.19, 0.533 / 0.271, 0.5297 / 0.3439], rtol=1e-12)


def test_beta_zero_leaves_the_losses_unsmoothed():
    _, losses, smoothed = lr_range_test(lambda lr: 1 / lr, start_lr=1.0, end_lr=2.0, num_iter=5, beta=0.0)
    assert smoothed == losses


@pytest.mark.parametrize("bad_loss", [1000.0, float("inf"), float("nan")])
def test_the_sweep_stops_at_the_first_smoothed_loss_above_diverge_th_times_the_lowest(bad_loss):
    losses = [1.0] * 20 + [bad_loss] + [1.0] * 79
    calls = []

    def train_step(lr):
        calls.append(lr)
        return losses[len(calls) - 1]
    lrs, raw, smoothed = lr_range_test(train_step, num_iter=100, beta=0.98)
    assert len(calls) == len(lrs) == len(raw) == len(smoothed) == 21
    np.testing.assert_equal(raw[-1], bad_loss)


def test_a_rise_below_diverge_th_does_not_stop_the_sweep():
    lrs, _, _ = lr_range_test(lambda lr: 1.0 if lr < 1e-3 else 4.0, num_iter=100, beta=0.0)
    assert len(lrs) == 100


def test_the_default_smoothing_lags_the_raw_loss_by_about_a_tenth_of_a_decade():
    """On a loss falling steadily with log10(lr), the smoothed curve is the raw one moved
    beta / (1 - beta) iterations to the right: 19 iterations, at 200 per decade about a tenth
    of a decade; 300 iterations over six decades with beta = 0.98 move it a whole decade."""
    def loss_of_lr(lr):
        return 10 - np.log10(lr)

    def lag_in_decades(lrs, smoothed):  # where the raw loss had the last smoothed value
        return np.log10(lrs[-1]) - (10 - smoothed[-1])
    assert lag_in_decades(*lr_range_test(loss_of_lr)[::2]) == pytest.approx(0.95 / 0.05 / (1199 / 6), rel=1e-6)
    assert lag_in_decades(*lr_range_test(loss_of_lr, num_iter=300, beta=0.98)[::2]) == pytest.approx(
        0.98 / 0.02 / (299 / 6), rel=0.02)  # minus a trace of the start


def test_suggest_lr_is_the_steepest_fall_before_the_minimum():
    lrs = np.geomspace(1e-5, 1, 60)
    falling_then_rising = np.r_[np.linspace(10, 2, 5), np.linspace(2, 1, 35), np.linspace(1.1, 3, 20)]
    assert suggest_lr(lrs, falling_then_rising, skip_start=0) < lrs[4]
    assert lrs[9] < suggest_lr(lrs, falling_then_rising, skip_start=10) < lrs[40]
    noisy_after_the_minimum = falling_then_rising.copy()
    noisy_after_the_minimum[45:47] = [50.0, 1.5]  # a steep fall after the minimum is no suggestion
    assert suggest_lr(lrs, noisy_after_the_minimum) == suggest_lr(lrs, falling_then_rising)
    assert suggest_lr(lrs, np.linspace(1, 2, 60)) is None  # never falls
    assert suggest_lr(lrs[:12], np.linspace(2, 1, 12), skip_start=12) is None  # nothing left to search
    with_a_nan_at_the_end = np.r_[np.linspace(2, 1, 59), np.nan]
    assert suggest_lr(lrs, with_a_nan_at_the_end, skip_start=0) is not None


@pytest.mark.parametrize("options", [dict(start_lr=0.0), dict(start_lr=1.0, end_lr=0.1),
                                     dict(num_iter=1), dict(beta=1.0), dict(diverge_th=1.0)])
def test_settings_that_make_no_sweep_are_refused(options):
    with pytest.raises(ValueError):
        lr_range_test(lambda lr: 1.0, **options)


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


def one_weight_model():
    """params of one weight, its SGD, and a loss_and_gradients that records the batches it sees
    and returns the loss 1.0 (a flat curve: nothing diverges)."""
    params = {"W1": np.zeros(1)}
    seen = []

    def loss_and_gradients(params, X, y):
        seen.append(int(X[0]))
        return 1.0, {"W1": np.zeros(1)}
    return params, SGD([params["W1"]], lr=0.1), loss_and_gradients, seen


def test_batches_shorter_than_the_sweep_are_started_again_and_a_one_shot_iterator_too():
    batches = [(np.array([index]), None) for index in range(3)]
    for source in (batches, iter(batches)):
        params, optimizer, loss_and_gradients, seen = one_weight_model()
        find_lr_numpy(params, loss_and_gradients, optimizer, source, num_iter=7)
        assert seen == [0, 1, 2, 0, 1, 2, 0]


@pytest.mark.parametrize("batches", [[], iter([])])
def test_no_batches_at_all_is_refused(batches):
    params, optimizer, loss_and_gradients, _ = one_weight_model()
    with pytest.raises(ValueError, match="no \\(X, y\\) pairs"):
        find_lr_numpy(params, loss_and_gradients, optimizer, batches)


def test_the_result_holds_the_sweeps_values_and_its_readings():
    params, optimizer, loss_and_gradients, _ = one_weight_model()
    losses = [2.0, 2.0, 1.9, 1.0, 0.6, 0.5, 0.55, 40.0]

    def students_sweep(train_step, *, num_iter, diverge_th):
        lrs = [10.0 ** (index - 6) for index in range(num_iter)]
        for lr in lrs:
            train_step(lr)
        return lrs, losses, losses  # unsmoothed: the readings come from the values given
    result = find_lr_numpy(params, loss_and_gradients, optimizer, [(np.array([0]), None)],
                           sweep=students_sweep, skip_start=0, num_iter=8, diverge_th=5.0)
    assert isinstance(result, LRFinderResult)
    assert result.lrs == [1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0] and result.losses == losses
    assert result.smoothed_losses == losses
    assert result.lr_at_minimum == 1e-1 and result.suggested_lr == 1e-3  # 1.9 -> 0.6 around 1e-3
    assert result.diverged_at == 7  # 40 > 5 * 0.5
    assert optimizer.lr == 0.1 and params["W1"][0] == 0.0


def test_a_sweep_that_ran_to_the_end_did_not_diverge():
    params, optimizer, loss_and_gradients, _ = one_weight_model()
    result = find_lr_numpy(params, loss_and_gradients, optimizer, [(np.array([0]), None)], num_iter=20)
    assert len(result.lrs) == 20 and result.diverged_at is None


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
