"""Calling the student's function for the checks of 05's regularisers (`penalties`, `dropout`,
`clipping`, `early_stopping`): quietly, with a crash turned into a CheckFailure that names
the call and, for the blank answer or wrong arguments, what to do."""
import warnings
from builtins import Exception, NotImplementedError, TypeError, getattr, isinstance, str, type
from contextlib import contextmanager

from ._trusted import np
from .failure import NOT_IMPLEMENTED, CheckFailure, fail


def name_of(function, default):
    """The function's own name for messages, or `default` for a lambda or a partial."""
    name = getattr(function, "__name__", default)
    return name if isinstance(name, str) and name.isidentifier() and name != "<lambda>" else default


@contextmanager
def quietly():
    """The student's code runs without printing warnings: nbgrader would count them."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        yield


def run(function, call, signature, *args, **kwargs):
    """function(*args, **kwargs), quietly; a crash fails with the call and the error."""
    __tracebackhide__ = True
    try:
        with quietly():
            return function(*args, **kwargs)
    except Exception as error:
        if isinstance(error, NotImplementedError):
            fail(f"{call} raised NotImplementedError: {NOT_IMPLEMENTED}")
        message = f"{call} raised {type(error).__name__}: {error}"
        if isinstance(error, TypeError) and "argument" in str(error):
            message += f"\nHint: the signature is {signature}."
        raise CheckFailure(message) from error
