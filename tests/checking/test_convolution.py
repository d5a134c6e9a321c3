import pytest
import torch
import torch.nn.functional as F

from course_lib import scratch
from course_lib.checking.convolution import SCENARIOS, check_conv2d
from course_lib.checking.failure import DelegationFailure
from tests.calls import counted
from tests.checking.failures import assert_fails_with, failure_message, named
from tests.strategies import SEEDS, assert_global_random_state_untouched, tampered


# ------------------------------------------------ right answers, as students write them

def output_size(input, weight, stride, padding):
    (h, w), (kh, kw) = input.shape[2:], weight.shape[2:]
    return (h + 2 * padding - kh) // stride + 1, (w + 2 * padding - kw) // stride + 1


def conv2d(input, weight, bias=None, stride=1, padding=0):
    columns = F.unfold(input, weight.shape[2:], padding=padding, stride=stride)
    output = weight.view(weight.shape[0], -1) @ columns
    output = output.view(input.shape[0], weight.shape[0], *output_size(input, weight, stride, padding))
    return output if bias is None else output + bias.view(1, -1, 1, 1)


def conv2d_by_einsum(input, weight, bias=None, stride=1, padding=0):
    columns = F.unfold(input, tuple(weight.shape[2:]), padding=padding, stride=stride)
    output = torch.einsum("ok,nkl->nol", weight.flatten(1), columns)
    output = output.reshape(input.shape[0], -1, *output_size(input, weight, stride, padding))
    return output if bias is None else output + bias[None, :, None, None]


@pytest.mark.parametrize("seed", SEEDS)
def test_right_answers_pass(seed, capsys):
    check_conv2d(conv2d, seed=seed)
    check_conv2d(named("conv2d", conv2d_by_einsum), seed=seed)
    assert capsys.readouterr() == ("", "")


def test_the_answer_is_called_once_per_scenario():
    answer = counted(conv2d)
    check_conv2d(answer)
    assert answer.calls == len(SCENARIOS)


def test_the_check_leaves_the_global_random_states_alone():
    assert_global_random_state_untouched(lambda: check_conv2d(conv2d))


def test_torchs_convolution_and_the_courses_are_not_an_answer():
    def by_torch(input, weight, bias=None, stride=1, padding=0):
        return F.conv2d(input, weight, bias, stride, padding)

    def by_a_layer(input, weight, bias=None, stride=1, padding=0):
        layer = torch.nn.Conv2d(weight.shape[1], weight.shape[0], weight.shape[2:], stride, padding,
                                bias=bias is not None, dtype=input.dtype)
        return layer(input)

    def by_the_course(input, weight, bias=None, stride=1, padding=0):
        output = scratch.conv2d(input.numpy(), weight.numpy(), None if bias is None else bias.numpy(), stride,
                                padding)
        return torch.from_numpy(output)

    with pytest.raises(DelegationFailure, match="called torch.conv2d, which does what this exercise"):
        check_conv2d(named("conv2d", by_torch))
    with pytest.raises(DelegationFailure, match="called torch.nn.Conv2d"):
        check_conv2d(named("conv2d", by_a_layer))
    with pytest.raises(DelegationFailure, match="called course_lib.scratch.conv2d"):
        check_conv2d(named("conv2d", by_the_course))


def test_a_blank_answer_gets_the_shared_advice():
    def blank(input, weight, bias=None, stride=1, padding=0):
        raise NotImplementedError()

    assert "replace `raise NotImplementedError()`" in failure_message(check_conv2d, named("conv2d", blank))


def test_a_crash_on_shapes_gets_the_recipe():
    def unflattened_weight(input, weight, bias=None, stride=1, padding=0):
        return weight @ F.unfold(input, weight.shape[2:], padding=padding, stride=stride)

    assert_fails_with(check_conv2d, named("conv2d", unflattened_weight), [
        "conv2d(input, weight) with one image, one channel, a 3 × 3 kernel (input (1, 1, 5, 5), weight "
        "(1, 1, 3, 3)) raised RuntimeError", "Hint: columns = F.unfold(input, (kH, kW)"])


def test_an_output_size_that_does_not_fit_the_windows_gets_the_formula():
    def padding_once(input, weight, bias=None, stride=1, padding=0):
        (h, w), (kh, kw) = input.shape[2:], weight.shape[2:]
        columns = F.unfold(input, (kh, kw), padding=padding, stride=stride)
        size = (h + padding - kh) // stride + 1, (w + padding - kw) // stride + 1
        output = (weight.view(weight.shape[0], -1) @ columns).view(input.shape[0], weight.shape[0], *size)
        return output if bias is None else output + bias.view(1, -1, 1, 1)

    assert_fails_with(check_conv2d, named("conv2d", padding_once), [
        "conv2d(input, weight, bias, padding=1) with padding 1", "raised RuntimeError: shape",
        "Hint: H_out * W_out is not the number of windows F.unfold made (columns.shape[-1])"])


# ------------------------------------------------------------------------------- mistakes

def conv2d_with(*, kernels=lambda w: w.reshape(w.shape[0], -1), positions_first=False, add_bias=None,
                stride_used=True, padding_used=True, kernel_size=lambda w: w.shape[2:], reshaped=True,
                channels_last=False):
    def conv2d(input, weight, bias=None, stride=1, padding=0):
        stride, padding = (stride if stride_used else 1), (padding if padding_used else 0)
        columns = F.unfold(input, tuple(kernel_size(weight)), padding=padding, stride=stride)
        n, c_out = input.shape[0], weight.shape[0]
        size = output_size(input, weight.transpose(2, 3) if kernel_size(weight) != weight.shape[2:] else weight,
                           stride, padding)
        if positions_first:
            output = (columns.transpose(1, 2) @ kernels(weight).T).reshape(n, c_out, *size)
        elif channels_last:
            output = (columns.transpose(1, 2) @ kernels(weight).T).reshape(n, *size, c_out)
        elif not reshaped:
            return kernels(weight) @ columns
        else:
            output = (kernels(weight) @ columns).reshape(n, c_out, *size)
        if bias is None:
            return output
        return output + (bias.view(1, -1, 1, 1) if add_bias is None else add_bias(bias))
    return conv2d


VALUE_MISTAKES = [
    (conv2d_with(kernels=lambda w: w.flip(-1, -2).reshape(w.shape[0], -1)), "the kernel is flipped"),
    (conv2d_with(kernels=lambda w: w.permute(0, 2, 3, 1).reshape(w.shape[0], -1)),
     "the weight is flattened in (kH, kW, C_in) order"),
    (conv2d_with(positions_first=True), "viewed as [N, C_out, H_out, W_out] without moving C_out first"),
    (conv2d_with(add_bias=lambda b: b.view(-1, 1)), "the bias is added along the output rows"),
    (conv2d_with(add_bias=lambda b: b), "the bias is added along the output columns"),
    (conv2d_with(add_bias=lambda b: 0), "the bias is left out"),
]
SHAPE_MISTAKES = [
    (conv2d_with(stride_used=False), "stride is left out"),
    (conv2d_with(padding_used=False), "padding is left out"),
    (conv2d_with(kernel_size=lambda w: w.shape[2:][::-1]), "the kernel's sides are swapped"),
    (conv2d_with(reshaped=False), "the [N, C_out, L] product is returned as it is"),
    (conv2d_with(channels_last=True), "the channels are last, [N, H_out, W_out, C_out]"),
]


@pytest.mark.parametrize("function, phrase", VALUE_MISTAKES + SHAPE_MISTAKES)
def test_mistakes_are_named(function, phrase):
    message = failure_message(check_conv2d, named("conv2d", function))
    assert message.startswith("conv2d(input, weight")
    assert phrase in message
    assert "Hint: columns = F.unfold" in message


def test_an_unknown_mistake_says_which_entry_differs():
    def off_in_one_place(input, weight, bias=None, stride=1, padding=0):
        output = conv2d(input, weight, bias, stride, padding)
        output[0, 0, 0, 0] += 1.0
        return output

    assert_fails_with(check_conv2d, named("conv2d", off_in_one_place), [
        "differs from the expected values in 1 of 9 entries; the largest difference is at the output[0, 0, 0, 0]"])


def test_float32_must_stay_float32():
    def float64_always(input, weight, bias=None, stride=1, padding=0):
        return conv2d(input.double(), weight.double(), None if bias is None else bias.double(), stride, padding)

    assert_fails_with(check_conv2d, named("conv2d", float64_always), [
        "in float32", "has dtype torch.float64 but should have dtype torch.float32"])


def test_a_numpy_result_is_told():
    def returns_numpy(input, weight, bias=None, stride=1, padding=0):
        return conv2d(input, weight, bias, stride, padding).numpy()

    assert_fails_with(check_conv2d, named("conv2d", returns_numpy), ["is a numpy array, but a torch.Tensor"])


def test_the_check_cannot_be_fooled_by_patched_numpy_torch_or_abs(capsys):
    with tampered(builtin_names=("abs",)):
        check_conv2d(conv2d)
        assert "the kernel is flipped" in failure_message(check_conv2d, named("conv2d", VALUE_MISTAKES[0][0]))
    assert capsys.readouterr() == ("", "")
