"""Counting calls: what a check or a panel costs is the work it does — how often it runs the
student's function, trains, draws — which a test can pin (a test never asserts on wall time)."""
import functools


def counted(function):
    """`function`, under its own name, counting its calls in `.calls`."""
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        wrapper.calls += 1
        return function(*args, **kwargs)

    wrapper.calls = 0
    return wrapper
