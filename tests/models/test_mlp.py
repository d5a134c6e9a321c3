import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from course_lib.errors import CourseError
from course_lib.models import PreNormResidualBlock, ResidualMLP, init_linear_, mlp


def layer_types(model):
    return [type(layer) for layer in model]


def parameter_count(model):
    return sum(parameter.numel() for parameter in model.parameters())


def test_mlp_without_extras_alternates_linear_and_activation():
    model = mlp([784, 32, 16, 10])

    assert layer_types(model) == [nn.Linear, nn.ReLU, nn.Linear, nn.ReLU, nn.Linear]
    assert [(layer.in_features, layer.out_features) for layer in model[::2]] == [(784, 32), (32, 16), (16, 10)]
    assert model(torch.zeros(5, 784)).shape == (5, 10)
    assert parameter_count(model) == 784 * 32 + 32 + 32 * 16 + 16 + 16 * 10 + 10


@pytest.mark.parametrize(("norm", "norm_type"), [("batch", nn.BatchNorm1d), ("layer", nn.LayerNorm)])
def test_mlp_normalises_the_pre_activations_and_drops_after_the_activation(norm, norm_type):
    model = mlp([6, 5, 4, 3], dropout=0.25, norm=norm, activation=nn.Tanh)

    assert layer_types(model) == [nn.Linear, norm_type, nn.Tanh, nn.Dropout] * 2 + [nn.Linear]
    assert (model[1].normalized_shape if norm == "layer" else (model[1].num_features,)) == (5,)
    assert model[3].p == 0.25
    # weight and bias (batch norm: scale and shift) per normalised unit
    assert parameter_count(model) == parameter_count(mlp([6, 5, 4, 3])) + 2 * (5 + 4)


def test_a_single_linear_layer_has_nothing_after_it():
    model = mlp([3, 2], dropout=0.5, norm="batch")

    assert layer_types(model) == [nn.Linear]


def test_dropout_acts_in_training_only():
    torch.manual_seed(0)
    model = mlp([20, 200, 3], dropout=0.5)
    inputs = torch.randn(4, 20)

    assert (model[:3](inputs) == 0).float().mean() > 0.6  # ReLU zeros about half, dropout half the rest
    assert not torch.equal(model(inputs), model(inputs))
    model.eval()
    torch.testing.assert_close(model(inputs), model[3](model[1](model[0](inputs))), rtol=0, atol=0)


def test_batch_norm_uses_the_batch_in_training_and_running_statistics_in_evaluation():
    torch.manual_seed(0)
    model = mlp([4, 8, 2], norm="batch")
    inputs = 3 + 2 * torch.randn(64, 4)

    normalised = model[1](model[0](inputs))
    torch.testing.assert_close(normalised.mean(dim=0), torch.zeros(8), atol=1e-5, rtol=0)
    model.eval()
    # running statistics after one batch: 0.9 * (0, 1) + 0.1 * the batch's
    pre_activations = model[0](inputs)
    expected = (pre_activations - 0.1 * pre_activations.mean(dim=0)) / torch.sqrt(
        0.9 + 0.1 * pre_activations.var(dim=0) + 1e-5)
    torch.testing.assert_close(model[1](pre_activations), expected)


@pytest.mark.parametrize(("sizes", "options", "words"), [
    ([784], {}, "at least"),
    ([784, 0, 10], {}, "whole number >= 1"),
    ([784, -3, 10], {}, "whole number >= 1"),
    ([784, 2.5, 10], {}, "whole number >= 1"),
    ([784, 10], {"norm": "group"}, '"batch" or "layer"'),
    ([784, 10], {"dropout": 1.0}, "not including 1"),
    ([784, 10], {"dropout": -0.1}, "not including 1"),
])
def test_mlp_rejects_what_it_cannot_build(sizes, options, words):
    with pytest.raises(CourseError, match=words):
        mlp(sizes, **options)


def test_residual_block_is_the_identity_when_its_last_linear_is_zero():
    torch.manual_seed(0)
    block = PreNormResidualBlock(6, dropout=0.3)
    nn.init.zeros_(block.linear2.weight)
    nn.init.zeros_(block.linear2.bias)
    x = torch.randn(5, 6)

    torch.testing.assert_close(block(x), x, rtol=0, atol=0)


def test_residual_block_adds_its_branch_to_the_input():
    torch.manual_seed(0)
    block = PreNormResidualBlock(4, hidden=7).eval()
    x = torch.randn(3, 4)

    branch = block.linear2(torch.relu(block.linear1(nn.functional.layer_norm(x, (4,)))))
    torch.testing.assert_close(block(x), x + branch)
    assert (block.linear1.out_features, PreNormResidualBlock(4).linear1.out_features) == (7, 8)
    assert parameter_count(block) == 2 * 4 + 4 * 7 + 7 + 7 * 4 + 4


def test_residual_block_drops_the_branch_in_training_only():
    torch.manual_seed(0)
    block = PreNormResidualBlock(50, dropout=0.5)
    x = torch.randn(8, 50)

    training = block(x)
    block.eval()
    evaluation = block(x)
    assert not torch.equal(training, evaluation)
    assert ((training - x) == 0).float().mean() > 0.4  # dropped entries of the branch leave x
    torch.testing.assert_close(block(x), evaluation, rtol=0, atol=0)


def test_residual_mlp_layers_shapes_and_size():
    model = ResidualMLP(784, 64, 3, 10, dropout=0.1)

    assert [type(module) for module in model.children()] == [nn.Linear, nn.Sequential, nn.LayerNorm, nn.Linear]
    assert len(model.blocks) == 3 and all(block.dropout.p == 0.1 for block in model.blocks)
    assert model(torch.zeros(2, 784)).shape == (2, 10)
    block = 2 * 64 + 64 * 128 + 128 + 128 * 64 + 64
    assert parameter_count(model) == 784 * 64 + 64 + 3 * block + 2 * 64 + 64 * 10 + 10


def test_residual_mlp_without_blocks_is_linear_norm_linear():
    torch.manual_seed(0)
    model = ResidualMLP(5, 4, 0, 3)
    x = torch.randn(2, 5)

    torch.testing.assert_close(model(x), model.output(model.norm(model.input(x))))


@pytest.mark.parametrize("arguments", [(784, 0, 2, 10), (784, 64, -1, 10), (784, 64, 2, 10.0)])
def test_residual_mlp_rejects_impossible_sizes(arguments):
    with pytest.raises(CourseError, match="whole number"):
        ResidualMLP(*arguments)


def weight_std(model):
    return torch.cat([layer.weight.flatten() for layer in model.modules() if isinstance(layer, nn.Linear)]).std().item()


@pytest.mark.parametrize(("scheme", "options", "expected_std"), [
    ("kaiming", {}, math.sqrt(2 / 400)),
    ("xavier", {}, math.sqrt(2 / (400 + 300))),
    ("normal", {"std": 0.01}, 0.01),
    ("default", {}, 1 / math.sqrt(3 * 400)),  # uniform on ±1/sqrt(fan_in)
])
def test_init_draws_weights_of_the_schemes_spread(scheme, options, expected_std):
    model = nn.ModuleList([nn.Linear(400, 300), nn.Linear(400, 300)])
    with torch.no_grad():
        model[0].bias.fill_(5.0)
    torch.manual_seed(0)

    assert init_linear_(model, scheme, **options) is model

    assert weight_std(model) == pytest.approx(expected_std, rel=0.01)
    if scheme == "default":
        assert model[0].bias.abs().max() <= 1 / math.sqrt(400)
    else:
        assert torch.count_nonzero(model[0].bias) == 0


def test_init_reaches_linears_inside_blocks_and_follows_the_global_seed():
    torch.manual_seed(1)
    first = init_linear_(ResidualMLP(10, 8, 2, 3), "kaiming")
    torch.manual_seed(1)
    second = init_linear_(ResidualMLP(10, 8, 2, 3), "kaiming")

    for (name, a), b in zip(first.state_dict().items(), second.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=0, atol=0, msg=name)
    assert torch.count_nonzero(first.blocks[1].linear2.bias) == 0
    torch.testing.assert_close(first.blocks[0].norm.weight, torch.ones(8))  # only Linear layers change


def test_default_init_is_torchs_own():
    model = mlp([5, 4, 3])
    torch.manual_seed(2)
    init_linear_(model, "default")

    torch.manual_seed(2)
    expected = (nn.Linear(5, 4), nn.Linear(4, 3))
    for layer, reference in zip(model[::2], expected):
        torch.testing.assert_close(layer.weight, reference.weight, rtol=0, atol=0)
        torch.testing.assert_close(layer.bias, reference.bias, rtol=0, atol=0)


@pytest.mark.parametrize(("scheme", "options", "words"), [
    ("he", {}, "scheme must be one of"),
    ("normal", {}, "needs std"),
    ("normal", {"std": 0}, "needs std"),
    ("kaiming", {"std": 0.1}, "belongs to scheme"),
])
def test_init_rejects_unknown_schemes_and_misplaced_std(scheme, options, words):
    with pytest.raises(CourseError, match=words):
        init_linear_(mlp([3, 2]), scheme, **options)
