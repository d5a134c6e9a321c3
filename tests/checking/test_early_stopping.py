from types import SimpleNamespace

import numpy as np
import pytest
import torch

from course_lib.checking.early_stopping import MISTAKES, SCENARIOS, Rule, check_early_stopper
from course_lib.checking.failure import DelegationFailure
from course_lib.training import EarlyStopping
from tests.checking.failures import assert_fails_with, failure_message, named
from tests.grading.wrong_answers import defined_by
from tests.strategies import SEEDS, assert_global_random_state_untouched, tampered


# ------------------------------------------------------- the right answer, as students write it

class EarlyStopper:
    def __init__(self, patience=0, min_delta=0.0, mode="min"):
        self.patience, self.min_delta, self.mode = patience, min_delta, mode
        self.best = float("inf") if mode == "min" else -float("inf")
        self.best_epoch = self.wait = self.epoch = 0

    def improves(self, value):
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def step(self, value):
        self.epoch += 1
        if self.improves(value):
            self.best, self.best_epoch, self.wait = value, self.epoch, 0
            return False
        self.wait += 1
        return self.wait >= self.patience


def test_the_reference_passes():
    check_early_stopper(EarlyStopper)
    for seed in SEEDS:
        check_early_stopper(EarlyStopper, seed=seed)


@pytest.mark.parametrize("options", [
    dict(patience=3), dict(patience=3, min_delta=0.01, mode="max", seed=2), dict(values=[3.0, 3.0, 3.0]),
    dict(mode="max", patience=1, values=[1, 2, 2, 3, 1])])
def test_the_reference_passes_with_options(options):
    check_early_stopper(EarlyStopper, **options)


def test_a_numpy_bool_from_step_is_right():
    class NumpyStopper(EarlyStopper):
        def step(self, value):
            return np.bool_(super().step(value))

    check_early_stopper(NumpyStopper)


def test_unknown_options_are_the_test_authors_error():
    with pytest.raises(TypeError, match="unexpected keyword argument 'restore_best_weights'"):
        check_early_stopper(EarlyStopper, restore_best_weights=True)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("kwargs", [{}, {"patience": 2}, {"patience": 3, "min_delta": 0.02},
                                    {"mode": "max", "patience": 1}, {"mode": "max", "patience": 2, "min_delta": 0.01}])
def test_the_rule_is_the_course_callbacks(kwargs, seed):
    """The check's rule stops where course_lib.training.EarlyStopping does, best and best_epoch alike."""
    values = list(np.round(np.random.default_rng(seed).uniform(0, 1, 25), 2))
    values = [float(value) for value in values]
    callback = EarlyStopping(monitor="value", **kwargs)
    callback.run = SimpleNamespace(stop_training=False)
    callback.on_train_begin()
    trace = Rule(**kwargs).trace(values)
    for epoch, (value, (stop, best, best_epoch)) in enumerate(zip(values, trace), start=1):
        callback.on_epoch_end(epoch, {"value": value})
        assert (callback.run.stop_training, callback.best, callback.best_epoch) == (stop, best, best_epoch)
    assert callback.run.stop_training == trace[-1][0]


def test_every_mistake_differs_from_the_rule_somewhere_in_the_scenarios():
    """A mistake that agrees with the rule on every built-in stream could never be named."""
    for mistake in MISTAKES:
        assert any(mistake(**kwargs).trace(values) != Rule(**kwargs).trace(values)
                   for kwargs, values in SCENARIOS), mistake.__name__


def test_the_check_constructs_once_and_steps_up_to_the_first_stop_per_scenario():
    """Five scenarios; the streams stop after 3, 6, 7, 3 and 7 values."""
    counts = {"constructed": 0, "steps": 0}

    class Counted(EarlyStopper):
        def __init__(self, *args, **kwargs):
            counts["constructed"] += 1
            super().__init__(*args, **kwargs)

        def step(self, value):
            counts["steps"] += 1
            return super().step(value)

    check_early_stopper(named("EarlyStopper", Counted))
    assert counts == {"constructed": 5, "steps": 3 + 6 + 7 + 3 + 7}


# ---------------------------------------------------------------------------- wrong answers

class Stopper(EarlyStopper):
    """The reference with one mistake, chosen by overriding a method."""


class PatiencePlusOne(Stopper):
    def step(self, value):
        return super().step(value) and self.wait > self.patience


class NoMinDelta(Stopper):
    def improves(self, value):
        return value < self.best if self.mode == "min" else value > self.best


class RelativeMinDelta(Stopper):
    def improves(self, value):
        if self.mode == "min":
            return value < self.best * (1 - self.min_delta)
        return value > self.best * (1 + self.min_delta)


class ModeIgnored(Stopper):
    def __init__(self, patience=0, min_delta=0.0, mode="min"):
        super().__init__(patience, min_delta, "min")


class ModeIgnoredInStep(Stopper):
    def improves(self, value):
        return value < self.best - self.min_delta


class WaitNotReset(Stopper):
    def step(self, value):
        wait = self.wait
        stop = super().step(value)
        if self.wait == 0 and self.best_epoch == self.epoch:
            self.wait = wait
        return stop


class EqualImproves(Stopper):
    def improves(self, value):
        if self.mode == "min":
            return value <= self.best - self.min_delta
        return value >= self.best + self.min_delta


class BestEveryEpoch(Stopper):
    def step(self, value):
        stop = super().step(value)
        self.best = value
        return stop


class EpochsFromZero(Stopper):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.epoch = -1


class BestStartsAtZero(Stopper):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.best = 0.0


class ReturnsNothingOnImprovement(Stopper):
    def step(self, value):
        stop = super().step(value)
        return True if stop else (None if self.wait == 0 else False)


class StopsAfterFiveEpochs(Stopper):
    def step(self, value):
        super().step(value)
        return self.epoch >= 5


WRONG_STOPPERS = [
    (PatiencePlusOne, ["EarlyStopper(patience=2) fed 1, 0.8, 0.85, 0.7, 0.7, 0.75: step(0.75) (epoch 6) returned False, "
                       "expected True (the epochs before match)", "patience is off by one"]),
    (NoMinDelta, ["EarlyStopper(patience=2, min_delta=0.05) fed 10, 9.9, 9, 8.97: step(8.97) (epoch 4)",
                  "best is 8.97, expected 9", "min_delta is ignored"]),
    (RelativeMinDelta, ["step(9.9) (epoch 2)", "min_delta is used as a fraction of best"]),
    (ModeIgnored, ["right after EarlyStopper(mode='max', patience=1), best is inf, expected -inf: in mode 'max' "
                   "higher is better, so best starts at -inf"]),
    (ModeIgnoredInStep, ["EarlyStopper(mode='max', patience=1) fed 0.5: step(0.5) (epoch 1) returned True, expected False; "
                         "best is -inf, expected 0.5; best_epoch is 0, expected 1 (already on the first call)",
                         "in mode 'max' a value improves if it is HIGHER"]),
    (WaitNotReset, ["step(0.7) (epoch 5) returned True, expected False", "wait is not reset on an improvement"]),
    (EqualImproves, ["after EarlyStopper(patience=2) fed 1, 0.8, 0.85, 0.7, 0.7: step(0.7) (epoch 5), best_epoch is 5, "
                      "expected 4 (the epochs before match)", "an equal value counts as an improvement"]),
    (BestEveryEpoch, ["after EarlyStopper() fed 1, 0.9, 0.95: step(0.95) (epoch 3), best is 0.95, expected 0.9",
                      "best is updated on every epoch"]),
    (EpochsFromZero, ["after EarlyStopper() fed 1: step(1) (epoch 1), best_epoch is 0, expected 1 (already on the first "
                      "call)", "the epochs are counted from 0"]),
    (BestStartsAtZero, ["right after EarlyStopper(), best is 0, expected inf"]),
    (ReturnsNothingOnImprovement, ["EarlyStopper() fed 1: step(1) (epoch 1) returned None, but True or False is "
                                   "expected: does every path end in `return`?"]),
]


@pytest.mark.parametrize("cls, parts", WRONG_STOPPERS, ids=[cls.__name__ for cls, _ in WRONG_STOPPERS])
def test_wrong_stoppers_fail_with_the_reason(cls, parts):
    cls.__name__ = "EarlyStopper"
    assert_fails_with(check_early_stopper, cls, parts)


def test_a_stopper_no_mistake_reproduces_gets_no_cause():
    message = failure_message(check_early_stopper, named("EarlyStopper", StopsAfterFiveEpochs), patience=10)
    assert "returned True, expected False (the epochs before match)." in message
    assert "Likely cause" not in message
    assert "Hint: an epoch improves if value < best - min_delta" in message


def test_broken_stoppers_are_told():
    class NoAttributes:
        def __init__(self, patience=0, min_delta=0.0, mode="min"):
            pass

        def step(self, value):
            return False

    assert "the stopper has no attribute best: keep best, best_epoch and wait as attributes" in failure_message(
        check_early_stopper, NoAttributes)

    class StepRaises(EarlyStopper):
        def step(self, value):
            raise KeyError("best")

    assert "EarlyStopper() fed 1: step(1) (epoch 1) raised KeyError: 'best'" in failure_message(
        check_early_stopper, named("EarlyStopper", StepRaises))

    class NoMinDeltaArgument:
        def __init__(self, patience=0):
            raise AssertionError("not reached")

    message = failure_message(check_early_stopper, NoMinDeltaArgument, min_delta=0.1)
    assert "EarlyStopper(min_delta=0.1) raised TypeError" in message
    assert "Hint: the signature is EarlyStopper(patience=0, min_delta=0.0, mode='min')" in message

    class NoStep:
        def __init__(self, **kwargs):
            self.best, self.best_epoch, self.wait = float("inf"), 0, 0

    assert "EarlyStopper() has no method step" in failure_message(check_early_stopper, NoStep)

    class Stringy(EarlyStopper):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.best = "inf"

    assert "right after EarlyStopper(), best is a str, but a number is expected." in failure_message(
        check_early_stopper, Stringy)


def test_the_blank_answer_fails_with_a_helpful_message():
    class BlankStopper:
        def __init__(self, patience=0, min_delta=0.0, mode="min"):
            raise NotImplementedError()

    assert failure_message(check_early_stopper, named("EarlyStopper", BlankStopper)) == (
        "EarlyStopper() raised NotImplementedError: replace `raise NotImplementedError()` in the answer cell with "
        "your implementation, then run that cell again before this one.")


def test_the_course_callback_is_not_an_answer():
    class OnTheCallback(EarlyStopping):
        def __init__(self, patience=0, min_delta=0.0, mode="min"):
            super().__init__(monitor="value", mode=mode, patience=patience, min_delta=min_delta)
            self.run, self.epoch = SimpleNamespace(stop_training=False), 0

        def step(self, value):
            self.epoch += 1
            self.on_epoch_end(self.epoch, {"value": value})
            return self.run.stop_training

    with pytest.raises(DelegationFailure, match="EarlyStopper\\(\\) called course_lib.training.EarlyStopping, which does "
                                                "what this exercise asks you to write"):
        check_early_stopper(OnTheCallback)


def test_a_crash_names_the_call_and_the_error():
    class Crashes:
        def __init__(self, *args, **kwargs):
            raise ValueError("operands could not be broadcast together")

    assert "raised ValueError: operands could not be broadcast together" in failure_message(
        check_early_stopper, Crashes)


def test_the_notebooks_wrong_answer_fails_with_its_mistake():
    answer = defined_by("05_regularization", "EarlyStopper", {"np": np, "torch": torch, "F": torch.nn.functional})
    assert "patience is off by one" in failure_message(check_early_stopper, answer)


def test_the_check_cannot_be_fooled_by_patched_numpy_torch_or_builtins():
    with tampered():
        check_early_stopper(EarlyStopper)
        assert "patience is off by one" in failure_message(check_early_stopper, PatiencePlusOne)


def test_the_check_leaves_the_students_random_state_alone():
    assert_global_random_state_untouched(lambda: check_early_stopper(EarlyStopper, seed=3))
