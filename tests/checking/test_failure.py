import numpy as np
import pytest
import torch

from course_lib.checking.failure import CheckFailure, fail, kind_of, listing, mistake, name_of, number, verb


def test_check_failure_is_an_assertion_error_carrying_its_message():
    with pytest.raises(AssertionError) as caught:
        fail("grad_w is wrong.")
    assert isinstance(caught.value, CheckFailure)
    assert caught.value.message == str(caught.value) == "grad_w is wrong."


def test_fail_puts_the_hint_last():
    with pytest.raises(CheckFailure) as caught:
        fail("grad_w is wrong.", hint="average over the batch once")
    assert str(caught.value) == "grad_w is wrong.\nHint: average over the batch once"


def test_verb_reads_after_calls_and_names():
    assert verb("iterations_per_epoch(1000, 64)") == "returned"
    assert verb("grad_w") == "is"


@pytest.mark.parametrize("value, words", [
    (None, "None"), ([1], "a list"), (torch.zeros(1), "a torch.Tensor"), (np.zeros(1), "a numpy array"),
    (1.5, "a float"), (3, "an int"), ((x for x in []), "a generator"),
])
def test_kind_of_names_what_a_value_is(value, words):
    assert kind_of(value) == words


def test_number_and_listing_write_as_a_student_reads():
    assert (number(16), number(np.int64(3)), number(0.69314718), number(1.5e-8)) == ("16", "3", "0.693147", "1.5e-08")
    assert listing([3]) == "3"
    assert listing([3, 17, 42]) == "3, 17 and 42"
    assert listing(range(12)) == "0, 1, 2, 3, 4, … (12 in all)"


def test_a_lambda_or_a_nameless_callable_is_called_by_the_exercise_name():
    def sgd_update(param, grad, state):
        return None
    assert name_of(sgd_update, "update") == "sgd_update"
    assert name_of(lambda p, g, s: None, "sgd_update") == "sgd_update"
    assert name_of(object(), "sgd_update") == "sgd_update"


def test_a_mistake_carries_its_explanation():
    @mistake("the bias correction is missing.")
    def adam_without_bias_correction():
        return None
    assert adam_without_bias_correction.explanation == "the bias correction is missing."
