import math

import pytest
import torch
import torch.nn.functional as F

from course_lib import scratch
from course_lib.checking.failure import DelegationFailure
from course_lib.checking.output_sizes import (
    CONV_CASES, POOL_CASES, RANDOM_CASES, check_conv_output_size, check_pool_output_size,
)
from tests.calls import counted
from tests.checking.failures import assert_fails_with, failure_message, named
from tests.strategies import SEEDS, assert_global_random_state_untouched, tampered


# ------------------------------------------------ right answers, as students write them

def conv_output_size(input_size, kernel_size, stride=1, padding=0, dilation=1):
    return (input_size + 2 * padding - dilation * (kernel_size - 1) - 1) // stride + 1


def pool_output_size(input_size, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    if stride is None:
        stride = kernel_size
    extent = input_size + 2 * padding - dilation * (kernel_size - 1) - 1
    if not ceil_mode:
        return extent // stride + 1
    size = math.ceil(extent / stride) + 1
    if (size - 1) * stride >= input_size + padding:
        size -= 1
    return size


@pytest.mark.parametrize("seed", SEEDS)
def test_right_answers_and_the_references_pass(seed, capsys):
    check_conv_output_size(conv_output_size, seed=seed)
    check_pool_output_size(pool_output_size, seed=seed)
    assert capsys.readouterr() == ("", "")


def test_every_case_is_one_call():
    conv, pool = counted(conv_output_size), counted(pool_output_size)
    check_conv_output_size(conv)
    check_pool_output_size(pool)
    assert (conv.calls, pool.calls) == (len(CONV_CASES) + RANDOM_CASES, len(POOL_CASES) + RANDOM_CASES)


def test_the_check_leaves_the_global_random_states_alone():
    assert_global_random_state_untouched(lambda: check_conv_output_size(conv_output_size, seed=4))


def test_torchs_layers_and_the_courses_sizes_are_not_an_answer():
    def by_torch(input_size, kernel_size, stride=1, padding=0, dilation=1):
        return F.conv1d(torch.zeros(1, 1, input_size), torch.zeros(1, 1, kernel_size), stride=stride,
                        padding=padding, dilation=dilation).shape[-1]

    def by_a_layer(input_size, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
        layer = torch.nn.MaxPool2d(kernel_size, stride, padding, dilation, ceil_mode=ceil_mode)
        return layer(torch.zeros(1, 1, input_size, input_size)).shape[-1]

    with pytest.raises(DelegationFailure, match="called torch.conv1d"):
        check_conv_output_size(named("conv_output_size", by_torch))
    with pytest.raises(DelegationFailure, match="called torch.nn.MaxPool2d"):
        check_pool_output_size(named("pool_output_size", by_a_layer))
    with pytest.raises(DelegationFailure, match="called course_lib.scratch.conv_output_size, the course's own"):
        check_conv_output_size(named("conv_output_size", lambda *args, **kwargs: scratch.conv_output_size(
            *args, **kwargs)))


def test_a_blank_answer_gets_the_shared_advice():
    def blank(input_size, kernel_size, stride=1, padding=0, dilation=1):
        raise NotImplementedError()

    assert "replace `raise NotImplementedError()`" in failure_message(
        check_conv_output_size, named("conv_output_size", blank))


# ------------------------------------------------------------------------------- mistakes

def conv_with(span=lambda k, d: d * (k - 1) + 1, padded=lambda n, p: n + 2 * p, rounding=math.floor, plus=1,
              use_stride=True):
    def conv_output_size(input_size, kernel_size, stride=1, padding=0, dilation=1):
        stride = stride if use_stride else 1
        extent = padded(input_size, padding) - span(kernel_size, dilation)
        return int(rounding(extent / stride)) + plus
    return conv_output_size


CONV_MISTAKES = [
    (conv_with(span=lambda k, d: k), "dilation is left out"),
    (conv_with(span=lambda k, d: d * k), "span dilation * kernel_size positions"),
    (conv_with(padded=lambda n, p: n + p), "padding is counted once"),
    (conv_with(rounding=math.ceil), "the division by stride is rounded up"),
    (conv_with(plus=0), "the + 1 is missing"),
    (conv_with(use_stride=False), "stride is left out"),
]


@pytest.mark.parametrize("function, phrase", CONV_MISTAKES)
def test_conv_mistakes_are_named(function, phrase):
    message = failure_message(check_conv_output_size, named("conv_output_size", function))
    assert message.startswith("conv_output_size(28, ")
    assert phrase in message
    assert "Hint: output = floor(" in message


def pool_with(default_stride=None, ceil_mode_used=True, drop_last_window=True, ceil=None):
    def pool_output_size(input_size, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
        if stride is None:
            stride = kernel_size if default_stride is None else default_stride
        extent = input_size + 2 * padding - dilation * (kernel_size - 1) - 1
        if not (ceil_mode and ceil_mode_used):
            return extent // stride + 1
        size = (ceil or (lambda e, s: math.ceil(e / s)))(extent, stride) + 1
        if drop_last_window and (size - 1) * stride >= input_size + padding:
            size -= 1
        return size
    return pool_output_size


POOL_MISTAKES = [
    (pool_with(default_stride=1), "stride=None is taken as 1"),
    (pool_with(ceil_mode_used=False), "ceil_mode is ignored"),
    (pool_with(drop_last_window=False), "a window that would start in the right padding is kept"),
    (pool_with(ceil=lambda e, s: e // s + 1, drop_last_window=False), "ceil_mode=True adds one window always"),
]


@pytest.mark.parametrize("function, phrase", POOL_MISTAKES)
def test_pool_mistakes_are_named(function, phrase):
    message = failure_message(check_pool_output_size, named("pool_output_size", function))
    assert message.startswith("pool_output_size(")
    assert phrase in message


def test_a_conv_mistake_made_in_pooling_is_named_too():
    def no_dilation(input_size, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
        return pool_with()(input_size, kernel_size, stride, padding, 1, ceil_mode)

    message = failure_message(check_pool_output_size, named("pool_output_size", no_dilation))
    assert "pool_output_size(9, 3, stride=2, dilation=2) (case 6 of 15: dilation; cases 1–5 are right)" \
        in message
    assert "dilation is left out" in message


def test_two_mistakes_at_once_name_no_cause_but_the_case_and_the_sizes():
    def two_mistakes(input_size, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
        return pool_with(default_stride=1, ceil_mode_used=False)(input_size, kernel_size, stride, padding,
                                                                 dilation, ceil_mode)

    message = failure_message(check_pool_output_size, named("pool_output_size", two_mistakes))
    assert message.startswith("pool_output_size(28, 2) (case 1 of 15: the default stride) returned 27, "
                              "expected 14.\nHint: stride defaults to kernel_size")


def test_a_float_or_no_return_is_told_before_the_values():
    def divides(input_size, kernel_size, stride=1, padding=0, dilation=1):
        return (input_size + 2 * padding - dilation * (kernel_size - 1) - 1) / stride + 1

    def prints(input_size, kernel_size, stride=1, padding=0, dilation=1):
        print(conv_output_size(input_size, kernel_size, stride, padding, dilation))

    assert_fails_with(check_conv_output_size, named("conv_output_size", divides),
                      ["conv_output_size(28, 5) returned 24.0, a float, but the int 24 is expected"])
    assert_fails_with(check_conv_output_size, named("conv_output_size", prints),
                      ["returned None", "without a `return` statement"])


def test_a_wrong_parameter_order_is_told_by_the_positional_case():
    def dilation_before_stride(input_size, kernel_size, dilation=1, stride=1, padding=0):
        return conv_output_size(input_size, kernel_size, stride, padding, dilation)

    message = failure_message(check_conv_output_size, named("conv_output_size", dilation_before_stride))
    assert message.startswith("conv_output_size(11, 3, 2, 1, 2) (case 9 of 15: every argument by position; "
                              "cases 1–8 are right)")


def test_the_check_cannot_be_fooled_by_patched_numpy_torch_or_builtins(capsys):
    with tampered(builtin_names=("abs", "all", "round", "max", "min")):
        check_conv_output_size(conv_output_size)
        assert "padding is counted once" in failure_message(
            check_conv_output_size, named("conv_output_size", conv_with(padded=lambda n, p: n + p)))
    assert capsys.readouterr() == ("", "")


def test_a_missing_parameter_is_told_with_the_signature():
    def without_ceil_mode(input_size, kernel_size, stride=None, padding=0, dilation=1):
        return pool_output_size(input_size, kernel_size, stride, padding, dilation)

    assert_fails_with(check_pool_output_size, named("pool_output_size", without_ceil_mode), [
        "pool_output_size(28, 3, ceil_mode=True) raised TypeError",
        "the signature is pool_output_size(input_size, kernel_size, stride=None, padding=0, dilation=1, "
        "ceil_mode=False)"])
