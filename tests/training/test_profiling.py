import numpy as np
import pytest
import torch
from torch import nn

from course_lib.models import keras_cnn, mlp, pytorch_examples_cnn
from course_lib.scratch.mlp import init_mlp
from course_lib.training.profiling import (
    EpochTime, flops_per_example, parameter_count, seconds_per_epoch,
)


def conv2d_flops(in_channels, out_channels, kernel, output_side, groups=1):
    # one multiply-add (2 FLOPs) per weight of a group's kernel, per output channel and pixel
    return 2 * (in_channels // groups) * kernel * kernel * out_channels * output_side ** 2


def test_parameter_counts_of_the_published_cnns():
    assert parameter_count(keras_cnn()) == 93_322
    assert parameter_count(pytorch_examples_cnn()) == 1_199_882


def test_parameter_count_of_a_numpy_mlp_equals_that_of_its_torch_twin():
    params = init_mlp([784, 128, 64, 10], generator=np.random.default_rng(0))

    assert parameter_count(params) == parameter_count(mlp([784, 128, 64, 10])) == 109_386


def test_parameter_count_refuses_what_is_not_a_network():
    with pytest.raises(TypeError, match="torch.nn.Module or a dict"):
        parameter_count([np.zeros(3)])


def test_flops_of_a_linear_layer_are_two_per_weight():
    assert flops_per_example(nn.Linear(784, 128), (784,)) == 2 * 784 * 128


@pytest.mark.parametrize(("layer", "expected"), [
    (nn.Conv2d(3, 8, 3), conv2d_flops(3, 8, 3, output_side=8)),
    (nn.Conv2d(3, 8, 3, padding=1), conv2d_flops(3, 8, 3, output_side=10)),
    (nn.Conv2d(3, 8, 3, stride=2), conv2d_flops(3, 8, 3, output_side=4)),
    (nn.Conv2d(4, 8, 5, groups=2, bias=False), conv2d_flops(4, 8, 5, output_side=6, groups=2)),
])
def test_flops_of_a_conv2d_layer_follow_the_hand_formula(layer, expected):
    assert flops_per_example(layer, (layer.in_channels, 10, 10)) == expected


def test_flops_of_the_keras_cnn_are_those_of_its_convolutions_and_dense_layers():
    # 28 -conv-> 26 -pool-> 13 -conv-> 11 -pool-> 5 -conv-> 3; activations and pooling count nothing
    expected = (conv2d_flops(1, 32, 3, output_side=26) + conv2d_flops(32, 64, 3, output_side=11)
                + conv2d_flops(64, 64, 3, output_side=3) + 2 * 576 * 64 + 2 * 64 * 10)

    assert flops_per_example(keras_cnn(), (1, 28, 28)) == expected


def test_counting_flops_leaves_the_model_as_it_was():
    model = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.Dropout(0.5)).double()
    state = {name: value.clone() for name, value in model.state_dict().items()}

    assert flops_per_example(model, (4,)) == 2 * 4 * 3  # a float64 model gets a float64 example
    assert model.training
    for name, value in model.state_dict().items():
        assert torch.equal(value, state[name]), name  # batch norm's running statistics too


def fake_clock(*readings):
    """A clock that returns `readings` one by one, and the list of events it logs its reads to."""
    events, readings = [], iter(readings)

    def clock():
        events.append("clock")
        return next(readings)
    return clock, events


def test_seconds_per_epoch_times_one_run_and_scales_it_to_the_full_epoch():
    clock, calls = fake_clock(100.0, 102.5)

    timing = seconds_per_epoch(lambda: calls.append("train"), samples=15_000, clock=clock)

    assert calls == ["clock", "train", "clock"]
    assert timing == EpochTime(measured_seconds=2.5, measured_samples=15_000, epoch_samples=60_000)
    assert timing.extrapolated and timing.seconds == 10.0
    assert str(timing) == "10.0 s (extrapolated from 2.5 s on 15,000 of 60,000 samples)"


def test_a_full_epoch_is_not_labelled_extrapolated():
    clock, _ = fake_clock(0.0, 4.0)

    timing = seconds_per_epoch(lambda: None, samples=2_000, epoch_samples=2_000, clock=clock)

    assert not timing.extrapolated and timing.seconds == 4.0 and str(timing) == "4.0 s"


@pytest.mark.parametrize("samples", [0, 60_001, 1.5, True])
def test_seconds_per_epoch_refuses_a_sample_count_outside_the_epoch(samples):
    with pytest.raises(ValueError, match="samples must be a whole number from 1 to epoch_samples=60000"):
        seconds_per_epoch(lambda: None, samples=samples)
