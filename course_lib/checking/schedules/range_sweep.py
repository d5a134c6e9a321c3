"""The learning-rate range test's sweep as assignment 04's Exercise 8 defines it (`Sweep`),
written independently of course_lib.optim.lr_finder, and its slips: each a subclass that
changes one decision, next to the sentence that tells it. `range_test` runs them against a
student's answer.
"""
from builtins import float, object, range, super
from math import inf as _inf
from math import isfinite as _isfinite

from .._trusted import np
from ..failure import mistake


class Sweep(object):
    """The sweep as the exercise defines it, one method per decision."""

    def __init__(self, start_lr, end_lr, num_iter, beta, diverge_th):
        self.start_lr, self.end_lr, self.num_iter = start_lr, end_lr, num_iter
        self.beta, self.diverge_th = beta, diverge_th
        self.average, self.lowest = 0.0, _inf

    def rate(self, i):
        return self.start_lr * (self.end_lr / self.start_lr) ** (i / (self.num_iter - 1))

    def smoothed(self, loss, i):
        self.average = self.beta * self.average + (1 - self.beta) * loss
        return self.average / (1 - self.beta ** (i + 1))

    def diverged(self, smoothed, loss):
        return not _isfinite(smoothed) or smoothed > self.diverge_th * self.lowest

    def remember(self, smoothed, loss):
        if smoothed < self.lowest:
            self.lowest = smoothed

    def stopped(self, lrs, losses, smoothed_losses):
        return lrs, losses, smoothed_losses

    def run(self, train_step):
        lrs, losses, smoothed_losses = [], [], []
        for i in range(self.num_iter):
            lr = self.rate(i)
            loss = float(train_step(lr))
            smoothed = self.smoothed(loss, i)
            lrs.append(lr)
            losses.append(loss)
            smoothed_losses.append(smoothed)
            if self.diverged(smoothed, loss):
                return self.stopped(lrs, losses, smoothed_losses)
            self.remember(smoothed, loss)
        return lrs, losses, smoothed_losses


@mistake("the rates grow linearly (np.linspace): they grow exponentially, by the same factor "
         "every iteration — start_lr * (end_lr / start_lr) ** (i / (num_iter - 1)), or "
         "np.geomspace(start_lr, end_lr, num_iter).")
class LinearRates(Sweep):
    def rate(self, i):
        return self.start_lr + (self.end_lr - self.start_lr) * i / (self.num_iter - 1)


@mistake("np.logspace(start_lr, end_lr, num_iter) takes exponents: it runs from 10 ** start_lr "
         "to 10 ** end_lr. Use np.geomspace(start_lr, end_lr, num_iter), or np.logspace("
         "np.log10(start_lr), np.log10(end_lr), num_iter).")
class LogspaceOfTheRates(Sweep):
    def rate(self, i):
        return 10.0 ** (self.start_lr + (self.end_lr - self.start_lr) * i / (self.num_iter - 1))


@mistake("the exponent is i / num_iter, so the last rate falls short of end_lr: it is "
         "i / (num_iter - 1), which reaches end_lr at the last iteration, i = num_iter - 1.")
class ExponentOverNumIter(Sweep):
    def rate(self, i):
        return self.start_lr * (self.end_lr / self.start_lr) ** (i / self.num_iter)


@mistake("the moving average is not bias-corrected: it starts at 0, so the first smoothed "
         "losses come out far too low. Divide it by 1 - beta ** (i + 1) for the value you "
         "record.")
class WithoutBiasCorrection(Sweep):
    def smoothed(self, loss, i):
        super().smoothed(loss, i)
        return self.average


@mistake("beta and 1 - beta are swapped: beta weighs the average so far, average = beta * "
         "average + (1 - beta) * loss.")
class WeightsSwapped(Sweep):
    def smoothed(self, loss, i):
        self.average = (1 - self.beta) * self.average + self.beta * loss
        return self.average / (1 - self.beta ** (i + 1))


@mistake("the bias-corrected value is fed back into the moving average: keep the running "
         "average uncorrected, average = beta * average + (1 - beta) * loss, and divide only "
         "the value you record by 1 - beta ** (i + 1).")
class CorrectionFedBack(Sweep):
    def smoothed(self, loss, i):
        self.average = super().smoothed(loss, i)
        return self.average


@mistake("the bias correction at the first iteration is 1 - beta ** 0 = 0, a division by "
         "zero: with i counted from 0 it is 1 - beta ** (i + 1).")
class CorrectionFromZero(Sweep):
    def smoothed(self, loss, i):
        super().smoothed(loss, i)
        with np.errstate(divide="ignore", invalid="ignore"):  # inf or nan, as numpy gives it
            return float(np.float64(self.average) / np.float64(1 - self.beta ** i))


@mistake("the sweep never stops: after recording an iteration, stop if its smoothed loss is "
         "not finite or exceeds diverge_th times the lowest smoothed loss before it.")
class NeverStopping(Sweep):
    def diverged(self, smoothed, loss):
        return False


@mistake("a smoothed loss of nan does not stop the sweep: nan > x is False for every x, so "
         "test math.isfinite(smoothed) too (not finite: stop).")
class NanNotStopping(Sweep):
    def diverged(self, smoothed, loss):
        return smoothed > self.diverge_th * self.lowest


@mistake("the stop tests each batch's raw loss, so one noisy batch ends the sweep: test the "
         "smoothed loss, smoothed > diverge_th * lowest.")
class StoppingOnTheRawLoss(Sweep):
    def diverged(self, smoothed, loss):
        return not _isfinite(smoothed) or loss > self.diverge_th * self.lowest


@mistake("the lowest loss so far is taken over the raw losses: keep the lowest smoothed loss, "
         "the curve the stop compares with.")
class LowestOfTheRawLosses(Sweep):
    def remember(self, smoothed, loss):
        if loss < self.lowest:
            self.lowest = loss


@mistake("the stop compares with the first smoothed loss: compare with the lowest smoothed "
         "loss so far, which falls as the network learns.")
class ComparedWithTheFirst(Sweep):
    def remember(self, smoothed, loss):
        if self.lowest == _inf:
            self.lowest = smoothed


@mistake("the iteration that diverged is left out: record it (its rate, loss and smoothed "
         "loss), then stop.")
class DroppingTheLast(Sweep):
    def stopped(self, lrs, losses, smoothed_losses):
        return lrs[:-1], losses[:-1], smoothed_losses[:-1]


MISTAKES = (LinearRates, LogspaceOfTheRates, ExponentOverNumIter, WithoutBiasCorrection,
            WeightsSwapped, CorrectionFedBack, CorrectionFromZero, NeverStopping, NanNotStopping,
            StoppingOnTheRawLoss, LowestOfTheRawLosses, ComparedWithTheFirst, DroppingTheLast)
