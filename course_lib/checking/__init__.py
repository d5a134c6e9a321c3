"""Checks that explain a wrong answer, for the notebooks' test cells.

Every check returns None for a right answer and otherwise raises `CheckFailure` (an
AssertionError) whose message says what is wrong and, when it can be told, why:
"iterations_per_epoch(1000, 64) returned 15, expected 16: the last, partial batch of 40
samples still takes an optimizer step — round up unless drop_last=True."

- `values`: check_array, check_scalar, check_integer — for any exercise.
- `batching`, `training`: checks of whole functions, one module per topic.

Tamper-proofing: the checks run in the student's kernel, after the student's code, which
may replace `np.allclose`, `torch.allclose` or a builtin — by accident or to pass. So a
check never decides with anything looked up at call time: the numpy functions it uses
are references captured when this package is imported (`_trusted.np`), its closeness
test is written from those (`_trusted.isclose`, not `np.isclose`, which itself looks up
`abs` and `np.isfinite` when it runs), and each module binds the builtins it decides with
at import (`from builtins import len, ...`). Array methods (`.all()`, `.sum()`) are safe
as they are: numpy's types cannot be patched. The notebooks import this package before
any student code runs.
"""
from .batching import check_epoch_batches, check_minibatch_indices, check_minibatches
from .failure import CheckFailure
from .training import check_train_epoch, check_train_step
from .values import check_array, check_integer, check_scalar

__all__ = [
    "CheckFailure", "check_array", "check_epoch_batches", "check_integer",
    "check_minibatch_indices", "check_minibatches", "check_scalar", "check_train_epoch",
    "check_train_step",
]
