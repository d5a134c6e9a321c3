"""The check of a 2-D convolution written with im2col (assignment 06):
`conv2d(input, weight, bias=None, stride=1, padding=0)` in torch — input [N, C_in, H, W],
weight [C_out, C_in, kH, kW], bias [C_out] or None → [N, C_out, H_out, W_out] — built from
F.unfold and a matrix product.

The check runs the answer over scenarios, simplest first, so that the first to fail isolates
the mistake: one channel and one image, then several channels in and out with a kernel that
is not square on images that are not square (so that H and W, or C and the kernel's axes,
cannot be swapped unnoticed), a bias, stride, padding, stride and padding by position, a
kernel as large as the image, and float32 (the output must stay float32). The expected
output is F.conv2d's, in float64. A shape that differs is explained by the mistake that gives
that shape (stride or padding left out, the kernel's sides swapped, the output not reshaped
or in [N, H, W, C] order), and a view that does not fit the windows F.unfold made gets the
output-size formula; values that differ are named by the mistake that reproduces them on the
same data — each a small wrong convolution next to its explanation — and otherwise
check_array says which entry differs and by how much.

The answer runs through the harness, on copies of its tensors, under the delegation watch:
it must not run torch's convolution (F.conv2d is torch.conv2d; torch.convolution;
torch.nn.Conv2d) nor course_lib's numpy reference. F.unfold is the building block it is
meant to use.
"""
from builtins import RuntimeError, dict, enumerate, int, isinstance, str, tuple, zip
from types import SimpleNamespace

import torch
from torch import float32 as _torch_float32
from torch import float64 as _torch_float64
from torch import from_numpy as _from_numpy
from torch.nn.functional import unfold as _unfold

from course_lib.scratch import conv as _scratch

from ._trusted import default_rng
from .failure import CheckFailure, fail, mistake
from .harness import Answer, exercise
from .values import check_array

_conv2d = torch.conv2d
TOLERANCES = {_torch_float64: (1e-10, 1e-12), _torch_float32: (1e-5, 1e-5)}


class _Notebook:
    """The exercise as the notebook states it, for its name and parameters in messages:
    course_lib's numpy conv2d also takes dilation and groups."""

    def conv2d(input, weight, bias=None, stride=1, padding=0):
        """[N, C_out, H_out, W_out] from input [N, C_in, H, W] and weight [C_out, C_in, kH, kW]."""


CONV2D = exercise(_Notebook.conv2d, forbidden=(
    _scratch.conv2d, torch.conv2d, torch.convolution, torch.nn.Conv2d))

RECIPE = ("columns = F.unfold(input, (kH, kW), padding=padding, stride=stride) is [N, C_in * kH "
          "* kW, L]; weight.view(C_out, -1) @ columns is [N, C_out, L], L = H_out * W_out in "
          "row-major order, so .view(N, C_out, H_out, W_out) it, then add bias.view(1, C_out, 1, "
          "1).")


def _scenario(words, input_shape, weight_shape, *, bias=False, stride=None, padding=None,
              positional=False, dtype=_torch_float64):
    return SimpleNamespace(words=words, input_shape=input_shape, weight_shape=weight_shape,
                           bias=bias, stride=stride, padding=padding, positional=positional,
                           dtype=dtype)


SCENARIOS = [
    _scenario("one image, one channel, a 3 × 3 kernel", (1, 1, 5, 5), (1, 1, 3, 3)),
    _scenario("3 channels in, 3 out, a 3 × 2 kernel on 7 × 5 images", (2, 3, 7, 5), (3, 3, 3, 2)),
    _scenario("a bias", (2, 2, 5, 5), (3, 2, 3, 3), bias=True),
    _scenario("stride 2", (2, 3, 7, 6), (2, 3, 3, 3), stride=2),
    _scenario("padding 1", (2, 3, 5, 6), (2, 3, 3, 3), bias=True, padding=1),
    _scenario("stride 2 and padding 2 by position", (3, 2, 8, 7), (4, 2, 4, 3), bias=True,
              stride=2, padding=2, positional=True),
    _scenario("a kernel as large as the image", (2, 2, 4, 3), (3, 2, 4, 3), bias=True),
    _scenario("a bias", (2, 2, 5, 5), (3, 2, 3, 3), bias=True, dtype=_torch_float32),
]


# ------------------------------------------------------------------------------ mistakes
# Each takes the tensors in float64 and the scenario's stride and padding as ints.

def _columns(x, weight, stride, padding):
    return _unfold(x, tuple(weight.shape[2:]), 1, padding, stride)


def _output_size(x, kernel_size, stride, padding):
    """(H_out, W_out) for a kernel of kernel_size = (kH, kW)."""
    return tuple((size + 2 * padding - kernel) // stride + 1
                 for size, kernel in zip(x.shape[2:], kernel_size))


def _add_bias(output, bias):
    return output if bias is None else output + bias.view(1, -1, 1, 1)


@mistake("the kernel is flipped (convolution as in signal processing): a conv2d layer computes "
         "cross-correlation, the kernel laid on each window as it is.")
def _flipped_kernel(x, weight, bias, stride, padding):
    return _conv2d(x, weight.flip(-1, -2), bias, stride, padding)


def _as_images(product, x, weight, stride, padding):
    """The [N, C_out, L] product (or a wrongly ordered [N, L, C_out] one) read as [N, C_out,
    H_out, W_out]."""
    return product.reshape(x.shape[0], weight.shape[0],
                           *_output_size(x, weight.shape[2:], stride, padding))


@mistake("the weight is flattened in (kH, kW, C_in) order, but F.unfold's columns are in "
         "(C_in, kH, kW) order: flatten it as it is, weight.view(C_out, -1).")
def _weight_channels_last(x, weight, bias, stride, padding):
    kernels = weight.permute(0, 2, 3, 1).reshape(weight.shape[0], -1)
    product = kernels @ _columns(x, weight, stride, padding)
    return _add_bias(_as_images(product, x, weight, stride, padding), bias)


@mistake("the product is [N, L, C_out] (columns transposed before the weight) and was viewed as "
         "[N, C_out, H_out, W_out] without moving C_out first: .transpose(1, 2) it before the "
         "view.")
def _positions_first(x, weight, bias, stride, padding):
    kernels = weight.reshape(weight.shape[0], -1)
    product = _columns(x, weight, stride, padding).transpose(1, 2) @ kernels.T
    return _add_bias(_as_images(product, x, weight, stride, padding), bias)


@mistake("the bias is added along the output rows (bias.view(-1, 1) against [N, C_out, H_out, "
         "W_out] lines it up with H_out): add one bias per output channel, bias.view(1, -1, 1, 1).")
def _bias_per_row(x, weight, bias, stride, padding):
    return _conv2d(x, weight, None, stride, padding) + bias.view(-1, 1)


@mistake("the bias is added along the output columns (a [C_out] bias against [N, C_out, H_out, "
         "W_out] lines up with W_out): add one bias per output channel, bias.view(1, -1, 1, 1).")
def _bias_per_column(x, weight, bias, stride, padding):
    return _conv2d(x, weight, None, stride, padding) + bias


@mistake("the bias is left out: add bias.view(1, C_out, 1, 1) when it is given.")
def _no_bias(x, weight, bias, stride, padding):
    return _conv2d(x, weight, None, stride, padding)


LAYOUT_MISTAKES = (_flipped_kernel, _weight_channels_last, _positions_first)
BIAS_MISTAKES = (_bias_per_row, _bias_per_column, _no_bias)


def _value_mistakes(x, weight, bias, stride, padding, shape):
    """(wrong output, explanation) for each mistake that gives an output of `shape` here."""
    mistakes = []
    for wrong in LAYOUT_MISTAKES + (BIAS_MISTAKES if bias is not None else ()):
        try:
            value = wrong(x, weight, bias, stride, padding)
        except RuntimeError:  # a bias that does not broadcast that way: that answer crashes
            continue
        if tuple(value.shape) == shape:
            mistakes.append((value, wrong.explanation))
    return mistakes


def _view_advice(error):
    """A hint for a view or reshape into [N, C_out, H_out, W_out] that does not fit."""
    if isinstance(error, RuntimeError) and "is invalid for input of size" in str(error):
        return ("H_out * W_out is not the number of windows F.unfold made (columns.shape[-1]): "
                "compute H_out = (H + 2 * padding - kH) // stride + 1, and W_out likewise, with "
                "the stride and padding given to F.unfold.")
    return None


def _shape_mistakes(x, weight, stride, padding):
    """{wrong output shape: explanation}, for the shapes the usual mistakes give."""
    n, c_out = x.shape[0], weight.shape[0]
    kernel_size = tuple(weight.shape[2:])
    h_out, w_out = _output_size(x, kernel_size, stride, padding)
    mistakes = {
        (n, c_out, *_output_size(x, kernel_size, 1, padding)):
            "stride is left out: pass stride=stride to F.unfold, and compute H_out and W_out "
            "with it.",
        (n, c_out, *_output_size(x, kernel_size, stride, 0)):
            "padding is left out: pass padding=padding to F.unfold, and compute H_out and W_out "
            "with it.",
        (n, c_out, *_output_size(x, kernel_size[::-1], stride, padding)):
            "the kernel's sides are swapped: F.unfold's kernel_size is (kH, kW) = "
            "weight.shape[2:].",
        (n, c_out, h_out * w_out):
            "the [N, C_out, L] product is returned as it is: view it as [N, C_out, H_out, W_out].",
        (n, h_out, w_out, c_out):
            "the channels are last, [N, H_out, W_out, C_out]: a conv2d layer returns [N, C_out, "
            "H_out, W_out].",
    }
    right = (n, c_out, h_out, w_out)
    return {shape: words for shape, words in mistakes.items() if shape != right}


# ------------------------------------------------------------------------------ checking

def _data(rng, scenario):
    def tensor(shape):
        return _from_numpy(rng.standard_normal(shape)).to(scenario.dtype)
    bias = tensor(scenario.weight_shape[:1]) if scenario.bias else None
    return tensor(scenario.input_shape), tensor(scenario.weight_shape), bias


def _arguments(scenario, x, weight, bias):
    """(args, kwargs) as the scenario passes them."""
    options = [(name, value) for name, value in (("stride", scenario.stride),
                                                  ("padding", scenario.padding))
               if value is not None]
    if scenario.positional:
        return (x, weight, bias, *(value for _, value in options)), {}
    args = (x, weight) if bias is None else (x, weight, bias)
    return args, dict(options)


def check_conv2d(conv2d, *, seed=0):
    """Check `conv2d(input, weight, bias=None, stride=1, padding=0)` (torch, input [N, C_in, H,
    W], weight [C_out, C_in, kH, kW], bias [C_out]) against F.conv2d in float64, over SCENARIOS
    with data drawn from `seed`."""
    __tracebackhide__ = True
    answer = Answer(CONV2D, conv2d, shape_hint=RECIPE, advice=_view_advice)
    for index, current in enumerate(SCENARIOS):
        rng = default_rng((int(seed), index))
        x, weight, bias = _data(rng, current)
        args, kwargs = _arguments(current, x, weight, bias)
        stride = 1 if current.stride is None else current.stride
        padding = 0 if current.padding is None else current.padding
        dtype_words = " in float32" if current.dtype == _torch_float32 else ""
        context = (f"{answer.words(*args, **kwargs)} with {current.words}{dtype_words} (input "
                   f"{tuple(current.input_shape)}, weight {tuple(current.weight_shape)})")
        result = answer.run(context, *args, **kwargs)
        x64, weight64 = x.to(_torch_float64), weight.to(_torch_float64)
        bias64 = None if bias is None else bias.to(_torch_float64)
        expected = _conv2d(x64, weight64, bias64, stride, padding).to(current.dtype)
        if isinstance(result, torch.Tensor) and tuple(result.shape) != tuple(expected.shape):
            cause = _shape_mistakes(x, weight, stride, padding).get(tuple(result.shape))
            if cause is not None:
                fail(f"{context}: the output has shape {tuple(result.shape)} but should have shape "
                     f"{tuple(expected.shape)}: {cause}", RECIPE)
        mistakes = _value_mistakes(x64, weight64, bias64, stride, padding,
                                   tuple(expected.shape))
        rtol, atol = TOLERANCES[current.dtype]
        try:
            check_array("the output", result, expected, rtol=rtol, atol=atol, dtype=current.dtype,
                        known_mistakes=mistakes)
        except CheckFailure as failure:
            fail(f"{context}: {failure.message}", RECIPE)

