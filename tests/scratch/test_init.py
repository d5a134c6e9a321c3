import inspect
import math
import re

import numpy as np
import pytest
import torch

from course_lib.scratch.init import (
    calculate_fan_in_and_fan_out, calculate_gain, kaiming_normal_, kaiming_uniform_, normal_,
    orthogonal_, uniform_, xavier_normal_, xavier_uniform_, zeros_,
)


NONLINEARITIES = ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                  "conv_transpose3d", "sigmoid", "tanh", "relu", "leaky_relu", "selu"]
# A linear layer's weight and conv weights [out, in, *kernel], each with ~100k entries
# for the statistical tests.
SHAPES = [(400, 250), (500, 40, 5), (128, 64, 3, 3), (32, 25, 5, 5, 5)]
FILLERS = [uniform_, normal_, zeros_, xavier_uniform_, xavier_normal_, kaiming_uniform_, kaiming_normal_,
           orthogonal_]


def raised_by(function, *args, **kwargs):
    """The exception `function` raises."""
    with pytest.raises(Exception) as raised:
        function(*args, **kwargs)
    return raised.value


@pytest.mark.parametrize("function", FILLERS + [calculate_gain], ids=lambda function: function.__name__)
def test_names_arguments_and_defaults_are_torchs(function):
    def parameters(f):
        return [(p.name, p.default, p.kind) for p in inspect.signature(f).parameters.values()]
    assert parameters(function) == parameters(getattr(torch.nn.init, function.__name__))


@pytest.mark.parametrize("param", [None, 0, 0.2, 1, -0.5])
@pytest.mark.parametrize("nonlinearity", NONLINEARITIES)
def test_calculate_gain_is_torchs_exactly(nonlinearity, param):
    gain = calculate_gain(nonlinearity, param)
    expected = torch.nn.init.calculate_gain(nonlinearity, param)
    assert gain == expected and type(gain) is type(expected)


@pytest.mark.parametrize("nonlinearity, param", [("gelu", None), ("ReLU", None), ("leaky_relu", "0.1"),
                                                 ("leaky_relu", True), ("leaky_relu", np.int64(1))])
def test_calculate_gain_raises_torchs_errors(nonlinearity, param):
    expected = raised_by(torch.nn.init.calculate_gain, nonlinearity, param)
    with pytest.raises(type(expected), match=re.escape(str(expected))):
        calculate_gain(nonlinearity, param)


@pytest.mark.parametrize("shape", [(3, 5), (5, 3), (1, 1), (6, 4, 3), (8, 3, 2, 5), (2, 3, 1, 4, 2)])
def test_fans_are_torchs_exactly_for_linear_and_conv_weights(shape):
    fans = calculate_fan_in_and_fan_out(np.empty(shape))
    assert fans == torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    assert all(type(fan) is int for fan in fans)


@pytest.mark.parametrize("shape", [(), (5,)])
@pytest.mark.parametrize("function", [calculate_fan_in_and_fan_out, xavier_uniform_, xavier_normal_,
                                      kaiming_uniform_, kaiming_normal_, orthogonal_])
def test_fewer_than_2_dims_raise_torchs_error(function, shape):
    expected = raised_by(getattr(torch.nn.init, function.__name__.replace("calculate", "_calculate")),
                         torch.empty(shape))
    with pytest.raises(type(expected), match=re.escape(str(expected))):
        function(np.empty(shape))


@pytest.mark.parametrize("function", [kaiming_uniform_, kaiming_normal_])
@pytest.mark.parametrize("mode, nonlinearity", [("fan_avg", "relu"), ("Fan_Avg", "relu"), ("fan_in", "swish")])
def test_kaiming_raises_torchs_errors_for_bad_mode_or_nonlinearity(function, mode, nonlinearity):
    expected = raised_by(getattr(torch.nn.init, function.__name__), torch.empty(3, 4), mode=mode,
                         nonlinearity=nonlinearity)
    with pytest.raises(type(expected), match=re.escape(str(expected))):
        function(np.empty((3, 4)), mode=mode, nonlinearity=nonlinearity)


def torch_std(shape, distribution, **kwargs):
    """The standard deviation torch's formula gives, from torch's own gain and fans."""
    fan_in, fan_out = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    if distribution == "xavier":
        return kwargs.get("gain", 1.0) * math.sqrt(2.0 / (fan_in + fan_out))
    fan = fan_in if kwargs.get("mode", "fan_in").lower() == "fan_in" else fan_out
    gain = torch.nn.init.calculate_gain(kwargs.get("nonlinearity", "leaky_relu"), kwargs.get("a", 0))
    return gain / math.sqrt(fan)


XAVIER_OPTIONS = [{}, {"gain": 0.5}, {"gain": 5.0 / 3}]
KAIMING_OPTIONS = [{}, {"mode": "fan_out"}, {"mode": "FAN_OUT"}, {"nonlinearity": "relu"},
                   {"a": 0.2, "mode": "fan_out"}, {"nonlinearity": "tanh"}]
RANDOM_INITS = ([(function, options) for function in (xavier_uniform_, xavier_normal_)
                 for options in XAVIER_OPTIONS]
                + [(function, options) for function in (kaiming_uniform_, kaiming_normal_)
                   for options in KAIMING_OPTIONS])


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("function, kwargs", RANDOM_INITS)
def test_random_inits_have_torchs_standard_deviation_and_bounds(function, kwargs, shape):
    weights = function(np.empty(shape), generator=np.random.default_rng(0), **kwargs)
    std = torch_std(shape, function.__name__.split("_")[0], **kwargs)
    # with ~100k samples the sample std lies within ~0.3% of the true one (one sigma)
    assert weights.std() == pytest.approx(std, rel=0.02)
    assert abs(weights.mean()) < 5 * std / math.sqrt(weights.size)
    torch_weights = getattr(torch.nn.init, function.__name__)(
        torch.empty(shape, dtype=torch.float64), generator=torch.Generator().manual_seed(0), **kwargs)
    assert weights.std() == pytest.approx(torch_weights.std().item(), rel=0.03)
    if "uniform" in function.__name__:
        bound = math.sqrt(3.0) * std
        assert 0.999 * bound < np.abs(weights).max() <= bound


@pytest.mark.parametrize("gain", [1.0, 0.5, math.sqrt(2)])
@pytest.mark.parametrize("shape", SHAPES)
def test_xavier_uniform_fills_torchs_interval_plus_minus_gain_sqrt_6_over_fan_in_plus_fan_out(shape, gain):
    fan_in, fan_out = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    weights = xavier_uniform_(np.empty(shape), gain=gain, generator=np.random.default_rng(4))
    torch_weights = torch.nn.init.xavier_uniform_(torch.empty(shape, dtype=torch.float64), gain=gain,
                                                  generator=torch.Generator().manual_seed(4))
    # ~100k draws of U(-bound, bound): the extremes come within 0.1 % of the ends
    for drawn in (weights, torch_weights.numpy()):
        assert -bound <= drawn.min() < -0.999 * bound and 0.999 * bound < drawn.max() <= bound


@pytest.mark.parametrize("mean, std", [(0.0, 1.0), (3.0, 0.1), (-2.0, 5.0)])
def test_normal_has_the_asked_mean_and_std(mean, std):
    weights = normal_(np.empty((400, 250)), mean, std, generator=np.random.default_rng(1))
    assert weights.std() == pytest.approx(std, rel=0.02)
    assert abs(weights.mean() - mean) < 5 * std / math.sqrt(weights.size)


@pytest.mark.parametrize("a, b", [(0.0, 1.0), (-3.0, -1.0), (2.0, 2.5)])
def test_uniform_fills_the_asked_interval(a, b):
    weights = uniform_(np.empty((400, 250)), a, b, generator=np.random.default_rng(2))
    assert a <= weights.min() < a + 0.001 * (b - a) and b - 0.001 * (b - a) < weights.max() < b
    assert weights.mean() == pytest.approx((a + b) / 2, abs=0.01 * (b - a))


@pytest.mark.parametrize("gain", [1, 0.5, math.sqrt(2)])
@pytest.mark.parametrize("shape", [(5, 5), (3, 7), (7, 3), (4, 2, 3), (6, 2, 2, 2)])
def test_orthogonal_rows_or_columns_are_orthonormal_times_gain(shape, gain):
    weights = orthogonal_(np.empty(shape), gain=gain, generator=np.random.default_rng(3))
    matrix = weights.reshape(shape[0], -1)
    # W W^T for a wide matrix (orthonormal rows), W^T W for a tall one (orthonormal columns)
    product = matrix @ matrix.T if matrix.shape[0] <= matrix.shape[1] else matrix.T @ matrix
    np.testing.assert_allclose(product, gain**2 * np.eye(len(product)), rtol=0, atol=1e-12)


def test_orthogonal_leaves_an_empty_tensor_alone_as_torch():
    empty = np.empty((0, 3))
    assert orthogonal_(empty) is empty


def test_zeros_zeroes():
    np.testing.assert_array_equal(zeros_(np.ones((3, 2, 2), dtype=np.float32)), np.zeros((3, 2, 2)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("function", FILLERS)
def test_fillers_work_in_place_keep_the_dtype_and_return_the_same_array(function, dtype):
    tensor = np.full((6, 4, 3), np.nan, dtype=dtype)
    kwargs = {} if function is zeros_ else {"generator": np.random.default_rng(0)}
    assert function(tensor, **kwargs) is tensor
    assert tensor.dtype == dtype and not np.isnan(tensor).any()


@pytest.mark.parametrize("function", [f for f in FILLERS if f is not zeros_])
def test_the_same_seed_gives_the_same_weights_and_no_generator_fresh_ones(function):
    first, second = (function(np.empty((8, 5)), generator=np.random.default_rng(7)) for _ in range(2))
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(function(np.empty((8, 5))), function(np.empty((8, 5))))
    float32 = function(np.empty((8, 5), dtype=np.float32), generator=np.random.default_rng(7))
    np.testing.assert_array_equal(float32, first.astype(np.float32))
