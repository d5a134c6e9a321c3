from course_lib.checking.optimizers.sgd import MOMENTUM
from course_lib.checking.optimizers.words import apart, call_words, signature_words, value_words


def test_values_read_as_typed():
    assert value_words((0.9, 0.999)) == "(0.9, 0.999)"
    assert value_words(True) == "True"
    assert value_words(1e-8) == "1e-08"


def test_calls_show_the_keywords_passed_and_signatures_the_defaults():
    assert call_words("momentum_update", {"lr": 0.1, "momentum": 0.9, "dampening": 0.0}, ["lr", "momentum"]) == (
        "momentum_update(param, grad, state, lr=0.1, momentum=0.9)")
    assert signature_words("momentum_update", MOMENTUM.defaults, MOMENTUM.required) == (
        "momentum_update(param, grad, state, *, lr, momentum, dampening=0, weight_decay=0)")


def test_two_numbers_get_the_digits_that_tell_them_apart():
    assert apart(0.1234567, 0.1234568) == ("0.1234567", "0.1234568")
    assert apart(1.0, 2.0) == ("1", "2")

