"""Counting how often a check calls the student's function: what a check costs is the number
of calls it makes, which a test can pin (a test never asserts on wall time)."""
import functools


def counted(function):
    """`function`, under its own name, counting its calls in `.calls`."""
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        wrapper.calls += 1
        return function(*args, **kwargs)

    wrapper.calls = 0
    return wrapper
