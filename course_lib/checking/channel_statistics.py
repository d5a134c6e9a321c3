"""The check of batch normalisation's statistics for images (assignment 06):
`batch_norm2d_statistics(input)` in torch returns (mean, var) of input [N, C, H, W], one of
each per channel ([C]) over the N * H * W values of that channel — var the biased variance
(divided by N * H * W), the one torch.nn.BatchNorm2d normalises with in training.

Scenarios, simplest first: ordinary images whose channels differ in mean and spread (N, C, H
and W all different, so that a statistic over the wrong axes has a shape that tells which),
a batch of one image, 1 × 1 images (where the statistics are BatchNorm1d's), one channel, and
float32 (the statistics must stay float32). The expected values come from
torch.nn.BatchNorm2d itself: one training step with momentum=None (a cumulative average) on
fresh running statistics leaves running_mean = the batch's mean and running_var = its
unbiased variance, which N * H * W - 1 over N * H * W turns into the biased one. A
statistic of the wrong shape is explained by the axes it was taken over; wrong values are
named by the mistake that reproduces them on the same data (each a small wrong function next
to its explanation), and otherwise check_array says which channel differs and by how much.

The answer runs through the harness, on a copy of the input, under the delegation watch: it
must not run torch's batch norm (F.batch_norm, torch.batch_norm, torch.native_batch_norm,
torch.nn.BatchNorm2d) nor course_lib's numpy batch norm, whose running statistics would
give the answer away.
"""
from builtins import enumerate, int, isinstance, tuple
from types import SimpleNamespace

import torch
from torch import float32 as _torch_float32
from torch import float64 as _torch_float64
from torch import from_numpy as _from_numpy
from torch import no_grad as _no_grad
from torch.nn import BatchNorm2d as _BatchNorm2d

from course_lib.scratch import normalization as _scratch

from ._trusted import default_rng
from .failure import CheckFailure, fail, mistake, unpacked
from .harness import Answer, exercise
from .values import check_array

TOLERANCES = {_torch_float64: (1e-10, 1e-12), _torch_float32: (1e-5, 1e-6)}
AXES = (0, 2, 3)  # N, H and W: every axis but the channels'


class _Notebook:
    """The exercise as the notebook states it, for its name and parameters in messages:
    course_lib computes these statistics inside scratch.batch_norm_forward."""

    def batch_norm2d_statistics(input):
        """(mean, var) per channel [C] of input [N, C, H, W], var the biased variance."""


BATCH_NORM2D_STATISTICS = exercise(_Notebook.batch_norm2d_statistics, forbidden=(
    _scratch.batch_norm_forward, _scratch.batch_norm, torch.nn.functional.batch_norm,
    torch.batch_norm, torch.native_batch_norm, torch.nn.BatchNorm2d))

RECIPE = ("each channel c has N * H * W values, input[:, c]: mean = input.mean(dim=(0, 2, 3)), "
          "var = input.var(dim=(0, 2, 3), unbiased=False), both of shape [C].")


def _scenario(words, shape, dtype=_torch_float64):
    return SimpleNamespace(words=words, shape=shape, dtype=dtype)


SCENARIOS = [
    _scenario("", (4, 3, 5, 6)),
    _scenario("a batch of one image", (1, 3, 5, 6)),
    _scenario("1 × 1 images", (7, 3, 1, 1)),
    _scenario("one channel", (4, 1, 5, 6)),
    _scenario("", (4, 3, 5, 6), dtype=_torch_float32),
]


# --------------------------------------------------------------------------- the oracle

def _batchnorm2d_statistics(x):
    """(mean, biased var) of x [N, C, H, W] in float64, from torch.nn.BatchNorm2d's running
    statistics after one training step with momentum=None."""
    x = x.to(_torch_float64)
    module = _BatchNorm2d(x.shape[1], momentum=None, affine=False, dtype=_torch_float64)
    with _no_grad():
        module.train()(x)
    count = x.numel() // x.shape[1]
    return module.running_mean, module.running_var * (count - 1) / count


# ------------------------------------------------------------------------------ mistakes

def _shape_mistakes(shape):
    """{wrong shape of a statistic: explanation}, for the axes the usual mistakes reduce."""
    n, c, h, w = shape
    mistakes = {
        (c, h, w): "it is taken over the batch only (dim=0), one per pixel and channel: batch "
                   "norm for images pools every pixel of a channel too, dim=(0, 2, 3).",
        (n, c): "it is taken over each image's pixels only (dim=(2, 3)), one per image and "
                "channel (instance norm's statistics): take it over the batch too, dim=(0, 2, 3).",
        (n,): "it is taken over each image's channels and pixels (dim=(1, 2, 3)), one per image "
              "(layer norm's statistics): batch norm takes one per channel, dim=(0, 2, 3).",
        (n, h, w): "it is taken over the channels (dim=1), one per pixel: batch norm takes one per "
                   "channel, over everything else, dim=(0, 2, 3).",
        (): "it is taken over the whole batch at once: batch norm takes one per channel, "
            "dim=(0, 2, 3).",
    }
    return {wrong: words for wrong, words in mistakes.items() if wrong != (c,)}


@mistake("var is the unbiased variance (divided by N * H * W - 1; torch.var's default): the "
         "variance batch norm normalises with is the biased one, unbiased=False. (Only the "
         "running_var that BatchNorm2d keeps for evaluation is unbiased.)")
def _unbiased(x):
    return x.var(dim=AXES)


@mistake("var is the standard deviation: square it, or use input.var(dim=(0, 2, 3), "
         "unbiased=False).")
def _std(x):
    return x.std(dim=AXES, unbiased=False)


@mistake("var is the (unbiased) standard deviation: batch norm normalises with the biased "
         "variance, input.var(dim=(0, 2, 3), unbiased=False).")
def _unbiased_std(x):
    return x.std(dim=AXES)


@mistake("var is the mean of the squares, without subtracting the mean: the variance is the mean "
         "of (input - mean) ** 2.")
def _mean_of_squares(x):
    return (x * x).mean(dim=AXES)


@mistake("var is taken in steps, the variance over the batch per pixel, then averaged over the "
         "pixels: that leaves out how the pixels' means differ. Take it over all N * H * W "
         "values at once, dim=(0, 2, 3).")
def _variance_in_steps(x):
    return x.var(dim=0, unbiased=False).mean(dim=(1, 2))


VAR_MISTAKES = (_unbiased, _std, _unbiased_std, _mean_of_squares, _variance_in_steps)


# ------------------------------------------------------------------------------ checking

def _images(rng, current):
    """[N, C, H, W] whose channels differ in mean and spread, and whose pixels differ in mean."""
    n, c, h, w = current.shape
    values = (rng.uniform(-3, 3, (1, c, 1, 1)) + rng.uniform(-1, 1, (1, c, h, w))
              + rng.uniform(0.5, 3, (1, c, 1, 1)) * rng.standard_normal((n, c, h, w)))
    return _from_numpy(values).to(current.dtype)


def _compare(context, name, actual, expected, dtype, known_mistakes, shape):
    __tracebackhide__ = True
    if isinstance(actual, torch.Tensor) and tuple(actual.shape) != tuple(expected.shape):
        cause = _shape_mistakes(shape).get(tuple(actual.shape))
        if cause is not None:
            fail(f"{context}: {name} has shape {tuple(actual.shape)} but should have shape "
                 f"{tuple(expected.shape)}, one per channel: {cause}", RECIPE)
    rtol, atol = TOLERANCES[dtype]
    try:
        check_array(name, actual, expected, rtol=rtol, atol=atol, dtype=dtype,
                    known_mistakes=known_mistakes)
    except CheckFailure as failure:
        fail(f"{context}: {failure.message}", RECIPE)


def check_batch_norm2d_statistics(batch_norm2d_statistics, *, seed=0):
    """Check `batch_norm2d_statistics(input)` (torch, input [N, C, H, W]; returns (mean, var),
    each [C], var biased) against torch.nn.BatchNorm2d's statistics in float64, over
    SCENARIOS with data drawn from `seed`."""
    __tracebackhide__ = True
    answer = Answer(BATCH_NORM2D_STATISTICS, batch_norm2d_statistics, shape_hint=RECIPE)
    for index, current in enumerate(SCENARIOS):
        x = _images(default_rng((int(seed), index)), current)
        dtype_words = " in float32" if current.dtype == _torch_float32 else ""
        described = f", {current.words}" if current.words else ""
        context = f"{answer.words(x)} with input of shape {current.shape}{described}{dtype_words}"
        result = answer.run(context, x)
        mean, var = unpacked(f"{context} returned", result, 2, "a pair (mean, var)")
        expected_mean, expected_var = (value.to(current.dtype)
                                       for value in _batchnorm2d_statistics(x))
        x64 = x.to(_torch_float64)
        var_mistakes = [(wrong(x64), wrong.explanation) for wrong in VAR_MISTAKES]
        swapped = [(expected_var, "mean and var are swapped: return (mean, var).")]
        _compare(context, "mean", mean, expected_mean, current.dtype, swapped, current.shape)
        _compare(context, "var", var, expected_var, current.dtype, var_mistakes, current.shape)

