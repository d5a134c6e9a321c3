"""Shared by the tests of course_lib.scratch."""
import warnings

import pytest


@pytest.fixture(autouse=True)
def warnings_are_errors():
    # overflow in exp or log(0) would only warn: in numpy from scratch it fails the test
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield
