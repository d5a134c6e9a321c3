"""The backward pass of an MLP in numpy: gradients of the ops in `functional`.

Each function takes the gradient of the loss with respect to an op's output
(`grad_output`) and what the op's forward pass saw, and returns the gradients with
respect to the op's inputs: what torch autograd computes, which the tests check.
"""
import numpy as np

from ._reduction import check_reduction
from .functional import _cross_entropy_arguments, softmax


def linear_backward(grad_output, input, weight):
    """Gradients of `linear(input, weight, bias)`: (grad_input, grad_weight, grad_bias).

    grad_output is [N, out], input [N, in], weight [out, in]; the bias is summed over the
    batch because the same bias was added to every sample.
    """
    grad_output = np.asarray(grad_output)
    return grad_output @ weight, grad_output.T @ input, grad_output.sum(axis=0)


def relu_backward(grad_output, input):
    """Gradient of `relu(input)`: grad_output where input > 0, else 0 (also at 0, as torch)."""
    return np.where(np.asarray(input) <= 0, 0, grad_output)


def cross_entropy_backward(input, target, reduction="mean"):
    """Gradient of `cross_entropy(input, target, reduction)` with respect to the logits `input`.

    For class indices it is softmax(input) - one_hot(target), divided by N for "mean"; for
    "none" it is the per-sample gradient, i.e. that of the "sum" loss. For class
    probabilities it is softmax(input) * sum(target) - target per sample, which is
    softmax - target when each row of target sums to 1.
    """
    check_reduction(reduction)
    input, target, class_indices = _cross_entropy_arguments(input, target)
    probabilities = softmax(input, dim=1)
    if class_indices:
        grad = probabilities
        grad[np.arange(len(target)), target] -= 1
    else:
        grad = probabilities * np.sum(target, axis=1, keepdims=True) - target
    return grad / len(input) if reduction == "mean" else grad
