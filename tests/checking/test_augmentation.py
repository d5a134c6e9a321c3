import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib.checking.augmentation import check_mixup_batch, check_shift_images
from course_lib.checking.failure import DelegationFailure
from course_lib.data import augmentation
from tests.grading.wrong_answers import defined_by
from tests.calls import counted
from tests.checking.failures import failure_message, named
from tests.strategies import SEEDS, assert_global_random_state_untouched, tampered


# ------------------------------------------------ right answers, as students write them

def mixup_batch(inputs, targets, lam, permutation, num_classes):
    one_hot = F.one_hot(targets, num_classes).to(inputs.dtype)
    return lam * inputs + (1 - lam) * inputs[permutation], lam * one_hot + (1 - lam) * one_hot[permutation]


def shift_images(images, down, right):
    output = torch.zeros_like(images)
    height, width = images.shape[1:]
    if abs(down) >= height or abs(right) >= width:
        return output
    output[:, max(down, 0):height + min(down, 0), max(right, 0):width + min(right, 0)] = images[
        :, max(-down, 0):height - max(down, 0), max(-right, 0):width - max(right, 0)]
    return output


def shift_images_by_padding(images, down, right):
    """Pad, then crop: also right."""
    height, width = images.shape[1:]
    pad = max(height, width)
    padded = F.pad(images, (pad, pad, pad, pad))
    down, right = max(-pad, min(pad, down)), max(-pad, min(pad, right))
    return padded[:, pad - down:pad - down + height, pad - right:pad - right + width]


# ---------------------------------------------------------------------- right answers pass

@pytest.mark.parametrize("check, function", [(check_mixup_batch, mixup_batch), (check_shift_images, shift_images),
                                             (check_shift_images, shift_images_by_padding)])
def test_right_answers_pass(check, function, capsys):
    for seed in SEEDS:
        check(function, seed=seed)
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize("options", [
    {"shape": (2, 3)}, {"shape": (9,)}, {"shape": (4, 2, 2, 2)}, {"lam": 0.0}, {"lam": 1.0}, {"lam": 0.25},
    {"num_classes": 1}, {"num_classes": 10, "seed": 4}, {"dtype": torch.float64}])
def test_mixup_passes_for_other_options(options):
    check_mixup_batch(mixup_batch, **options)


@pytest.mark.parametrize("options", [
    {"shape": (1, 1, 1)}, {"shape": (3, 28, 28)}, {"down": 0}, {"right": -4}, {"down": 9, "right": 9},
    {"down": -5, "right": 2, "shape": (1, 5, 3)}, {"dtype": torch.uint8}, {"dtype": torch.float64},
    {"dtype": torch.int64, "down": 1}])
def test_shift_passes_for_other_options(options):
    check_shift_images(shift_images, **options)
    check_shift_images(shift_images_by_padding, **options)


def test_test_authors_errors_are_not_student_failures():
    with pytest.raises(ValueError):
        check_mixup_batch(mixup_batch, shape=(1, 3))
    with pytest.raises(ValueError):
        check_shift_images(shift_images, shape=(4, 4))


def test_each_scenario_calls_the_answer_once():
    """mixup: flat inputs, images, a missing class, lam = 1, lam = 0, float64; shifts: eight
    shifts of float32 images and one of uint8 images."""
    mixup, shift = counted(mixup_batch), counted(shift_images)
    check_mixup_batch(mixup)
    check_shift_images(shift)
    assert (mixup.calls, shift.calls) == (6, 9)


def test_the_courses_augmentation_is_not_an_answer():
    def by_the_courses_shift(images, down, right):
        shifts = torch.tensor([[down, right]] * images.shape[0])
        return augmentation.shift(images.double(), shifts).to(images.dtype)

    def by_the_courses_mixup(inputs, targets, lam, permutation, num_classes):
        _, one_hot = augmentation.mixup(inputs, targets, 0.0, generator=torch.Generator(), num_classes=num_classes)
        return lam * inputs + (1 - lam) * inputs[permutation], lam * one_hot + (1 - lam) * one_hot[permutation]

    with pytest.raises(DelegationFailure, match="shift_images\\(images, 1, 0\\) called course_lib.data.augmentation.shift"):
        check_shift_images(named("shift_images", by_the_courses_shift))
    with pytest.raises(DelegationFailure, match="called course_lib.data.augmentation.mixup"):
        check_mixup_batch(named("mixup_batch", by_the_courses_mixup))


def test_checks_leave_the_global_random_states_alone():
    assert_global_random_state_untouched(lambda: check_mixup_batch(mixup_batch))
    assert_global_random_state_untouched(lambda: check_shift_images(shift_images))


# ------------------------------------------------------------------------------ mixup mistakes

def one_hot(targets, num_classes, dtype):
    return F.one_hot(targets, num_classes).to(dtype)


MIXUP_MISTAKES = [
    (lambda x, t, lam, p, k: (lam * x + (1 - lam) * x[p], lam * t + (1 - lam) * t[p]),
     "soft_targets has shape (6,) but should have shape (6, 4): the class indices are mixed"),
    (lambda x, t, lam, p, k: ((1 - lam) * x + lam * x[p], mixup_batch(x, t, 1 - lam, p, k)[1]),
     "mixed_inputs has the wrong values: lam and 1 - lam are swapped"),
    (lambda x, t, lam, p, k: (mixup_batch(x, t, lam, p, k)[0], one_hot(t, k, x.dtype)),
     "soft_targets has the wrong values: the targets are not permuted"),
    (lambda x, t, lam, p, k: (x, mixup_batch(x, t, lam, p, k)[1]),
     "mixed_inputs has the wrong values: the inputs are not mixed with their partners"),
    (lambda x, t, lam, p, k: (mixup_batch(x, t, lam, p, k)[0], lam * one_hot(t, -1, x.dtype)
                              + (1 - lam) * one_hot(t, -1, x.dtype)[p]),
     "no sample of class 3 in the batch: soft_targets has shape (6, 3) but should have shape (6, 4): num_classes is "
     "ignored"),
    (lambda x, t, lam, p, k: (mixup_batch(x, t, lam, p, k)[0], F.one_hot(t, k) * (lam > 0.5)),
     "soft_targets has dtype torch.int64, but soft targets are fractions"),
    (lambda x, t, lam, p, k: (mixup_batch(x, t, lam, p, k)[0], lam * F.one_hot(t, k) + (1 - lam) * F.one_hot(t, k)[p]),
     "soft_targets has dtype torch.float32 but should have the inputs' dtype torch.float64"),
    (lambda x, t, lam, p, k: (lam * x + (1 - lam) * x[torch.argsort(p)], mixup_batch(x, t, lam, p, k)[1]),
     "the permutation is applied the wrong way round"),
    (lambda x, t, lam, p, k: (x.mul_(lam).add_((1 - lam) * x[p]), mixup_batch(x, t, lam, p, k)[1]),
     "mixup_batch(inputs, targets, 0.7, permutation, 4) changed its argument inputs in place"),
    (lambda x, t, lam, p, k: None, "it returned None, but a tuple of two tensors (mixed_inputs, soft_targets) is "
                                   "expected: did the function end without a `return` statement?"),
    (lambda x, t, lam, p, k: (x,), "it returned a tuple of 1 values"),
    (lambda x, t, lam, p, k: tuple(v.numpy() for v in mixup_batch(x, t, lam, p, k)),
     "mixed_inputs is a numpy array, but a torch.Tensor of shape (6, 5) is expected"),
    (lambda x, t, lam, p, k: (x * float("nan"), None), "mixed_inputs contains nan"),
]


@pytest.mark.parametrize("function, phrase", MIXUP_MISTAKES)
def test_mixup_mistakes_are_named(function, phrase, capsys):
    message = failure_message(check_mixup_batch, named("mixup_batch", function))
    assert message.startswith("mixup_batch(inputs, targets, ")
    assert phrase in message, message
    assert capsys.readouterr() == ("", "")


def test_soft_targets_of_a_mistakes_shape_name_it_only_if_it_reproduces_them():
    def class_indices_scaled(x, t, lam, p, k):
        return mixup_batch(x, t, lam, p, k)[0], 2 * lam * t + (1 - lam) * t[p]

    message = failure_message(check_mixup_batch, named("mixup_batch", class_indices_scaled))
    assert "soft_targets has shape (6,) but should have shape (6, 4)" in message
    assert "the class indices are mixed" not in message


def test_mixup_crashes_and_not_implemented_are_told():
    def not_implemented(inputs, targets, lam, permutation, num_classes):
        raise NotImplementedError()

    def crashes(inputs, targets, lam, permutation, num_classes):
        return lam * inputs + (1 - lam) * inputs[permutation][:, :2], None

    assert "replace `raise NotImplementedError()`" in failure_message(check_mixup_batch, not_implemented)
    message = failure_message(check_mixup_batch, named("mixup_batch", crashes))
    assert "mixup_batch(inputs, targets, 0.7, permutation, 4) raised RuntimeError: The size of tensor a" in message
    assert "Hint: inputs is [N, ...]" in message


# ---------------------------------------------------------------------------- shift mistakes

def slices_with_negative_ends(images, down, right):
    output = torch.zeros_like(images)
    output[:, down:, right:] = images[:, :-down, :-right]
    return output


SHIFT_MISTAKES = [
    (lambda images, down, right: torch.roll(images, (down, right), dims=(1, 2)),
     "shift_images(images, 1, 0) with images of shape (2, 5, 6) of dtype float32: the output has the wrong values: "
     "the pixels wrap around (torch.roll)"),
    (lambda images, down, right: shift_images(images, right, down), "down and right are swapped"),
    (lambda images, down, right: shift_images(images, -down, -right), "the direction is flipped"),
    (lambda images, down, right: shift_images(images, down, -right),
     "shift_images(images, 0, 2) with images of shape (2, 5, 6) of dtype float32: the output has the wrong values: "
     "the direction is flipped"),
    (slices_with_negative_ends, "shift_images(images, 1, 0) raised RuntimeError"),
    (lambda images, down, right: images.copy_(shift_images(images, down, right)),
     "shift_images(images, 1, 0) changed its argument images in place"),
    (lambda images, down, right: shift_images(images.float(), down, right),
     "of dtype uint8, as MNIST is stored: the output has dtype torch.float32 but should have dtype torch.uint8"),
    (lambda images, down, right: shift_images(images, min(down, 4), right),
     "shift_images(images, 5, 0) with images of shape (2, 5, 6) of dtype float32, a shift of the image's height: "
     "all zeros: the output differs"),
    (lambda images, down, right: None, "the output is None, but a torch.Tensor of shape (2, 5, 6) is expected"),
    (lambda images, down, right: (images, images), "it returned a tuple of 2 values"),
    (lambda images, down, right: shift_images(images, down, right).numpy(), "the output is a numpy array"),
    (lambda images, down, right: shift_images(images, down, right)[None], "the output has shape (1, 2, 5, 6)"),
]


@pytest.mark.parametrize("function, phrase", SHIFT_MISTAKES)
def test_shift_mistakes_are_named(function, phrase, capsys):
    message = failure_message(check_shift_images, named("shift_images", function))
    assert phrase in message, message
    assert capsys.readouterr() == ("", "")


def test_shift_crash_hints_fit_the_shift():
    def breaks_at_zero(images, down, right):
        if down == 0 or right == 0:
            raise RuntimeError("empty slice")
        return shift_images(images, down, right)

    def breaks_beyond(images, down, right):
        if abs(down) >= images.shape[1]:
            raise IndexError("too far")
        return shift_images(images, down, right)

    assert "Hint: with a shift of 0, a slice such as images[:, :-down]" in failure_message(
        check_shift_images, named("shift_images", breaks_at_zero))
    assert "shift_images(images, 5, 0) raised IndexError: too far\nHint: a shift of at least the image's size" in \
        failure_message(check_shift_images, named("shift_images", breaks_beyond))
    assert "replace `raise NotImplementedError()`" in failure_message(
        check_shift_images, named("shift_images", lambda *a: (_ for _ in ()).throw(NotImplementedError())))


# ------------------------------------------------------------------------- tamper-proofing

def test_checks_cannot_be_fooled_by_patched_numpy_torch_or_abs(capsys):
    with tampered(builtin_names=("abs",)):
        check_mixup_batch(mixup_batch)
        check_shift_images(shift_images_by_padding)
        assert "lam and 1 - lam are swapped" in failure_message(check_mixup_batch, named(
            "mixup_batch", lambda x, t, lam, p, k: mixup_batch(x, t, 1 - lam, p, k)))
        assert "torch.roll" in failure_message(check_shift_images, named(
            "shift_images", lambda images, down, right: torch.roll(images, (down, right), dims=(1, 2))))
    assert capsys.readouterr() == ("", "")


# --------------------------------------------------------------- the notebook's wrong answers

@pytest.mark.parametrize("grade_id, check, phrase", [
    ("mixup_batch", check_mixup_batch, "the targets are not permuted"),
    ("shift_images", check_shift_images, "the pixels wrap around (torch.roll)"),
])
def test_wrong_answer_cells_fail_with_their_mistake(grade_id, check, phrase, capsys):
    assert phrase in failure_message(check, defined_by("05_regularization", grade_id, {"np": np, "torch": torch, "F": F}))
    assert capsys.readouterr() == ("", "")
