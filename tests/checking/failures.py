"""How the checking tests read a check's verdict on a wrong answer: the message it fails with."""
import pytest

from course_lib.checking.failure import CheckFailure


def failure_message(check, *arguments, **options):
    """The message `check(*arguments, **options)` fails with (the test fails if it passes):
    `check(function, **options)` for a check of a whole function, `check_array("x", actual,
    expected)` for a comparison."""
    with pytest.raises(CheckFailure) as caught:
        check(*arguments, **options)
    return str(caught.value)


def assert_fails_with(check, function, parts, **options):
    """The check fails on `function` with a message containing every string of `parts`."""
    message = failure_message(check, function, **options)
    for part in parts:
        assert part in message, f"{part!r} not in {message!r}"
    return message


def named(name, function):
    """`function` under the exercise's name, as the student's answer cell defines it
    (a check's messages call the function by its name)."""
    function.__name__ = name
    return function
