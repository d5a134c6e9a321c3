"""Checks for data augmentation on torch tensors (assignment 05): mixup of a batch with a
given permutation and mixing weight, and shifting images by whole pixels.

Each check runs the student's function over a short list of scenarios, simplest first, so
that the first one to fail isolates the mistake: for mixup ordinary feature vectors, then
images [N, 1, H, W], a batch without the last class (num_classes must come from the
argument), lam = 1 and lam = 0, and float64 inputs (the soft targets take the inputs'
dtype); for shifts one direction at a time, then both, negative shifts, a shift of 0, shifts
of at least the image's size (all zeros), and uint8 images. The expected values are
computed with torch (F.one_hot, float64 arithmetic) and slicing; on a mismatch the message
names the call, the output that differs, and the usual mistake that reproduces it (torch.roll
wrapping pixels around, down and right swapped, lam and 1 - lam swapped, class indices mixed
instead of one-hot vectors, ...), recomputed on the same data.

The student's function runs through the harness, on copies of its tensors (changing one
fails), under the delegation watch: it must not run course_lib's own augmentation
(course_lib.data.augmentation's shift and random_shift, mixup). Both exercises are written in
torch, so torch's operations are all allowed. Tamper-proofing as in the rest of the package:
numpy, torch and builtins are bound at import, and the data come from a local numpy
generator.
"""
from builtins import (
    IndexError, RuntimeError, ValueError, enumerate, float, int, isinstance, len, list, max, min,
    str, tuple,
)
from types import SimpleNamespace

from torch import Tensor as _Tensor
from torch import float32 as _torch_float32
from torch import float64 as _torch_float64
from torch import from_numpy as _from_numpy
from torch import uint8 as _torch_uint8
from torch.nn.functional import one_hot as _one_hot

from course_lib.data import augmentation as _course

from ._trusted import default_rng, isclose, np
from .failure import CheckFailure, fail, kind_of, unpacked
from .harness import Answer, exercise
from .values import check_array

TOLERANCES = {_torch_float32: (1e-6, 1e-6), _torch_float64: (1e-12, 1e-12)}
_NUMPY_DTYPES = {_torch_float32: np.float32, _torch_float64: np.float64}


class _Notebook:
    """The exercises as the notebook states them, for their names and parameters in
    messages: course_lib's shift takes one shift per image, its mixup draws lam and the
    permutation itself."""

    def mixup_batch(inputs, targets, lam, permutation, num_classes):
        """Returns (mixed_inputs, soft_targets)."""

    def shift_images(images, down, right):
        """Returns images [N, H, W] moved down and right, vacated pixels 0."""


MIXUP_BATCH = exercise(_Notebook.mixup_batch, forbidden=(_course.mixup,))
SHIFT_IMAGES = exercise(_Notebook.shift_images, forbidden=(_course.shift, _course.random_shift))


def _compare(context, name, actual, expected, *, dtype, known_mistakes=(), hint=None,
             exact=False):
    """check_array(name, ...) on tensors, with `context` (the call and the scenario) first."""
    __tracebackhide__ = True
    rtol, atol = (0, 0) if exact else TOLERANCES[dtype]
    try:
        check_array(name, actual, expected, rtol=rtol, atol=atol, dtype=dtype,
                    known_mistakes=known_mistakes)
    except CheckFailure as failure:
        fail(f"{context}: {failure.message}", hint)


# ----------------------------------------------------------------------------------- mixup

def _cycle(rng, n):
    """A random permutation of range(n) without fixed points (one n-cycle): every sample is
    mixed with another one, so inputs[permutation] differs from inputs in every row."""
    order = rng.permutation(n)
    permutation = np.zeros(n, dtype=np.int64)
    permutation[order] = order[(np.arange(n) + 1) % n]
    return permutation


def _mixup_scenarios(shape, lam, num_classes, dtype):
    given = lam is not None
    usual_lam = float(lam) if given else 0.7

    def scenario(words, shape=shape, lam=usual_lam, dtype=dtype, missing_last=False):
        return SimpleNamespace(words=words, shape=shape, lam=lam, dtype=dtype,
                               missing_last=missing_last)

    n = shape[0]
    scenarios = [scenario(""), scenario("images [N, 1, 3, 3]", shape=(n, 1, 3, 3))]
    if num_classes >= 2:
        scenarios.append(scenario(f"no sample of class {num_classes - 1} in the batch",
                                  missing_last=True))
    if not given:
        scenarios += [scenario("no mixing", lam=1.0), scenario("all from the partners", lam=0.0)]
    if dtype == _torch_float32:
        scenarios.append(scenario("", dtype=_torch_float64))
    return scenarios


def _mixup_mistakes(x, targets, lam, permutation, num_classes):
    """({'mixed_inputs': [...], 'soft_targets': [...]}: (wrong value, explanation) pairs)."""
    inverse = np.zeros(len(permutation), dtype=np.int64)
    inverse[permutation] = np.arange(len(permutation))
    one_hot = _one_hot(_from_numpy(targets), num_classes).numpy().astype(np.float64)
    swapped = "lam and 1 - lam are swapped: lam weighs the batch itself, 1 - lam its partners."
    backwards = ("the permutation is applied the wrong way round: the partner of sample i is "
                 "sample permutation[i], so index with it, inputs[permutation].")
    return {
        "mixed_inputs": [
            ((1 - lam) * x + lam * x[permutation], swapped),
            (x, "the inputs are not mixed with their partners: lam * inputs + (1 - lam) * "
                "inputs[permutation]."),
            (lam * x + (1 - lam) * x[inverse], backwards),
        ],
        "soft_targets": [
            ((1 - lam) * one_hot + lam * one_hot[permutation], swapped),
            (one_hot, "the targets are not permuted: the partners' one-hot targets, "
                      "one_hot(targets[permutation]), get weight 1 - lam."),
            (lam * one_hot + (1 - lam) * one_hot[inverse], backwards),
        ],
    }


def _two_tensors(context, result):
    __tracebackhide__ = True
    return unpacked(f"{context}: it returned", result, 2, "a tuple of two tensors (mixed_inputs, soft_targets)")


def _soft_target_problem(context, soft_targets, targets, lam, permutation, num_classes, dtype):
    """Fail with the cause for soft targets of the shape or dtype of a known mistake, the
    cause named only when that mistake reproduces their values."""
    __tracebackhide__ = True
    if not isinstance(soft_targets, _Tensor):
        return
    n = len(targets)
    shape = tuple(soft_targets.shape)
    values = soft_targets.detach().double().numpy() if soft_targets.is_floating_point() else None
    rtol, atol = TOLERANCES[dtype]

    def reproduces(wrong):
        return values is not None and isclose(values, wrong, rtol=rtol, atol=atol).all()

    if shape == (n,) and reproduces(lam * targets + (1 - lam) * targets[permutation]):
        fail(f"{context}: soft_targets has shape ({n},) but should have shape ({n}, "
             f"{num_classes}): the class indices are mixed, lam * targets + (1 - lam) * "
             f"targets[permutation], which gives a class between the two (a 2.6 mixes 'a bit "
             f"of 3 and 2' only by accident). Mix their one-hot vectors, F.one_hot(targets, "
             f"num_classes).")
    highest = int(targets.max()) + 1
    if shape == (n, highest) and highest != num_classes:
        one_hot = _one_hot(_from_numpy(targets), highest).numpy().astype(np.float64)
        if reproduces(lam * one_hot + (1 - lam) * one_hot[permutation]):
            fail(f"{context}: soft_targets has shape {shape} but should have shape ({n}, "
                 f"{num_classes}): num_classes is ignored — F.one_hot(targets) makes only as "
                 f"many columns as the largest target + 1 ({highest} here); pass num_classes, "
                 f"F.one_hot(targets, num_classes).")
    if shape == (n, num_classes) and not soft_targets.is_floating_point():
        fail(f"{context}: soft_targets has dtype {soft_targets.dtype}, but soft targets are "
             f"fractions such as 0.7 and 0.3, of the inputs' dtype {dtype}: F.one_hot gives "
             f"int64, so convert it, .to(inputs.dtype), before mixing.")
    if shape == (n, num_classes) and soft_targets.dtype != dtype:
        fail(f"{context}: soft_targets has dtype {soft_targets.dtype} but should have the "
             f"inputs' dtype {dtype}: F.one_hot gives int64, and .float() or int64 * lam "
             f"give float32 whatever the inputs are — convert with .to(inputs.dtype).")


def check_mixup_batch(mixup_batch, *, seed=0, shape=(6, 5), lam=None, num_classes=4,
                      dtype=_torch_float32):
    """Check `mixup_batch(inputs, targets, lam, permutation, num_classes)` -> (mixed_inputs,
    soft_targets) (torch tensors) against lam * inputs + (1 - lam) * inputs[permutation] and
    the same mix of F.one_hot(targets, num_classes), computed in float64.

    Scenarios, simplest first: inputs of `shape` with lam = 0.7; images [N, 1, 3, 3]; a
    batch without the last class; lam = 1 and lam = 0; float64 inputs. Options: `seed`,
    `shape` (of inputs, N = shape[0] >= 2), `lam` (used in every scenario; the lam = 1 and 0
    scenarios are then left out), `num_classes`, `dtype` (torch.float32 or torch.float64).
    """
    __tracebackhide__ = True
    shape = tuple(int(size) for size in shape)
    num_classes = int(num_classes)
    if len(shape) < 1 or shape[0] < 2 or num_classes < 1 or dtype not in TOLERANCES:
        raise ValueError(f"shape must be (N, ...) with N >= 2, num_classes at least 1 and dtype "
                         f"torch.float32 or torch.float64, got {shape}, {num_classes}, {dtype}")
    answer = Answer(MIXUP_BATCH, mixup_batch, shape_hint=(
        "inputs is [N, ...], targets and permutation [N]: inputs[permutation] and "
        "F.one_hot(targets, num_classes) [N, num_classes] need no reshaping."))
    for index, scenario in enumerate(_mixup_scenarios(shape, lam, num_classes, dtype)):
        rng = default_rng((int(seed), index))
        n = scenario.shape[0]
        x = rng.standard_normal(scenario.shape).astype(_NUMPY_DTYPES[scenario.dtype])
        classes = num_classes - 1 if scenario.missing_last else num_classes
        targets = rng.integers(0, classes, n)
        permutation = _cycle(rng, n)
        arguments = (_from_numpy(x), _from_numpy(targets), scenario.lam, _from_numpy(permutation),
                     num_classes)
        dtype_words = "float64" if scenario.dtype == _torch_float64 else "float32"
        context = (f"{answer.words(*arguments)} with inputs of shape {scenario.shape} of dtype "
                   f"{dtype_words}" + (f", {scenario.words}" if scenario.words else ""))
        result = _two_tensors(context, answer(*arguments))
        x64 = x.astype(np.float64)
        one_hot = _one_hot(_from_numpy(targets), num_classes).numpy().astype(np.float64)
        lam_ = scenario.lam
        expected = (lam_ * x64 + (1 - lam_) * x64[permutation],
                    lam_ * one_hot + (1 - lam_) * one_hot[permutation])
        mistakes = _mixup_mistakes(x64, targets, lam_, permutation, num_classes)
        _compare(context, "mixed_inputs", result[0], _from_numpy(expected[0]),
                 dtype=scenario.dtype, known_mistakes=mistakes["mixed_inputs"],
                 hint="mixed_inputs = lam * inputs + (1 - lam) * inputs[permutation].")
        _soft_target_problem(context, result[1], targets, lam_, permutation, num_classes,
                             scenario.dtype)
        _compare(context, "soft_targets", result[1], _from_numpy(expected[1]),
                 dtype=scenario.dtype, known_mistakes=mistakes["soft_targets"],
                 hint="soft_targets = lam * one_hot + (1 - lam) * one_hot[permutation], with "
                      "one_hot = F.one_hot(targets, num_classes).to(inputs.dtype).")


# ---------------------------------------------------------------------------------- shifts

def _shifted(images, down, right):
    """images [N, H, W] (numpy) moved down and right with zero fill, by slicing."""
    height, width = images.shape[1:]
    output = np.zeros(images.shape, dtype=images.dtype)
    rows = max(0, min(height, height - (down if down >= 0 else -down)))
    columns = max(0, min(width, width - (right if right >= 0 else -right)))
    if rows and columns:
        top, left = max(down, 0), max(right, 0)
        source_top, source_left = max(-down, 0), max(-right, 0)
        output[:, top:top + rows, left:left + columns] = images[
            :, source_top:source_top + rows, source_left:source_left + columns]
    return output


def _rolled(images, down, right):
    """What torch.roll gives: the pixels pushed out come back on the other side."""
    height, width = images.shape[1:]
    rows = (np.arange(height) - down) % height
    columns = (np.arange(width) - right) % width
    return images[:, rows][:, :, columns]


def _shift_scenarios(shape, down, right, dtype):
    _, height, width = shape
    if down is not None or right is not None:
        return [((down or 0, right or 0), "", dtype)]
    shifts = [((1, 0), ""), ((0, 2), ""), ((2, -1), ""), ((-2, -3), "up and left"),
              ((0, 0), "no shift"),
              ((height, 0), "a shift of the image's height: all zeros"),
              ((0, -width), "a shift of minus the image's width: all zeros"),
              ((height + 2, -width - 3), "shifts beyond the image's size: all zeros")]
    scenarios = [(shift, words, dtype) for shift, words in shifts]
    if dtype != _torch_uint8:
        scenarios.append(((1, -2), "as MNIST is stored", _torch_uint8))
    return scenarios


def _shift_mistakes(images, down, right):
    flipped = ("the direction is flipped: output[n, i, j] = images[n, i - down, j - right], so "
               "a positive down moves the picture down (towards larger row indices).")
    return [
        (_rolled(images, down, right), "the pixels wrap around (torch.roll): pixels pushed "
                                       "out of the image must be lost and the vacated ones "
                                       "set to 0."),
        (_shifted(images, right, down), "down and right are swapped: down moves along the rows "
                                        "(dim 1, the height), right along the columns (dim 2)."),
        (_shifted(images, -down, -right), flipped),
        (_shifted(images, -down, right), flipped),
        (_shifted(images, down, -right), flipped),
    ]


SHIFT_FORMULA = ("output[:, i, j] = images[:, i - down, j - right] where that is inside the "
                 "image: copy a slice of images into the matching slice of "
                 "torch.zeros_like(images).")


def _crash_advice(down, right, height, width):
    """The advice after a crash of slicing or indexing, for a shift of `down` and `right`."""
    if not (-height < down < height and -width < right < width):
        hint = ("a shift of at least the image's size leaves no pixel inside: the result is all "
                "zeros. Clamp the shift to the size, or return zeros.")
    elif down == 0 or right == 0:
        hint = ("with a shift of 0, a slice such as images[:, :-down] is images[:, :0], which is "
                "empty: write the bounds out, images[:, :H - down].")
    else:
        hint = SHIFT_FORMULA

    def advice(error):
        return hint if isinstance(error, (RuntimeError, ValueError, IndexError)) else None
    return advice


def check_shift_images(shift_images, *, seed=0, shape=(2, 5, 6), down=None, right=None,
                       dtype=_torch_float32):
    """Check `shift_images(images, down, right)` (images a torch tensor [N, H, W]) against
    output[n, i, j] = images[n, i - down, j - right] inside the image, else 0, computed by
    slicing; the values must be exactly equal, the dtype and shape those of images.

    Scenarios, simplest first: down 1; right 2; (2, -1); up and left (-2, -3); no shift;
    a shift of the height, of minus the width and beyond both (all zeros); uint8 images.
    Options: `seed`, `shape` (N, H, W), `down` and `right` (given either, only that shift is
    checked, the other 0), `dtype` (of the images: a torch float or integer dtype).
    """
    __tracebackhide__ = True
    shape = tuple(int(size) for size in shape)
    if len(shape) != 3 or 0 in shape:
        raise ValueError(f"shape must be (N, H, W) of positive sizes, got {shape}")
    _, height, width = shape
    for index, ((down_, right_), words, scenario_dtype) in enumerate(
            _shift_scenarios(shape, down, right, dtype)):
        rng = default_rng((int(seed), index))
        numpy_dtype = _from_numpy(np.zeros(0)).to(scenario_dtype).numpy().dtype
        # pixels never 0, so that a 0 in the output is always a vacated pixel
        images = (rng.integers(1, 256, shape) if numpy_dtype.kind in "iu"
                  else rng.uniform(0.1, 1.0, shape)).astype(numpy_dtype)
        answer = Answer(SHIFT_IMAGES, shift_images,
                        advice=_crash_advice(down_, right_, height, width))
        arguments = (_from_numpy(images), int(down_), int(right_))
        context = (f"{answer.words(*arguments)} with images of shape {shape} of dtype "
                   f"{str(scenario_dtype).replace('torch.', '')}" + (f", {words}" if words else ""))
        result = answer(*arguments)
        if isinstance(result, (tuple, list)):
            fail(f"{context}: it returned {kind_of(result)} of {len(result)} values, but one "
                 f"tensor of shape {shape} is expected.")
        _compare(context, "the output", result, _from_numpy(_shifted(images, down_, right_)),
                 dtype=scenario_dtype, exact=True,
                 known_mistakes=_shift_mistakes(images, down_, right_), hint=SHIFT_FORMULA)
