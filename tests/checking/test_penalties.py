import warnings

import numpy as np
import pytest
import torch

from course_lib import scratch
from course_lib.checking.failure import DelegationFailure
from course_lib.checking.penalties import check_l1_penalty_gradients, check_l2_penalty
from tests.calls import counted
from tests.checking.failures import assert_fails_with, failure_message, named
from tests.grading.wrong_answers import defined_by
from tests.strategies import SEEDS, assert_global_random_state_untouched, tampered

# the wrong implementations under test divide by zero on purpose
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


# ------------------------------------------------------- right answers, as students write them
# (without the builtins and numpy functions `tampered` replaces: they run under it too)

def l2_penalty(params, weight):
    total = 0.0
    for name, param in params.items():
        if not name.startswith("b"):
            total += np.sum(param ** 2)
    return weight / 2 * total


def l1_penalty_gradients(params, weight):
    return {name: np.zeros_like(param) if name.startswith("b") else weight * np.sign(param)
            for name, param in params.items()}


REFERENCES = [(check_l2_penalty, l2_penalty), (check_l1_penalty_gradients, l1_penalty_gradients)]
IDS = ["l2_penalty", "l1_penalty_gradients"]


# ------------------------------------------------------------------ the references are right

@pytest.mark.parametrize("seed", SEEDS)
def test_references_agree_with_torch(seed):
    rng = np.random.default_rng(seed)
    params = {"W1": rng.standard_normal((5, 4)), "b1": rng.standard_normal(5),
              "W2": rng.standard_normal((3, 5)), "b2": rng.standard_normal(3)}
    params["W1"][0, :2] = 0.0
    weight = float(rng.uniform(0.01, 1))
    tensors = {name: torch.from_numpy(value).requires_grad_() for name, value in params.items()}
    l1 = weight * (tensors["W1"].abs().sum() + tensors["W2"].abs().sum())
    l1.backward()
    l2 = weight / 2 * (tensors["W1"].pow(2).sum() + tensors["W2"].pow(2).sum())
    assert l2_penalty(params, weight) == pytest.approx(l2.item(), rel=1e-12)
    for name, gradient in l1_penalty_gradients(params, weight).items():
        expected = tensors[name].grad if tensors[name].grad is not None else torch.zeros_like(tensors[name])
        np.testing.assert_array_equal(gradient, expected.numpy())


@pytest.mark.parametrize("check, reference", REFERENCES, ids=IDS)
def test_references_pass(check, reference):
    check(reference)
    for seed in SEEDS:
        check(reference, seed=seed)


@pytest.mark.parametrize("check, reference, name", [
    (check_l2_penalty, scratch.l2_penalty, "course_lib.scratch.l2_penalty"),
    (check_l1_penalty_gradients, scratch.l1_penalty_gradients, "course_lib.scratch.l1_penalty_gradients"),
], ids=IDS)
def test_the_course_reference_is_not_an_answer(check, reference, name):
    """course_lib's reference computes the right values, but an answer that runs it fails."""
    with pytest.raises(DelegationFailure, match=f"called {name}, the course's own solution of this exercise"):
        check(reference)


def test_l1_gradients_from_autograd_are_not_an_answer():
    def by_autograd(params, weight):
        grads = {}
        for name, value in params.items():
            leaf = torch.from_numpy(value).requires_grad_()
            (weight * leaf.abs().sum() if not name.startswith("b") else 0 * leaf.sum()).backward()
            grads[name] = leaf.grad.numpy()
        return grads

    with pytest.raises(DelegationFailure, match="called torch.Tensor.backward"):
        check_l1_penalty_gradients(named("l1_penalty_gradients", by_autograd))


@pytest.mark.parametrize("check, reference, option_sets", [
    (check_l2_penalty, l2_penalty,
     [dict(weight=0.3), dict(sizes=(2, 3, 4, 5), weight=1e-4),
      dict(params={"W": np.eye(3), "bias": np.ones(3), "gamma": np.full(2, 2.0)})]),
    (check_l1_penalty_gradients, l1_penalty_gradients,
     [dict(weight=0.3), dict(sizes=(7, 2)), dict(params={"W": np.eye(3), "bias": np.ones(3)})]),
], ids=IDS)
def test_references_pass_with_options(check, reference, option_sets):
    for options in option_sets:
        check(reference, **options)


def test_other_right_answers_pass():
    """A 0-d array or a numpy float for the number: both right."""
    check_l2_penalty(lambda params, weight: np.asarray(l2_penalty(params, weight)))
    check_l2_penalty(lambda params, weight: np.float64(l2_penalty(params, weight)))


def test_unknown_options_are_the_test_authors_error():
    with pytest.raises(TypeError, match="unexpected keyword argument 'lr'"):
        check_l2_penalty(l2_penalty, lr=0.1)


@pytest.mark.parametrize("check, reference", REFERENCES, ids=IDS)
def test_each_scenario_calls_the_answer_once(check, reference):
    """One call per scenario: one weight matrix, two layers, three layers."""
    answer = counted(reference)
    check(answer)
    assert answer.calls == 3
    answer.calls = 0
    check(answer, weight=0.5)
    assert answer.calls == 1


# ---------------------------------------------------------------------------- l2_penalty

def l2_with(term=lambda W: np.sum(W ** 2), scale=lambda weight: weight / 2, biases=False, last_only=False):
    def wrong(params, weight):
        total = 0.0
        for name, param in params.items():
            if biases or not name.startswith("b"):
                total = term(param) if last_only else total + term(param)
        return scale(weight) * total
    return named("l2_penalty", wrong)


WRONG_L2 = [
    (l2_with(biases=True),
     ["l2_penalty(params, 0.01) with params holding W1 (5, 4), b1 (5,), W2 (3, 5) and b2 (3,) returned",
      "the biases are penalised too"]),
    (l2_with(scale=lambda weight: weight),
     ["l2_penalty(params, 0.1) with params holding W1 (3, 4) returned", "the 1/2 is missing"]),
    (l2_with(scale=lambda weight: 0.5), ["weight is ignored"]),
    (l2_with(term=lambda W: np.sqrt(np.sum(W ** 2))), ["that is the norm, the square root of the sum of squares"]),
    (l2_with(term=lambda W: np.sum(np.fabs(W))), ["that sums |W|, the L1 penalty"]),
    (l2_with(term=lambda W: np.mean(W ** 2)), ["averages each matrix's squares"]),
    (l2_with(term=lambda W: np.sum(W) ** 2), ["the square of the sum"]),
    (l2_with(last_only=True), ["only the last weight matrix counts", "`total += ...`"]),
    (named("l2_penalty", lambda params, weight: weight / 2 * np.sqrt(np.sum(params["W1"] ** 2))),
     ["that is the norm, the square root"]),
]


@pytest.mark.parametrize("function, parts", WRONG_L2, ids=range(len(WRONG_L2)))
def test_wrong_l2_penalties_fail_with_the_reason(function, parts):
    assert_fails_with(check_l2_penalty, function, parts)


def test_an_l2_off_in_a_way_no_mistake_explains_names_no_cause():
    message = failure_message(check_l2_penalty, l2_with(scale=lambda weight: weight / 2 * 1.3))
    assert message.startswith("l2_penalty(params, 0.1) with params holding W1 (3, 4) returned ")
    assert "expected" in message and "Hint: weight / 2 * the sum of W**2" in message
    for cause in ("biases", "missing", "ignored", "the norm", "L1", "averages", "only the"):
        assert cause not in message.split("Hint:")[0]


@pytest.mark.parametrize("result, part", [
    (None, "returned None, but a number is expected: did the function end without a `return` statement?"),
    ([0.1], "returned a list, but a number is expected"),
    (torch.tensor(0.1), "returned a torch.Tensor of shape (), but a number is expected: .item()"),
    (np.ones(3), "returned a numpy array of shape (3,), but a number is expected: is a sum or a mean missing?"),
    (float("nan"), "returned nan"),
    ("0.1", "returned a str"),
])
def test_an_l2_result_that_is_not_a_number_is_named(result, part):
    message = failure_message(check_l2_penalty, named("l2_penalty", lambda params, weight: result))
    assert message.startswith("l2_penalty(params, 0.1) with params holding W1 (3, 4) ") and part in message


# ------------------------------------------------------------------- l1_penalty_gradients

def l1_with(weight_gradient=None, bias_gradient=None):
    def wrong(params, weight):
        return {name: (bias_gradient or (lambda b, w: np.zeros_like(b)))(param, weight) if name.startswith("b")
                else (weight_gradient or (lambda W, w: w * np.sign(W)))(param, weight)
                for name, param in params.items()}
    return named("l1_penalty_gradients", wrong)


WRONG_L1 = [
    (l1_with(lambda W, w: w * W), ["l1_penalty_gradients(params, 0.1), params holding W1 (3, 4): grads['W1']",
                                   "the L2 penalty's gradient"]),
    (l1_with(lambda W, w: np.where(W >= 0, w, -w)), ["entries where W == 0 get +weight"]),
    (l1_with(lambda W, w: np.where(W > 0, w, -w)), ["entries where W == 0 get -weight"]),
    (l1_with(lambda W, w: w * W / np.fabs(W)), ["grads['W1'] is nan where W == 0: W / |W| divides 0 by 0"]),
    (l1_with(lambda W, w: w / 2 * np.sign(W)), ["the L1 penalty has no 1/2"]),
    (l1_with(lambda W, w: np.sign(W)), ["off by a factor of ≈ 1/0.1 (1 / weight)"]),
    (l1_with(lambda W, w: w * np.fabs(W)), ["the penalty itself"]),
    (l1_with(bias_gradient=lambda b, w: w * np.sign(b)), ["grads['b1'] has the wrong values: the biases are penalised"]),
    (l1_with(bias_gradient=lambda b, w: 0.0), ["grads['b1'] is a float, but an array of shape (5,) is expected"]),
    (l1_with(bias_gradient=lambda b, w: np.zeros(b.shape, dtype=int)), ["grads['b1'] has dtype int64"]),
    (named("l1_penalty_gradients", lambda params, weight: {
        name: weight * np.sign(param) for name, param in params.items() if not name.startswith("b")}),
     ["returned no gradient for b1 and b2", "zeros of their shape"]),
    (named("l1_penalty_gradients", lambda params, weight: [weight * np.sign(p) for p in params.values()]),
     ["returned a list, but a dict of gradients with the keys W1 (those of params) is expected"]),
]


@pytest.mark.parametrize("function, parts", WRONG_L1, ids=range(len(WRONG_L1)))
def test_wrong_l1_gradients_fail_with_the_reason(function, parts):
    assert_fails_with(check_l1_penalty_gradients, function, parts)


def test_nan_where_w_is_zero_blames_the_division_only_if_the_rest_is_right():
    message = failure_message(check_l1_penalty_gradients, l1_with(lambda W, w: 2 * w * W / np.fabs(W)))
    assert "grads['W1'] is nan where W == 0, and other entries differ from weight * sign(W) too" in message
    assert "divides 0 by 0" not in message


def test_penalties_that_change_params_are_told():
    def squares_in_place(params, weight):
        for name, param in params.items():
            param **= 2
        return l2_penalty({name: np.sqrt(param) for name, param in params.items()}, weight)

    assert "changed its argument params['W1'] in place" in failure_message(check_l2_penalty, squares_in_place)

    def drops_biases(params, weight):
        for name in [name for name in params if name.startswith("b")]:
            del params[name]
        return l1_penalty_gradients(params, weight)

    assert "changed the dict params" in failure_message(check_l1_penalty_gradients, drops_biases)


# ------------------------------------------------------- not implemented, crashes, names

def blank(params, weight):
    raise NotImplementedError()


@pytest.mark.parametrize("check, call", [
    (check_l2_penalty, "l2_penalty(params, 0.1)"), (check_l1_penalty_gradients, "l1_penalty_gradients(params, 0.1)"),
], ids=IDS)
def test_the_blank_answer_fails_with_a_helpful_message(check, call):
    message = failure_message(check, named(call.split("(")[0], blank))
    assert message == f"{call} raised NotImplementedError: replace `raise NotImplementedError()` in the answer " \
                      f"cell with your implementation, then run that cell again before this one."


@pytest.mark.parametrize("check", [check for check, _ in REFERENCES], ids=IDS)
def test_a_crash_names_the_call_and_the_error(check):
    def crashes(params, weight):
        raise ValueError("operands could not be broadcast together")

    assert "raised ValueError: operands could not be broadcast together" in failure_message(check, crashes)


def test_wrong_arguments_are_told_the_signature():
    message = failure_message(check_l2_penalty, named("l2_penalty", lambda params: 0.0))
    assert "raised TypeError" in message and "Hint: the signature is l2_penalty(params, weight)" in message


def test_a_lambda_is_called_by_the_exercise_name():
    assert failure_message(check_l2_penalty, lambda params, weight: 0.0).startswith("l2_penalty(params, 0.1)")


# ------------------------------------------------------------- the notebook's wrong answers

@pytest.mark.parametrize("grade_id, check, phrase", [
    ("l2_penalty", check_l2_penalty, "the biases are penalised too"),
    ("l1_penalty_gradients", check_l1_penalty_gradients, "entries where W == 0 get +weight"),
], ids=IDS)
def test_the_notebooks_wrong_answers_fail_with_their_mistake(grade_id, check, phrase):
    answer = defined_by("05_regularization", grade_id, {"np": np, "torch": torch, "F": torch.nn.functional})
    assert phrase in failure_message(check, answer)


# ------------------------------------------------------------------------- environment

def test_checks_leave_the_students_random_state_alone():
    for check, reference in REFERENCES:
        assert_global_random_state_untouched(lambda: check(reference))


def test_checks_cannot_be_fooled_by_patched_numpy_torch_or_builtins():
    with tampered():
        for check, reference in REFERENCES:
            check(reference)
        assert "the biases are penalised too" in failure_message(check_l2_penalty, l2_with(biases=True))
        assert "entries where W == 0 get +weight" in failure_message(
            check_l1_penalty_gradients, l1_with(lambda W, w: np.where(W >= 0, w, -w)))


def test_nothing_reaches_stderr_nor_warns(capsys):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for check, reference in REFERENCES:
            check(reference)
        failure_message(check_l1_penalty_gradients, WRONG_L1[3][0])  # divides 0 by 0
    assert capsys.readouterr() == ("", "")
