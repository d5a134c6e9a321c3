"""Counting what a panel does on a change: the tests check that work is not repeated
(speed itself is measured in benchmarks/widgets.py, never asserted in a test)."""


def counted(calls, name, function):
    """`function`, adding 1 to calls[name] (a Counter) each time it runs."""
    def wrapper(*args, **kwargs):
        calls[name] += 1
        return function(*args, **kwargs)
    return wrapper
