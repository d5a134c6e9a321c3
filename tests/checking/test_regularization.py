import time
import warnings

import numpy as np
import pytest
import torch

from course_lib import scratch
from course_lib.checking.regularization import (
    check_clip_grad_norm, check_dropout, check_early_stopper, check_l1_penalty_gradients,
    check_l2_penalty,
)
from tests.grading.wrong_answers import defined_by
from tests.checking.failures import assert_fails_with, failure_message, named
from tests.strategies import SEEDS, assert_global_random_state_untouched, tampered

# the wrong implementations under test divide by zero on purpose
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


# ------------------------------------------------------- right answers, as students write them
# (without the builtins and numpy functions `tampered` replaces: they run under it too)

def l2_penalty(params, weight):
    total = 0.0
    for name, param in params.items():
        if not name.startswith("b"):
            total += np.sum(param ** 2)
    return weight / 2 * total


def l1_penalty_gradients(params, weight):
    return {name: np.zeros_like(param) if name.startswith("b") else weight * np.sign(param)
            for name, param in params.items()}


def dropout(input, p=0.5, training=True, *, generator):
    if not training:
        return input
    if p == 1:
        return np.zeros_like(input)
    keep = generator.random(input.shape) >= p
    return input * keep / (1 - p)


def clip_grad_norm_(grads, max_norm):
    total_norm = np.sqrt(np.sum([np.sum(grad ** 2) for grad in grads]))
    factor = np.minimum(1.0, max_norm / (total_norm + 1e-6))
    for grad in grads:
        grad *= factor
    return float(total_norm)


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


REFERENCES = [(check_l2_penalty, l2_penalty), (check_l1_penalty_gradients, l1_penalty_gradients),
              (check_dropout, dropout), (check_clip_grad_norm, clip_grad_norm_),
              (check_early_stopper, EarlyStopper)]
IDS = ["l2_penalty", "l1_penalty_gradients", "dropout", "clip_grad_norm_", "EarlyStopper"]


def run_every_check():
    for check, reference in REFERENCES:
        check(reference)


# ------------------------------------------------------------------ the references are right

@pytest.mark.parametrize("seed", SEEDS)
def test_references_agree_with_torch(seed):
    rng = np.random.default_rng(seed)
    params = {"W1": rng.standard_normal((5, 4)), "b1": rng.standard_normal(5),
              "W2": rng.standard_normal((3, 5)), "b2": rng.standard_normal(3)}
    params["W1"][0, :2] = 0.0
    weight = float(rng.uniform(0.01, 1))
    tensors = {name: torch.from_numpy(value).requires_grad_() for name, value in params.items()}
    l1 = weight * (tensors["W1"].abs().sum() + tensors["W2"].abs().sum())
    l1.backward()
    l2 = weight / 2 * (tensors["W1"].pow(2).sum() + tensors["W2"].pow(2).sum())
    assert l2_penalty(params, weight) == pytest.approx(l2.item(), rel=1e-12)
    for name, gradient in l1_penalty_gradients(params, weight).items():
        expected = tensors[name].grad if tensors[name].grad is not None else torch.zeros_like(tensors[name])
        np.testing.assert_array_equal(gradient, expected.numpy())

    grads = [rng.standard_normal((4, 3)) * 2, rng.standard_normal(4)]
    parameters = [torch.zeros(grad.shape, dtype=torch.float64, requires_grad=True) for grad in grads]
    for parameter, grad in zip(parameters, grads):
        parameter.grad = torch.from_numpy(grad.copy())
    expected_norm = torch.nn.utils.clip_grad_norm_(parameters, 1.0)
    assert clip_grad_norm_(grads, 1.0) == pytest.approx(expected_norm.item(), rel=1e-12)
    for parameter, grad in zip(parameters, grads):
        np.testing.assert_allclose(grad, parameter.grad.numpy(), rtol=1e-12)

    x = rng.standard_normal((300, 200))
    out = dropout(x, 0.3, generator=np.random.default_rng(seed))
    torch_out = torch.nn.functional.dropout(torch.from_numpy(x), 0.3)
    for output in (out, torch_out.numpy()):  # kept entries: input / (1 - p), as torch's
        kept = output != 0
        np.testing.assert_allclose(output[kept], x[kept] / 0.7, rtol=1e-12)
        assert abs((~kept).mean() - 0.3) < 0.01


def test_references_pass_every_check():
    run_every_check()


def test_the_course_references_pass_too():
    check_l2_penalty(scratch.l2_penalty)
    check_l1_penalty_gradients(scratch.l1_penalty_gradients)
    check_dropout(scratch.dropout)
    check_clip_grad_norm(scratch.clip_grad_norm_)


@pytest.mark.parametrize("seed", SEEDS)
def test_references_pass_with_other_seeds(seed):
    for check, reference in REFERENCES:
        check(reference, seed=seed)


OPTION_SETS = [
    (check_l2_penalty, l2_penalty,
     [dict(weight=0.3), dict(sizes=(2, 3, 4, 5), weight=1e-4),
      dict(params={"W": np.eye(3), "bias": np.ones(3), "gamma": np.full(2, 2.0)})]),
    (check_l1_penalty_gradients, l1_penalty_gradients,
     [dict(weight=0.3), dict(sizes=(7, 2)), dict(params={"W": np.eye(3), "bias": np.ones(3)})]),
    (check_dropout, dropout,
     [dict(p=0.7), dict(p=0.1, shape=(30, 4, 5)), dict(p=0.5, dtype=np.float32), dict(training=False),
      dict(shape=(1000,)), dict(p=0.5, shape=(2, 3))]),
    (check_clip_grad_norm, clip_grad_norm_,
     [dict(max_norm=5.0), dict(shapes=[(3,), (2, 2)], scale=0.01, max_norm=0.05), dict(dtype=np.float32),
      dict(scale=0.0)]),
    (check_early_stopper, EarlyStopper,
     [dict(patience=3), dict(patience=3, min_delta=0.01, mode="max", seed=2), dict(values=[3.0, 3.0, 3.0]),
      dict(mode="max", patience=1, values=[1, 2, 2, 3, 1])]),
]


@pytest.mark.parametrize("check, reference, option_sets", OPTION_SETS, ids=IDS)
def test_references_pass_with_options(check, reference, option_sets):
    for options in option_sets:
        check(reference, **options)


def test_other_right_answers_pass():
    """A 0-d array or a numpy float for a number, np.where for the mask, no 1e-6 in the clip
    factor, np.bool_ from the stopper: all right."""
    check_l2_penalty(lambda params, weight: np.asarray(l2_penalty(params, weight)))
    check_dropout(lambda input, p=0.5, training=True, *, generator: input if not training else np.where(
        generator.random(input.shape) < p, 0.0, input / (1 - p)).astype(input.dtype))

    def clip_without_epsilon(grads, max_norm):
        total = np.sqrt(np.sum([np.sum(g * g) for g in grads]))
        if total > max_norm:
            for grad in grads:
                grad *= max_norm / total
        return total

    check_clip_grad_norm(clip_without_epsilon)
    check_clip_grad_norm(clip_without_epsilon, scale=1e-3, max_norm=1e-4)

    class NumpyStopper(EarlyStopper):
        def step(self, value):
            return np.bool_(super().step(value))

    check_early_stopper(NumpyStopper)


def test_unknown_options_are_the_test_authors_error():
    with pytest.raises(TypeError, match="not \\['lr'\\]"):
        check_l2_penalty(l2_penalty, lr=0.1)
    with pytest.raises(TypeError):
        check_early_stopper(EarlyStopper, restore_best_weights=True)


# ---------------------------------------------------------------------------- wrong answers


def l2_with(term=lambda W: np.sum(W ** 2), scale=lambda weight: weight / 2, biases=False, last_only=False):
    def wrong(params, weight):
        total = 0.0
        for name, param in params.items():
            if biases or not name.startswith("b"):
                total = term(param) if last_only else total + term(param)
        return scale(weight) * total
    return named("l2_penalty", wrong)


WRONG_L2 = [
    (l2_with(biases=True),
     ["l2_penalty(params, 0.01) with params holding W1 (5, 4), b1 (5,), W2 (3, 5) and b2 (3,) returned",
      "the biases are penalised too"]),
    (l2_with(scale=lambda weight: weight),
     ["l2_penalty(params, 0.1) with params holding W1 (3, 4) returned", "the 1/2 is missing"]),
    (l2_with(scale=lambda weight: 0.5), ["weight is ignored"]),
    (l2_with(term=lambda W: np.sqrt(np.sum(W ** 2))), ["that is the norm, the square root of the sum of squares"]),
    (l2_with(term=lambda W: np.sum(np.fabs(W))), ["that sums |W|, the L1 penalty"]),
    (l2_with(term=lambda W: np.mean(W ** 2)), ["averages each matrix's squares"]),
    (l2_with(term=lambda W: np.sum(W) ** 2), ["the square of the sum"]),
    (l2_with(last_only=True), ["only the last weight matrix counts", "`total += ...`"]),
    (named("l2_penalty", lambda params, weight: weight / 2 * np.sqrt(np.sum(params["W1"] ** 2))),
     ["that is the norm, the square root"]),
]


@pytest.mark.parametrize("function, parts", WRONG_L2, ids=range(len(WRONG_L2)))
def test_wrong_l2_penalties_fail_with_the_reason(function, parts):
    assert_fails_with(check_l2_penalty, function, parts)


def l1_with(weight_gradient=None, bias_gradient=None):
    def wrong(params, weight):
        return {name: (bias_gradient or (lambda b, w: np.zeros_like(b)))(param, weight) if name.startswith("b")
                else (weight_gradient or (lambda W, w: w * np.sign(W)))(param, weight)
                for name, param in params.items()}
    return named("l1_penalty_gradients", wrong)


WRONG_L1 = [
    (l1_with(lambda W, w: w * W), ["l1_penalty_gradients(params, 0.1), params holding W1 (3, 4): grads['W1']",
                                   "the L2 penalty's gradient"]),
    (l1_with(lambda W, w: np.where(W >= 0, w, -w)), ["entries where W == 0 get +weight"]),
    (l1_with(lambda W, w: np.where(W > 0, w, -w)), ["entries where W == 0 get -weight"]),
    (l1_with(lambda W, w: w * W / np.fabs(W)), ["grads['W1'] is nan where W == 0: W / |W| divides 0 by 0"]),
    (l1_with(lambda W, w: w / 2 * np.sign(W)), ["the L1 penalty has no 1/2"]),
    (l1_with(lambda W, w: np.sign(W)), ["off by a factor of ≈ 1/0.1 (1 / weight)"]),
    (l1_with(lambda W, w: w * np.fabs(W)), ["the penalty itself"]),
    (l1_with(bias_gradient=lambda b, w: w * np.sign(b)), ["grads['b1'] has the wrong values: the biases are penalised"]),
    (l1_with(bias_gradient=lambda b, w: 0.0), ["grads['b1'] is a float, but an array of shape (5,) is expected"]),
    (l1_with(bias_gradient=lambda b, w: np.zeros(b.shape, dtype=int)), ["grads['b1'] has dtype int64"]),
    (named("l1_penalty_gradients", lambda params, weight: {
        name: weight * np.sign(param) for name, param in params.items() if not name.startswith("b")}),
     ["returned no gradient for b1 and b2", "zeros of their shape"]),
    (named("l1_penalty_gradients", lambda params, weight: [weight * np.sign(p) for p in params.values()]),
     ["returned a list, but a dict of gradients with the keys W1 (those of params) is expected"]),
]


@pytest.mark.parametrize("function, parts", WRONG_L1, ids=range(len(WRONG_L1)))
def test_wrong_l1_gradients_fail_with_the_reason(function, parts):
    assert_fails_with(check_l1_penalty_gradients, function, parts)


def test_penalties_that_change_params_are_told():
    def squares_in_place(params, weight):
        for name, param in params.items():
            param **= 2
        return l2_penalty({name: np.sqrt(param) for name, param in params.items()}, weight)

    assert "changed params['W1'] in place" in failure_message(check_l2_penalty, squares_in_place)

    def drops_biases(params, weight):
        for name in [name for name in params if name.startswith("b")]:
            del params[name]
        return l1_penalty_gradients(params, weight)

    assert "changed the dict params" in failure_message(check_l1_penalty_gradients, drops_biases)


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
     ["dropped exactly the same entries on two calls in a row", "a new generator with a fixed seed"]),
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
                   torch.nn.functional.dropout(torch.from_numpy(input), p, training))
    assert "returned a torch.Tensor, but a numpy array of shape (200, 100) is expected: this dropout is numpy " \
           "only" in failure_message(check_dropout, tensor)
    flat = named("dropout", lambda input, p=0.5, training=True, *, generator: dropout(
        input, p, training, generator=generator).reshape(-1))
    assert "returned shape (20000,) for an input of shape (200, 100)" in failure_message(check_dropout, flat)
    no_generator = named("dropout", lambda input, p=0.5, training=True: input)
    message = failure_message(check_dropout, no_generator)
    assert "raised TypeError" in message and "Hint: the signature is dropout(input, p=0.5, training=True, " \
                                              "*, generator)" in message


def clip_with(norm=None, factor=None, returned=None):
    def wrong(grads, max_norm):
        norms = [np.sqrt(np.sum(g ** 2)) for g in grads]
        total = norm(norms) if norm else np.sqrt(np.sum(np.square(norms)))
        coefficient = factor(max_norm, total) if factor else np.minimum(1.0, max_norm / (total + 1e-6))
        for grad in grads:
            grad *= coefficient
        return returned(total, coefficient) if returned else total
    return named("clip_grad_norm_", wrong)


def clip_each(grads, max_norm):
    total = np.sqrt(np.sum([np.sum(g ** 2) for g in grads]))
    for grad in grads:
        grad *= np.minimum(1.0, max_norm / (np.sqrt(np.sum(grad ** 2)) + 1e-6))
    return total


def clip_rebinding(grads, max_norm):
    total = np.sqrt(np.sum([np.sum(g ** 2) for g in grads]))
    for grad in grads:
        grad = grad * np.minimum(1.0, max_norm / (total + 1e-6))
    return total


def clip_replacing(grads, max_norm):
    total = np.sqrt(np.sum([np.sum(g ** 2) for g in grads]))
    for index, grad in enumerate(grads):
        grads[index] = grad * np.minimum(1.0, max_norm / (total + 1e-6))
    return total


WRONG_CLIPS = [
    (named("clip_grad_norm_", clip_each), ["clip_grad_norm_(grads, 1) with grads a list of arrays of shapes (4, 3) and (4,): each array is "
                 "clipped by its own norm"]),
    (clip_with(factor=lambda m, total: m / (total + 1e-6)),
     ["with grads a list of arrays of shapes (4, 3) and (4,): the gradients are scaled by max_norm / total_norm "
      "even below the limit"]),
    (clip_with(factor=lambda m, total: np.maximum(1.0, m / total)), ["the factor is max(1, ...) instead of min"]),
    (clip_with(norm=lambda norms: np.sum(norms)), ["total_norm is the sum of the arrays' norms"]),
    (clip_with(norm=lambda norms: np.sqrt(np.sum(norms))), ["total_norm is the square root of the sum of the arrays'"]),
    (clip_with(norm=lambda norms: np.sum(np.square(norms))), ["the sum of squares without the square root"]),
    (clip_with(returned=lambda total, c: total * c),
     ["clip_grad_norm_(grads, 1) with grads a list of arrays of shapes (3, 4) returned 1, expected", "the norm after clipping"]),
    (clip_with(returned=lambda total, c: c), ["that is the clipping factor"]),
    (clip_with(returned=lambda total, c: None), ["returned None, but a number is expected"]),
    (clip_with(returned=lambda total, c: torch.tensor(total)), ["returned a torch.Tensor", ".item()"]),
    (clip_with(factor=lambda m, total: np.minimum(total, m) / total),
     ["clip_grad_norm_(grads, 1) with grads a list of arrays of shapes (4, 3) and (4,) put nan or inf into grads[0]: "
      "the gradients are all zero"]),
    (clip_rebinding, ["left grads unchanged", "`g = g * factor` in a loop only rebinds"]),
    (clip_replacing, ["replaced the arrays in the list grads"]),
    (named("clip_grad_norm_", lambda grads, max_norm: [g * 0 for g in grads]), ["returned new arrays"]),
    (clip_with(factor=lambda m, total: np.minimum(1.0, m / (total + 1e-6)) * 1.01),
     ["after the call: grads[0] is off by a factor of ≈ 1.01"]),
]


@pytest.mark.parametrize("function, parts", WRONG_CLIPS, ids=range(len(WRONG_CLIPS)))
def test_wrong_clips_fail_with_the_reason(function, parts):
    assert_fails_with(check_clip_grad_norm, function, parts)


def test_a_python_float_division_by_zero_in_the_clip_is_told():
    def clip_python(grads, max_norm):
        total = float(np.sqrt(np.sum([np.sum(g ** 2) for g in grads])))
        for grad in grads:
            grad *= np.minimum(1.0, max_norm / total)
        return total

    assert "raised ZeroDivisionError: float division by zero" in failure_message(check_clip_grad_norm, clip_python)


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
    assert "NoMinDeltaArgument(min_delta=0.1) raised TypeError" in message
    assert "Hint: the signature is EarlyStopper(patience=0, min_delta=0.0, mode='min')" in message

    class NoStep:
        def __init__(self, **kwargs):
            self.best, self.best_epoch, self.wait = float("inf"), 0, 0

    assert "NoStep() has no method step" in failure_message(check_early_stopper, NoStep)
    class Stringy(EarlyStopper):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.best = "inf"

    assert "right after Stringy(), best is a str, but a number is expected." in failure_message(
        check_early_stopper, Stringy)


# ------------------------------------------------------- not implemented, crashes, garbage

def blank(*args, **kwargs):
    raise NotImplementedError()


class BlankStopper:
    def __init__(self, patience=0, min_delta=0.0, mode="min"):
        raise NotImplementedError()


@pytest.mark.parametrize("check, call", [
    (check_l2_penalty, "l2_penalty(params, 0.1)"), (check_l1_penalty_gradients, "l1_penalty_gradients(params, 0.1)"),
    (check_dropout, "dropout(input, generator=rng)"),
    (check_clip_grad_norm, "clip_grad_norm_(grads, 1) with grads a list of arrays of shapes (3, 4)")], ids=IDS[:4])
def test_the_blank_answer_fails_with_a_helpful_message(check, call):
    message = failure_message(check, named(call.split("(")[0], blank))
    assert message == f"{call} raised NotImplementedError: replace `raise NotImplementedError()` in the answer " \
                      f"cell with your implementation, then run that cell again before this one."
    assert "EarlyStopper() raised NotImplementedError: replace" in failure_message(
        check_early_stopper, named("EarlyStopper", BlankStopper))


@pytest.mark.parametrize("result, part", [
    (None, "returned None, but a number is expected: did the function end without a `return` statement?"),
    ([0.1], "returned a list, but a number is expected"),
    (torch.tensor(0.1), "returned a torch.Tensor of shape (), but a number is expected: .item()"),
    (np.ones(3), "returned a numpy array of shape (3,), but a number is expected: is a sum or a mean missing?"),
    (float("nan"), "returned nan"),
    ("0.1", "returned a str"),
])
def test_an_l2_result_that_is_not_a_number_is_named(result, part):
    message = failure_message(check_l2_penalty, named("l2_penalty", lambda params, weight: result))
    assert message.startswith("l2_penalty(params, 0.1) with params holding W1 (3, 4) ") and part in message


@pytest.mark.parametrize("check", [c for c, _ in REFERENCES], ids=IDS)
def test_a_crash_names_the_call_and_the_error(check):
    def crashes(*args, **kwargs):
        raise ValueError("operands could not be broadcast together")

    message = failure_message(check, crashes)
    assert "raised ValueError: operands could not be broadcast together" in message


@pytest.mark.parametrize("result", [None, [1.0], "grads", np.zeros((200, 100, 1)), np.full((200, 100), np.nan)])
def test_garbage_from_dropout_is_told_not_crashed_on(result):
    message = failure_message(check_dropout, named("dropout", lambda input, p=0.5, training=True, *, generator: result))
    assert message.startswith("dropout(input, generator=rng) ")


def test_a_lambda_is_called_by_the_exercise_name():
    assert failure_message(check_l2_penalty, lambda params, weight: 0.0).startswith("l2_penalty(params, 0.1)")
    assert failure_message(check_dropout, lambda input, p=0.5, training=True, *, generator: None).startswith(
        "dropout(input, generator=rng)")


# ------------------------------------------------------------- the notebook's wrong answers

NOTEBOOK_WRONG_ANSWERS = [
    ("l2_penalty", check_l2_penalty, "the biases are penalised too"),
    ("l1_penalty_gradients", check_l1_penalty_gradients, "entries where W == 0 get +weight"),
    ("dropout", check_dropout, "p is used as the probability of KEEPING an entry"),
    ("clip_grad_norm_", check_clip_grad_norm, "each array is clipped by its own norm"),
    ("EarlyStopper", check_early_stopper, "patience is off by one"),
]


@pytest.mark.parametrize("grade_id, check, phrase", NOTEBOOK_WRONG_ANSWERS, ids=IDS)
def test_the_notebooks_wrong_answers_fail_with_their_mistake(grade_id, check, phrase):
    answer = defined_by("05_regularization", grade_id, {"np": np, "torch": torch, "F": torch.nn.functional})
    assert phrase in failure_message(check, answer)


# ------------------------------------------------------------------- environment and cost

def test_checks_leave_the_students_random_state_alone():
    assert_global_random_state_untouched(run_every_check)


def test_checks_cannot_be_fooled_by_patched_numpy_torch_or_builtins():
    with tampered():
        run_every_check()
        assert "the biases are penalised too" in failure_message(check_l2_penalty, l2_with(biases=True))
        assert "entries where W == 0 get +weight" in failure_message(
            check_l1_penalty_gradients, l1_with(lambda W, w: np.where(W >= 0, w, -w)))
        assert "the kept entries are not rescaled" in failure_message(check_dropout, dropout_with(scale=lambda p: 1.0))
        assert "each array is clipped by its own norm" in failure_message(check_clip_grad_norm, clip_each)
        assert "patience is off by one" in failure_message(check_early_stopper, PatiencePlusOne)


def test_a_patched_torch_clamp_does_not_change_the_expected_clip(monkeypatch):
    """torch's clip_grad_norm_ calls torch.clamp: patched to do nothing, torch would scale
    small gradients up just like the wrong answer, so the oracle runs with torch as it was."""
    monkeypatch.setattr(torch, "clamp", lambda tensor, **kwargs: tensor)
    assert "even below the limit" in failure_message(check_clip_grad_norm, clip_with(factor=lambda m, t: m / (t + 1e-6)))
    assert torch.clamp(torch.tensor(5.0), max=1.0) == 5.0  # the student's patch is back in place


def test_nothing_reaches_stderr_nor_warns(capsys):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run_every_check()
        for check, function in [(check_dropout, WRONG_DROPOUTS[14][0]), (check_clip_grad_norm, WRONG_CLIPS[10][0]),
                                (check_l1_penalty_gradients, WRONG_L1[3][0])]:
            failure_message(check, function)
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""


@pytest.mark.parametrize("check, reference", REFERENCES, ids=IDS)
def test_checks_are_fast(check, reference):
    check(reference)
    started = time.perf_counter()
    check(reference)
    assert time.perf_counter() - started < 0.3
