import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib.scratch.conv import (
    conv2d, conv_output_size, max_pool2d, pool_output_size, receptive_field, unfold,
)
from tests.strategies import SEEDS, random_array, t


def random_geometry(rng, input_size):
    """(kernel_size, stride, padding, dilation) along one dimension that fit `input_size`."""
    while True:
        kernel, stride = int(rng.integers(1, 5)), int(rng.integers(1, 4))
        padding, dilation = int(rng.integers(0, 3)), int(rng.integers(1, 3))
        if dilation * (kernel - 1) + 1 <= input_size + 2 * padding:
            return kernel, stride, padding, dilation


def pairs(*dimensions):
    """((kH, kW), (sH, sW), ...) from one (kernel, stride, padding, dilation) per dimension."""
    return tuple(zip(*dimensions))


# ------------------------------------------------------------------------ output sizes

@pytest.mark.parametrize("seed", SEEDS)
def test_conv_output_size_is_the_size_of_torchs_output(seed):
    rng = np.random.default_rng(seed)
    for _ in range(20):
        size = int(rng.integers(1, 12))
        kernel, stride, padding, dilation = random_geometry(rng, size)
        output = F.conv1d(torch.zeros(1, 1, size), torch.zeros(1, 1, kernel), stride=stride,
                          padding=padding, dilation=dilation)
        assert conv_output_size(size, kernel, stride, padding, dilation) == output.shape[-1]


@pytest.mark.parametrize("ceil_mode", [False, True])
@pytest.mark.parametrize("seed", SEEDS)
def test_pool_output_size_is_the_size_of_torchs_output(seed, ceil_mode):
    rng = np.random.default_rng(seed)
    checked = 0
    while checked < 20:
        size = int(rng.integers(1, 12))
        kernel, stride, padding, dilation = random_geometry(rng, size)
        if padding > kernel // 2:
            continue
        output = F.max_pool1d(torch.zeros(1, 1, size), kernel, stride, padding, dilation, ceil_mode)
        assert pool_output_size(size, kernel, stride, padding, dilation, ceil_mode) == output.shape[-1]
        checked += 1


def test_output_sizes_at_the_edges():
    assert conv_output_size(5, 5) == 1  # kernel = input
    assert conv_output_size(28, 3, padding=1) == 28  # 'same'
    assert conv_output_size(7, 2, stride=3) == 2  # stride > kernel skips inputs
    assert conv_output_size(7, 3, dilation=3) == 1  # spans 7
    assert pool_output_size(28, 2) == 14  # stride defaults to the kernel
    assert pool_output_size(5, 2) == 2 and pool_output_size(5, 2, ceil_mode=True) == 3
    # ceil_mode: a window that would start in the right padding is dropped (torch: 3, not 4)
    assert pool_output_size(5, 2, 2, padding=1, ceil_mode=True) == 3
    assert F.max_pool1d(torch.zeros(1, 1, 5), 2, 2, 1, ceil_mode=True).shape[-1] == 3


@pytest.mark.parametrize("call, words", [
    (lambda: conv_output_size(5, 7), "the kernel spans 7 positions"),
    (lambda: conv_output_size(5, 3, dilation=3), "(kernel_size=3, dilation=3) but the padded input has only 5"),
    (lambda: pool_output_size(5, 3, padding=2), "Use padding <= 1"),
    (lambda: conv_output_size(5, 0), "kernel_size must be at least 1"),
    (lambda: conv_output_size(5, 3, stride=0), "stride must be at least 1"),
    (lambda: conv_output_size(5, 3, padding=-1), "padding must be at least 0"),
])
def test_impossible_configurations_say_what_is_wrong(call, words):
    with pytest.raises(ValueError) as raised:
        call()
    assert words in str(raised.value)


def test_torch_refuses_what_the_sizes_refuse():
    with pytest.raises(RuntimeError, match="Kernel size can't be greater"):
        F.conv1d(torch.zeros(1, 1, 5), torch.zeros(1, 1, 7))
    with pytest.raises(RuntimeError, match="at most half of kernel size"):
        F.max_pool1d(torch.zeros(1, 1, 5), 3, padding=2)


# ------------------------------------------------------------------------------ im2col

def random_case(rng, groups=1):
    """input [N, C, H, W], weight [C_out, C / groups, kH, kW] and the geometry as pairs."""
    n, c, c_out = int(rng.integers(1, 4)), groups * int(rng.integers(1, 3)), groups * int(rng.integers(1, 3))
    h, w = (int(size) for size in rng.integers(1, 9, 2))
    geometry = pairs(random_geometry(rng, h), random_geometry(rng, w))
    kernel = geometry[0]
    input = random_array(rng, (n, c, h, w))
    return input, random_array(rng, (c_out, c // groups, *kernel)), geometry


@pytest.mark.parametrize("seed", SEEDS)
def test_unfold_matches_torch(seed):
    rng = np.random.default_rng(seed)
    for _ in range(10):
        input, _, (kernel, stride, padding, dilation) = random_case(rng)
        # positional, in torch's order: kernel_size, dilation, padding, stride
        expected = F.unfold(t(input), kernel, dilation, padding, stride).numpy()
        np.testing.assert_array_equal(unfold(input, kernel, dilation, padding, stride), expected)
    np.testing.assert_array_equal(unfold(input[0], kernel, dilation, padding, stride), expected[0])


@pytest.mark.parametrize("groups", [1, 2, 3])
@pytest.mark.parametrize("seed", SEEDS)
def test_conv2d_matches_torch(seed, groups):
    rng = np.random.default_rng(seed)
    for _ in range(5):
        input, weight, (kernel, stride, padding, dilation) = random_case(rng, groups)
        bias = random_array(rng, (weight.shape[0],))
        for given_bias in (None, bias):
            expected = F.conv2d(t(input), t(weight), None if given_bias is None else t(bias), stride, padding,
                                dilation, groups).numpy()
            actual = conv2d(input, weight, given_bias, stride, padding, dilation, groups)
            np.testing.assert_allclose(actual, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("padding", ["same", "valid", 0, 2, (0, 1)])
@pytest.mark.parametrize("kernel", [(1, 1), (3, 3), (2, 4), (4, 3)])
def test_conv2d_padding_words_ints_and_pairs_match_torch(kernel, padding):
    rng = np.random.default_rng(0)
    input, weight = random_array(rng, (2, 3, 9, 8)), random_array(rng, (4, 3, *kernel))
    for dilation in (1, 2):
        with warnings.catch_warnings():  # torch's note that 'same' with an even kernel pads a copy
            warnings.simplefilter("ignore", UserWarning)
            expected = F.conv2d(t(input), t(weight), padding=padding, dilation=dilation).numpy()
        actual = conv2d(input, weight, padding=padding, dilation=dilation)
        np.testing.assert_allclose(actual, expected, rtol=1e-12, atol=1e-12)


def test_conv2d_edge_cases_match_torch():
    rng = np.random.default_rng(1)
    image = random_array(rng, (3, 5, 7))
    cases = [
        (random_array(rng, (2, 3, 5, 7)), {}),  # kernel = input: one output pixel
        (random_array(rng, (2, 3, 2, 2)), {"stride": 3}),  # stride > kernel
        (random_array(rng, (2, 3, 3, 2)), {"stride": (2, 1), "padding": (1, 0), "dilation": (1, 3)}),
        (random_array(rng, (3, 1, 3, 3)), {"groups": 3}),  # depthwise
    ]
    for weight, options in cases:
        expected = F.conv2d(t(image[None]), t(weight), **options).numpy()
        np.testing.assert_allclose(conv2d(image[None], weight, **options), expected, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(conv2d(image, weight, **options), expected[0], rtol=1e-12, atol=1e-12)


def test_conv2d_is_cross_correlation_not_a_flipped_kernel():
    input = np.arange(9.0).reshape(1, 1, 3, 3)
    weight = np.zeros((1, 1, 3, 3))
    weight[0, 0, 0, 0] = 1.0  # the top-left tap reads the top-left pixel
    assert conv2d(input, weight).item() == 0.0


@pytest.mark.parametrize("options, words", [
    ({"weight": np.zeros((2, 2, 3, 3))}, "expects 2 input channels with groups=1, but the input has 3"),
    ({"weight": np.zeros((2, 1, 3, 3)), "groups": 2}, "groups=2 must divide both"),
    ({"weight": np.zeros((2, 3, 3, 3)), "stride": 2, "padding": "same"}, "not supported for strided"),
    ({"weight": np.zeros((2, 3, 3, 3)), "bias": np.zeros(3)}, "bias must have shape (2,)"),
    ({"weight": np.zeros((2, 3, 9, 3))}, "the kernel spans 9 positions"),
])
def test_conv2d_refuses_what_torch_refuses(options, words):
    input = np.zeros((1, 3, 5, 5))
    with pytest.raises(RuntimeError):
        F.conv2d(t(input), **{key: t(value) if isinstance(value, np.ndarray) else value
                              for key, value in options.items()})
    with pytest.raises(ValueError) as raised:
        conv2d(input, **options)
    assert words in str(raised.value)


# ----------------------------------------------------------------------------- pooling

@pytest.mark.parametrize("ceil_mode", [False, True])
@pytest.mark.parametrize("seed", SEEDS)
def test_max_pool2d_matches_torch(seed, ceil_mode):
    rng = np.random.default_rng(seed)
    checked = 0
    while checked < 10:
        input, _, (kernel, stride, padding, dilation) = random_case(rng)
        if any(pad > size // 2 for pad, size in zip(padding, kernel)):
            continue
        if any(s > 1 for s in stride) and rng.random() < 0.3:
            stride = None  # the default: the kernel size
        expected = F.max_pool2d(t(input), kernel, stride, padding, dilation, ceil_mode).numpy()
        np.testing.assert_array_equal(max_pool2d(input, kernel, stride, padding, dilation, ceil_mode), expected)
        np.testing.assert_array_equal(max_pool2d(input[0], kernel, stride, padding, dilation, ceil_mode),
                                      expected[0])
        checked += 1


def test_max_pool2d_edges_match_torch():
    input = random_array(np.random.default_rng(2), (1, 2, 5, 6))
    input[0, 1, 0, 0] = np.nan
    for options in ({"kernel_size": 2}, {"kernel_size": 2, "ceil_mode": True},
                    {"kernel_size": (5, 6)}, {"kernel_size": 2, "stride": 3},
                    {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True},
                    {"kernel_size": (2, 3), "stride": (1, 2), "dilation": (2, 1), "ceil_mode": True}):
        np.testing.assert_array_equal(max_pool2d(input, **options), F.max_pool2d(t(input), **options).numpy())


# --------------------------------------------------------------------- receptive field

def gradient_support(layers, position, shape):
    """The input positions on which output `position` of a stack of 2-D layers depends: where its
    gradient is nonzero. Convolutions have weights 1 and poolings average (max pooling's
    gradient reaches only the largest value), so every position it depends on contributes."""
    input = torch.zeros(1, 1, *shape, dtype=torch.float64, requires_grad=True)
    output = input
    for kernel, stride, dilation, is_pool in layers:
        if is_pool:
            output = F.avg_pool2d(output, kernel, stride)
        else:
            weight = torch.ones(1, 1, *kernel, dtype=torch.float64)
            output = F.conv2d(output, weight, stride=stride, dilation=dilation)
    output[(0, 0, *position)].backward()
    return np.nonzero(input.grad[0, 0].numpy())


def measured_receptive_field(layers, size=64):
    """(size, jump) of a stack along one dimension, measured with torch: the span of the
    positions output 0 depends on, and how far that span moves for output 1."""
    layers_2d = [((kernel, 1), (stride, 1), (dilation, 1), is_pool) for kernel, stride, dilation, is_pool in layers]
    first = gradient_support(layers_2d, (0, 0), (size, 1))[0]
    second = gradient_support(layers_2d, (1, 0), (size, 1))[0]
    return int(first.max() - first.min() + 1), int(second.min() - first.min())


@pytest.mark.parametrize("layers", [
    [(3, 1, 1, False)],
    [(3, 1, 1, False), (3, 1, 1, False)],
    [(5, 1, 1, False), (2, 2, 1, True), (3, 1, 1, False), (2, 2, 1, True)],  # LeNet-like
    [(3, 2, 1, False), (3, 3, 1, False)],
    [(3, 1, 1, False), (3, 1, 2, False), (3, 1, 4, False)],  # dilations 1, 2, 4: no holes
    [(1, 1, 1, False), (2, 2, 1, True), (4, 1, 1, False)],
    [(3, 1, 2, False)],  # a dilated kernel: taps 0, 2, 4 — a field of 5 with holes
    [(1, 2, 1, False), (2, 1, 1, False)],  # stride > kernel: sees 0 and 2, not 1
])
def test_receptive_field_is_the_span_where_one_outputs_gradient_is_nonzero(layers):
    assert receptive_field([layer[:3] for layer in layers]) == measured_receptive_field(layers)


def test_receptive_fields_of_a_2d_stack_are_one_per_dimension():
    layers = [((3, 5), (1, 2), (1, 1), False), ((2, 2), (2, 2), (1, 1), True), ((3, 3), (1, 1), (2, 1), False)]
    rows, columns = gradient_support(layers, (2, 1), (40, 40))
    height = receptive_field([(kernel[0], stride[0], dilation[0]) for kernel, stride, dilation, _ in layers])
    width = receptive_field([(kernel[1], stride[1], dilation[1]) for kernel, stride, dilation, _ in layers])
    assert (rows.max() - rows.min() + 1, columns.max() - columns.min() + 1) == (height.size, width.size)
    assert (rows.min(), columns.min()) == (2 * height.jump, 1 * width.jump)


def test_receptive_field_takes_pairs_and_refuses_other_layers():
    assert receptive_field([(3, 1), (2, 2), (3, 1)]) == (8, 2)  # 3, + 1 · 1, + 2 · 2
    assert receptive_field([]) == (1, 1)
    with pytest.raises(ValueError, match="kernel_size, stride"):
        receptive_field([(3,)])


def test_float32_stays_float32_as_in_torch():
    rng = np.random.default_rng(3)
    input = random_array(rng, (2, 3, 6, 5), dtype=np.float32)
    weight, bias = random_array(rng, (4, 3, 3, 2), dtype=np.float32), random_array(rng, (4,), dtype=np.float32)
    results = {
        "unfold": (unfold(input, 2, padding=1), F.unfold(t(input), 2, padding=1)),
        "conv2d": (conv2d(input, weight, bias, padding=1), F.conv2d(t(input), t(weight), t(bias), padding=1)),
        "max_pool2d": (max_pool2d(input, 2, padding=1), F.max_pool2d(t(input), 2, padding=1)),
    }
    for name, (actual, expected) in results.items():
        assert actual.dtype == np.float32, name
        np.testing.assert_allclose(actual, expected.numpy(), rtol=1e-5, atol=1e-6, err_msg=name)


def test_max_pool2d_of_integers_is_torchs_padding_never_wins():
    input = -np.arange(30, dtype=np.int64).reshape(1, 1, 5, 6)
    for options in ({"kernel_size": 2}, {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}):
        actual = max_pool2d(input, **options)
        assert actual.dtype == np.int64
        np.testing.assert_array_equal(actual, F.max_pool2d(t(input), **options).numpy())
    with pytest.raises(TypeError, match="expects numbers"):
        max_pool2d(np.zeros((1, 1, 4, 4), dtype=bool), 2)
