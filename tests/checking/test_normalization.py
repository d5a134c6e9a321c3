import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib import scratch
from course_lib.checking.failure import DelegationFailure
from course_lib.checking.normalization import check_batch_norm_forward
from tests.calls import counted
from tests.checking.failures import assert_fails_with, failure_message, named
from tests.grading.wrong_answers import defined_by
from tests.strategies import SEEDS, assert_global_random_state_untouched, tampered


# ------------------------------------------------ the right answer, as students write it

def batch_norm_forward(input, weight, bias, eps=1e-5):
    mean = input.mean(axis=0)
    var = input.var(axis=0)
    return (input - mean) / np.sqrt(var + eps) * weight + bias


def test_the_right_answer_passes(capsys):
    for seed in SEEDS:
        check_batch_norm_forward(batch_norm_forward, seed=seed)
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize("options", [
    {"shape": (2, 1)}, {"shape": (2, 7)}, {"shape": (30, 3)}, {"shape": (5, 5)},
    {"dtype": np.float32}, {"seed": 3, "shape": (4, 2), "dtype": np.float32}, {"eps": 1e-3}])
def test_the_right_answer_passes_for_other_shapes_dtypes_and_eps(options):
    check_batch_norm_forward(batch_norm_forward, **options)


def test_test_authors_errors_are_not_student_failures():
    with pytest.raises(ValueError, match="N >= 2"):
        check_batch_norm_forward(batch_norm_forward, shape=(1, 3))
    with pytest.raises(ValueError, match="float32 or float64"):
        check_batch_norm_forward(batch_norm_forward, dtype=np.int64)


def test_the_check_leaves_the_global_random_states_alone():
    assert_global_random_state_untouched(lambda: check_batch_norm_forward(batch_norm_forward))


def test_each_scenario_calls_the_answer_once():
    """weight 1 and bias 0; random weight and bias; N = 2; constant columns; eps=0.1; float32."""
    answer = counted(batch_norm_forward)
    check_batch_norm_forward(answer)
    assert answer.calls == 6


@pytest.mark.parametrize("delegating, name", [
    (lambda input, weight, bias, eps=1e-5: F.batch_norm(
        torch.from_numpy(input), None, None, torch.from_numpy(weight), torch.from_numpy(bias), training=True,
        eps=eps).numpy(), "torch.nn.functional.batch_norm"),
    (lambda input, weight, bias, eps=1e-5: torch.batch_norm(
        torch.from_numpy(input), torch.from_numpy(weight), torch.from_numpy(bias), None, None, True, 0.0, eps,
        False).numpy(), "torch.batch_norm"),
    (lambda input, weight, bias, eps=1e-5: scratch.batch_norm(
        input, np.zeros(input.shape[1]), np.ones(input.shape[1]), weight, bias, training=True, eps=eps),
     "course_lib.scratch.batch_norm"),
])
def test_torchs_and_the_courses_batch_norm_are_not_an_answer(delegating, name):
    with pytest.raises(DelegationFailure, match=f"batch_norm_forward\\(input, weight, bias\\) called {name}"):
        check_batch_norm_forward(named("batch_norm_forward", delegating))


# ------------------------------------------------------------------------------- mistakes

def forward_with(*, var=lambda x: x.var(axis=0), eps_outside=False, affine=lambda z, w, b: z * w + b,
                 axis=0, eps=None, root=np.sqrt):
    def batch_norm_forward(input, weight, bias, eps_=1e-5, **keywords):
        used = keywords.get("eps", eps_) if eps is None else eps
        centred = input - input.mean(axis=axis, keepdims=True)
        spread = var(input) if axis == 0 else input.var(axis=1, keepdims=True)
        normalized = centred / (np.sqrt(spread) + used) if eps_outside else centred / root(spread + used)
        return affine(normalized, weight, bias)
    return batch_norm_forward


FORWARD_MISTAKES = [
    (forward_with(var=lambda x: x.var(axis=0, ddof=1)), "the variance is the unbiased one"),
    (forward_with(eps_outside=True), "eps is added to the standard deviation, (input - mean) / (std + eps)"),
    (forward_with(axis=1), "taken over each sample's features (axis=1)"),
    (forward_with(affine=lambda z, w, b: z), "weight and bias are ignored"),
    (forward_with(affine=lambda z, w, b: z + b), "weight is ignored"),
    (forward_with(affine=lambda z, w, b: z * w), "bias is ignored"),
    (forward_with(affine=lambda z, w, b: z * b + w), "weight and bias are swapped"),
    (forward_with(var=lambda x: x.std(axis=0)), "the standard deviation is used where the variance goes"),
    (forward_with(root=lambda v: v), "the square root is missing"),
    (forward_with(eps=0.0), "eps is missing"),
    (forward_with(eps=1e-5), "the eps passed in is ignored: 1e-05 was used instead of eps=0.1"),
]


@pytest.mark.parametrize("function, phrase", FORWARD_MISTAKES)
def test_forward_mistakes_are_named(function, phrase, capsys):
    message = failure_message(check_batch_norm_forward, named("batch_norm_forward", function))
    assert message.startswith("batch_norm_forward(input, weight, bias")
    assert phrase in message
    assert capsys.readouterr() == ("", "")


def test_forward_messages_say_the_call_and_the_scenario():
    assert_fails_with(check_batch_norm_forward, named("batch_norm_forward", forward_with(eps_outside=True)), [
        "batch_norm_forward(input, weight, bias) with input of shape (6, 4), weight = 1 and bias = 0: the output has "
        "the wrong values: eps is added to the standard deviation",
        "Hint: each column j"])


def test_an_output_no_mistake_explains_names_no_cause():
    message = failure_message(check_batch_norm_forward, named(
        "batch_norm_forward", lambda input, weight, bias, eps=1e-5: batch_norm_forward(input, weight, bias, eps) + 0.01))
    assert "the output differs from the expected values" in message and "wrong values" not in message


def test_nan_in_a_constant_column_is_explained():
    def nan_where_constant(input, weight, bias, eps=1e-5):
        output = batch_norm_forward(input, weight, bias, eps)
        output[:, input.var(axis=0) == 0] = np.nan
        return output

    message = failure_message(check_batch_norm_forward, named("batch_norm_forward", nan_where_constant))
    assert "the output is nan in column 0, where the input is constant (variance 0)" in message
    assert "Hint: add eps inside the square root" in message


def test_float32_input_must_give_float32_output():
    def in_float64(input, weight, bias, eps=1e-5):
        return batch_norm_forward(input.astype(np.float64), weight, bias, eps)

    assert_fails_with(check_batch_norm_forward, named("batch_norm_forward", in_float64), [
        "with input of shape (6, 4) of dtype float32: the output has dtype float64 but should have dtype float32"])


def test_modifying_the_input_is_told():
    def normalises_in_place(input, weight, bias, eps=1e-5):
        input -= input.mean(axis=0)
        input /= np.sqrt(input.var(axis=0) + eps)
        return input * weight + bias

    assert_fails_with(check_batch_norm_forward, named("batch_norm_forward", normalises_in_place), [
        "batch_norm_forward(input, weight, bias) changed its argument input in place"])


# ------------------------------------------------------------ garbage, crashes, NotImplemented

def test_not_implemented_is_told_to_be_replaced():
    def not_implemented(input, weight, bias, eps=1e-5):
        raise NotImplementedError()

    assert "replace `raise NotImplementedError()`" in failure_message(
        check_batch_norm_forward, named("batch_norm_forward", not_implemented))


def test_crashes_are_reported_with_the_error():
    def crashes(input, weight, bias, eps=1e-5):
        return input / input.sum(axis=1)

    assert_fails_with(check_batch_norm_forward, named("batch_norm_forward", crashes), [
        "batch_norm_forward(input, weight, bias) raised ValueError: operands could not be broadcast",
        "Hint: input is [N, C]"])


@pytest.mark.parametrize("result, phrase", [
    (None, "the output is None, but a numpy array of shape (6, 4) is expected: did the function end without a `return`"),
    ("text", "the output is a str"),
    ((np.zeros((6, 4)), None), "returned a tuple of 2 values, but only the output is expected"),
    (np.zeros((4, 6)), "the output has shape (4, 6) but should have shape (6, 4): it looks transposed"),
    (np.full((6, 4), np.nan), "the output contains nan"),
    (np.zeros((6, 4), dtype=int), "the output has dtype int64 but should have dtype float64"),
])
def test_forward_garbage_is_told(result, phrase):
    assert phrase in failure_message(check_batch_norm_forward, named("batch_norm_forward", lambda *a, **k: result))


def test_a_torch_tensor_is_told_to_be_numpy():
    message = failure_message(check_batch_norm_forward, named(
        "batch_norm_forward", lambda x, w, b, eps=1e-5: torch.from_numpy(batch_norm_forward(x, w, b, eps))))
    assert "is a torch.Tensor, but a numpy array of shape (6, 4) is expected" in message


# ------------------------------------------------------------------------- tamper-proofing

def test_the_check_cannot_be_fooled_by_patched_numpy_torch_or_abs(capsys):
    with tampered(builtin_names=("abs",)):
        check_batch_norm_forward(batch_norm_forward)
        assert "eps is added to the standard deviation" in failure_message(
            check_batch_norm_forward, named("batch_norm_forward", forward_with(eps_outside=True)))
    assert capsys.readouterr() == ("", "")


def test_the_notebooks_wrong_answer_fails_with_its_mistake(capsys):
    answer = defined_by("05_regularization", "batch_norm_forward", {"np": np, "torch": torch, "F": F})
    assert "eps is added to the standard deviation" in failure_message(check_batch_norm_forward, answer)
    assert capsys.readouterr() == ("", "")
