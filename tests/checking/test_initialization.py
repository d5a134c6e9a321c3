import math

import numpy as np
import pytest
import torch

from course_lib.checking.failure import CheckFailure, DelegationFailure
from course_lib.checking.harness import trusted
from course_lib.checking.initialization import check_kaiming_normal
from course_lib.scratch import init
from course_lib.scratch.init import calculate_fan_in_and_fan_out, calculate_gain
from tests.checking import failures
from tests.grading.answer_cells import solution
from tests.strategies import SEEDS, assert_global_random_state_untouched, tampered

kaiming_normal_ = solution("02_backprop", "kaiming_normal_")

SHAPES = [(256, 512), (512, 256), (16, 8, 3, 3), (7, 5), (1, 1), (3, 1), (1, 2000), (2000, 1)]


def failure_message(function, **kwargs):
    return failures.failure_message(check_kaiming_normal, function, **kwargs)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_solution_passes(shape, dtype):
    for seed in SEEDS:
        check_kaiming_normal(kaiming_normal_, seed=seed, shape=shape, dtype=dtype)


def test_check_rejects_shapes_without_fans():
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        check_kaiming_normal(kaiming_normal_, shape=(5,))


# Wrong answers students write, each from a formula for the standard deviation, or a way
# of filling the tensor.

def with_std(std_of, *, draw=None):
    """kaiming_normal_ that draws N(0, std_of(gain, fan_in, fan_out, mode, shape)²)."""

    def wrong_kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
        generator = np.random.default_rng() if generator is None else generator
        fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
        std = std_of(calculate_gain(nonlinearity, a), fan_in, fan_out, mode, tensor.shape)
        tensor[...] = (draw or (lambda rng, s, size: rng.normal(0.0, s, size)))(generator, std, tensor.shape)
        return tensor

    return wrong_kaiming_normal_


def right(gain, fan_in, fan_out, mode, shape):
    return gain / math.sqrt(fan_in if mode == "fan_in" else fan_out)


def by_fan(fan_std):
    return lambda gain, fan_in, fan_out, mode, shape: fan_std(gain, fan_in if mode == "fan_in" else fan_out)


def fill(write):
    """kaiming_normal_ computing the right values, then handling tensor with `write`."""

    def wrong_kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
        generator = np.random.default_rng() if generator is None else generator
        fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
        std = right(calculate_gain(nonlinearity, a), fan_in, fan_out, mode, tensor.shape)
        return write(tensor, generator, std)

    return wrong_kaiming_normal_


def assigned(tensor, generator, std):
    tensor[...] = generator.normal(0.0, std, tensor.shape)
    return tensor


def rebinds(tensor, generator, std):
    tensor = generator.normal(0.0, std, tensor.shape)
    return tensor


def returns_nothing(tensor, generator, std):
    assigned(tensor, generator, std)


def returns_a_copy(tensor, generator, std):
    return assigned(tensor, generator, std).copy()


def adds(tensor, generator, std):
    tensor += generator.normal(0.0, std, tensor.shape)
    return tensor


def fills_the_first_row(tensor, generator, std):
    tensor[0] = generator.normal(0.0, std, tensor.shape[1:])
    return tensor


def fills_a_constant(tensor, generator, std):
    tensor[...] = std
    return tensor


def global_random_state(tensor, generator, std):
    tensor[...] = np.random.normal(0.0, std, tensor.shape)
    return tensor


def own_seed(tensor, generator, std):
    tensor[...] = np.random.default_rng(0).normal(0.0, std, tensor.shape)
    return tensor


def loc_and_scale_swapped(tensor, generator, std):
    tensor[...] = generator.normal(std, size=tensor.shape)
    return tensor


def needs_a_generator(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    tensor[...] = generator.normal(0.0, right(calculate_gain(nonlinearity, a), fan_in, fan_out, mode, None), tensor.shape)
    return tensor


def uniform(rng, std, size):
    return rng.uniform(-math.sqrt(3) * std, math.sqrt(3) * std, size)


STD_CAUSE = "gave values with standard deviation"
WRONG = [
    (with_std(by_fan(lambda gain, fan: 1 / math.sqrt(fan))),
     "kaiming_normal_(tensor, generator=rng), with tensor of shape (256, 512), gave values with standard deviation 0.044"),
    (with_std(by_fan(lambda gain, fan: 1 / math.sqrt(fan))),
     "but it should be 0.0625 (within ±1.0%): gain / sqrt(fan) with gain = calculate_gain('leaky_relu', 0) = 1.41421 "
     "and fan = fan_in = 512. Instead, that is 1 / sqrt(fan) (LeCun's, or Xavier's for a square layer), without the gain."),
    (with_std(by_fan(lambda gain, fan: gain ** 2 / fan)), "Instead, that is gain² / fan, the variance"),
    (with_std(by_fan(lambda gain, fan: gain / fan)), "Instead, that is gain / fan: the square root of fan is missing."),
    (with_std(lambda gain, fan_in, fan_out, mode, shape: gain / math.sqrt(fan_out if mode == "fan_in" else fan_in)),
     "kaiming_normal_(tensor, generator=rng), with tensor of shape (256, 512), gave values with standard deviation "),
    (with_std(lambda gain, fan_in, fan_out, mode, shape: gain / math.sqrt(fan_out if mode == "fan_in" else fan_in)),
     "Instead, that uses fan_out = 256 instead of fan_in = 512. A weight has shape (out_features, in_features, *kernel)"),
    (with_std(lambda gain, fan_in, fan_out, mode, shape: gain / math.sqrt(fan_in)),
     "kaiming_normal_(tensor, mode='fan_out', generator=rng), with tensor of shape (256, 512), gave values with standard deviation"),
    (with_std(lambda gain, fan_in, fan_out, mode, shape: gain / math.sqrt(fan_in)),
     "Instead, that uses fan_in = 512 although mode='fan_out': mode chooses the fan, and fan_out = 256 here."),
    (with_std(lambda gain, fan_in, fan_out, mode, shape: math.sqrt(2 / fan_in) if mode == "fan_in" else math.sqrt(2 / fan_out)),
     "kaiming_normal_(tensor, nonlinearity='tanh', generator=rng), with tensor of shape (256, 512), gave values with "
     "standard deviation 0.06"),
    (with_std(lambda gain, fan_in, fan_out, mode, shape: math.sqrt(2 / fan_in) if mode == "fan_in" else math.sqrt(2 / fan_out)),
     "Instead, that is sqrt(2 / fan), ReLU's gain √2, whatever the nonlinearity: use gain = calculate_gain(nonlinearity, a), "
     "which is 1.66667 for nonlinearity='tanh', a=0."),
    (with_std(lambda gain, fan_in, fan_out, mode, shape: gain * math.sqrt(2 / (fan_in + fan_out))),
     "Instead, that uses Xavier's average (fan_in + fan_out) / 2 for the fan"),
    (with_std(by_fan(lambda gain, fan: 1.0)), "Instead, that is the standard deviation of standard normal values"),
    (with_std(right, draw=lambda rng, std, size: rng.uniform(-std, std, size)),
     "Instead, that is the standard deviation of values uniform in (-std, std)"),
    (with_std(right, draw=uniform),
     "kaiming_normal_(tensor, generator=rng), with tensor of shape (256, 512), gave values that are not normally "
     "distributed: 0.00% of them lie more than 2 standard deviations from the mean, where a normal distribution puts 4.55%"),
    (fill(rebinds),
     "kaiming_normal_(tensor, generator=rng) returned a new array and left tensor unchanged; the new array is float64, "
     "but tensor is float32 — generator.normal always returns float64, and an initialiser must keep the tensor's dtype. "
     "Fill it in place: tensor[...] = generator.normal(0.0, std, size=tensor.shape) writes into the array it was given"),
    (fill(returns_nothing),
     "kaiming_normal_(tensor, generator=rng) returned None rather than tensor itself: end with `return tensor`"),
    (fill(returns_a_copy), "kaiming_normal_(tensor, generator=rng) returned another array rather than tensor itself"),
    (fill(adds),
     "kaiming_normal_(tensor, generator=rng), with tensor of shape (256, 512), gave values with mean 0.999959, which is what "
     "tensor held before the call: assign the values, tensor[...] = ..., rather than adding them with +=."),
    (fill(fills_the_first_row),
     "kaiming_normal_(tensor, generator=rng) left 130560 of 131072 entries of tensor as they were: fill every entry"),
    (fill(fills_a_constant),
     "kaiming_normal_(tensor, generator=rng), with tensor of shape (256, 512), set every entry to 0.0625"),
    (fill(global_random_state),
     "kaiming_normal_(tensor, generator=rng) gave different values for two generators seeded alike: draw from the generator "
     "passed in (generator.normal), not from np.random's global state"),
    (fill(own_seed),
     "kaiming_normal_(tensor, generator=rng) gave the same values for generators seeded differently"),
    (fill(loc_and_scale_swapped),
     "but they should be centred on 0 (within ±0.0138 for 131072 values): generator.normal(loc=0.0, scale=std, "
     "size=tensor.shape) — loc is the mean."),
    (needs_a_generator,
     "kaiming_normal_(tensor), without a generator, raised AttributeError: 'NoneType' object has no attribute "
     "'normal'\nHint: generator defaults to None, and then there is no generator to draw from"),
]


@pytest.mark.parametrize("function, message", WRONG, ids=[f"{i}" for i in range(len(WRONG))])
def test_wrong_answers_fail_with_the_reason(function, message):
    assert message in failure_message(function)


def test_answers_that_delegate_fail():
    with pytest.raises(DelegationFailure, match="called course_lib.scratch.kaiming_normal_"):
        check_kaiming_normal(init.kaiming_normal_)

    def with_torch(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
        values = torch.nn.init.kaiming_normal_(torch.empty(tensor.shape), a=a, mode=mode, nonlinearity=nonlinearity)
        tensor[...] = values.numpy()
        return tensor
    with pytest.raises(DelegationFailure, match="called torch.nn.init.kaiming_normal_"):
        check_kaiming_normal(with_torch)


def test_other_right_answers_pass():
    check_kaiming_normal(fill(assigned))
    check_kaiming_normal(with_std(right, draw=lambda rng, std, size: std * rng.standard_normal(size)))


def test_a_conv_weight_needs_the_kernel_size_in_its_fan():
    def without_kernel(gain, fan_in, fan_out, mode, shape):
        return gain / math.sqrt(shape[1] if mode == "fan_in" else shape[0])

    message = failure_message(with_std(without_kernel), shape=(64, 32, 3, 3))
    assert "and fan = fan_in = 288. Instead, that leaves out the kernel size: for a weight of shape " \
           "(64, 32, 3, 3), fan_in = 32 × 9 = 288." in message


def test_gain_mistakes_are_told_apart_by_the_settings_passed_before():
    relu_gain_always = with_std(by_fan(lambda gain, fan: math.sqrt(2 / fan)))
    message = failure_message(relu_gain_always)
    assert message.startswith("kaiming_normal_(tensor, nonlinearity='tanh', generator=rng)")
    assert "Instead, that is sqrt(2 / fan), ReLU's gain √2, whatever the nonlinearity" in message

    def slope_left_out(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
        fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
        std = calculate_gain(nonlinearity) / math.sqrt(fan_in if mode == "fan_in" else fan_out)
        tensor[...] = generator.normal(0.0, std, tensor.shape)
        return tensor

    message = failure_message(slope_left_out)
    assert message.startswith("kaiming_normal_(tensor, a=2.23606797749979, generator=rng)")
    assert message.endswith("Instead, that uses calculate_gain('leaky_relu') = 1.41414, for torch's default slope "
                            "0.01: pass the slope, calculate_gain(nonlinearity, a) = 0.57735.")


def test_mode_ignored_is_told_apart_from_a_missing_gain():
    """With fan_in = 2 fan_out, gain / sqrt(fan_in) is also 1 / sqrt(fan_out); the first call,
    with mode="fan_in", passed, so the gain is there."""
    message = failure_message(with_std(lambda gain, fan_in, fan_out, mode, shape: gain / math.sqrt(fan_in)))
    assert message.endswith("Instead, that uses fan_in = 512 although mode='fan_out': mode chooses the fan, "
                            "and fan_out = 256 here.")


def test_a_std_that_fits_two_mistakes_names_both():
    message = failure_message(with_std(by_fan(lambda gain, fan: 1 / math.sqrt(fan))), shape=(128, 64))
    assert "without the gain" in message and "Or, that uses fan_out = 128 instead of fan_in = 64" in message


@pytest.mark.parametrize("seed", SEEDS)
def test_mistakes_are_named_for_other_seeds_shapes_and_dtypes(seed):
    xavier = with_std(by_fan(lambda gain, fan: 1 / math.sqrt(fan)))
    for shape, dtype in [((128, 64), np.float64), ((32, 16, 3, 3), np.float32)]:
        assert "without the gain" in failure_message(xavier, seed=seed, shape=shape, dtype=dtype)
        assert "is float64, but tensor is" not in failure_message(fill(rebinds), seed=seed, shape=shape, dtype=np.float64)


def test_a_small_tensor_is_only_checked_loosely_but_never_fails_a_right_answer():
    check_kaiming_normal(with_std(by_fan(lambda gain, fan: 1 / math.sqrt(fan))), shape=(3, 2))
    assert "returned None" in failure_message(fill(returns_nothing), shape=(3, 2))


def test_agrees_with_torch_on_the_standard_deviation():
    """The check's idea of std is torch.nn.init.kaiming_normal_'s, measured on torch's own draws."""

    def torch_kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
        seed = int((generator or np.random.default_rng()).integers(2 ** 31))
        values = torch.empty(tensor.shape, dtype=torch.float64)
        # run unwatched: this test is about the statistics, not about delegating
        trusted(torch.nn.init.kaiming_normal_)(values, a=a, mode=mode, nonlinearity=nonlinearity,
                                               generator=torch.Generator().manual_seed(seed))
        tensor[...] = values.numpy()
        return tensor

    for shape in [(256, 512), (16, 8, 3, 3)]:
        check_kaiming_normal(torch_kaiming_normal_, shape=shape)


def test_check_leaves_the_students_random_state_alone():
    assert_global_random_state_untouched(lambda: check_kaiming_normal(kaiming_normal_))


def test_check_cannot_be_fooled_by_patched_numpy_torch_or_builtins():
    xavier = with_std(by_fan(lambda gain, fan: 1 / math.sqrt(fan)))
    with tampered():
        check_kaiming_normal(kaiming_normal_)
        with pytest.raises(CheckFailure) as caught:
            check_kaiming_normal(xavier)
    assert "without the gain" in str(caught.value)
