
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib import optim
from course_lib.data.batching import minibatch_indices
from course_lib.scratch.init import kaiming_normal_, xavier_uniform_
from course_lib.scratch.mlp import (
    TrainingHistory, fit_mlp, init_mlp, mlp_backward, mlp_forward, mlp_loss_and_gradients,
    mlp_predict, train_mlp,
)
from tests.strategies import SEEDS, random_array


def random_mlp(rng, dtype=np.float64):
    """Params of an MLP of random depth (1 to 4 layers) and widths, with random nonzero biases."""
    sizes = [int(size) for size in rng.integers(1, 7, size=int(rng.integers(2, 6)))]
    params = init_mlp(sizes, generator=rng, dtype=dtype)
    for name in params:
        if name.startswith("b"):
            params[name][...] = random_array(rng, params[name].shape, dtype)
    return sizes, params


def torch_mlp(params):
    """The same MLP as a torch nn.Linear/ReLU stack, holding copies of the weights."""
    layers = []
    for layer in range(1, len(params) // 2 + 1):
        weight = params[f"W{layer}"]
        linear = torch.nn.Linear(weight.shape[1], weight.shape[0], dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(weight))
            linear.bias.copy_(torch.from_numpy(params[f"b{layer}"]))
        layers += [linear, torch.nn.ReLU()]
    return torch.nn.Sequential(*layers[:-1])


def torch_gradients(model):
    linears = [module for module in model if isinstance(module, torch.nn.Linear)]
    grads = {}
    for layer, linear in enumerate(linears, start=1):
        grads[f"W{layer}"], grads[f"b{layer}"] = linear.weight.grad.numpy(), linear.bias.grad.numpy()
    return grads


def assert_same_arrays(ours, expected, rtol=1e-10, atol=1e-12):
    assert list(ours) == list(expected)
    for name in expected:
        assert ours[name].shape == expected[name].shape, name
        np.testing.assert_allclose(ours[name], expected[name], rtol=rtol, atol=atol, err_msg=name)


@pytest.mark.parametrize("seed", SEEDS)
def test_logits_loss_and_every_gradient_match_torch_autograd(seed):
    rng = np.random.default_rng(seed)
    sizes, params = random_mlp(rng)
    n = int(rng.integers(1, 9))
    input, target = random_array(rng, (n, sizes[0])), rng.integers(0, sizes[-1], n)
    model = torch_mlp(params)
    logits = model(torch.from_numpy(input))
    expected_loss = F.cross_entropy(logits, torch.from_numpy(target))
    expected_loss.backward()

    loss, grads = mlp_loss_and_gradients(params, input, target)
    np.testing.assert_allclose(mlp_forward(params, input)[0], logits.detach().numpy(), rtol=1e-10, atol=1e-12)
    assert isinstance(loss, float)
    np.testing.assert_allclose(loss, expected_loss.item(), rtol=1e-10)
    assert_same_arrays(grads, torch_gradients(model))


@pytest.mark.parametrize("seed", SEEDS)
def test_mlp_backward_matches_autograd_for_any_gradient_of_the_logits(seed):
    rng = np.random.default_rng(seed)
    sizes, params = random_mlp(rng)
    n = int(rng.integers(1, 9))
    input, grad_logits = random_array(rng, (n, sizes[0])), random_array(rng, (n, sizes[-1]))
    model = torch_mlp(params)
    model(torch.from_numpy(input)).backward(torch.from_numpy(grad_logits))
    _, cache = mlp_forward(params, input)
    assert_same_arrays(mlp_backward(params, cache, grad_logits), torch_gradients(model))


@pytest.mark.parametrize("seed", SEEDS[:3])
def test_cache_holds_each_layers_input_and_pre_activation(seed):
    rng = np.random.default_rng(seed)
    sizes, params = random_mlp(rng)
    input = random_array(rng, (4, sizes[0]))
    logits, cache = mlp_forward(params, input)
    # what torch's layers see and produce: the input of each Linear and its output
    seen, outputs = [], []

    def record(module, args, output):
        seen.append(args[0])
        outputs.append(output)

    model = torch_mlp(params)
    for module in model:
        if isinstance(module, torch.nn.Linear):
            module.register_forward_hook(record)
    model(torch.from_numpy(input))

    assert isinstance(cache, list) and len(cache) == len(sizes) - 1
    assert cache[0][0] is input
    assert cache[-1][1] is logits
    for (layer_input, pre_activation), torch_input, torch_output in zip(cache, seen, outputs, strict=True):
        np.testing.assert_allclose(layer_input, torch_input.detach().numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(pre_activation, torch_output.detach().numpy(), rtol=1e-10, atol=1e-12)
    assert all(isinstance(entry, tuple) and len(entry) == 2 for entry in cache)


def test_init_mlp_lays_out_torchs_linear_shapes_with_zero_biases_and_the_chosen_init():
    params = init_mlp([5, 4, 3, 2], generator=np.random.default_rng(0))
    assert list(params) == ["W1", "b1", "W2", "b2", "W3", "b3"]
    assert [params[name].shape for name in params] == [(4, 5), (4,), (3, 4), (3,), (2, 3), (2,)]
    assert all(array.dtype == np.float32 for array in params.values())
    assert not any(params[name].any() for name in ("b1", "b2", "b3"))
    # the weights come from weight_init with the generator, layer by layer, in order
    generator = np.random.default_rng(0)
    for name, shape in [("W1", (4, 5)), ("W2", (3, 4)), ("W3", (2, 3))]:
        np.testing.assert_array_equal(params[name], kaiming_normal_(np.empty(shape, np.float32), generator=generator))
    params = init_mlp([5, 4, 3, 2], generator=np.random.default_rng(1), weight_init=xavier_uniform_, dtype=np.float64)
    assert params["W1"].dtype == np.float64
    assert np.all(np.abs(params["W1"]) <= np.sqrt(6 / (5 + 4)))


@pytest.mark.parametrize("sizes", [[784], [], [784, 0, 10], [784, 2.5, 10], [784, True, 10]])
def test_init_mlp_rejects_sizes_that_make_no_network(sizes):
    with pytest.raises(ValueError, match="sizes must list at least two positive whole numbers"):
        init_mlp(sizes, generator=np.random.default_rng(0))


def test_forward_names_the_keys_it_expected():
    params = init_mlp([3, 2], generator=np.random.default_rng(0))
    params["W3"] = params.pop("W1")
    with pytest.raises(ValueError, match=r"params must hold W1, b1, ..., WL, bL, got keys \['b1', 'W3'\]"):
        mlp_forward(params, np.zeros((1, 3), np.float32))


def test_float32_stays_float32_through_forward_backward_and_prediction():
    rng = np.random.default_rng(0)
    params = init_mlp([6, 5, 4, 3], generator=rng)
    input, target = random_array(rng, (7, 6), np.float32), rng.integers(0, 3, 7)
    logits, cache = mlp_forward(params, input)
    assert logits.dtype == np.float32
    assert all(array.dtype == np.float32 for entry in cache for array in entry)
    loss, grads = mlp_loss_and_gradients(params, input, target)
    assert all(grad.dtype == np.float32 for grad in grads.values())
    # float32 agrees with the float64 computation to float32 precision
    params64 = {name: array.astype(np.float64) for name, array in params.items()}
    loss64, grads64 = mlp_loss_and_gradients(params64, input.astype(np.float64), target)
    np.testing.assert_allclose(loss, loss64, rtol=1e-5)
    assert_same_arrays(grads, grads64, rtol=1e-4, atol=1e-6)
    assert mlp_predict(params, input).dtype == np.int64


@pytest.mark.parametrize("batch_size", [1, 3, 4096])
def test_mlp_predict_is_the_argmax_of_the_logits_whatever_the_batch_size(batch_size):
    rng = np.random.default_rng(0)
    params = init_mlp([6, 5, 4], generator=rng)
    input = random_array(rng, (10, 6), np.float32)
    predictions = mlp_predict(params, input, batch_size=batch_size)
    assert predictions.dtype == np.int64
    np.testing.assert_array_equal(predictions, mlp_forward(params, input)[0].argmax(axis=1))


def blobs(rng, n=300, classes=3, features=4, dtype=np.float32):
    """Gaussian clusters, one per class, well apart: an MLP learns them in a few epochs."""
    centres = 3 * rng.standard_normal((classes, features))
    y = rng.integers(0, classes, n)
    return (centres[y] + rng.standard_normal((n, features))).astype(dtype), y


def test_train_mlp_reduces_the_loss_and_updates_params_in_place_in_float32():
    rng = np.random.default_rng(0)
    X, y = blobs(rng)
    X_val, y_val = blobs(np.random.default_rng(0), n=100)  # the same centres, fresh samples
    params = init_mlp([4, 16, 3], generator=rng)
    arrays, initial = dict(params), {name: array.copy() for name, array in params.items()}
    history = train_mlp(params, X, y, lr=0.1, momentum=0.9, batch_size=32, epochs=5,
                        generator=np.random.default_rng(1), X_val=X_val, y_val=y_val)
    assert isinstance(history, TrainingHistory)
    assert all(params[name] is arrays[name] for name in params)
    assert all(params[name].dtype == np.float32 for name in params)
    assert not any(np.array_equal(params[name], initial[name]) for name in params)
    assert len(history.train_loss) == len(history.val_accuracy) == len(history.seconds) == 5
    assert history.train_loss[-1] < 0.5 * history.train_loss[0]
    assert history.val_accuracy[-1] > 0.9
    assert all(seconds > 0 for seconds in history.seconds)


def test_train_mlp_is_reproducible_with_the_same_seed():
    def run():
        X, y = blobs(np.random.default_rng(0))
        params = init_mlp([4, 8, 3], generator=np.random.default_rng(2))
        history = train_mlp(params, X, y, lr=0.05, momentum=0.5, batch_size=16, epochs=3,
                            generator=np.random.default_rng(3), progress=True)
        return params, history
    (params, history), (params_again, history_again) = run(), run()
    assert history.train_loss == history_again.train_loss
    for name in params:
        np.testing.assert_array_equal(params[name], params_again[name])


def test_train_mlp_takes_the_same_steps_as_torch_sgd_with_lambda_lr():
    rng = np.random.default_rng(0)
    X, y = blobs(rng, n=50, dtype=np.float64)
    params = init_mlp([4, 6, 5, 3], generator=rng, dtype=np.float64)
    model = torch_mlp(params)
    schedule = lambda epoch: 0.5 ** epoch  # noqa: E731
    options = dict(lr=0.1, momentum=0.9, weight_decay=0.01)
    history = train_mlp(params, X, y, batch_size=16, epochs=3, generator=np.random.default_rng(4),
                        lr_schedule=schedule, **options)

    optimizer = torch.optim.SGD(model.parameters(), **options)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    generator, losses = np.random.default_rng(4), []
    for _ in range(3):
        loss_sum = 0.0
        for batch in minibatch_indices(len(X), 16, generator):
            loss = F.cross_entropy(model(torch.from_numpy(X[batch])), torch.from_numpy(y[batch]))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            loss_sum += loss.item() * len(batch)
        losses.append(loss_sum / len(X))
        scheduler.step()
    assert history.lr == [0.1, 0.05, 0.025]
    np.testing.assert_allclose(history.train_loss, losses, rtol=1e-10)
    expected = {name: tensor.detach().numpy() for name, tensor in zip(params, model.parameters())}
    assert_same_arrays(params, expected)
    assert history.val_accuracy == []


def test_train_mlp_rejects_inputs_and_targets_of_different_lengths():
    params = init_mlp([4, 3], generator=np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"len\(X\)=5 and len\(y\)=4"):
        train_mlp(params, np.zeros((5, 4), np.float32), np.zeros(4, np.int64), lr=0.1, momentum=0,
                  batch_size=2, epochs=1, generator=np.random.default_rng(0))


def torch_fit(model, X, y, optimizer, scheduler, *, interval, epochs, batch_size, seed,
              X_val=None, y_val=None):
    """`fit_mlp`'s loop in torch: the same batches, the scheduler stepped at the same places;
    returns the learning rate of every step."""
    generator, lrs = np.random.default_rng(seed), []
    for _ in range(epochs):
        for batch in minibatch_indices(len(X), batch_size, generator):
            lrs.append(optimizer.param_groups[0]["lr"])
            loss = F.cross_entropy(model(torch.from_numpy(X[batch])), torch.from_numpy(y[batch]))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if interval == "iteration":
                scheduler.step()
        if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
            with torch.no_grad():
                scheduler.step(F.cross_entropy(model(torch.from_numpy(X_val)), torch.from_numpy(y_val)).item())
        elif interval == "epoch":
            scheduler.step()
    return lrs


@pytest.mark.parametrize("optimizer_name, scheduler_name, options, interval", [
    ("Adam", "OneCycleLR", dict(max_lr=0.05, total_steps=4 * 4), "iteration"),
    ("RMSprop", "CosineAnnealingLR", dict(T_max=4, eta_min=1e-4), "epoch"),
    ("SGD", "ReduceLROnPlateau", dict(patience=0, factor=0.5, threshold=0.2), "epoch"),
])
def test_fit_mlp_takes_torchs_steps_with_any_optimizer_and_scheduler(optimizer_name, scheduler_name,
                                                                      options, interval):
    rng = np.random.default_rng(0)
    X, y = blobs(rng, n=60, dtype=np.float64)
    X_val, y_val = blobs(np.random.default_rng(0), n=30, dtype=np.float64)
    params = init_mlp([4, 6, 3], generator=rng, dtype=np.float64)
    model = torch_mlp(params)
    lr = dict(lr=0.01) if optimizer_name == "SGD" else {}
    ours = getattr(optim, optimizer_name)(list(params.values()), **lr)
    history = fit_mlp(params, X, y, ours, batch_size=16, epochs=4, generator=np.random.default_rng(1),
                      scheduler=getattr(optim, scheduler_name)(ours, **options),
                      scheduler_interval=interval, X_val=X_val, y_val=y_val)

    theirs = getattr(torch.optim, optimizer_name)(model.parameters(), **lr)
    scheduler = getattr(torch.optim.lr_scheduler, scheduler_name)(theirs, **options)
    lrs = torch_fit(model, X, y, theirs, scheduler, interval=interval, epochs=4, batch_size=16,
                    seed=1, X_val=X_val, y_val=y_val)
    np.testing.assert_allclose(history.iteration_lr, lrs, rtol=1e-12)
    assert history.lr == history.iteration_lr[::4]  # 60 samples: 4 batches per epoch
    assert len(set(lrs)) > 1  # the schedule did change the rate
    expected = {name: tensor.detach().numpy() for name, tensor in zip(params, model.parameters())}
    assert_same_arrays(params, expected, rtol=1e-9)
    assert len(history.iteration_loss) == 16
    assert len(history.val_loss) == len(history.val_accuracy) == len(history.train_loss) == 4


def test_fit_mlp_refuses_an_optimizer_of_other_arrays():
    params = init_mlp([4, 3], generator=np.random.default_rng(0))
    copies = [array.copy() for array in params.values()]
    with pytest.raises(ValueError, match=r"built on the network's arrays"):
        fit_mlp(params, np.zeros((4, 4), np.float32), np.zeros(4, np.int64), optim.SGD(copies, lr=0.1),
                batch_size=2, epochs=1, generator=np.random.default_rng(0))


def test_fit_mlp_refuses_plateau_without_validation_data_or_per_iteration():
    params = init_mlp([4, 3], generator=np.random.default_rng(0))
    optimizer = optim.SGD(list(params.values()), lr=0.1)
    X, y = np.zeros((4, 4), np.float32), np.zeros(4, np.int64)
    for interval, validation in [("epoch", {}), ("iteration", dict(X_val=X, y_val=y))]:
        with pytest.raises(ValueError, match=r"ReduceLROnPlateau steps once per epoch"):
            fit_mlp(params, X, y, optimizer, batch_size=2, epochs=1, generator=np.random.default_rng(0),
                    scheduler=optim.ReduceLROnPlateau(optimizer), scheduler_interval=interval, **validation)
    with pytest.raises(ValueError, match=r"scheduler_interval must be one of"):
        fit_mlp(params, X, y, optimizer, batch_size=2, epochs=1, generator=np.random.default_rng(0),
                scheduler_interval="batch")
