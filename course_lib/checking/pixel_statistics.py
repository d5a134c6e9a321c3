"""The check of the pixel statistics MNIST's inputs are normalised with (assignment 06):
`pixel_mean_and_std(images)` — uint8 images [N, H, W] or [N, 1, H, W] of the training split,
a numpy array or a torch tensor — returns (mean, std), two floats: the mean and the standard
deviation of the pixel values scaled into [0, 1], over every pixel of every image (MNIST's
are 0.1307 and 0.3081).

The standard deviation is the population one (divided by the number of pixels: numpy's
default, torch's correction=0), which `data.preprocessing.mean_and_std` computes too. Over
MNIST's 47 million pixels the sample standard deviation (divided by one less; torch's
default) agrees with it to eight digits, so it would not matter there; the check's images
hold at most a few hundred pixels, where the two differ in the third digit, and it holds the
answer to the population one — naming the sample one when that is what came back.

Scenarios, simplest first: digit-like images (mostly 0, strokes up to 255) as a numpy array
[N, H, W]; the same kind as a torch tensor [N, 1, H, W]; one image; images of one grey
value (std 0); two images holding only 0 and 255. The expected values are torch's mean and
std(correction=0) of the pixels in float64, divided by 255. An answer that returns arrays
is told by their shape which axes it reduced. After every scenario has run, the first wrong
one is reported: a cause is named only when one of the usual mistakes — each a small wrong
function next to its explanation — gives the answer's pair in every scenario; otherwise the
message says which statistic differs and by how much.

The answer runs through the harness, on a copy of the images, under the delegation watch: it
must not run its course_lib reference nor `mean_and_std`, which does the whole job on any
array. numpy's and torch's mean and std are the building blocks it is meant to use.
"""
from builtins import (
    AttributeError, RuntimeError, ValueError, all, bool, enumerate, float, int, isinstance, len, str,
    tuple, zip,
)
from types import SimpleNamespace

import torch
from torch import float64 as _torch_float64
from torch import from_numpy as _from_numpy

from course_lib.data import preprocessing as _preprocessing

from ._trusted import default_rng, isclose, np
from .failure import CheckFailure, fail, kind_of, mistake, number, unpacked
from .harness import Answer, exercise
from .values import check_scalar

PIXEL_MEAN_AND_STD = exercise(_preprocessing.pixel_mean_and_std, forbidden=(_preprocessing.mean_and_std,))

RTOL, ATOL = 1e-5, 1e-6  # room for an answer computed in float32 (a std of 0 comes out near 1e-7)
RECIPE = ("scale the pixels into [0, 1] as floats, x = images / 255 (images.float() / 255 for a "
          "tensor), then take x.mean() and x.std() over all of them at once — no axis — with the "
          "population std (numpy's default; in torch x.std(correction=0)), and return both as floats "
          "(.item() for a tensor).")


def _scenario(words, shape, *, as_tensor=False, values=None):
    return SimpleNamespace(words=words, shape=shape, as_tensor=as_tensor, values=values)


SCENARIOS = [
    _scenario("", (6, 7, 5)),
    _scenario("a torch tensor [N, 1, H, W]", (5, 1, 6, 7), as_tensor=True),
    _scenario("one image", (1, 8, 6)),
    _scenario("one grey value everywhere", (3, 4, 4), values="constant"),
    _scenario("pixels of only 0 and 255", (2, 2, 3), values="black and white"),
]


def _images(rng, current):
    """uint8 images of the scenario: digit-like strokes — about a fifth of the pixels lit, most
    of those at 255, the rest antialiasing greys — on a black background, unless it says
    otherwise."""
    shape = current.shape
    if current.values == "constant":
        return np.zeros(shape, dtype="uint8") + int(rng.integers(20, 236))
    if current.values == "black and white":
        return (rng.random(shape) < 0.5).astype("uint8") * 255
    values = rng.integers(1, 255, shape)
    values[rng.random(shape) < 0.6] = 255
    values[rng.random(shape) >= 0.2] = 0
    return values.astype("uint8")


# ---------------------------------------------------------------------------- mistakes
# Each takes the uint8 images as a numpy array and returns the (mean, std) it gives.

def _right(images):
    pixels = images.astype(np.float64) / 255
    return pixels.mean(), pixels.std()


@mistake("the pixels are not scaled into [0, 1]: these are the statistics of the raw values "
         "0..255. Divide by 255 first, so that they describe what the network is fed.")
def _unscaled(images):
    mean, std = _right(images)
    return 255 * mean, 255 * std


@mistake("std is the variance: take its square root.")
def _variance(images):
    mean, std = _right(images)
    return mean, std * std


@mistake("std is the sample standard deviation, divided by the number of pixels minus one (torch's "
         ".std() default, numpy's ddof=1): the exercise asks for the population one, divided by the "
         "number of pixels — np.std's default, x.std(correction=0) in torch. (On all of MNIST the two "
         "agree to eight digits; on these few pixels they don't.)")
def _sample_std(images):
    pixels = images.astype(np.float64) / 255
    return pixels.mean(), pixels.std(ddof=1)


@mistake("std is the mean of each image's own standard deviation: that leaves out how the images "
         "differ from one another (their means differ). Take the std over every pixel of every image "
         "at once.")
def _mean_of_image_stds(images):
    pixels = images.reshape(len(images), -1).astype(np.float64) / 255
    return pixels.mean(), pixels.std(axis=1).mean()


@mistake("std is the standard deviation of the images' mean values, one number per image: take it "
         "over every pixel of every image at once.")
def _std_of_image_means(images):
    pixels = images.reshape(len(images), -1).astype(np.float64) / 255
    return pixels.mean(), pixels.mean(axis=1).std()


@mistake("the squares of the uint8 pixels wrap around: uint8 holds 0..255, so 255 ** 2 = 65025 is "
         "stored as 65025 % 256 = 1, the mean of the squares comes out too small and the variance "
         "negative. Convert the pixels to floats before squaring them (images / 255, or "
         "images.float() for a tensor).")
def _squares_in_uint8(images):
    mean = images.mean() / 255
    variance = (images * images).mean() / 255 ** 2 - mean * mean
    with np.errstate(invalid="ignore"):
        return mean, np.float64(variance) ** 0.5  # nan for a negative variance, as np.sqrt gives


@mistake("mean and std are swapped: return (mean, std).")
def _swapped(images):
    mean, std = _right(images)
    return std, mean


MISTAKES = (_unscaled, _variance, _sample_std, _mean_of_image_stds, _std_of_image_means,
            _squares_in_uint8, _swapped)


# ---------------------------------------------------------------------------- checking

def _expected(images):
    """(mean, std) from torch in float64: the population std, correction=0."""
    pixels = _from_numpy(images).to(_torch_float64) / 255
    return pixels.mean().item(), pixels.std(correction=0).item()


def _advice(error):
    """A hint for the crashes that uint8 images and a tensor argument bring."""
    text = str(error)
    if isinstance(error, RuntimeError) and ("floating point" in text or "Byte" in text):
        return ("the images are uint8, whole numbers 0..255, and torch's mean and std need floats: "
                "images.float() / 255 (or .double()) first.")
    if isinstance(error, AttributeError) and ("'Tensor' object" in text or "'numpy.ndarray' object" in text):
        return ("images may be a numpy array or a torch tensor: np.asarray(images) makes a numpy "
                "array of either (torch.as_tensor(images) a tensor).")
    if isinstance(error, ValueError) and "math domain error" in text:
        return ("math.sqrt was given a negative variance: squares of uint8 pixels wrap around at 256 "
                "(255 ** 2 is stored as 1), so convert the pixels to floats before squaring them.")
    return None


def _check_kind(context, name, value, images):
    """A statistic that is an array: which axes it was taken over, from its shape."""
    __tracebackhide__ = True
    if not isinstance(value, (torch.Tensor, np.ndarray)):
        return
    shape = tuple(value.shape)
    if len(shape) == 0 or (len(shape) == 1 and shape[0] == 1):
        return  # one number: check_scalar asks for .item() if needed
    if shape == images.shape[1:]:
        cause = ("one per pixel position: it is taken over the images only (axis=0). Take it over "
                 "every pixel of every image at once — x.mean() with no axis.")
    elif shape == images.shape[:1]:
        cause = ("one per image: it is taken over each image's pixels only. Take it over every pixel "
                 "of every image at once — x.mean() with no axis.")
    else:
        cause = "return one number for all the pixels of all the images."
    fail(f"{context} returned {name} as {kind_of(value)} of shape {shape}, but a float is expected: "
         f"{cause}", RECIPE)


def _agrees(pair, wanted):
    return all(isclose(float(value), float(target), rtol=RTOL, atol=ATOL) for value, target in zip(pair, wanted))


def check_pixel_mean_and_std(pixel_mean_and_std, *, seed=0):
    """Check `pixel_mean_and_std(images)` (uint8 images [N, H, W] or [N, 1, H, W], numpy or
    torch; returns (mean, std) of the pixels scaled into [0, 1], std the population one)
    against torch in float64, over SCENARIOS with images drawn from `seed`."""
    __tracebackhide__ = True
    answer = Answer(PIXEL_MEAN_AND_STD, pixel_mean_and_std, advice=_advice)
    runs = []
    for index, current in enumerate(SCENARIOS):
        images = _images(default_rng((int(seed), index)), current)
        given = _from_numpy(images) if current.as_tensor else images
        described = f", {current.words}" if current.words else ""
        context = f"{answer.words(given)} with uint8 images of shape {current.shape}{described}"
        pair = unpacked(f"{context} returned", answer.run(context, given), 2, "a pair (mean, std)")
        for name, value in zip(("mean", "std"), pair):
            _check_kind(context, name, value, images)
        # a 0-d array is a number
        result = tuple(value[()] if isinstance(value, np.ndarray) and value.shape == () else value
                       for value in pair)
        runs.append(SimpleNamespace(context=context, images=images, result=result, expected=_expected(images)))
    for run in runs:  # a tensor, a bool or None is told as such before any value
        for name, value, wanted in zip(("mean", "std"), run.result, run.expected):
            if isinstance(value, bool) or not isinstance(value, (float, int, np.number)):
                _check_value(run.context, name, value, wanted)
    wrong = [run for run in runs if not _agrees(run.result, run.expected)]
    if not wrong:
        return
    first = wrong[0]
    for candidate in MISTAKES:
        if all(_agrees(run.result, candidate(run.images)) for run in runs):
            mean, std = first.result
            fail(f"{first.context} returned mean {number(mean)} and std {number(std)}; expected "
                 f"{number(first.expected[0])} and {number(first.expected[1])}: {candidate.explanation}",
                 RECIPE)
    for name, value, wanted in zip(("mean", "std"), first.result, first.expected):
        _check_value(first.context, name, value, wanted)


def _check_value(context, name, value, wanted):
    __tracebackhide__ = True
    try:
        check_scalar(name, value, wanted, rtol=RTOL, atol=ATOL, factor_hints={"the largest pixel value": 255})
    except CheckFailure as failure:
        fail(f"{context}: {failure.message}", RECIPE)
