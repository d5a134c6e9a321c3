import warnings

import numpy as np
import pytest
import torch

from course_lib import scratch
from course_lib.checking.clipping import check_clip_grad_norm
from course_lib.checking.failure import DelegationFailure
from tests.calls import counted
from tests.checking.failures import assert_fails_with, failure_message, named
from tests.grading.wrong_answers import defined_by
from tests.strategies import SEEDS, assert_global_random_state_untouched, tampered

# the wrong implementations under test divide by zero on purpose
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


# ------------------------------------------------------- the right answer, as students write it
# (without the builtins and numpy functions `tampered` replaces: it runs under it too)

def clip_grad_norm_(grads, max_norm):
    total_norm = np.sqrt(np.sum([np.sum(grad ** 2) for grad in grads]))
    factor = np.minimum(1.0, max_norm / (total_norm + 1e-6))
    for grad in grads:
        grad *= factor
    return float(total_norm)


def clip_without_epsilon(grads, max_norm):
    total = np.sqrt(np.sum([np.sum(g * g) for g in grads]))
    if total > max_norm:
        for grad in grads:
            grad *= max_norm / total
    return total


@pytest.mark.parametrize("seed", SEEDS)
def test_the_reference_agrees_with_torch(seed):
    rng = np.random.default_rng(seed)
    grads = [rng.standard_normal((4, 3)) * 2, rng.standard_normal(4)]
    parameters = [torch.zeros(grad.shape, dtype=torch.float64, requires_grad=True) for grad in grads]
    for parameter, grad in zip(parameters, grads):
        parameter.grad = torch.from_numpy(grad.copy())
    expected_norm = torch.nn.utils.clip_grad_norm_(parameters, 1.0)
    assert clip_grad_norm_(grads, 1.0) == pytest.approx(expected_norm.item(), rel=1e-12)
    for parameter, grad in zip(parameters, grads):
        np.testing.assert_allclose(grad, parameter.grad.numpy(), rtol=1e-12)


def test_the_reference_passes():
    check_clip_grad_norm(clip_grad_norm_)
    for seed in SEEDS:
        check_clip_grad_norm(clip_grad_norm_, seed=seed)


def test_the_course_reference_is_not_an_answer():
    with pytest.raises(DelegationFailure, match="called course_lib.scratch.clip_grad_norm_"):
        check_clip_grad_norm(scratch.clip_grad_norm_)


def clip_by_torch(grads, max_norm):
    """torch's clip_grad_norm_ on parameters whose .grad shares memory with the arrays."""
    parameters = []
    for grad in grads:
        parameter = torch.nn.Parameter(torch.zeros(grad.shape, dtype=torch.float64))
        parameter.grad = torch.from_numpy(grad)
        parameters.append(parameter)
    return float(torch.nn.utils.clip_grad_norm_(parameters, max_norm))


def norm_by_torch(grads, max_norm):
    total = float(torch.nn.utils.get_total_norm([torch.from_numpy(grad) for grad in grads]))
    for grad in grads:
        grad *= min(1.0, max_norm / (total + 1e-6))
    return total


@pytest.mark.parametrize("function, name", [(clip_by_torch, "torch.nn.utils.clip_grad_norm_"),
                                            (norm_by_torch, "torch.nn.utils.get_total_norm")])
def test_torchs_clipping_is_not_an_answer(function, name):
    with pytest.raises(DelegationFailure, match=f"called {name}"):
        check_clip_grad_norm(named("clip_grad_norm_", function))


@pytest.mark.parametrize("options", [
    dict(max_norm=5.0), dict(shapes=[(3,), (2, 2)], scale=0.01, max_norm=0.05), dict(dtype=np.float32),
    dict(scale=0.0)])
def test_the_reference_passes_with_options(options):
    check_clip_grad_norm(clip_grad_norm_, **options)


def test_the_answer_without_the_epsilon_passes():
    check_clip_grad_norm(clip_without_epsilon)
    check_clip_grad_norm(clip_without_epsilon, scale=1e-3, max_norm=1e-4)


def test_unknown_options_are_the_test_authors_error():
    with pytest.raises(TypeError, match="unexpected keyword argument 'norm_type'"):
        check_clip_grad_norm(clip_grad_norm_, norm_type=1.0)


def test_each_scenario_calls_the_answer_once():
    answer = counted(clip_grad_norm_)
    check_clip_grad_norm(answer)
    assert answer.calls == 5
    answer.calls = 0
    check_clip_grad_norm(answer, max_norm=2.0)
    assert answer.calls == 1


# ---------------------------------------------------------------------------- wrong answers

def clip_with(norm=None, factor=None, returned=None):
    def wrong(grads, max_norm):
        norms = [np.sqrt(np.sum(g ** 2)) for g in grads]
        total = norm(norms) if norm else np.sqrt(np.sum(np.square(norms)))
        coefficient = factor(max_norm, total) if factor else np.minimum(1.0, max_norm / (total + 1e-6))
        for grad in grads:
            grad *= coefficient
        return returned(total, coefficient) if returned else total
    return named("clip_grad_norm_", wrong)


def clip_each(grads, max_norm):
    total = np.sqrt(np.sum([np.sum(g ** 2) for g in grads]))
    for grad in grads:
        grad *= np.minimum(1.0, max_norm / (np.sqrt(np.sum(grad ** 2)) + 1e-6))
    return total


def clip_rebinding(grads, max_norm):
    total = np.sqrt(np.sum([np.sum(g ** 2) for g in grads]))
    for grad in grads:
        grad = grad * np.minimum(1.0, max_norm / (total + 1e-6))
    return total


def clip_replacing(grads, max_norm):
    total = np.sqrt(np.sum([np.sum(g ** 2) for g in grads]))
    for index, grad in enumerate(grads):
        grads[index] = grad * np.minimum(1.0, max_norm / (total + 1e-6))
    return total


WRONG_CLIPS = [
    (named("clip_grad_norm_", clip_each),
     ["clip_grad_norm_(grads, 1) with grads a list of arrays of shapes (4, 3) and (4,): each array is "
      "clipped by its own norm"]),
    (clip_with(factor=lambda m, total: m / (total + 1e-6)),
     ["with grads a list of arrays of shapes (4, 3) and (4,): the gradients are scaled by max_norm / total_norm "
      "even below the limit"]),
    (clip_with(factor=lambda m, total: np.maximum(1.0, m / total)), ["the factor is max(1, ...) instead of min"]),
    (clip_with(norm=lambda norms: np.sum(norms)), ["total_norm is the sum of the arrays' norms"]),
    (clip_with(norm=lambda norms: np.sqrt(np.sum(norms))), ["total_norm is the square root of the sum of the arrays'"]),
    (clip_with(norm=lambda norms: np.sum(np.square(norms))), ["the sum of squares without the square root"]),
    (clip_with(returned=lambda total, c: total * c),
     ["clip_grad_norm_(grads, 1) with grads a list of arrays of shapes (3, 4) returned 1, expected",
      "the norm after clipping"]),
    (clip_with(returned=lambda total, c: c), ["that is the clipping factor"]),
    (clip_with(returned=lambda total, c: None), ["returned None, but a number is expected"]),
    (clip_with(returned=lambda total, c: [total]), ["returned a list: return total_norm, one number"]),
    (clip_with(returned=lambda total, c: torch.tensor(total)), ["returned a torch.Tensor", ".item()"]),
    (clip_with(factor=lambda m, total: np.minimum(total, m) / total),
     ["clip_grad_norm_(grads, 1) with grads a list of arrays of shapes (4, 3) and (4,) put nan or inf into "
      "grads[0]: the gradients are all zero"]),
    (clip_rebinding, ["left grads unchanged", "`g = g * factor` in a loop only rebinds"]),
    (clip_replacing, ["replaced the arrays in the list grads"]),
    (named("clip_grad_norm_", lambda grads, max_norm: [g * 0 for g in grads]), ["returned new arrays"]),
    (clip_with(factor=lambda m, total: np.minimum(1.0, m / (total + 1e-6)) * 1.01),
     ["after the call: grads[0] is off by a factor of ≈ 1.01"]),
]


@pytest.mark.parametrize("function, parts", WRONG_CLIPS, ids=range(len(WRONG_CLIPS)))
def test_wrong_clips_fail_with_the_reason(function, parts):
    assert_fails_with(check_clip_grad_norm, function, parts)


def test_scaling_up_is_blamed_on_max_only_if_small_gradients_reach_the_limit():
    """Tripling small gradients is not what max(1, ...) does: say only that large ones are left."""
    triples_small_ones = clip_with(factor=lambda m, total: 1.0 if total > m else 3.0)
    message = failure_message(check_clip_grad_norm, triples_small_ones)
    assert "left grads unchanged, but their total norm" in message and "max(1, ...)" not in message


def test_a_python_float_division_by_zero_in_the_clip_is_told():
    def clip_python(grads, max_norm):
        total = float(np.sqrt(np.sum([np.sum(g ** 2) for g in grads])))
        for grad in grads:
            grad *= np.minimum(1.0, max_norm / total)
        return total

    assert "raised ZeroDivisionError: float division by zero" in failure_message(check_clip_grad_norm, clip_python)


def test_the_blank_answer_fails_with_a_helpful_message():
    def blank(grads, max_norm):
        raise NotImplementedError()

    assert failure_message(check_clip_grad_norm, named("clip_grad_norm_", blank)) == (
        "clip_grad_norm_(grads, 1) with grads a list of arrays of shapes (3, 4) raised NotImplementedError: replace "
        "`raise NotImplementedError()` in the answer cell with your implementation, then run that cell again before "
        "this one.")


def test_a_crash_names_the_call_and_the_error():
    def crashes(grads, max_norm):
        raise ValueError("operands could not be broadcast together")

    assert "raised ValueError: operands could not be broadcast together" in failure_message(
        check_clip_grad_norm, crashes)


def test_the_notebooks_wrong_answer_fails_with_its_mistake():
    answer = defined_by("05_regularization", "clip_grad_norm_", {"np": np, "torch": torch, "F": torch.nn.functional})
    assert "each array is clipped by its own norm" in failure_message(check_clip_grad_norm, answer)


# ------------------------------------------------------------------------- environment

def test_the_check_leaves_the_students_random_state_alone():
    assert_global_random_state_untouched(lambda: check_clip_grad_norm(clip_grad_norm_))


def test_the_check_cannot_be_fooled_by_patched_numpy_torch_or_builtins():
    with tampered():
        check_clip_grad_norm(clip_grad_norm_)
        assert "each array is clipped by its own norm" in failure_message(check_clip_grad_norm, clip_each)


def test_a_patched_torch_clamp_does_not_change_the_expected_clip(monkeypatch):
    """torch's clip_grad_norm_ calls torch.clamp: patched to do nothing, torch would scale
    small gradients up just like the wrong answer, so the oracle runs with torch as it was."""
    monkeypatch.setattr(torch, "clamp", lambda tensor, **kwargs: tensor)
    assert "even below the limit" in failure_message(check_clip_grad_norm, clip_with(factor=lambda m, t: m / (t + 1e-6)))
    assert torch.clamp(torch.tensor(5.0), max=1.0) == 5.0  # the student's patch is back in place


def test_nothing_reaches_stderr_nor_warns(capsys):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_clip_grad_norm(clip_grad_norm_)
        failure_message(check_clip_grad_norm, WRONG_CLIPS[11][0])  # divides 0 by 0
    assert capsys.readouterr() == ("", "")
