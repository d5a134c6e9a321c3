import warnings

import numpy as np
import pytest
import torch

from course_lib import scratch
from course_lib.checking.dropout import check_dropout
from course_lib.checking.failure import DelegationFailure
from tests.calls import counted
from tests.checking.failures import assert_fails_with, failure_message, named
from tests.grading.wrong_answers import defined_by
from tests.strategies import SEEDS, assert_global_random_state_untouched, tampered

# the wrong implementations under test divide by zero on purpose
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


# ------------------------------------------------------- the right answer, as students write it
# (without the builtins and numpy functions `tampered` replaces: it runs under it too)

def dropout(input, p=0.5, training=True, *, generator):
    if not training:
        return input
    if p == 1:
        return np.zeros_like(input)
    keep = generator.random(input.shape) >= p
    return input * keep / (1 - p)


@pytest.mark.parametrize("seed", SEEDS)
def test_the_reference_keeps_what_torch_keeps(seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((300, 200))
    out = dropout(x, 0.3, generator=np.random.default_rng(seed))
    torch_out = torch.nn.functional.dropout(torch.from_numpy(x), 0.3)
    for output in (out, torch_out.numpy()):  # kept entries: input / (1 - p), as torch's
        kept = output != 0
        np.testing.assert_allclose(output[kept], x[kept] / 0.7, rtol=1e-12)
        assert abs((~kept).mean() - 0.3) < 0.01


def test_the_reference_passes():
    check_dropout(dropout)
    for seed in SEEDS:
        check_dropout(dropout, seed=seed)


def test_the_course_reference_is_not_an_answer():
    with pytest.raises(DelegationFailure, match="called course_lib.scratch.dropout, which does what this exercise "
                                                "asks you to write"):
        check_dropout(scratch.dropout)


@pytest.mark.parametrize("route, name", [
    (lambda input, p, training: torch.nn.functional.dropout(torch.from_numpy(input), p, training).numpy(),
     "torch.nn.functional.dropout"),
    (lambda input, p, training: torch.dropout(torch.from_numpy(input), p, training).numpy(), "torch.dropout"),
    (lambda input, p, training: torch.nn.Dropout(p).train(training)(torch.from_numpy(input)).numpy(),
     "torch.nn.Dropout"),
    (lambda input, p, training: input * scratch.dropout_mask(input.shape, p, dtype=input.dtype),
     "course_lib.scratch.dropout_mask"),
])
def test_torchs_dropout_and_the_course_mask_are_not_an_answer(route, name):
    def delegating(input, p=0.5, training=True, *, generator):
        return route(input, p, training)

    with pytest.raises(DelegationFailure, match=f"called {name}"):
        check_dropout(named("dropout", delegating))


@pytest.mark.parametrize("options", [
    dict(p=0.7), dict(p=0.1, shape=(30, 4, 5)), dict(p=0.5, dtype=np.float32), dict(training=False),
    dict(shape=(1000,)), dict(p=0.5, shape=(2, 3))])
def test_the_reference_passes_with_options(options):
    check_dropout(dropout, **options)


def test_other_right_answers_pass():
    """np.where for the mask, float32 kept by astype: right."""
    check_dropout(lambda input, p=0.5, training=True, *, generator: input if not training else np.where(
        generator.random(input.shape) < p, 0.0, input / (1 - p)).astype(input.dtype))


def test_unknown_options_are_the_test_authors_error():
    with pytest.raises(TypeError, match="unexpected keyword argument 'lr'"):
        check_dropout(dropout, lr=0.1)


def test_the_check_calls_the_answer_once_per_scenario_and_twice_more_for_the_generator():
    """training=False, p=0 and p=1 call once; 0 < p < 1 calls three times: the answer, the
    same generator state again (reproducible), and the next call (a new mask): p=0.5, 0.2 and
    0.3 (float32)."""
    answer = counted(dropout)
    check_dropout(answer)
    assert answer.calls == 3 * 3 + 3
    answer.calls = 0
    check_dropout(answer, training=False)
    assert answer.calls == 1


# ---------------------------------------------------------------------------- wrong answers

def dropout_with(mask=None, scale=None, eval_output=None):
    def wrong(input, p=0.5, training=True, *, generator):
        if not training:
            return input if eval_output is None else eval_output(input, p)
        if p == 1:
            return np.zeros_like(input)
        keep = (mask or (lambda shape, p, rng: rng.random(shape) >= p))(input.shape, p, generator)
        return input * keep * (scale or (lambda p: 1 / (1 - p)))(p)
    return named("dropout", wrong)


WRONG_DROPOUTS = [
    (dropout_with(scale=lambda p: 1.0),
     ["dropout(input, generator=rng): the kept entries are not rescaled"]),
    (dropout_with(scale=lambda p: 1 / p), ["dropout(input, p=0.2, generator=rng): the kept entries are scaled by 1 / p"]),
    (dropout_with(mask=lambda shape, p, rng: rng.random(shape) < p, scale=lambda p: 1 / p),
     ["dropout(input, p=0.2, generator=rng): p is used as the probability of KEEPING an entry"]),
    (dropout_with(mask=lambda shape, p, rng: rng.random(shape) < p),
     ["dropout(input, p=0.2, generator=rng) zeroed 79.8 % of the 20000 entries; "
      "torch.nn.functional.dropout(input, p=0.2) zeroes 20.4 % of the same input",
      "Likely cause: p is used as the probability of keeping an entry"]),
    (dropout_with(eval_output=lambda x, p: x / (1 - p)),
     ["dropout(input, p=0.5, training=False, generator=rng) rescaled the input by 1 / (1 - p) in evaluation"]),
    (dropout_with(eval_output=lambda x, p: x * (1 - p)), ["multiplied the input by 1 - p in evaluation"]),
    (named("dropout", lambda input, p=0.5, training=True, *, generator: input * (generator.random(input.shape) >= p)
           / (1 - p)), ["training=False, generator=rng) zeroed", "although training=False"]),
    (dropout_with(mask=lambda shape, p, rng: np.random.random(shape) >= p),
     ["two different outputs for two generators in the same state",
      "it never drew from `generator` but from numpy's global generator"]),
    (dropout_with(mask=lambda shape, p, rng: torch.rand(shape).numpy() >= p),
     ["but from torch's global generator"]),
    (dropout_with(mask=lambda shape, p, rng: np.random.default_rng().random(shape) >= p),
     ["a generator of its own"]),
    (dropout_with(mask=lambda shape, p, rng: np.random.default_rng(0).random(shape) >= p),
     ["dropped exactly the same entries on two calls in a row with the same generator, which it never drew from",
      "a new generator with a fixed seed"]),
    (dropout_with(mask=lambda shape, p, rng: rng.random(shape[1:]) >= p),
     ["one mask per feature, shared by every sample of the batch (a mask of shape (1, 100) broadcast over axis 0)"]),
    (dropout_with(mask=lambda shape, p, rng: rng.random((shape[0], 1)) >= p),
     ["the same decision all along axis 1 (a mask of shape (200, 1) broadcast)"]),
    (dropout_with(mask=lambda shape, p, rng: rng.random() >= p), ["one mask per feature"]),
    (named("dropout", lambda input, p=0.5, training=True, *, generator: input if not training else
           input * (generator.random(input.shape) >= p) / (1 - p)),
     ["dropout(input, p=1.0, generator=rng) returned nan in 20000 of 20000 entries: at p = 1"]),
    (named("dropout", lambda input, p=0.5, training=True, *, generator: input if not training else
           input * (generator.random(input.shape) >= p) * (1 / (1 - p))),
     ["dropout(input, p=1.0, generator=rng) raised ZeroDivisionError"]),
    (dropout_with(mask=lambda shape, p, rng: (rng.random(shape) >= p).astype(float)),
     ["dropout(input, p=0.3, generator=rng) on a float32 input returned dtype float64 for a float32 input"]),
    (dropout_with(scale=lambda p: 0 * p + 1.0 / (1 - p) if p != 0 else 2.0), ["changed the input although p = 0"]),
]


@pytest.mark.parametrize("function, parts", WRONG_DROPOUTS, ids=range(len(WRONG_DROPOUTS)))
def test_wrong_dropouts_fail_with_the_reason(function, parts):
    assert_fails_with(check_dropout, function, parts)


def test_keeping_with_probability_p_is_named_only_when_it_reproduces_the_mask():
    """`random > 1 - p` also keeps each entry with probability p, but with another mask than
    `random < p`: the message says what the fractions are, and names no cause."""
    other_draw = dropout_with(mask=lambda shape, p, rng: rng.random(shape) > 1 - p)
    message = failure_message(check_dropout, other_draw)
    assert "dropout(input, p=0.2, generator=rng) zeroed 79." in message
    assert "That is 1 - p = 80.0 % to within chance: the entries are dropped with probability 1 - p" in message
    assert "Likely cause" not in message
    scaled_too = dropout_with(mask=lambda shape, p, rng: rng.random(shape) > 1 - p, scale=lambda p: 1 / p)
    message = failure_message(check_dropout, scaled_too)
    assert "the kept entries are scaled by 1 / p" in message and "KEEPING" not in message


def test_nan_at_p_one_is_blamed_on_the_division_only_if_every_entry_is_nan():
    def nan_in_a_few(input, p=0.5, training=True, *, generator):
        output = dropout(input, p, training, generator=generator)
        if p == 1:
            output[0, :3] = np.nan
        return output

    message = failure_message(check_dropout, named("dropout", nan_in_a_few))
    assert "dropout(input, p=1.0, generator=rng) returned nan in 3 of 20000 entries: every entry is dropped" in message
    assert "1 / (1 - p)" not in message


def test_dropout_in_place_and_odd_returns_are_told():
    def in_place(input, p=0.5, training=True, *, generator):
        input *= generator.random(input.shape) >= p
        input /= 1 - p
        return input

    assert "changed its argument input in place" in failure_message(check_dropout, in_place)
    mask_only = named("dropout", lambda input, p=0.5, training=True, *, generator:
                      (generator.random(input.shape) >= p) / (1 - p))
    assert "returned the mask itself" in failure_message(check_dropout, mask_only)
    tensor = named("dropout", lambda input, p=0.5, training=True, *, generator:
                   torch.from_numpy(dropout(input, p, training, generator=generator)))
    assert "returned a torch.Tensor, but a numpy array of shape (200, 100) is expected: this dropout is numpy " \
           "only" in failure_message(check_dropout, tensor)
    flat = named("dropout", lambda input, p=0.5, training=True, *, generator: dropout(
        input, p, training, generator=generator).reshape(-1))
    assert "returned shape (20000,) for an input of shape (200, 100)" in failure_message(check_dropout, flat)
    no_generator = named("dropout", lambda input, p=0.5, training=True: input)
    message = failure_message(check_dropout, no_generator)
    assert "raised TypeError" in message and "Hint: the signature is dropout(input, p=0.5, training=True, " \
                                              "*, generator)" in message


# ------------------------------------------------------- not implemented, crashes, garbage

def test_the_blank_answer_fails_with_a_helpful_message():
    def blank(input, p=0.5, training=True, *, generator):
        raise NotImplementedError()

    assert failure_message(check_dropout, named("dropout", blank)) == (
        "dropout(input, generator=rng) raised NotImplementedError: replace `raise NotImplementedError()` in the "
        "answer cell with your implementation, then run that cell again before this one.")


def test_a_crash_names_the_call_and_the_error():
    def crashes(input, p=0.5, training=True, *, generator):
        raise ValueError("operands could not be broadcast together")

    assert "dropout(input, generator=rng) raised ValueError: operands could not be broadcast together" in \
        failure_message(check_dropout, named("dropout", crashes))


@pytest.mark.parametrize("result", [None, [1.0], "grads", np.zeros((200, 100, 1)), np.full((200, 100), np.nan)])
def test_garbage_from_dropout_is_told_not_crashed_on(result):
    message = failure_message(check_dropout, named("dropout", lambda input, p=0.5, training=True, *, generator: result))
    assert message.startswith("dropout(input, generator=rng) ")


def test_a_lambda_is_called_by_the_exercise_name():
    assert failure_message(check_dropout, lambda input, p=0.5, training=True, *, generator: None).startswith(
        "dropout(input, generator=rng)")


def test_the_notebooks_wrong_answer_fails_with_its_mistake():
    answer = defined_by("05_regularization", "dropout", {"np": np, "torch": torch, "F": torch.nn.functional})
    assert "p is used as the probability of KEEPING an entry" in failure_message(check_dropout, answer)


# ------------------------------------------------------------------------- environment

def test_the_check_leaves_the_students_random_state_alone():
    assert_global_random_state_untouched(lambda: check_dropout(dropout))


def test_the_check_cannot_be_fooled_by_patched_numpy_torch_or_builtins():
    with tampered():
        check_dropout(dropout)
        assert "the kept entries are not rescaled" in failure_message(check_dropout, dropout_with(scale=lambda p: 1.0))


def test_nothing_reaches_stderr_nor_warns(capsys):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_dropout(dropout)
        failure_message(check_dropout, WRONG_DROPOUTS[14][0])  # divides 0 by 0 at p = 1
    assert capsys.readouterr() == ("", "")
