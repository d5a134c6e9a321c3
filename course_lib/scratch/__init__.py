"""numpy from scratch: losses and regression trained by mini-batch gradient descent."""
from .regression import (
    GradientDescentResult, binary_cross_entropy_with_logits, linear_regression_gradients,
    logistic_regression_gradients, minibatch_gradient_descent, mse_loss, sigmoid,
)

__all__ = [
    "GradientDescentResult", "binary_cross_entropy_with_logits", "linear_regression_gradients",
    "logistic_regression_gradients", "minibatch_gradient_descent", "mse_loss", "sigmoid",
]
