"""Argument checks the models share: a clear CourseError instead of torch's own message deep inside a layer."""
import numbers

from ..errors import CourseError


def check_dropout(p):
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0 <= p < 1:
        raise CourseError(f"dropout is the probability of zeroing a unit, from 0 (no dropout) up to "
                          f"but not including 1; got {p!r}")


def check_count(name, value, minimum=1):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise CourseError(f"{name} must be a whole number >= {minimum}, got {value!r}")
