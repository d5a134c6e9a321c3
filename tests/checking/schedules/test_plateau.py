"""ReduceLROnPlateau's wrong answers, as students write them, fail with their mistake named."""
import math

import pytest

from course_lib.checking.schedules import check_reduce_lr_on_plateau
from course_lib.checking.schedules.plateau import MISTAKES
from tests.checking.failures import assert_fails_with, failure_message, named
from tests.checking.schedules.answers import ReduceLROnPlateau


class Plateau(ReduceLROnPlateau):
    """The reference with one mistake, chosen by overriding a method."""


class ReducesAtPatience(Plateau):
    def step(self, metrics):
        self.patience -= 1
        super().step(metrics)
        self.patience += 1


class PatienceTooLong(Plateau):
    def step(self, metrics):
        self.patience += 1
        super().step(metrics)
        self.patience -= 1


class ModesSwapped(Plateau):
    def step(self, metrics):
        self.threshold_mode = {"rel": "abs", "abs": "rel"}[self.threshold_mode]
        super().step(metrics)
        self.threshold_mode = {"rel": "abs", "abs": "rel"}[self.threshold_mode]


class ModeIgnored(Plateau):
    def __init__(self, optimizer, mode="min", **kwargs):
        super().__init__(optimizer, **kwargs)


class NoCooldown(Plateau):
    def step(self, metrics):
        self.cooldown_counter = 0
        super().step(metrics)


class LongCooldown(Plateau):
    def step(self, metrics):
        lr = self.optimizer.lr
        super().step(metrics)
        if self.optimizer.lr != lr and self.cooldown:
            self.cooldown_counter += 1


class NoMinLr(Plateau):
    def __init__(self, optimizer, min_lr=0.0, **kwargs):
        super().__init__(optimizer, **kwargs)


class OwnLr(Plateau):
    """Writes the rate into itself, not into the optimizer."""

    def __init__(self, optimizer, **kwargs):
        super().__init__(type("Optimizer", (), {"lr": optimizer.lr})(), **kwargs)


class CounterNotReset(Plateau):
    def step(self, metrics):
        lr = self.optimizer.lr
        bad = self.num_bad_epochs
        super().step(metrics)
        if self.optimizer.lr != lr:
            self.num_bad_epochs = bad + 1


class ThresholdIgnored(Plateau):
    def __init__(self, optimizer, threshold=1e-4, **kwargs):
        super().__init__(optimizer, threshold=0.0, **kwargs)


WRONG_PLATEAUS = [
    (ReducesAtPatience,
     ["ReduceLROnPlateau(optimizer, patience=2, factor=0.5) with optimizer.lr = 0.1 at the start, fed the metrics "
      "1, 0.9, 0.8, 0.8, 0.8: after step(0.8) (epoch 5) optimizer.lr is 0.05, torch's ReduceLROnPlateau gives 0.1 "
      "(the epochs before match).", "patience is off by one", "EXCEEDS patience"]),
    (PatienceTooLong, ["patience + 1 bad epochs in a row"]),
    (ModesSwapped, ["threshold=0.1", "threshold_mode is swapped"]),
    (ModeIgnored, ["mode='max'", "mode='max' is ignored"]),
    (NoCooldown, ["cooldown=2", "cooldown is ignored"]),
    (LongCooldown, ["cooldown=2", "the cooldown lasts one epoch too long"]),
    (NoMinLr, ["min_lr=0.03", "optimizer.lr is 0.025", "min_lr is ignored"]),
    (OwnLr, ["optimizer.lr never changes", "self.optimizer.lr = new_lr"]),
    (CounterNotReset, ["not reset after a reduction"]),
    (ThresholdIgnored, ["ReduceLROnPlateau(optimizer, patience=1, factor=0.5, threshold=0.1) with optimizer.lr = 0.1",
                        "Likely cause: the threshold is ignored"]),
]


@pytest.mark.parametrize("cls, parts", WRONG_PLATEAUS, ids=[c.__name__ for c, _ in WRONG_PLATEAUS])
def test_wrong_plateaus_fail_with_the_reason(cls, parts):
    cls.__name__ = "ReduceLROnPlateau"
    assert_fails_with(check_reduce_lr_on_plateau, cls, parts)


def test_plateau_crash_and_missing_lr_are_told():
    class Crashes(Plateau):
        def step(self, metrics):
            raise KeyError("lr")

    assert "step(1.0) at epoch 1 raised KeyError" in failure_message(check_reduce_lr_on_plateau, Crashes)

    class SetsNone(Plateau):
        def step(self, metrics):
            self.optimizer.lr = None

    assert failure_message(check_reduce_lr_on_plateau, SetsNone) == (
        "SetsNone(optimizer, patience=2, factor=0.5) with optimizer.lr = 0.1 at the start: after step(1.0) "
        "(epoch 1), optimizer.lr is None: the scheduler must set optimizer.lr to the new rate, a number.")




def as_answer(plateau):
    """A student's class that follows the check's wrong variant `plateau`."""
    class Answer:
        def __init__(self, optimizer, **kwargs):
            self.optimizer, self.rule = optimizer, plateau(optimizer.lr, **kwargs)

        def step(self, metrics):
            self.optimizer.lr = self.rule.step(metrics)

    Answer.__name__ = "ReduceLROnPlateau"
    return Answer


# ties only matter where the threshold is 0: the built-in streams have none, a hidden test does
TIES = {"CountingTies": dict(mode="max", patience=1, threshold=0.0, threshold_mode="abs",
                             metrics=[0.5, 0.6, 0.6, 0.6, 0.7, 0.7, 0.7, 0.7])}


@pytest.mark.parametrize("plateau", MISTAKES, ids=[plateau.__name__ for plateau in MISTAKES])
def test_every_known_mistake_is_told_by_its_own_explanation(plateau):
    assert_fails_with(check_reduce_lr_on_plateau, as_answer(plateau), [f"Likely cause: {plateau.explanation}"],
                      **TIES.get(plateau.__name__, {}))


class BestOfEveryEpoch(ReduceLROnPlateau):
    def step(self, metrics):
        super().step(metrics)
        self.best = metrics


def test_a_noisy_metric_tells_a_best_replaced_every_epoch():
    BestOfEveryEpoch.__name__ = "ReduceLROnPlateau"
    assert_fails_with(check_reduce_lr_on_plateau, BestOfEveryEpoch, [
        "fed the metrics 1, 0.8, 1.1, 0.85: after step(0.85) (epoch 4) optimizer.lr is 0.1, torch's "
        "ReduceLROnPlateau gives 0.05", "Likely cause: best is replaced by every epoch's metric"])


def test_ties_that_count_as_improvements_are_told():
    class TiesImprove(ReduceLROnPlateau):
        def is_better(self, metric):
            sign = 1 if self.mode == "min" else -1
            if self.threshold_mode == "rel":
                return sign * metric <= sign * self.best * (1 - sign * self.threshold)
            return sign * metric <= sign * self.best - self.threshold

    TiesImprove.__name__ = "ReduceLROnPlateau"
    assert_fails_with(check_reduce_lr_on_plateau, TiesImprove, [
        "Likely cause: an epoch that only ties the best counts as an improvement"], **TIES["CountingTies"])
