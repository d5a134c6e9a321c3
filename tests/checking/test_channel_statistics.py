import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib import scratch
from course_lib.checking.channel_statistics import SCENARIOS, check_batch_norm2d_statistics
from course_lib.checking.failure import DelegationFailure
from tests.calls import counted
from tests.checking.failures import assert_fails_with, failure_message, named
from tests.strategies import SEEDS, assert_global_random_state_untouched, tampered


# ------------------------------------------------ right answers, as students write them

def batch_norm2d_statistics(input):
    return input.mean(dim=(0, 2, 3)), input.var(dim=(0, 2, 3), unbiased=False)


def by_channels_as_rows(input):
    rows = input.transpose(0, 1).reshape(input.shape[1], -1)  # [C, N * H * W]
    mean = rows.mean(dim=1)
    return mean, ((rows - mean[:, None]) ** 2).mean(dim=1)


@pytest.mark.parametrize("seed", SEEDS)
def test_right_answers_pass(seed, capsys):
    check_batch_norm2d_statistics(batch_norm2d_statistics, seed=seed)
    check_batch_norm2d_statistics(named("batch_norm2d_statistics", by_channels_as_rows), seed=seed)
    assert capsys.readouterr() == ("", "")


def test_the_answer_is_called_once_per_scenario():
    answer = counted(batch_norm2d_statistics)
    check_batch_norm2d_statistics(answer)
    assert answer.calls == len(SCENARIOS)


def test_the_check_leaves_the_global_random_states_alone():
    assert_global_random_state_untouched(lambda: check_batch_norm2d_statistics(batch_norm2d_statistics))


def test_torchs_and_the_courses_batch_norm_are_not_an_answer():
    def by_a_layer(input):
        layer = torch.nn.BatchNorm2d(input.shape[1], momentum=None, dtype=input.dtype)
        layer(input)
        count = input.numel() // input.shape[1]
        return layer.running_mean, layer.running_var * (count - 1) / count

    def by_torch(input):
        mean, var = torch.zeros(input.shape[1], dtype=input.dtype), torch.ones(input.shape[1], dtype=input.dtype)
        F.batch_norm(input, mean, var, training=True, momentum=1.0)
        return mean, var

    def by_the_course(input):
        mean, var = np.zeros(input.shape[1]), np.ones(input.shape[1])
        scratch.batch_norm(input.numpy(), mean, var, training=True, momentum=1.0)
        return torch.from_numpy(mean), torch.from_numpy(var)

    with pytest.raises(DelegationFailure, match="called torch.nn.BatchNorm2d"):
        check_batch_norm2d_statistics(named("batch_norm2d_statistics", by_a_layer))
    with pytest.raises(DelegationFailure, match="called torch.nn.functional.batch_norm"):
        check_batch_norm2d_statistics(named("batch_norm2d_statistics", by_torch))
    with pytest.raises(DelegationFailure, match="called course_lib.scratch.batch_norm"):
        check_batch_norm2d_statistics(named("batch_norm2d_statistics", by_the_course))


def test_a_blank_answer_gets_the_shared_advice():
    def blank(input):
        raise NotImplementedError()

    assert "replace `raise NotImplementedError()`" in failure_message(
        check_batch_norm2d_statistics, named("batch_norm2d_statistics", blank))


def test_changing_the_input_is_told():
    def centres_input(input):
        mean = input.mean(dim=(0, 2, 3))
        input -= mean.view(1, -1, 1, 1)
        return mean, (input ** 2).mean(dim=(0, 2, 3))

    assert "changed its argument input in place" in failure_message(
        check_batch_norm2d_statistics, named("batch_norm2d_statistics", centres_input))


# ------------------------------------------------------------------------------- mistakes

def over(dims, unbiased=False):
    def batch_norm2d_statistics(input):
        return input.mean(dim=dims), input.var(dim=dims, unbiased=unbiased)
    return batch_norm2d_statistics


def with_var(var):
    def batch_norm2d_statistics(input):
        return input.mean(dim=(0, 2, 3)), var(input)
    return batch_norm2d_statistics


MISTAKES = [
    (over((0, 2, 3), unbiased=True), "var has the wrong values: var is the unbiased variance"),
    (over(0), "mean has shape (3, 5, 6) but should have shape (3,), one per channel: it is taken over the "
              "batch only (dim=0)"),
    (over((2, 3)), "mean has shape (4, 3) but should have shape (3,), one per channel: it is taken over each "
                   "image's pixels only"),
    (over((1, 2, 3)), "(layer norm's statistics)"),
    (over(1), "it is taken over the channels (dim=1), one per pixel"),
    (over((0, 1, 2, 3)), "mean has shape () but should have shape (3,), one per channel: it is taken over the "
                         "whole batch at once"),
    (with_var(lambda x: x.std(dim=(0, 2, 3), unbiased=False)), "var is the standard deviation"),
    (with_var(lambda x: x.std(dim=(0, 2, 3))), "var is the (unbiased) standard deviation"),
    (with_var(lambda x: (x ** 2).mean(dim=(0, 2, 3))), "var is the mean of the squares"),
    (with_var(lambda x: x.var(dim=0, unbiased=False).mean(dim=(1, 2))), "var is taken in steps"),
    (lambda x: over((0, 2, 3))(x)[::-1], "mean has the wrong values: mean and var are swapped"),
]


@pytest.mark.parametrize("function, phrase", MISTAKES)
def test_mistakes_are_named(function, phrase):
    message = failure_message(check_batch_norm2d_statistics, named("batch_norm2d_statistics", function))
    assert message.startswith("batch_norm2d_statistics(input) with input of shape (4, 3, 5, 6): ")
    assert phrase in message
    assert "Hint: each channel c has N * H * W values" in message


def test_keepdim_is_told_by_the_shape():
    assert_fails_with(check_batch_norm2d_statistics, named("batch_norm2d_statistics", lambda x: (
        x.mean(dim=(0, 2, 3), keepdim=True), x.var(dim=(0, 2, 3), unbiased=False, keepdim=True))), [
        "mean has shape (1, 3, 1, 1) but should have shape (3,): it has an extra dimension of size 1"])


def test_a_later_scenario_is_named():
    def per_pixel_when_one_image(input):
        if input.shape[0] == 1:  # a batch of one: the statistics over N only are per pixel
            return input.mean(dim=0).flatten(1).mean(1), input.var(dim=0).flatten(1).mean(1)
        return batch_norm2d_statistics(input)

    assert_fails_with(check_batch_norm2d_statistics, named("batch_norm2d_statistics", per_pixel_when_one_image),
                      ["with input of shape (1, 3, 5, 6), a batch of one image: var"])


def test_one_value_or_a_wrong_dtype_is_told():
    assert_fails_with(check_batch_norm2d_statistics, named("batch_norm2d_statistics", lambda x: x.mean(dim=(0, 2, 3))),
                      ["returned a torch.Tensor, but a pair (mean, var) is expected"])
    assert_fails_with(check_batch_norm2d_statistics, named("batch_norm2d_statistics", lambda x: tuple(
        value.double() for value in batch_norm2d_statistics(x))),
        ["in float32: mean has dtype torch.float64 but should have dtype torch.float32"])


def test_the_check_cannot_be_fooled_by_patched_numpy_torch_or_abs(capsys):
    with tampered(builtin_names=("abs",)):
        check_batch_norm2d_statistics(batch_norm2d_statistics)
        assert "unbiased variance" in failure_message(
            check_batch_norm2d_statistics, named("batch_norm2d_statistics", over((0, 2, 3), unbiased=True)))
    assert capsys.readouterr() == ("", "")
