import builtins
import re

import numpy as np
import pytest
import torch

from course_lib.checking.failure import CheckFailure
from course_lib.checking.values import check_array, check_integer, check_scalar
from tests.checking.failures import failure_message
from tests.strategies import SEEDS, random_array, random_shape, tampered

EXPECTED = np.arange(1, 9, dtype=np.float64).reshape(2, 4) / 7  # no zeros: every ratio is defined


# ------------------------------------------------------------------------ check_array

@pytest.mark.parametrize("seed", SEEDS)
def test_check_array_passes_right_answers_within_tolerance(seed):
    rng = np.random.default_rng(seed)
    expected = random_array(rng, random_shape(rng))
    check_array("x", expected * (1 + 1e-7), expected)
    check_array("x", expected.astype(np.float32), expected.astype(np.float32), dtype=np.float32)
    check_array("x", torch.from_numpy(expected), torch.from_numpy(expected).clone())


def test_check_array_accepts_numbers_for_0d_arrays_and_matching_nans():
    check_array("x", 2.0, np.array(2.0))
    check_array("x", np.float32(2.0), np.array(2.0))
    check_array("x", np.array([np.nan, 1.0]), np.array([np.nan, 1.0]))
    check_array("mask", np.array([True, False]), np.array([True, False]))


@pytest.mark.parametrize("actual, expected, message", [
    (None, EXPECTED, "x is None, but a numpy array of shape (2, 4) is expected: did the function end without a `return`"),
    (torch.from_numpy(EXPECTED), EXPECTED, "x is a torch.Tensor, but a numpy array of shape (2, 4) is expected: this part is numpy only"),
    (EXPECTED.tolist(), EXPECTED, "x is a list, but a numpy array of shape (2, 4) is expected: compute with numpy operations"),
    (0.5, EXPECTED, "x is a float, but a numpy array of shape (2, 4) is expected: did a sum or mean reduce over every axis"),
    (EXPECTED, torch.from_numpy(EXPECTED), "x is a numpy array, but a torch.Tensor of shape (2, 4) is expected: torch.from_numpy"),
    ("0.5", np.array(0.5), "x is a str, but a numpy array of shape () is expected."),
    (True, np.array(1.0), "x is a bool, but a numpy array of shape () is expected."),
])
def test_check_array_names_the_wrong_kind_of_object(actual, expected, message):
    assert failure_message(check_array, "x", actual, expected).startswith(message)


def test_check_array_says_who_returned_what():
    message = failure_message(check_array, "relu(x)", None, EXPECTED)
    assert message.startswith("relu(x) returned None")


@pytest.mark.parametrize("actual_shape, expected_shape, message", [
    ((4, 2), (2, 4), "x has shape (4, 2) but should have shape (2, 4): it looks transposed"),
    ((1, 64), (64,), "x has shape (1, 64) but should have shape (64,): it has an extra dimension of size 1"),
    ((64,), (64, 1), "x has shape (64,) but should have shape (64, 1): a dimension of size 1 is missing"),
    ((64, 64), (64,), "x has shape (64, 64) but should have shape (64,): a (64, 1) column and a (64,) vector broadcast"),
    ((8, 8), (8, 1), "into a (8, 8) matrix"),
    ((4, 16), (8, 8), "x has shape (4, 16) but should have shape (8, 8): it has the right number of entries"),
    ((3, 8), (8, 8), "x has shape (3, 8) but should have shape (8, 8)."),
])
def test_check_array_explains_shape_mismatches(actual_shape, expected_shape, message):
    assert message in failure_message(check_array, "x", np.ones(actual_shape), np.ones(expected_shape))


@pytest.mark.parametrize("actual, dtype, message", [
    (EXPECTED, np.float32, "x has dtype float64 but should have dtype float32: numpy 2 keeps float32 arithmetic in float32"),
    (np.ones((2, 4), dtype=np.int64), np.float32, "x has dtype int64 but should have dtype float32: it holds integers"),
    (np.ones((2, 4), dtype=np.float16), np.float32, "x has dtype float16 but should have dtype float32."),
    (torch.ones(2, 4, dtype=torch.float64), torch.float32, "x has dtype torch.float64 but should have dtype torch.float32: a tensor made from float64"),
    (torch.ones(2, 4, dtype=torch.int64), torch.float32, "it holds integers"),
])
def test_check_array_checks_the_dtype_when_asked(actual, dtype, message):
    expected = EXPECTED.astype(np.float32)
    if isinstance(actual, torch.Tensor):
        expected = torch.from_numpy(expected)
    assert message in failure_message(check_array, "x", actual, expected, dtype=dtype)


def test_check_array_rejects_arrays_of_objects_even_without_a_dtype():
    message = failure_message(check_array, "x", np.array([1.0, "a"], dtype=object), np.ones(2))
    assert message.startswith("x has dtype object, which holds no numbers")


@pytest.mark.parametrize("bad, message", [
    (np.nan, "x contains nan in 1 of 8 entries, the first at x[1, 2]; nan comes from 0/0"),
    (np.inf, "x contains inf in 1 of 8 entries, the first at x[1, 2]; inf comes from an overflow"),
])
def test_check_array_points_at_nan_and_inf(bad, message):
    actual = EXPECTED.copy()
    actual[1, 2] = bad
    assert failure_message(check_array, "x", actual, EXPECTED).startswith(message)


def test_check_array_reports_nan_in_a_0d_array():
    assert failure_message(check_array, "x", np.array(np.nan), np.array(1.0)).startswith("x is nan; nan comes from")


def test_check_array_reports_a_known_mistake_by_its_explanation():
    message = failure_message(check_array, "dW", EXPECTED + 1, EXPECTED,
                              known_mistakes=[(EXPECTED + 1, "the bias was added twice.")])
    assert message == "dW has the wrong values: the bias was added twice."


@pytest.mark.parametrize("factor, message", [
    (32, "dW2 is off by a factor of ≈ 32 (the batch size)"),
    (1 / 32, "dW2 is off by a factor of ≈ 1/32 (1 / the batch size)"),
    (-2, "dW2 is off by a factor of ≈ -2 (2)"),
    (2.5, "dW2 is off by a factor of ≈ 2.5:"),
    (0.25, "dW2 is off by a factor of ≈ 1/4:"),
])
def test_check_array_measures_a_constant_factor_and_names_it(factor, message):
    hints = {"the batch size": 32, "2": 2}
    assert failure_message(check_array, "dW2", EXPECTED * factor, EXPECTED, factor_hints=hints).startswith(message)


def test_check_array_factor_survives_float32_rounding_and_zero_entries():
    expected = np.array([0.0, 1.0, -2.5, 3.0], dtype=np.float32)
    message = failure_message(check_array, "g", (expected * 32).astype(np.float32), expected,
                              factor_hints={"the batch size": 32})
    assert "off by a factor of ≈ 32 (the batch size)" in message


def test_check_array_names_no_factor_from_a_single_entry_without_a_hint():
    message = failure_message(check_array, "x", np.array([0.0, 5.0]), np.array([0.0, 2.0]))
    assert message.startswith("x differs from the expected values in 1 of 2 entries")


def test_check_array_recognises_a_flipped_sign_and_all_zeros():
    assert failure_message(check_array, "g", -EXPECTED, EXPECTED).startswith("g has the right size but the opposite sign")
    assert failure_message(check_array, "g", 0 * EXPECTED, EXPECTED).startswith("g is all zeros")


def test_check_array_otherwise_reports_the_largest_error_and_where():
    actual = EXPECTED.copy()
    actual[0, 1] += 0.1
    actual[1, 3] += 0.5
    message = failure_message(check_array, "x", actual, EXPECTED)
    assert message == ("x differs from the expected values in 2 of 8 entries; the largest difference is "
                       f"at x[1, 3]: {actual[1, 3]:.6g} instead of {EXPECTED[1, 3]:.6g}.")


def test_check_array_says_when_a_wrong_answer_is_close():
    actual = EXPECTED * (1 + 1e-4)
    actual[0, 0] = EXPECTED[0, 0]  # not a constant factor
    message = failure_message(check_array, "x", actual, EXPECTED)
    assert "Close (relative error up to 1.0e-04) but outside the tolerance (rtol=1e-05, atol=1e-08)" in message


def test_check_array_reports_a_0d_value_as_a_number():
    assert failure_message(check_array, "relu(x)", np.array(3.0), np.array(2.0)) == "relu(x) returned 3, expected 2."


def test_check_array_appends_the_hint_to_any_failure():
    message = failure_message(check_array, "x", None, EXPECTED, hint="return the array")
    assert message.endswith("\nHint: return the array")


# ----------------------------------------------------------------------- check_scalar

def test_check_scalar_passes_numbers_within_tolerance():
    for actual in (0.6931472, np.float32(0.6931472), np.float64(0.6931472), np.array(0.6931472)):
        check_scalar("loss", actual, np.log(2))
    check_scalar("count", 3, 3.0)


@pytest.mark.parametrize("actual, message", [
    (None, "loss is None, but a number is expected: did the function end without a `return`"),
    (torch.tensor(0.5), "loss is a torch.Tensor of shape (), but a number is expected: .item() takes the number out."),
    (np.ones(1), "loss is a numpy array of shape (1,), but a number is expected: .item() takes the number out."),
    (np.ones(3), "loss is a numpy array of shape (3,), but a number is expected: is a sum or a mean missing?"),
    (True, "loss is True, a bool, but a number is expected."),
    ("0.5", "loss is a str, but a number is expected."),
    (float("nan"), "loss is nan; nan comes from 0/0"),
    (float("inf"), "loss is inf; inf comes from an overflow"),
    (-0.69, "loss is -0.69, expected 0.69: the right size but the opposite sign."),
    (0.69 * 32, "loss is 22.08, expected 0.69: off by a factor of ≈ 32 (the batch size)."),
    (0.69 * 3, "loss is 2.07, expected 0.69."),
    (0.5, "loss is 0.5, expected 0.69: that is the sum, not the mean."),
])
def test_check_scalar_explains_wrong_answers(actual, message):
    assert failure_message(check_scalar, "loss", actual, 0.69, factor_hints={"the batch size": 32},
                           known_mistakes={0.5: "that is the sum, not the mean."}).startswith(message)


def test_check_scalar_says_when_a_wrong_answer_is_close():
    assert failure_message(check_scalar, "loss", 0.6932, 0.69314718).startswith(
        "loss is 0.6932, expected 0.693147. Close (relative error up to 7.6e-05) but outside the tolerance")


def test_check_scalar_appends_the_hint():
    assert failure_message(check_scalar, "f(x)", 1.0, 2.0, hint="use the mean").endswith(
        "f(x) returned 1, expected 2.\nHint: use the mean")


# ---------------------------------------------------------------------- check_integer

def test_check_integer_passes_python_and_numpy_ints():
    check_integer("n", 16, 16)
    check_integer("n", np.int64(16), 16)


@pytest.mark.parametrize("actual, message", [
    (15, "iterations_per_epoch(1000, 64) returned 15, expected 16: the last, partial batch of 40 samples "
         "still takes an optimizer step — round up unless drop_last=True."),
    (17, "iterations_per_epoch(1000, 64) returned 17, expected 16 (one too many)."),
    (12, "iterations_per_epoch(1000, 64) returned 12, expected 16."),
    (16.0, "iterations_per_epoch(1000, 64) returned 16.0, a float, but the int 16 is expected: `/` and np.ceil give floats"),
    (np.float64(16), "iterations_per_epoch(1000, 64) returned 16.0, a float, but the int 16 is expected"),
    (15.625, "iterations_per_epoch(1000, 64) returned 15.625, but the whole number 16 is expected: a count has no fraction"),
    (None, "iterations_per_epoch(1000, 64) returned None, but a whole number (an int) is expected: did the function end"),
    (True, "iterations_per_epoch(1000, 64) returned True, a bool, but a whole number (an int) is expected."),
    (np.array(16), "iterations_per_epoch(1000, 64) returned a numpy array of shape (), but a whole number (an int) is expected: .item()"),
])
def test_check_integer_explains_wrong_answers(actual, message):
    known = {15: "the last, partial batch of 40 samples still takes an optimizer step — round up unless drop_last=True."}
    assert failure_message(check_integer, "iterations_per_epoch(1000, 64)", actual, 16,
                           known_mistakes=known).startswith(message)


def test_check_integer_matches_float_known_mistakes_and_appends_the_hint():
    message = failure_message(check_integer, "n", 15.625, 16, known_mistakes={15.625: "round up."}, hint="ceil")
    assert message == "n is 15.625, expected 16: round up.\nHint: ceil"
    assert failure_message(check_integer, "n", 15, 16) == "n is 15, expected 16 (one too few)."


# ---------------------------------------------------------------- tamper-proofing

def outcome(check, *args, **kwargs):
    """'pass', or the failure message, with numpy, torch and builtins tampered with."""
    with tampered():
        try:
            check(*args, **kwargs)
        except CheckFailure as failure:
            return str(failure)
    return "pass"


@pytest.mark.parametrize("check, actual, expected, message", [
    (check_array, EXPECTED * 32, EXPECTED, "x is off by a factor of ≈ 32"),
    (check_array, EXPECTED + 1e-3, EXPECTED, "x differs from the expected values in 8 of 8 entries"),
    (check_array, np.where(EXPECTED > 0.5, np.nan, EXPECTED), EXPECTED, "x contains nan"),
    (check_array, torch.from_numpy(-EXPECTED), torch.from_numpy(EXPECTED), "x has the right size but the opposite sign"),
    (check_scalar, 0.7, 0.69, "x is 0.7, expected 0.69."),
    (check_integer, 15, 16, "x is 15, expected 16"),
])
def test_checks_cannot_be_fooled_by_patched_numpy_torch_or_builtins(check, actual, expected, message):
    assert outcome(check, "x", actual, expected).startswith(message)
    assert outcome(check, "x", expected, expected) == "pass"


def test_tampering_in_the_test_is_undone():
    assert not np.allclose(1.0, 2.0) and builtins.abs(-1) == 1


def test_failure_messages_quote_no_escaped_text():
    message = failure_message(check_array, "x", np.ones((64, 64)), np.ones(64))
    assert not re.search(r"\\[nt]", message)
