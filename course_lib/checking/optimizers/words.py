"""How the update-rule checks write calls, hyperparameters and numbers in their messages."""
from builtins import bool, float, getattr, isinstance, list, range, repr, str, tuple

from ..failure import number


def value_words(value):
    """A hyperparameter as the student would type it: 0.1, (0.9, 0.999), True."""
    if isinstance(value, (tuple, list)):
        return f"({', '.join(value_words(item) for item in value)})"
    if isinstance(value, bool):
        return repr(value)
    return number(value)


def arguments_words(hp):
    return ", ".join(f"{key}={value_words(value)}" for key, value in hp.items())


def call_words(name, hp, keywords):
    """'adam_update(param, grad, state, lr=0.05)': the call with the keywords passed."""
    arguments = "".join(f", {key}={value_words(hp[key])}" for key in keywords)
    return f"{name}(param, grad, state{arguments})"


def signature_words(name, defaults, required):
    """'momentum_update(param, grad, state, *, lr, momentum, dampening=0)'."""
    arguments = ", ".join(key if key in required else f"{key}={value_words(value)}"
                          for key, value in defaults.items())
    return f"{name}(param, grad, state, *, {arguments})"


def ordinal(j):
    return ("first", "second")[j]


def apart(got, wanted):
    """Two numbers with just enough digits to tell them apart: '0.99412', '0.99501'."""
    for digits in range(6, 18):
        got_words, wanted_words = f"{float(got):.{digits}g}", f"{float(wanted):.{digits}g}"
        if got_words != wanted_words:
            break
    return got_words, wanted_words
