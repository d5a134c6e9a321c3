"""numpy from scratch: losses, regression trained by mini-batch gradient descent, the
pieces of an MLP (forward ops, their gradients, initialisation, gradient checking) and
the MLP itself, trained with any `course_lib.optim` optimizer; and the regularisers of
assignment 05 (dropout, L1/L2 penalties, gradient clipping, batch and layer normalisation);
convolution, max pooling and their sizes for assignment 06."""
from .backward import cross_entropy_backward, linear_backward, relu_backward
from .conv import (
    ReceptiveField, conv2d, conv_output_size, max_pool2d, pool_output_size, receptive_field, unfold,
)
from .functional import cross_entropy, linear, log_softmax, logsumexp, relu, softmax
from .gradcheck import gradient_check, numerical_gradient, relative_error
from .init import (
    calculate_fan_in_and_fan_out, calculate_gain, kaiming_normal_, kaiming_uniform_, normal_,
    orthogonal_, uniform_, xavier_normal_, xavier_uniform_, zeros_,
)
from .mlp import (
    TrainingHistory, fit_mlp, init_mlp, mlp_backward, mlp_forward, mlp_loss_and_gradients,
    mlp_predict, train_mlp,
)
from .normalization import (
    NormalizationCache, batch_norm, batch_norm_backward, batch_norm_forward, layer_norm,
    layer_norm_backward, layer_norm_forward,
)
from .regression import (
    GradientDescentResult, binary_cross_entropy_with_logits, linear_regression_gradients,
    logistic_regression_gradients, minibatch_gradient_descent, mse_loss, sigmoid,
)
from .regularization import (
    clip_grad_norm_, dropout, dropout_backward, dropout_mask, l1_penalty, l1_penalty_gradients,
    l2_penalty, l2_penalty_gradients,
)

__all__ = [
    "GradientDescentResult", "NormalizationCache", "ReceptiveField", "TrainingHistory",
    "batch_norm", "batch_norm_backward", "batch_norm_forward",
    "binary_cross_entropy_with_logits", "calculate_fan_in_and_fan_out", "calculate_gain",
    "clip_grad_norm_", "conv2d", "conv_output_size", "cross_entropy", "cross_entropy_backward",
    "dropout", "dropout_backward", "dropout_mask", "fit_mlp", "gradient_check", "init_mlp",
    "kaiming_normal_", "kaiming_uniform_", "l1_penalty", "l1_penalty_gradients", "l2_penalty",
    "l2_penalty_gradients", "layer_norm", "layer_norm_backward", "layer_norm_forward", "linear",
    "linear_backward", "linear_regression_gradients", "log_softmax",
    "logistic_regression_gradients", "logsumexp", "max_pool2d", "minibatch_gradient_descent",
    "mlp_backward", "mlp_forward", "mlp_loss_and_gradients", "mlp_predict", "mse_loss",
    "normal_", "numerical_gradient", "orthogonal_", "pool_output_size", "receptive_field",
    "relative_error", "relu", "relu_backward", "sigmoid", "softmax", "train_mlp", "unfold",
    "uniform_", "xavier_normal_", "xavier_uniform_", "zeros_",
]
