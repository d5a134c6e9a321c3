
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib.scratch.backward import cross_entropy_backward, linear_backward, relu_backward
from course_lib.scratch.functional import cross_entropy, linear, relu
from tests.strategies import SEEDS, random_array, random_shape


def leaf(array):
    """A torch tensor sharing nothing with `array`, whose gradient autograd will fill in."""
    return torch.tensor(array, requires_grad=True)


def logits_and_targets(rng, kind, dtype=np.float64):
    n, classes = int(rng.integers(1, 8)), int(rng.integers(1, 6))
    logits = random_array(rng, (n, classes), dtype, extremes=True)
    if kind == "indices":
        return logits, rng.integers(0, classes, n)
    # rows of probabilities, and with "unnormalised" rows that do not sum to 1, which
    # torch accepts too
    probabilities = rng.dirichlet(np.ones(classes), n)
    return logits, np.asarray(probabilities * (2 if kind == "unnormalised" else 1), dtype=dtype)


@pytest.mark.parametrize("seed", SEEDS)
def test_linear_backward_matches_autograd(seed):
    rng = np.random.default_rng(seed)
    n, in_features, out_features = rng.integers(1, 6, 3)
    input, weight = random_array(rng, (n, in_features)), random_array(rng, (out_features, in_features))
    bias, grad_output = random_array(rng, (out_features,)), random_array(rng, (n, out_features))
    tensors = [leaf(input), leaf(weight), leaf(bias)]
    F.linear(*tensors).backward(torch.from_numpy(grad_output))
    for grad, tensor in zip(linear_backward(grad_output, input, weight), tensors, strict=True):
        assert grad.shape == tensor.shape
        np.testing.assert_allclose(grad, tensor.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_relu_backward_matches_autograd_including_zero_inputs(seed):
    rng = np.random.default_rng(seed)
    shape = random_shape(rng)
    input = random_array(rng, shape, extremes=True)
    input = np.where(rng.random(shape) < 0.2, 0.0, input)  # torch's gradient at exactly 0 is 0
    grad_output = random_array(rng, shape)
    tensor = leaf(input)
    F.relu(tensor).backward(torch.from_numpy(grad_output))
    np.testing.assert_array_equal(relu_backward(grad_output, input), tensor.grad.numpy())


@pytest.mark.parametrize("kind", ["indices", "probabilities", "unnormalised"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("seed", SEEDS)
def test_cross_entropy_backward_matches_autograd_including_extreme_logits(seed, reduction, kind):
    rng = np.random.default_rng(seed)
    logits, target = logits_and_targets(rng, kind)
    tensor = leaf(logits)
    # for "none", the gradient of the summed per-sample losses, as the contract says
    F.cross_entropy(tensor, torch.from_numpy(target), reduction=reduction).sum().backward()
    grad = cross_entropy_backward(logits, target, reduction=reduction)
    assert np.all(np.isfinite(grad))
    np.testing.assert_allclose(grad, tensor.grad.numpy(), rtol=1e-10, atol=1e-15)


def test_cross_entropy_backward_of_a_confident_right_answer_vanishes():
    logits = np.array([[1000.0, -1000.0], [-1000.0, 1000.0]])
    np.testing.assert_array_equal(cross_entropy_backward(logits, np.array([0, 1])), np.zeros((2, 2)))
    np.testing.assert_array_equal(cross_entropy_backward(logits, np.array([1, 1]), reduction="sum"),
                                  [[1.0, -1.0], [0.0, 0.0]])


@pytest.mark.parametrize("seed", SEEDS)
def test_backward_ops_chain_into_the_gradients_of_a_two_layer_network(seed):
    rng = np.random.default_rng(seed)
    n, d, hidden, classes = 7, 4, 5, 3
    input, target = random_array(rng, (n, d)), rng.integers(0, classes, n)
    params = [random_array(rng, (hidden, d)), random_array(rng, (hidden,)),
              random_array(rng, (classes, hidden)), random_array(rng, (classes,))]
    W1, b1, W2, b2 = params
    pre_activation = linear(input, W1, b1)
    hidden_output = relu(pre_activation)
    logits = linear(hidden_output, W2, b2)
    grad_hidden, grad_W2, grad_b2 = linear_backward(cross_entropy_backward(logits, target), hidden_output, W2)
    _, grad_W1, grad_b1 = linear_backward(relu_backward(grad_hidden, pre_activation), input, W1)

    tensors = [leaf(param) for param in params]
    torch_logits = F.linear(F.relu(F.linear(torch.from_numpy(input), *tensors[:2])), *tensors[2:])
    loss = F.cross_entropy(torch_logits, torch.from_numpy(target))
    loss.backward()
    np.testing.assert_allclose(cross_entropy(logits, target), loss.item(), rtol=1e-12)
    for grad, tensor in zip([grad_W1, grad_b1, grad_W2, grad_b2], tensors, strict=True):
        np.testing.assert_allclose(grad, tensor.grad.numpy(), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("kind", ["indices", "probabilities"])
def test_backward_ops_keep_float32(kind):
    rng = np.random.default_rng(0)
    logits, target = logits_and_targets(rng, kind, np.float32)
    n, classes = logits.shape
    input, weight = random_array(rng, (n, 3), np.float32), random_array(rng, (classes, 3), np.float32)
    grads = [*linear_backward(logits, input, weight), relu_backward(logits, logits)]
    grads += [cross_entropy_backward(logits, target, reduction) for reduction in ("mean", "sum", "none")]
    assert [grad.dtype for grad in grads] == [np.float32] * len(grads)


def test_cross_entropy_backward_checks_its_arguments_as_cross_entropy_does():
    with pytest.raises(ValueError, match="reduction must be one of"):
        cross_entropy_backward(np.zeros((2, 3)), np.zeros(2, dtype=np.int64), reduction="average")
    with pytest.raises(ValueError, match=r"shape \(2,\) to match input of shape \(2, 3\)"):
        cross_entropy_backward(np.zeros((2, 3)), np.zeros(3, dtype=np.int64))
    with pytest.raises(IndexError, match="Target 3 is out of bounds"):
        cross_entropy_backward(np.zeros((2, 3)), np.array([0, 3]))
