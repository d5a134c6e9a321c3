
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib.scratch.backward import cross_entropy_backward, linear_backward, relu_backward
from course_lib.scratch.functional import cross_entropy, linear, logsumexp, relu
from course_lib.scratch.gradcheck import gradient_check, numerical_gradient, relative_error
from tests.strategies import SEEDS, random_array, random_shape


KNOWN_GRADIENTS = [
    (lambda x: np.sum(x**3), lambda x: 3 * x**2),
    (lambda x: np.sum(np.sin(x)), np.cos),
    (lambda x: np.sum(x) ** 2, lambda x: 2 * np.sum(x) * np.ones_like(x)),
]


@pytest.mark.parametrize("f, gradient", KNOWN_GRADIENTS)
@pytest.mark.parametrize("seed", SEEDS)
def test_numerical_gradient_matches_known_derivatives(seed, f, gradient):
    rng = np.random.default_rng(seed)
    x = random_array(rng, random_shape(rng))
    numerical = numerical_gradient(f, x)
    assert numerical.shape == x.shape
    np.testing.assert_allclose(numerical, gradient(x), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("seed", SEEDS)
def test_numerical_gradient_matches_torch_autograd(seed):
    rng = np.random.default_rng(seed)
    logits, target = random_array(rng, (4, 3)), rng.integers(0, 3, 4)
    tensor = torch.tensor(logits, requires_grad=True)
    (F.cross_entropy(tensor, torch.from_numpy(target)) + torch.logsumexp(tensor, 0).sum()).backward()
    numerical = numerical_gradient(lambda x: cross_entropy(x, target) + logsumexp(x, 0).sum(), logits)
    np.testing.assert_allclose(numerical, tensor.grad.numpy(), rtol=1e-6, atol=1e-9)


def test_numerical_gradient_nudges_x_itself_and_restores_it_bit_for_bit():
    x = np.array([0.1, 1e-17, 3e5, -0.7])  # x + eps - eps rounds away from x for these
    assert not np.array_equal(x + 1e-6 - 1e-6, x)
    before, seen = x.copy(), []

    def f(values):
        seen.append(values is x)
        return np.sum(values**2)

    numerical_gradient(f, x)
    assert all(seen) and len(seen) == 2 * x.size
    assert x.tobytes() == before.tobytes()


def test_numerical_gradient_restores_x_even_when_f_fails():
    x = np.array([1.0, 2.0])

    def failing(values):
        raise RuntimeError("f broke")

    with pytest.raises(RuntimeError, match="f broke"):
        numerical_gradient(failing, x)
    np.testing.assert_array_equal(x, [1.0, 2.0])


@pytest.mark.parametrize("x", [np.zeros(3, dtype=np.float32), [1.0, 2.0], np.zeros(3, dtype=np.int64)])
def test_numerical_gradient_needs_a_float64_array(x):
    with pytest.raises(ValueError, match="float64 numpy array"):
        numerical_gradient(np.sum, x)


def test_relative_error_of_identical_arrays_and_of_zeros_is_zero():
    rng = np.random.default_rng(0)
    x = random_array(rng, (3, 4))
    assert relative_error(x, x.copy()) == 0.0 and type(relative_error(x, x)) is float
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert relative_error(np.zeros((0, 2)), np.zeros((0, 2))) == 0.0


def test_relative_error_is_the_norm_of_the_difference_relative_to_the_larger_norm():
    assert relative_error(np.array([0.0, 1.0]), np.array([0.0, 2.0])) == 0.5
    assert relative_error(np.array([-1.0]), np.array([1.0])) == 2.0
    assert relative_error(np.array([3.0, 0.0]), np.array([0.0, 4.0])) == pytest.approx(5 / 4)
    assert relative_error(np.array([1e-3]), np.array([1e-3 * (1 + 1e-8)])) == pytest.approx(1e-8, rel=1e-6)


def test_relative_error_is_not_dominated_by_a_tiny_entry_measured_roughly():
    # a gradient entry of 1e-9 measured as 2e-9 (finite-difference rounding) next to entries of size 1
    analytic, numerical = np.array([1.0, -0.5, 1e-9]), np.array([1.0, -0.5, 2e-9])
    assert relative_error(analytic, numerical) < 1e-8


def test_relative_error_needs_equal_shapes():
    with pytest.raises(ValueError, match=r"same shape, got \(3,\) and \(3, 1\)"):
        relative_error(np.zeros(3), np.zeros((3, 1)))


def small_mlp(seed):
    """A two-layer ReLU network's loss on a batch, and its gradients from the backward ops.

    Small weights and a positive first bias keep softmax unsaturated and most units active:
    gradient entries near 0 would show central differences' rounding noise (about
    1e-16 * |loss| / eps) as a large relative error.
    """
    rng = np.random.default_rng(seed)
    input, target = random_array(rng, (8, 5)), rng.integers(0, 3, 8)
    params = {"W1": 0.5 * random_array(rng, (6, 5)), "b1": 0.5 + 0.1 * random_array(rng, (6,)),
              "W2": 0.5 * random_array(rng, (3, 6)), "b2": 0.1 * random_array(rng, (3,))}

    def loss():
        hidden = relu(linear(input, params["W1"], params["b1"]))
        return float(cross_entropy(linear(hidden, params["W2"], params["b2"]), target))

    pre_activation = linear(input, params["W1"], params["b1"])
    hidden = relu(pre_activation)
    logits = linear(hidden, params["W2"], params["b2"])
    grad_logits = cross_entropy_backward(logits, target)
    grad_hidden, grad_W2, grad_b2 = linear_backward(grad_logits, hidden, params["W2"])
    _, grad_W1, grad_b1 = linear_backward(relu_backward(grad_hidden, pre_activation), input, params["W1"])
    return loss, params, {"W1": grad_W1, "b1": grad_b1, "W2": grad_W2, "b2": grad_b2}


@pytest.mark.parametrize("seed", SEEDS)
def test_gradient_check_passes_the_backward_ops_of_a_small_mlp(seed):
    loss, params, grads = small_mlp(seed)
    before = {name: param.copy() for name, param in params.items()}
    errors = gradient_check(loss, params, grads, eps=1e-5)
    assert errors.keys() == params.keys()
    assert max(errors.values()) < 1e-7
    # torch's default eps=1e-6 is closer to the rounding-noise floor, but still well under 1e-5
    assert max(gradient_check(loss, params, grads).values()) < 1e-5
    for name, param in params.items():
        assert param.tobytes() == before[name].tobytes()


def test_gradient_check_catches_a_wrong_gradient():
    loss, params, grads = small_mlp(0)
    errors = gradient_check(loss, params, {**grads, "b1": 2 * grads["b1"]})
    assert errors["b1"] == pytest.approx(0.5, rel=1e-4)
    assert max(errors["W1"], errors["W2"], errors["b2"]) < 1e-5


def test_gradient_check_with_max_entries_checks_that_many_random_entries_reproducibly():
    loss, params, grads = small_mlp(1)
    calls = []

    def counting_loss():
        calls.append(1)
        return loss()

    doubled = {**grads, "W1": 2 * grads["W1"]}
    errors = [gradient_check(counting_loss, params, doubled, max_entries=4, rng=np.random.default_rng(7))
              for _ in range(2)]
    assert errors[0] == errors[1]
    assert errors[0]["W1"] == pytest.approx(0.5, rel=1e-4)
    # 4 entries each of W1, b1 and W2, all 3 of b2; two calls of f per entry, in each of two runs
    assert len(calls) == 2 * 2 * (4 + 4 + 4 + 3)


@pytest.mark.parametrize("grads, message", [
    ({"a": np.zeros(2)}, r"same names, got \['a', 'b'\] and \['a'\]"),
    ({"a": np.zeros(2), "b": np.zeros((2, 1))}, r"grads\['b'\] has shape \(2, 1\) but params\['b'\] \(2,\)"),
])
def test_gradient_check_explains_mismatched_grads(grads, message):
    with pytest.raises(ValueError, match=message):
        gradient_check(lambda: 0.0, {"a": np.zeros(2), "b": np.zeros(2)}, grads)


def test_gradient_check_needs_float64_params():
    with pytest.raises(ValueError, match=r"params\['w'\] must be a float64 numpy array"):
        gradient_check(lambda: 0.0, {"w": np.zeros(2, dtype=np.float32)}, {"w": np.zeros(2)})
