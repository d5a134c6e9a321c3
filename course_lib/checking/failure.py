"""`CheckFailure`, and the small pieces of English its messages are built from."""
from builtins import float, int, isinstance, len, list, str, super, tuple, type

import torch

from ._trusted import np


class CheckFailure(AssertionError):
    """A wrong answer, with a message telling the student what is wrong and, when it can
    be told, the likely cause. An AssertionError, so nbgrader scores it like a failed assert."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


class DelegationFailure(CheckFailure):
    """An answer that ran what its exercise asks the student to write — the course's own
    solution, or torch's implementation of the same operation. A class of its own, so that
    the grader can list such submissions by the exception's name."""


# what a student must do when a check meets the answer cell's `raise NotImplementedError()`
NOT_IMPLEMENTED = ("replace `raise NotImplementedError()` in the answer cell with your "
                   "implementation, then run that cell again before this one.")


def fail(message, hint=None):
    """Raise a CheckFailure; `hint`, the test author's advice for this exercise, comes last."""
    __tracebackhide__ = True  # pytest and IPython show the student's frames, not ours
    raise CheckFailure(message if hint is None else f"{message}\nHint: {hint}")


def wrong_kind(returned, value, wanted):
    """Fail with "<returned> <kind of value>, but <wanted> is expected", blaming a missing
    `return` when the value is None; `returned` is e.g. "f(x) returned"."""
    __tracebackhide__ = True
    cause = ": did the function end without a `return` statement?" if value is None else "."
    fail(f"{returned} {kind_of(value)}, but {wanted} is expected{cause}")


def unpacked(returned, result, count, wanted):
    """`result` when it is a tuple or list of `count` values (what `a, b = f(...)` needs),
    else a failure naming what came back instead."""
    __tracebackhide__ = True
    if not isinstance(result, (tuple, list)):
        wrong_kind(returned, result, wanted)
    if len(result) != count:
        fail(f"{returned} {kind_of(result)} of {len(result)} values, but {wanted} is expected.")
    return result


def verb(name):
    """'returned' after a call such as 'f(3)', 'is' after a plain name such as 'grad_w'."""
    return "returned" if name.endswith(")") else "is"


def kind_of(value):
    """What `value` is, in words: 'None', 'a list', 'a torch.Tensor', 'a float'..."""
    if value is None:
        return "None"
    if isinstance(value, torch.Tensor):
        return "a torch.Tensor"
    if isinstance(value, np.ndarray):
        return "a numpy array"
    type_name = type(value).__name__
    return f"an {type_name}" if type_name[0] in "aeiou" else f"a {type_name}"


def number(value):
    """A number as a student reads it: 16, 0.693147, 1.5e-08."""
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    return f"{float(value):.6g}"


def listing(items, limit=5):
    """'3', '3 and 17', '3, 17 and 42', or '3, 17, 42, 50, 51, … (12 in all)'."""
    words = [str(item) for item in items]
    if len(words) > limit:
        return f"{', '.join(words[:limit])}, … ({len(words)} in all)"
    if len(words) == 1:
        return words[0]
    return f"{', '.join(words[:-1])} and {words[-1]}"
