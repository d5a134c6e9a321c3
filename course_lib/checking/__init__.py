"""Checks that explain a wrong answer, for the notebooks' test cells.

Every check returns None for a right answer and otherwise raises `CheckFailure` (an
AssertionError) whose message says what is wrong and, when it can be told, why:
"iterations_per_epoch(1000, 64) returned 15, expected 16: the last, partial batch of 40
samples still takes an optimizer step — round up unless drop_last=True."

- `harness`: the one way a check runs the student's function — `exercise(reference, ...)`
  declares an exercise (its name and signature, what the answer must not delegate to, which
  arguments it may change in place), `Answer(exercise, function)` runs it on copies of its
  inputs (`arguments`), quietly, under the delegation watch (`watch`), turning a crash, an
  argument changed in place, an input kept by reference or a call of the course's own
  solution into a CheckFailure with the shared advice. `DelegationFailure` is the CheckFailure of an
  answer that ran what it was meant to write itself.
- `values`: check_array, check_scalar, check_integer — for any exercise; `lists`: how a list or
  row that differs is shown (whole when short, else around its first difference).
- `batching`, `regression`, `training`, `softmax`, `backprop`, `gradient_check`, `initialization`,
  `classification`, `optimizers`, `schedules`, `penalties`, `dropout`, `clipping`, `early_stopping`,
  `normalization`, `running_stats`, `normalization_backward`, `augmentation`, and for 06
  `output_sizes`, `convolution`, `channel_statistics`, `distributed`, `accumulation`,
  `pixel_statistics`, `calibration`, `label_smoothing`, and for 07 the text pipeline's
  `tokenization`, `vocabulary`, `padding`, `offsets`, `hashing` and the binary classifiers'
  `log_count_ratio`, `binary_accuracy`, `binary_cross_entropy`, `two_class_logits`, `pooling`:
  checks of whole functions, one module per topic (`graph` finds the tensor an answer was
  given in its result's autograd graph, for the checks of a gradient). They run the student's function on inputs of their own
  and compute the expected values with torch (float64, autograd) or their own small
  computation from the definition, never with the course_lib references, which they import
  only to declare each exercise (its signature, and that the answer must not run it);
  `check_gradients` compares named gradients for any later exercise.

Tamper-proofing: the checks run in the student's kernel, after the student's code, which
may replace `np.allclose`, `torch.allclose` or a builtin — by accident or to pass. So a
check never decides with anything looked up at call time: the numpy functions it uses
are references captured when this package is imported (`_trusted.np`), its closeness
test is written from those (`_trusted.isclose`, not `np.isclose`, which itself looks up
`abs` and `np.isfinite` when it runs), and each module binds the builtins it decides with
at import (`from builtins import len, ...`; tests/checking/test_package.py holds every
module to it). Array methods (`.all()`, `.sum()`) are safe as they are: numpy's types
cannot be patched. The notebooks import this package before
any student code runs. Torch's schedulers look up `math.cos` and builtins such as `max`
when they run, so `schedules` puts back `math` and the builtins as they were at import
while torch computes its expected rates, then restores the student's.
"""
from .accumulation import check_accumulated_step
from .backprop import (
    check_cross_entropy_backward, check_gradients, check_linear_backward, check_mlp_backward,
    check_relu_backward,
)
from .augmentation import check_mixup_batch, check_shift_images
from .batching import (
    check_iterations_per_epoch, check_minibatch_indices, check_minibatches, check_total_updates,
)
from .binary_accuracy import check_binary_accuracy
from .binary_cross_entropy import check_binary_cross_entropy_with_logits
from .calibration import check_expected_calibration_error
from .channel_statistics import check_batch_norm2d_statistics
from .classification import check_confusion_matrix, check_one_hot, check_precision_recall
from .clipping import check_clip_grad_norm
from .convolution import check_conv2d
from .distributed import check_distributed_iterations_per_epoch
from .dropout import check_dropout
from .early_stopping import check_early_stopper
from .failure import CheckFailure, DelegationFailure
from .gradient_check import check_numerical_gradient
from .hashing import check_hashed_ngrams
from .initialization import check_kaiming_normal
from .label_smoothing import check_smoothed_cross_entropy
from .log_count_ratio import check_log_count_ratio
from .normalization import check_batch_norm_forward
from .normalization_backward import check_batch_norm_backward
from .offsets import check_embedding_bag_offsets
from .optimizers import (
    check_adam_update, check_adamax_update, check_adamw_update, check_ema_momentum_update,
    check_momentum_update, check_nesterov_update, check_rmsprop_update, check_sgd_update,
)
from .output_sizes import check_conv_output_size, check_pool_output_size
from .padding import check_pad_sequences
from .penalties import check_l1_penalty_gradients, check_l2_penalty
from .pixel_statistics import check_pixel_mean_and_std
from .pooling import check_masked_mean
from .regression import (
    check_linear_regression_gradients, check_logistic_regression_gradients,
    check_minibatch_gradient_descent,
)
from .running_stats import check_update_running_stats
from .schedules import (
    check_cosine_annealing_lr, check_cyclic_lr, check_exponential_lr, check_lr_range_test, check_one_cycle_lr,
    check_reduce_lr_on_plateau, check_step_lr, check_warmup_cosine_lr,
)
from .softmax import check_cross_entropy, check_softmax
from .tokenization import check_tokenize
from .training import check_train_epoch, check_train_step
from .transfer import check_transfer_parameter_groups
from .two_class_logits import check_two_class_logits
from .values import check_array, check_integer, check_scalar
from .vocabulary import check_vocabulary_tokens

__all__ = [
    "CheckFailure", "DelegationFailure", "check_accumulated_step", "check_adam_update",
    "check_adamax_update", "check_adamw_update", "check_array", "check_batch_norm2d_statistics",
    "check_batch_norm_backward", "check_batch_norm_forward", "check_binary_accuracy",
    "check_binary_cross_entropy_with_logits", "check_clip_grad_norm",
    "check_confusion_matrix", "check_conv2d", "check_conv_output_size",
    "check_cosine_annealing_lr", "check_cross_entropy", "check_cross_entropy_backward",
    "check_cyclic_lr", "check_distributed_iterations_per_epoch", "check_dropout",
    "check_early_stopper", "check_ema_momentum_update", "check_embedding_bag_offsets",
    "check_expected_calibration_error",
    "check_exponential_lr",
    "check_gradients", "check_hashed_ngrams", "check_integer", "check_iterations_per_epoch", "check_kaiming_normal",
    "check_l1_penalty_gradients", "check_l2_penalty", "check_linear_backward",
    "check_linear_regression_gradients", "check_logistic_regression_gradients",
    "check_log_count_ratio", "check_lr_range_test", "check_masked_mean",
    "check_minibatch_gradient_descent", "check_minibatch_indices",
    "check_minibatches", "check_mixup_batch", "check_mlp_backward", "check_momentum_update",
    "check_nesterov_update", "check_numerical_gradient", "check_one_cycle_lr", "check_one_hot",
    "check_pad_sequences",
    "check_pixel_mean_and_std", "check_pool_output_size", "check_precision_recall", "check_reduce_lr_on_plateau",
    "check_relu_backward", "check_rmsprop_update", "check_scalar", "check_sgd_update",
    "check_shift_images", "check_smoothed_cross_entropy", "check_softmax", "check_step_lr", "check_tokenize",
    "check_total_updates", "check_train_epoch", "check_train_step", "check_two_class_logits",
    "check_update_running_stats", "check_vocabulary_tokens",
    "check_warmup_cosine_lr",
    "check_transfer_parameter_groups",
]
