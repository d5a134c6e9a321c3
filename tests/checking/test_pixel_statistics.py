import math

import numpy as np
import pytest
import torch

from course_lib.checking.failure import DelegationFailure
from course_lib.checking.pixel_statistics import MISTAKES, SCENARIOS, check_pixel_mean_and_std
from course_lib.data.preprocessing import flatten_and_scale, mean_and_std, pixel_mean_and_std
from tests.calls import counted
from tests.checking.failures import assert_fails_with, failure_message, named
from tests.strategies import SEEDS, assert_global_random_state_untouched, tampered


# ------------------------------------------------ right answers, as students write them

def by_numpy(images):
    pixels = np.asarray(images, dtype=np.float64) / 255
    return float(pixels.mean()), float(pixels.std())


def by_torch_in_float32(images):
    pixels = torch.as_tensor(images).float() / 255
    return pixels.mean().item(), pixels.std(correction=0).item()


def by_the_flattening_helper(images):
    pixels = flatten_and_scale(images)  # a building block of 01: float32 [N, H * W] in [0, 1]
    return pixels.mean(), pixels.std()  # numpy float32 numbers


def by_the_definition(images):
    pixels = np.asarray(images).reshape(-1) / 255
    mean = pixels.sum() / pixels.size
    return mean, math.sqrt(((pixels - mean) ** 2).sum() / pixels.size)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("answer", [by_numpy, by_torch_in_float32, by_the_flattening_helper, by_the_definition])
def test_right_answers_pass(answer, seed, capsys):
    check_pixel_mean_and_std(named("pixel_mean_and_std", answer), seed=seed)
    assert capsys.readouterr() == ("", "")


def test_the_answer_is_called_once_per_scenario():
    answer = counted(named("pixel_mean_and_std", by_numpy))
    check_pixel_mean_and_std(answer)
    assert answer.calls == len(SCENARIOS)


def test_hidden_variants_draw_other_images():
    seen = {}

    def recording(images):
        seen.setdefault(seed, []).append(np.asarray(images).copy())
        return by_numpy(images)

    for seed in (0, 1, 2):
        check_pixel_mean_and_std(named("pixel_mean_and_std", recording), seed=seed)
    for first, other in zip(seen[0], seen[1]):
        assert first.shape == other.shape
    assert not np.array_equal(seen[0][0], seen[1][0])
    assert not np.array_equal(seen[1][0], seen[2][0])


def test_the_check_leaves_the_global_random_states_alone():
    assert_global_random_state_untouched(lambda: check_pixel_mean_and_std(named("pixel_mean_and_std", by_numpy)))


def test_the_courses_statistics_are_not_an_answer():
    def by_the_course(images):
        return pixel_mean_and_std(images)

    def by_the_standardisation_helper(images):
        mean, std = mean_and_std(np.asarray(images) / 255)
        return mean, std

    with pytest.raises(DelegationFailure, match="called course_lib.data.preprocessing.pixel_mean_and_std, the "
                                                "course's own solution"):
        check_pixel_mean_and_std(named("pixel_mean_and_std", by_the_course))
    with pytest.raises(DelegationFailure, match="called course_lib.data.preprocessing.mean_and_std"):
        check_pixel_mean_and_std(named("pixel_mean_and_std", by_the_standardisation_helper))


def test_a_blank_answer_gets_the_shared_advice():
    def blank(images):
        raise NotImplementedError()

    assert "replace `raise NotImplementedError()`" in failure_message(
        check_pixel_mean_and_std, named("pixel_mean_and_std", blank))


def test_changing_the_images_in_place_is_told():
    def halves_the_images(images):
        images //= 2
        return by_numpy(images)

    assert "changed its argument images in place" in failure_message(
        check_pixel_mean_and_std, named("pixel_mean_and_std", halves_the_images))


# ------------------------------------------------------------------------------- mistakes

def unscaled(images):
    pixels = np.asarray(images, dtype=np.float64)
    return pixels.mean(), pixels.std()


def variance(images):
    pixels = np.asarray(images, dtype=np.float64) / 255
    return pixels.mean(), pixels.var()


def torchs_default_std(images):
    pixels = torch.as_tensor(images).double() / 255
    return pixels.mean().item(), pixels.std().item()


def mean_of_image_stds(images):
    pixels = np.asarray(images, dtype=np.float64).reshape(len(images), -1) / 255
    return pixels.mean(), np.mean([image.std() for image in pixels])


def std_of_image_means(images):
    pixels = np.asarray(images, dtype=np.float64).reshape(len(images), -1) / 255
    return pixels.mean(), pixels.mean(axis=1).std()


def squares_in_uint8(images):
    pixels = np.asarray(images)
    mean = pixels.mean() / 255
    return mean, np.sqrt((pixels ** 2).mean() / 255 ** 2 - mean ** 2)


def squares_in_uint8_in_torch(images):
    pixels = torch.as_tensor(images)
    mean = pixels.double().mean() / 255
    return mean.item(), ((pixels ** 2).double().mean() / 255 ** 2 - mean ** 2).sqrt().item()


def per_pixel(images):
    pixels = np.asarray(images, dtype=np.float64) / 255
    return pixels.mean(axis=0), pixels.std(axis=0)


def per_image(images):
    pixels = np.asarray(images, dtype=np.float64).reshape(len(images), -1) / 255
    return pixels.mean(axis=1), pixels.std(axis=1)


FIRST = "pixel_mean_and_std(images) with uint8 images of shape (6, 7, 5)"
MISTAKE_CASES = [
    (unscaled, "the pixels are not scaled into [0, 1]"),
    (variance, "std is the variance: take its square root."),
    (torchs_default_std, "std is the sample standard deviation"),
    (mean_of_image_stds, "std is the mean of each image's own standard deviation"),
    (std_of_image_means, "std is the standard deviation of the images' mean values"),
    (squares_in_uint8, "the squares of the uint8 pixels wrap around"),
    (squares_in_uint8_in_torch, "the squares of the uint8 pixels wrap around"),
    (lambda images: by_numpy(images)[::-1], "mean and std are swapped"),
    (per_pixel, "returned mean as a numpy array of shape (7, 5), but a float is expected: one per pixel position"),
    (per_image, "returned mean as a numpy array of shape (6,), but a float is expected: one per image"),
]


@pytest.mark.parametrize("function, phrase", MISTAKE_CASES)
def test_mistakes_are_named(function, phrase):
    message = failure_message(check_pixel_mean_and_std, named("pixel_mean_and_std", function))
    assert message.startswith(FIRST)
    assert phrase in message
    assert "Hint: scale the pixels into [0, 1] as floats" in message


@pytest.mark.parametrize("seed", SEEDS)
def test_mistakes_are_named_for_hidden_variants_too(seed):
    for function, phrase in MISTAKE_CASES:
        assert phrase in failure_message(check_pixel_mean_and_std, named("pixel_mean_and_std", function), seed=seed)


def test_the_sample_std_shows_on_the_checks_few_pixels():
    # which is what the check relies on: on all of MNIST the two agree to eight digits
    images = np.zeros((2, 2, 3), dtype=np.uint8)
    images[0, 0] = 255
    assert torchs_default_std(images)[1] / pixel_mean_and_std(images)[1] == pytest.approx(math.sqrt(12 / 11))


def test_an_unknown_mistake_says_what_differs_without_a_cause():
    def std_a_little_large(images):
        mean, std = by_numpy(images)
        return mean, std * 1.01

    message = failure_message(check_pixel_mean_and_std, named("pixel_mean_and_std", std_a_little_large))
    assert message.startswith(f"{FIRST}: std is 0.")
    assert ", expected 0." in message
    for wrong in MISTAKES:
        assert wrong.explanation not in message


def test_a_mistake_in_one_scenario_only_is_told_there():
    def wrong_for_tensors(images):
        if isinstance(images, torch.Tensor):  # statistics of the first image only
            images = images[:1]
        return by_numpy(images)

    assert_fails_with(check_pixel_mean_and_std, named("pixel_mean_and_std", wrong_for_tensors), [
        "with uint8 images of shape (5, 1, 6, 7), a torch tensor [N, 1, H, W]: mean is"])


def test_tensors_and_missing_pairs_are_told():
    assert_fails_with(check_pixel_mean_and_std, named("pixel_mean_and_std", lambda images: tuple(
        torch.tensor(value) for value in by_numpy(images))),
        ["(6, 7, 5): mean is a torch.Tensor of shape (), but a number is expected: .item() takes the number out"])
    assert_fails_with(check_pixel_mean_and_std, named("pixel_mean_and_std", lambda images: by_numpy(images)[0]),
                      ["returned a float, but a pair (mean, std) is expected"])


@pytest.mark.parametrize("function, hint", [
    (lambda images: (torch.as_tensor(images).mean().item() / 255, 0.0), "torch's mean and std need floats"),
    (lambda images: by_numpy(images.astype(np.float64)), "np.asarray(images) makes a numpy array of either"),
    (lambda images: (0.1, math.sqrt(float((np.asarray(images) ** 2).mean()) / 255 ** 2 - (images.mean() / 255) ** 2)),
     "math.sqrt was given a negative variance"),
])
def test_crashes_of_uint8_images_and_tensors_get_advice(function, hint):
    message = failure_message(check_pixel_mean_and_std, named("pixel_mean_and_std", function))
    assert " raised " in message and "\nHint: " in message and hint in message.split("\nHint: ")[1]


def test_the_check_cannot_be_fooled_by_patched_numpy_torch_or_builtins(capsys):
    with tampered(builtin_names=("abs", "all", "round", "sum", "max", "min")):
        check_pixel_mean_and_std(named("pixel_mean_and_std", by_numpy))
        assert "the sample standard deviation" in failure_message(
            check_pixel_mean_and_std, named("pixel_mean_and_std", torchs_default_std))
    assert capsys.readouterr() == ("", "")
