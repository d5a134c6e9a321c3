import math

import pytest
import torch
from torch import nn

from course_lib.errors import CourseError
from course_lib.models import ResidualMLP, mlp
from course_lib.training.diagnostics import layer_statistics


def tiny_network():
    """2 -> 2 -> ReLU -> 1 with weights small enough to follow by hand."""
    model = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1))
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 2.0]]))
        model[2].weight.copy_(torch.tensor([[1.0, 1.0]]))
        model[0].bias.zero_()
        model[2].bias.zero_()
    return model


INPUTS = torch.tensor([[1.0, 2.0], [3.0, -1.0]])
TARGETS = torch.zeros(2, 1)


def test_statistics_of_a_network_followed_by_hand():
    stats = layer_statistics(tiny_network(), INPUTS, TARGETS, nn.MSELoss())

    # Z1 = [[1, 4], [3, -2]], Z2 = relu(Z1) @ W2.T = [[5], [3]]
    # MSE: dL/dZ2 = Z2, dW2 = [14, 20]; dZ1 = [[5, 5], [3, 0]], dW1 = [[14, 7], [5, 10]]
    assert stats["activation_std"] == pytest.approx([math.sqrt(5.25), 1.0], rel=1e-12)
    assert stats["gradient_std"] == pytest.approx([math.sqrt(11.5), 3.0], rel=1e-12)
    assert all(type(value) is float for values in stats.values() for value in values)


@pytest.mark.parametrize("training", [True, False])
def test_the_model_keeps_its_mode_its_gradients_and_loses_its_hooks(training):
    model = tiny_network().train(training)
    earlier = torch.full((2, 2), 7.0)
    model[0].weight.grad = earlier.clone()

    layer_statistics(model, INPUTS, TARGETS, nn.MSELoss())

    assert all(module.training is training for module in model.modules())
    torch.testing.assert_close(model[0].weight.grad, earlier, rtol=0, atol=0)
    assert model[2].weight.grad is None and model[0].bias.grad is None
    assert not any(module._forward_hooks for module in model.modules())


def test_hooks_are_removed_when_the_loss_fails():
    model = tiny_network()

    def broken_loss(outputs, targets):
        raise RuntimeError("shape mismatch")

    with pytest.raises(RuntimeError, match="shape mismatch"):
        layer_statistics(model, INPUTS, TARGETS, broken_loss)
    assert not any(module._forward_hooks for module in model.modules())


def test_batch_norms_running_statistics_are_restored():
    torch.manual_seed(0)
    model = mlp([4, 8, 3], norm="batch")
    before = {name: value.clone() for name, value in model.state_dict().items()}

    layer_statistics(model, 5 + torch.randn(16, 4), torch.arange(16) % 3, nn.CrossEntropyLoss())

    for name, value in model.state_dict().items():
        torch.testing.assert_close(value, before[name], rtol=0, atol=0, msg=name)


def test_one_entry_per_linear_in_the_order_they_run():
    torch.manual_seed(0)
    model = ResidualMLP(6, 4, 2, 3)
    inputs, targets = torch.randn(10, 6), torch.arange(10) % 3
    outputs = []
    hooks = [module.register_forward_hook(lambda module, i, output: outputs.append(output.std(correction=0).item()))
             for module in model.modules() if isinstance(module, nn.Linear)]
    model(inputs)
    for hook in hooks:
        hook.remove()

    stats = layer_statistics(model, inputs, targets, nn.CrossEntropyLoss())

    assert len(stats["activation_std"]) == len(stats["gradient_std"]) == 1 + 2 * 2 + 1
    assert stats["activation_std"] == pytest.approx(outputs, rel=1e-6)


def test_a_frozen_weight_has_no_gradient_to_measure():
    model = tiny_network()
    model[0].weight.requires_grad_(False)

    stats = layer_statistics(model, INPUTS, TARGETS, nn.MSELoss())

    assert math.isnan(stats["gradient_std"][0])
    assert stats["gradient_std"][1] == pytest.approx(3.0)


class WithSpareLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.used, self.spare = nn.Linear(2, 1), nn.Linear(3, 3)

    def forward(self, x):
        return self.used(x)


def test_a_linear_that_never_runs_is_reported():
    model = WithSpareLayer()

    with pytest.raises(CourseError, match=r"\[1\].*did not run"):
        layer_statistics(model, INPUTS, TARGETS, nn.MSELoss())
    assert not model.used._forward_hooks


def test_a_model_without_linear_layers_is_reported():
    with pytest.raises(CourseError, match="no nn.Linear"):
        layer_statistics(nn.Sequential(nn.ReLU()), INPUTS, INPUTS, nn.MSELoss())
