import numpy as np
import pytest
import torch

from course_lib.checking.failure import DelegationFailure
from course_lib.checking.softmax import check_cross_entropy, check_softmax
from course_lib.scratch import functional
from course_lib.scratch.functional import softmax  # handed out to later exercises, allowed in cross_entropy
from tests.checking.failures import assert_fails_with, failure_message
from tests.grading.answer_cells import solution
from tests.strategies import SEEDS, assert_global_random_state_untouched, tampered

# the wrong implementations under test overflow and take log(0) on purpose
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

softmax_answer = solution("02_backprop", "softmax")
cross_entropy = solution("02_backprop", "cross_entropy")


def own_log_softmax(x, dim):
    shifted = x - np.max(x, axis=dim, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=dim, keepdims=True))


# ----------------------------------------------------------------------------- right answers

@pytest.mark.parametrize("seed", SEEDS)
def test_right_answers_pass_every_check(seed):
    check_softmax(softmax_answer, seed=seed)
    check_cross_entropy(cross_entropy, seed=seed)


@pytest.mark.parametrize("shape", [(3,), (1,), (5, 5), (1, 7), (2, 3, 4)])
def test_softmax_check_takes_any_shape(shape):
    check_softmax(softmax_answer, seed=1, shape=shape)


@pytest.mark.parametrize("batch_size, num_classes", [(1, 1), (1, 5), (7, 2), (4, 4), (64, 10)])
def test_cross_entropy_check_takes_any_size(batch_size, num_classes):
    check_cross_entropy(cross_entropy, seed=2, batch_size=batch_size, num_classes=num_classes)


# ------------------------------------------------------------------------------ delegation

def as_torch(function, *arguments):
    return function(*(torch.from_numpy(np.asarray(argument)) for argument in arguments))


DELEGATING = [
    (check_softmax, functional.softmax, "course_lib.scratch.softmax"),
    (check_softmax, lambda input, dim: np.exp(functional.log_softmax(input, dim)), "course_lib.scratch.log_softmax"),
    (check_softmax, lambda input, dim: torch.softmax(torch.from_numpy(input), dim).numpy(), "torch.softmax"),
    (check_softmax, lambda input, dim: torch.from_numpy(input).softmax(dim).numpy(), "torch.Tensor.softmax"),
    (check_softmax, lambda input, dim: np.exp(input - torch.from_numpy(input).logsumexp(dim, keepdim=True).numpy()),
     "torch.Tensor.logsumexp"),
    (check_cross_entropy, lambda input, target: functional.cross_entropy(input, target),
     "course_lib.scratch.cross_entropy"),
    (check_cross_entropy, lambda input, target: as_torch(torch.nn.functional.cross_entropy, input, target).item(),
     "torch.nn.functional.cross_entropy"),
    (check_cross_entropy, lambda input, target: as_torch(torch.nn.CrossEntropyLoss(), input, target).item(),
     "torch.nn.functional.cross_entropy"),
    (check_cross_entropy, lambda input, target: -np.mean(functional.log_softmax(input, 1)[np.arange(len(target)), target]),
     "course_lib.scratch.log_softmax"),
]


@pytest.mark.parametrize("check, function, name", DELEGATING)
def test_answers_that_delegate_fail(check, function, name):
    with pytest.raises(DelegationFailure, match=f"called {name}"):
        check(function)


def test_the_softmax_an_earlier_exercise_hands_out_is_allowed_in_cross_entropy():
    assert "confidently wrong sample" in failure_message(
        check_cross_entropy, lambda x, t: -np.mean(np.log(softmax(x, dim=1)[np.arange(len(x)), t])))


# --------------------------------------------------------------------------------- softmax

def stable_softmax(x, dim, *, keepdims=True, axis=None, shift="row"):
    """A softmax written the way students write it, with the given pieces swapped."""
    axis = dim if axis is None else axis
    maximum = {"row": np.max(x, axis=axis, keepdims=keepdims), "array": np.max(x), "none": 0}[shift]
    exponentials = np.exp(x - maximum)
    return exponentials / np.sum(exponentials, axis=axis, keepdims=keepdims)


def softmax_in_place(x, dim):
    x -= np.max(x, axis=dim, keepdims=True)
    np.exp(x, out=x)
    x /= np.sum(x, axis=dim, keepdims=True)
    return x


def softmax_made_float64(x, dim):
    return stable_softmax(x, dim) * np.ones(x.shape)


def clipped_softmax(x, dim):
    return stable_softmax(np.clip(x, -500, 500), dim, shift="none")


WRONG_SOFTMAXES = [
    (lambda x, dim: stable_softmax(x, dim, shift="none"), {},
     ["softmax(input, dim=-1) returned nan for large logits (around 1000): exp(1000) overflows to inf — "
      "subtract the maximum along dim, input.max(axis=dim, keepdims=True), before exp"]),
    (lambda x, dim: stable_softmax(x, dim, shift="array"), {},
     ["softmax(input, dim=-1) returned nan for rows of very different scale (one around 1000, another around -1000)",
      "exp(-1000 - 1000) = 0", "subtract each row's own maximum, input.max(axis=dim, keepdims=True), not the maximum "
      "of the whole array."]),
    (lambda x, dim: stable_softmax(x, dim, axis=1), {},
     ["softmax(input, dim=0) has the wrong values: the entries sum to 1 along the rows (dim=1) instead of down the "
      "columns (dim=0): take the max and the sum with axis=dim."]),
    (lambda x, dim: stable_softmax(x, dim, axis=0), {},
     ["softmax(input, dim=-1) has the wrong values: the entries sum to 1 down the columns (dim=0) instead of along "
      "the rows (dim=1)"]),
    (lambda x, dim: stable_softmax(x, dim, axis=0), {"shape": (2, 3, 4)},
     ["softmax(input, dim=-1) has the wrong values: the entries sum to 1 along dim=0 instead of along dim=2"]),
    (lambda x, dim: np.exp(x - np.max(x, axis=dim, keepdims=True)), {},
     ["the entries don't sum to 1 along dim: divide by their sum"]),
    (lambda x, dim: np.exp(x) / np.sum(np.exp(x)), {},
     ["the entries sum to 1 over the whole array: sum along dim only"]),
    (lambda x, dim: stable_softmax(x, dim, keepdims=False), {},
     ["softmax(input, dim=-1) raised ValueError: operands could not be broadcast together",
      "Hint: softmax must work along any dim: input.max(axis=dim, keepdims=True)"]),
    (lambda x, dim: stable_softmax(x, dim, keepdims=False), {"shape": (5, 5)},
     ["softmax(input, dim=-1) has the wrong values: keepdims=True is missing"]),
    (softmax_made_float64, {},
     ["softmax(input, dim=-1) with input of dtype float32 has dtype float64 but should have dtype float32: numpy 2 "
      "keeps float32 arithmetic in float32"]),
    (softmax_in_place, {},
     ["softmax(input, dim=-1) changed its argument input in place: `input -= ...`"]),
    (clipped_softmax, {},
     ["softmax(input, dim=-1) differs from the expected values",
      "Hint: input holds large logits (around 1000). Clipping them changes the answer"]),
    (lambda x, dim: stable_softmax(x, dim).tolist(), {},
     ["softmax(input, dim=-1) returned a list, but a numpy array of shape (4, 5) is expected"]),
    (lambda x, dim: torch.exp(torch.from_numpy(x)) / torch.exp(torch.from_numpy(x)).sum(dim, keepdim=True), {},
     ["softmax(input, dim=-1) returned a torch.Tensor, but a numpy array"]),
]


@pytest.mark.parametrize("function, options, parts", WRONG_SOFTMAXES)
def test_wrong_softmaxes_fail_with_the_reason(function, options, parts):
    assert_fails_with(check_softmax, function, parts, **options)


def test_softmax_check_names_the_slices_along_dim_0_columns():
    function = lambda x, dim: stable_softmax(x, dim, shift="none") if dim == 0 else stable_softmax(x, dim)
    assert_fails_with(check_softmax, function, ["softmax(input, dim=0) returned nan for large logits"])
    function = lambda x, dim: stable_softmax(x, dim, shift="array") if dim == 0 else stable_softmax(x, dim)
    assert_fails_with(check_softmax, function, ["columns of very different scale", "each column's own maximum"])


# --------------------------------------------------------------------------- cross-entropy

def picked_log_probabilities(x, target, log_p=None):
    log_p = own_log_softmax(x, dim=1) if log_p is None else log_p
    return log_p[np.arange(len(x)), target]


def log_of_softmax(x, target):
    return -np.mean(np.log(softmax(x, dim=1)[np.arange(len(x)), target]))


def log_with_epsilon(x, target):
    return -np.mean(np.log(softmax(x, dim=1)[np.arange(len(x)), target] + 1e-12))


def naive(x, target):
    probabilities = np.exp(x) / np.sum(np.exp(x), axis=1, keepdims=True)
    return -np.mean(np.log(probabilities[np.arange(len(x)), target]))


def global_maximum(x, target):
    m = np.max(x)
    log_p = x - m - np.log(np.sum(np.exp(x - m), axis=1, keepdims=True))
    return -np.mean(picked_log_probabilities(x, target, log_p))


WRONG_CROSS_ENTROPIES = [
    (lambda x, t: -np.sum(picked_log_probabilities(x, t)),
     "that is the sum over the batch; the loss is the mean over its samples: divide by the batch size."),
    (lambda x, t: -np.mean(np.eye(4)[t] * own_log_softmax(x, dim=1)),
     "that is the sum divided by N * C = 24, the number of entries of input"),
    (lambda x, t: -np.mean(np.sum(own_log_softmax(x, dim=1), axis=1)),
     "that adds -log p of all classes of each sample; take only the target class's"),
    (lambda x, t: -np.mean(picked_log_probabilities(x, t, x - np.log(np.sum(np.exp(x))))),
     "the log-sum-exp runs over the whole batch; take it over each sample's classes"),
    (lambda x, t: -np.mean(own_log_softmax(x, dim=1)[:, t]),
     "log_p[:, target] picks, for every sample, the entries of all the batch's targets"),
    (lambda x, t: -np.mean(np.max(own_log_softmax(x, dim=1), axis=1)),
     "that is the loss of each sample's predicted class (its largest logit)"),
    (lambda x, t: np.mean(picked_log_probabilities(x, t)),
     "the minus sign is missing: the loss is the mean of -log p(target), which is never negative."),
    (lambda x, t: -np.mean(picked_log_probabilities(x, t, own_log_softmax(x, dim=0))),
     "the softmax is taken over the batch (axis=0) instead of over the classes (axis=1)."),
    (lambda x, t: -np.mean(np.log2(softmax(x, dim=1)[np.arange(len(x)), t])),
     "that is in bits (np.log2)"),
    (lambda x, t: -picked_log_probabilities(x, t),
     "cross_entropy(input, target) returned a numpy array of shape (6,), but a number is expected: is a sum or a mean missing?"),
    (naive,
     "cross_entropy(input, target) returned nan for large logits (around 1000): exp(1000) overflows to inf — use "
     "log-sum-exp: with m = input.max(axis=1, keepdims=True), log_softmax = input - m - log(sum(exp(input - m), axis=1, keepdims=True))"),
    (global_maximum,
     "cross_entropy(input, target) returned -inf for rows of very different scale (one around 1000, another around "
     "-1000): with the maximum of the whole array subtracted, the row around -1000 still underflows, "
     "exp(-1000 - 1000) = 0 — subtract each row's own maximum (axis=1, keepdims=True), not the maximum of the whole batch."),
    (log_of_softmax,
     "cross_entropy(input, target) returned inf for a confidently wrong sample (its target's logit is 1000 below the "
     "others): its softmax probability underflows to 0, and log(0) = -inf — never take the log of a softmax "
     "probability that can underflow to 0: compute log_softmax = input - logsumexp(input) directly"),
    (log_with_epsilon,
     "Hint: input holds a confidently wrong sample (its target's logit is 1000 below the others). An epsilon in "
     "log(p + eps), or clipping p, caps its loss"),
    (lambda x, t: -torch.from_numpy(picked_log_probabilities(x, t)).mean(),
     "returned a torch.Tensor of shape (), but a number is expected: .item() takes the number out."),
]


@pytest.mark.parametrize("function, message", WRONG_CROSS_ENTROPIES)
def test_wrong_cross_entropies_fail_with_the_reason(function, message):
    assert_fails_with(check_cross_entropy, function, [message])


# ---------------------------------------------------------------------- robustness of checks

def all_checks():
    check_softmax(softmax_answer)
    check_cross_entropy(cross_entropy)


def test_checks_cannot_be_fooled_by_patched_numpy_or_torch():
    with tampered(builtin_names=()):
        all_checks()
        assert "returned nan" in failure_message(check_softmax, lambda x, dim: stable_softmax(x, dim, shift="none"))
        assert "confidently wrong sample" in failure_message(check_cross_entropy, log_of_softmax)


def test_checks_work_with_gradients_switched_off_globally():
    with torch.no_grad():
        all_checks()


def test_checks_leave_the_students_random_states_alone():
    assert_global_random_state_untouched(all_checks)


def test_checks_are_deterministic_and_depend_on_the_seed():
    collected = []
    record = lambda x, dim: collected.append(x.copy()) or stable_softmax(x, dim)
    for seed in (0, 0, 1):
        check_softmax(record, seed=seed)
    count = len(collected) // 3
    assert all((a == b).all() for a, b in zip(collected[:count], collected[count:2 * count]))
    assert not (collected[0] == collected[2 * count]).all()
