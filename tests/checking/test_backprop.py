import numpy as np
import pytest
import torch

from course_lib.checking.backprop import (
    check_cross_entropy_backward, check_gradients, check_linear_backward, check_mlp_backward, check_relu_backward,
)
from course_lib.checking.failure import CheckFailure, DelegationFailure
from course_lib.scratch import backward, mlp
from course_lib.scratch.functional import softmax  # handed out to cross_entropy_backward
from course_lib.scratch.mlp import mlp_forward
from tests.checking.failures import assert_fails_with, failure_message
from tests.checking.test_softmax import stable_softmax
from tests.grading.answer_cells import solution
from tests.strategies import SEEDS, assert_global_random_state_untouched, tampered

# the wrong implementations under test overflow on purpose
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

# right answers: the notebook's solutions, and the hand-written versions below with nothing swapped
linear_backward = solution("02_backprop", "linear_backward")
relu_backward = solution("02_backprop", "relu_backward")
cross_entropy_backward = solution("02_backprop", "cross_entropy_backward")
mlp_backward = solution("02_backprop", "mlp_backward")


@pytest.mark.parametrize("seed", SEEDS)
def test_right_answers_pass_every_check(seed):
    check_linear_backward(linear_backward, seed=seed)
    check_relu_backward(relu_backward, seed=seed)
    check_cross_entropy_backward(cross_entropy_backward, seed=seed)
    check_mlp_backward(mlp_backward, forward=mlp_forward, seed=seed)


@pytest.mark.parametrize("batch_size, num_classes", [(1, 1), (1, 5), (7, 2), (4, 4), (64, 10)])
def test_cross_entropy_backward_check_takes_any_size(batch_size, num_classes):
    check_cross_entropy_backward(cross_entropy_backward, seed=2, batch_size=batch_size, num_classes=num_classes)


@pytest.mark.parametrize("sizes", [(1, 1, 1), (3, 3, 3), (4, 7, 2), (8, 1, 5)])
def test_linear_backward_check_takes_any_size(sizes):
    batch_size, in_features, out_features = sizes
    check_linear_backward(linear_backward, seed=3, batch_size=batch_size, in_features=in_features,
                          out_features=out_features)


@pytest.mark.parametrize("shape", [(1,), (3,), (2, 3, 4)])
def test_relu_backward_check_takes_any_shape(shape):
    check_relu_backward(relu_backward, seed=4, shape=shape)


@pytest.mark.parametrize("sizes, batch_size", [((7, 6, 5, 3), 6), ((3, 2), 4), ((2, 8, 8, 8, 2), 1),
                                               ((4, 4, 4, 4), 5)])
def test_mlp_backward_check_takes_any_architecture(sizes, batch_size):
    check_mlp_backward(mlp_backward, forward=mlp_forward, seed=5, sizes=sizes, batch_size=batch_size)


# ------------------------------------------------------------------------------ delegation

def autograd_of(loss_of):
    """A backward pass by autograd: the gradient of loss_of(leaf) w.r.t. its first argument."""
    def gradient(first, *rest):
        leaf = torch.from_numpy(first).requires_grad_()
        loss_of(leaf, *(torch.from_numpy(np.asarray(value)) for value in rest)).backward()
        return leaf.grad.numpy()
    return gradient


DELEGATING = [
    (check_linear_backward, backward.linear_backward, {}, "course_lib.scratch.linear_backward"),
    (check_relu_backward, lambda grad_output, input: autograd_of(
        lambda x, g: (torch.relu(x) * g).sum())(input, grad_output), {}, "torch.Tensor.backward"),
    (check_cross_entropy_backward, lambda input, target: backward.cross_entropy_backward(input, target), {},
     "course_lib.scratch.cross_entropy_backward"),
    (check_cross_entropy_backward, autograd_of(torch.nn.functional.cross_entropy), {}, "torch.Tensor.backward"),
    (check_mlp_backward, mlp.mlp_backward, {"forward": mlp_forward}, "course_lib.scratch.mlp_backward"),
]


@pytest.mark.parametrize("check, function, options, name", DELEGATING)
def test_answers_that_delegate_fail(check, function, options, name):
    with pytest.raises(DelegationFailure, match=f"called {name}"):
        check(function, **options)


# ------------------------------------------------------------------------- linear backward

def linear_backward_with(*, grad_input=None, grad_weight=None, grad_bias=None, order=(0, 1, 2)):
    """linear_backward with the given pieces swapped for a student's version."""
    def function(grad_output, input, weight):
        right = linear_backward(grad_output, input, weight)
        pieces = [(grad_input or (lambda g, x, w: right[0]))(grad_output, input, weight),
                  (grad_weight or (lambda g, x, w: right[1]))(grad_output, input, weight),
                  (grad_bias or (lambda g, x, w: right[2]))(grad_output, input, weight)]
        return tuple(pieces[position] for position in order)
    return function


TRANSPOSED = ("it is transposed: weight is [out_features, in_features], as in torch, so grad_weight = "
              "grad_output.T @ input.")
WRONG_LINEAR_BACKWARDS = [
    (linear_backward_with(grad_weight=lambda g, x, w: x.T @ g), {},
     f"grad_weight has shape (4, 3) but should have shape (3, 4): {TRANSPOSED}"),
    (linear_backward_with(grad_weight=lambda g, x, w: x.T @ g), {"in_features": 3},
     f"grad_weight has the wrong values: {TRANSPOSED}"),
    (linear_backward_with(grad_weight=lambda g, x, w: g.T @ x / len(x)), {},
     "grad_weight is off by a factor of ≈ 1/5 (1 / the batch size): did you average over the batch twice? "
     "The 1/N of the mean loss is already in grad_output, so summing over the batch is right; averaging again "
     "divides by N twice."),
    (linear_backward_with(grad_bias=lambda g, x, w: g.mean(axis=0)), {},
     "grad_bias is off by a factor of ≈ 1/5 (1 / the batch size): did you average over the batch twice?"),
    (linear_backward_with(grad_bias=lambda g, x, w: g.sum(axis=0, keepdims=True)), {},
     "grad_bias has shape (1, 3) but should have shape (3,): it has an extra dimension of size 1"),
    (linear_backward_with(grad_bias=lambda g, x, w: g), {},
     "grad_bias has shape (5, 3) but should have shape (3,): that of grad_output — the bias is added to every "
     "sample's output, so sum grad_output over the batch (axis=0)."),
    (linear_backward_with(grad_bias=lambda g, x, w: g.sum(axis=1)), {},
     "grad_bias has shape (5,) but should have shape (3,): it is summed over the features (axis=1)"),
    (linear_backward_with(grad_bias=lambda g, x, w: g.sum(axis=1)), {"batch_size": 3},
     "grad_bias has the wrong values: it is summed over the features (axis=1) instead of over the batch (axis=0)."),
    (linear_backward_with(grad_input=lambda g, x, w: g @ w.T), {},
     "linear_backward(grad_output, input, weight) raised ValueError: matmul"),
    (linear_backward_with(grad_input=lambda g, x, w: g @ w.T), {},
     "Hint: grad_output is [N, out_features] = (5, 3), input [N, in_features] = (5, 4), weight [out_features, "
     "in_features] = (3, 4)"),
    (linear_backward_with(grad_input=lambda g, x, w: g @ w.T), {"in_features": 3},
     "grad_input has the wrong values: it multiplies grad_output by weight.T"),
    (linear_backward_with(order=(1, 0, 2)), {},
     "linear_backward(grad_output, input, weight) returned the right gradients in the wrong order, (grad_weight, "
     "grad_input, grad_bias): return (grad_input, grad_weight, grad_bias)."),
    ((lambda g, x, w: linear_backward(g, x, w)[:2]), {},
     "linear_backward(grad_output, input, weight) returned a tuple of 2 values, but a tuple of three arrays "
     "(grad_input, grad_weight, grad_bias) is expected."),
    ((lambda g, x, w: None), {},
     "returned None, but a tuple of three arrays (grad_input, grad_weight, grad_bias) is expected: did the "
     "function end without a `return` statement?"),
]


@pytest.mark.parametrize("function, options, message", WRONG_LINEAR_BACKWARDS)
def test_wrong_linear_backwards_fail_with_the_reason(function, options, message):
    assert_fails_with(check_linear_backward, function, [message], **options)


# --------------------------------------------------------------------------- relu backward

def relu_backward_in_place(grad_output, input):
    grad_output[input <= 0] = 0
    return grad_output


WRONG_RELU_BACKWARDS = [
    (lambda g, x: g * (g > 0), "the mask comes from the sign of grad_output, but it must come from the ReLU's input"),
    (lambda g, x: (x > 0).astype(float), "that is the mask (input > 0) alone: by the chain rule, multiply it by grad_output."),
    (lambda g, x: x > 0, "that is the mask (input > 0) alone"),
    (lambda g, x: g * (x >= 0), "the gradient also passes where input is exactly 0 (input >= 0). ReLU has a kink at 0"),
    (lambda g, x: g * np.heaviside(x, 1.0), "torch — and this course — take it to be 0 there: use input > 0."),
    (lambda g, x: g * np.maximum(x, 0), "grad_output is multiplied by relu(input) instead of by its derivative"),
    (lambda g, x: g * (x <= 0), "the mask is inverted"),
    (lambda g, x: g * (x < 0), "the mask is inverted"),
    (lambda g, x: g.copy(), "grad_output came back unchanged: it must be 0 where input <= 0"),
    (lambda g, x: g * x / np.abs(x), "relu_backward(grad_output, input) contains nan"),
    (relu_backward_in_place, "relu_backward(grad_output, input) changed its argument grad_output in place: "
                             "`grad_output -= ...`, `grad_output *= ...` or an assignment such as `grad_output[mask] = 0`"),
]


@pytest.mark.parametrize("function, message", WRONG_RELU_BACKWARDS)
def test_wrong_relu_backwards_fail_with_the_reason(function, message):
    assert_fails_with(check_relu_backward, function, [message])


# ------------------------------------------------------------------ cross-entropy backward

def softmax_minus_one_hot(x, t, *, shift="row"):
    gradient = stable_softmax(x, 1, shift=shift)
    gradient[np.arange(len(x)), t] -= 1
    return gradient


WRONG_CROSS_ENTROPY_BACKWARDS = [
    (lambda x, t: softmax_minus_one_hot(x, t),
     "has the wrong values: it is not divided by the batch size: the loss is the mean over the batch, so each "
     "sample's gradient carries 1/N (here 1/6)."),
    (lambda x, t: softmax_minus_one_hot(x, t) / len(x) ** 2, "it is divided by the batch size twice"),
    (lambda x, t: -softmax_minus_one_hot(x, t) / len(x), "the sign is flipped: it is softmax - one_hot"),
    (lambda x, t: softmax(x, 1) / len(x), "the one-hot target is not subtracted"),
    (lambda x, t: (softmax(x, 1) - 1) / len(x), "1 is subtracted from every entry"),
    (lambda x, t: (softmax(x, 1) - np.eye(4)[t]) / x.size, "it is divided by N * C, the number of entries"),
    (lambda x, t: (softmax(x, 0) - np.eye(4)[t]) / len(x), "the softmax is taken over the batch (axis=0)"),
    (lambda x, t: softmax_minus_one_hot(x, t, shift="none") / len(x),
     "cross_entropy_backward(input, target) returned nan for large logits (around 1000): exp(1000) overflows to inf — "
     "compute the softmax with each row's maximum subtracted before exp"),
    (lambda x, t: softmax_minus_one_hot(x, t, shift="array") / len(x),
     "returned nan for rows of very different scale"),
]


def subtract_one_in_whole_columns(x, t):
    gradient = softmax(x, 1)
    gradient[:, t] -= 1
    return gradient / len(x)


@pytest.mark.parametrize("function, message", WRONG_CROSS_ENTROPY_BACKWARDS + [
    (subtract_one_in_whole_columns, "p[:, target] -= 1 subtracts 1 in every row, at the target class of every sample"),
])
def test_wrong_cross_entropy_backwards_fail_with_the_reason(function, message):
    assert_fails_with(check_cross_entropy_backward, function, [message])


# --------------------------------------------------------------------------- mlp backward

def mlp_backward_with(*, relu_mask=lambda cache, k: cache[k - 1][1] > 0, average=False, bias_keepdims=False,
                      weight_gradient=lambda grad, layer_input: grad.T @ layer_input, key="{}", step=False):
    """An mlp_backward written as students write it, right unless one piece is swapped for a mistake.
    relu_mask(cache, k) is the mask of the ReLU after layer k."""
    def function(params, cache, grad_logits):
        grads = {}
        grad = grad_logits
        for layer in range(len(cache), 0, -1):
            layer_input, _ = cache[layer - 1]
            divisor = len(grad_logits) if average else 1
            grads[key.format(f"W{layer}")] = weight_gradient(grad, layer_input) / divisor
            grads[key.format(f"b{layer}")] = grad.sum(axis=0, keepdims=bias_keepdims) / divisor
            if step:
                params[f"W{layer}"] -= 0.1 * grads[f"W{layer}"]
            if layer > 1:
                grad = (grad @ params[f"W{layer}"]) * relu_mask(cache, layer - 1)
        return grads
    return function


CALL = "mlp_backward(params, cache, grad_logits)"
WRONG_MLP_BACKWARDS = [
    (mlp_backward_with(relu_mask=lambda cache, k: 1.0), {},
     "dW1 has the wrong values: the gradients of layer 1 ignore the ReLU after it: multiply by (z1 > 0) on the way back."),
    (mlp_backward_with(relu_mask=lambda cache, k: 1.0), {"sizes": (7, 6, 5, 3)},
     "dW2 has the wrong values: the gradients of layer 2 ignore the ReLU after it: multiply by (z2 > 0)"),
    (mlp_backward_with(relu_mask=lambda cache, k: cache[k][1] > 0), {},
     f"{CALL} raised ValueError: operands could not be broadcast together"),
    (mlp_backward_with(relu_mask=lambda cache, k: cache[k][1] > 0), {},
     "Hint: check each product's shapes"),
    (mlp_backward_with(relu_mask=lambda cache, k: cache[k][1] > 0), {"sizes": (5, 4, 4, 4)},
     "dW2 has the wrong values: the ReLU after layer 2 is undone with the mask of layer 3, (z3 > 0): multiply by "
     "(z2 > 0), the pre-activation of layer 2 itself (cache[1])"),
    (mlp_backward_with(average=True), {},
     "dW2 is off by a factor of ≈ 1/6 (1 / the batch size): did you average over the batch twice? The 1/N "
     "of the mean loss is already in grad_logits"),
    (mlp_backward_with(bias_keepdims=True), {},
     "db2 has shape (1, 3) but should have shape (3,): it has an extra dimension of size 1"),
    (mlp_backward_with(weight_gradient=lambda grad, layer_input: layer_input.T @ grad), {},
     "dW2 has shape (4, 3) but should have shape (3, 4): it looks transposed"),
    (mlp_backward_with(weight_gradient=lambda grad, layer_input: layer_input.T @ grad), {"sizes": (4, 4, 4)},
     "dW2 has the wrong values: it is transposed — a gradient has the layout of its parameter"),
    (mlp_backward_with(key="d{}"), {},
     f"The gradients from {CALL} have the keys dW2, db2, dW1 and db1, but a gradient goes under the name of its "
     f"parameter, W2, b2, W1 and b1: grads['W1'] is the gradient of params['W1']."),
    (mlp_backward_with(step=True), {},
     f"{CALL} changed its argument params['W1'] in place"),
    ((lambda params, cache, grad: {name: g for name, g in mlp_backward(params, cache, grad).items()
                                                        if name.startswith("W")}), {},
     f"The gradients from {CALL} have no entry for b2 and b1 (db2 and db1): return a gradient for every parameter"),
    ((lambda params, cache, grad: {**mlp_backward(params, cache, grad), "x": grad}), {},
     f"The gradients from {CALL} have entries for x, which are not parameters: return exactly the keys of params, "
     f"W2, b2, W1 and b1."),
    ((lambda params, cache, grad: list(mlp_backward(params, cache, grad).values())), {},
     f"{CALL} returned a list, but a dict of gradients with the keys W2, b2, W1 and b1 (those of params) is expected."),
    ((lambda params, cache, grad: None), {},
     f"{CALL} returned None, but a dict of gradients"),
]


@pytest.mark.parametrize("function, options, message", WRONG_MLP_BACKWARDS)
def test_wrong_mlp_backwards_fail_with_the_reason(function, options, message):
    assert_fails_with(check_mlp_backward, function, [message], forward=mlp_forward, **options)


def test_the_hand_written_mlp_backward_is_right_when_nothing_is_swapped():
    check_mlp_backward(mlp_backward_with(), forward=mlp_forward, sizes=(7, 6, 5, 3))


# -------------------------------------------------------------------------- check_gradients

EXPECTED_GRADIENTS = {"W": np.arange(1.0, 7.0).reshape(2, 3), "b": np.array([0.5, -1.5])}


@pytest.mark.parametrize("actual, message", [
    ({"W": EXPECTED_GRADIENTS["W"] * 4, "b": EXPECTED_GRADIENTS["b"]},
     "dW is off by a factor of ≈ 4 (the batch size): that is the sum over the batch where the mean is meant — "
     "divide by the batch size."),
    ({"W": EXPECTED_GRADIENTS["W"] / 4, "b": EXPECTED_GRADIENTS["b"]},
     "dW is off by a factor of ≈ 1/4 (1 / the batch size): did you average over the batch twice? The 1/N "
     "of the mean loss is already in the incoming gradient"),
    ({"W": EXPECTED_GRADIENTS["W"], "b": -EXPECTED_GRADIENTS["b"]}, "db has the right size but the opposite sign"),
    ({"W": EXPECTED_GRADIENTS["W"]}, "The gradients have no entry for b (db)"),
    ([EXPECTED_GRADIENTS["W"]], "The gradients are a list, but a dict of gradients with the keys W and b"),
])
def test_check_gradients_names_each_entry_and_batch_size_factors(actual, message):
    with pytest.raises(CheckFailure) as caught:
        check_gradients(actual, EXPECTED_GRADIENTS, batch_size=4)
    assert message in str(caught.value)


def test_check_gradients_passes_matching_gradients_and_takes_known_mistakes():
    check_gradients(dict(EXPECTED_GRADIENTS), EXPECTED_GRADIENTS, batch_size=4)
    wrong = EXPECTED_GRADIENTS["b"] + 1
    with pytest.raises(CheckFailure, match="grad_b has the wrong values: the bias was added twice."):
        check_gradients({"W": EXPECTED_GRADIENTS["W"], "b": wrong}, EXPECTED_GRADIENTS, batch_size=4,
                        prefix="grad_", known_mistakes={"b": [(wrong, "the bias was added twice.")]})


# ---------------------------------------------------------------------- robustness of checks

def all_checks():
    check_linear_backward(linear_backward)
    check_relu_backward(relu_backward)
    check_cross_entropy_backward(cross_entropy_backward)
    check_mlp_backward(mlp_backward, forward=mlp_forward)


def test_checks_cannot_be_fooled_by_patched_numpy_or_torch():
    with tampered(builtin_names=()):
        all_checks()
        for check, function, message in [
            (check_linear_backward, linear_backward_with(grad_bias=lambda g, x, w: g.mean(axis=0)), "1 / the batch size"),
            (check_relu_backward, (lambda g, x: g * (x >= 0)), "kink at 0"),
            (check_cross_entropy_backward, (lambda x, t: softmax(x, 1) / len(x)),
             "one-hot target is not subtracted"),
        ]:
            assert message in failure_message(check, function)
        assert "ignore the ReLU" in failure_message(check_mlp_backward, mlp_backward_with(relu_mask=lambda c, k: 1.0),
                                                    forward=mlp_forward)


def test_checks_work_with_gradients_switched_off_globally():
    with torch.no_grad():
        all_checks()


def test_checks_leave_the_students_random_states_alone():
    assert_global_random_state_untouched(all_checks)


def test_cross_entropy_backward_must_keep_float32():
    def promoted(input, target):
        one_hot = np.zeros(input.shape, dtype=np.int64)
        one_hot[np.arange(len(target)), target] = 1
        exps = np.exp(input - input.max(axis=1, keepdims=True))
        return (exps / exps.sum(axis=1, keepdims=True) - one_hot) / len(target)

    with pytest.raises(CheckFailure, match="float32.*float64"):
        check_cross_entropy_backward(promoted)
