import contextlib
import io
import math
import time
import warnings

import numpy as np
import pytest
import torch

from course_lib.checking.schedules import (
    check_cosine_annealing_lr, check_cyclic_lr, check_exponential_lr, check_one_cycle_lr,
    check_reduce_lr_on_plateau, check_step_lr, check_warmup_cosine_lr,
)
from tests.checking.failures import assert_fails_with, failure_message, named
from tests.strategies import BUILTIN_NAMES, SEEDS, assert_global_random_state_untouched, tampered


# ------------------------------------------------------------- closed forms (the answers)

def step_lr(epoch, *, base_lr, step_size, gamma=0.1):
    return base_lr * gamma ** (epoch // step_size)


def exponential_lr(epoch, *, base_lr, gamma, decay_epochs=1, staircase=False):
    exponent = epoch // decay_epochs if staircase else epoch / decay_epochs
    return base_lr * gamma ** exponent


def cosine_annealing_lr(epoch, *, base_lr, T_max, eta_min=0.0):
    return eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * epoch / T_max)) / 2


def warmup_cosine_lr(step, *, base_lr, warmup_steps, total_steps, start_factor=0.1, eta_min=0.0):
    if step < warmup_steps:
        return base_lr * (start_factor + (1 - start_factor) * step / warmup_steps)
    return cosine_annealing_lr(step - warmup_steps, base_lr=base_lr,
                               T_max=total_steps - warmup_steps, eta_min=eta_min)


def one_cycle_lr(step, *, max_lr, total_steps, pct_start=0.3, div_factor=25.0,
                 final_div_factor=1e4, three_phase=False):
    initial_lr = max_lr / div_factor
    min_lr = initial_lr / final_div_factor
    if three_phase:
        phases = [(float(pct_start * total_steps) - 1, initial_lr, max_lr),
                  (float(2 * pct_start * total_steps) - 2, max_lr, initial_lr),
                  (total_steps - 1, initial_lr, min_lr)]
    else:
        phases = [(float(pct_start * total_steps) - 1, initial_lr, max_lr),
                  (total_steps - 1, max_lr, min_lr)]
    phase_start = 0
    for index, (phase_end, start, end) in enumerate(phases):
        if step <= phase_end or index == len(phases) - 1:
            pct = (step - phase_start) / (phase_end - phase_start)
            return end + (start - end) / 2 * (1 + math.cos(math.pi * pct))
        phase_start = phase_end


def cyclic_lr(step, *, base_lr, max_lr, step_size_up=2000, step_size_down=None,
              mode="triangular", gamma=1.0):
    step_size_down = step_size_up if step_size_down is None else step_size_down
    cycle_length = step_size_up + step_size_down
    step_ratio = step_size_up / cycle_length
    cycle = math.floor(1 + step / cycle_length)
    x = 1 + step / cycle_length - cycle
    fraction = x / step_ratio if x <= step_ratio else (x - 1) / (step_ratio - 1)
    scale = {"triangular": 1.0, "triangular2": 1 / 2 ** (cycle - 1), "exp_range": gamma ** step}[mode]
    return base_lr + (max_lr - base_lr) * fraction * scale


class ReduceLROnPlateau:
    def __init__(self, optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4,
                 threshold_mode="rel", cooldown=0, min_lr=0.0):
        self.optimizer, self.mode, self.factor, self.patience = optimizer, mode, factor, patience
        self.threshold, self.threshold_mode = threshold, threshold_mode
        self.cooldown, self.min_lr = cooldown, min_lr
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = self.cooldown_counter = 0

    def is_better(self, metric):
        sign = 1 if self.mode == "min" else -1
        if self.threshold_mode == "rel":
            return sign * metric < sign * self.best * (1 - sign * self.threshold)
        return sign * metric < sign * self.best - self.threshold

    def step(self, metrics):
        if self.is_better(metrics):
            self.best, self.num_bad_epochs = metrics, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            self.optimizer.lr = max(self.optimizer.lr * self.factor, self.min_lr)
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0


# ----------------------------------------------- the closed forms agree with torch's schedulers

def torch_rates(make, lr, count):
    optimizer = torch.optim.SGD([torch.zeros(1, dtype=torch.float64, requires_grad=True)], lr=lr)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scheduler = make(optimizer)
        rates = []
        for _ in range(count):
            rates.append(scheduler.get_last_lr()[0])
            optimizer.step()
            scheduler.step()
    return rates


def assert_agree(closed_form, kwargs, make, lr, count):
    expected = torch_rates(make, lr, count)
    np.testing.assert_allclose([closed_form(t, **kwargs) for t in range(count)], expected,
                               rtol=1e-10, atol=1e-15 * lr)


@pytest.mark.parametrize("seed", SEEDS)
def test_closed_forms_agree_with_torch(seed):
    rng = np.random.default_rng(seed)
    sched = torch.optim.lr_scheduler
    for _ in range(15):
        base_lr = float(10 ** rng.uniform(-4, 0))
        gamma = float(rng.uniform(0.05, 0.99))
        step_size = int(rng.integers(1, 8))
        assert_agree(step_lr, dict(base_lr=base_lr, step_size=step_size, gamma=gamma),
                     lambda o: sched.StepLR(o, step_size, gamma), base_lr, 40)
        decay = int(rng.integers(1, 8))
        assert_agree(exponential_lr, dict(base_lr=base_lr, gamma=gamma, decay_epochs=decay),
                     lambda o: sched.ExponentialLR(o, gamma ** (1 / decay)), base_lr, 40)
        assert_agree(exponential_lr, dict(base_lr=base_lr, gamma=gamma, decay_epochs=decay, staircase=True),
                     lambda o: sched.StepLR(o, decay, gamma), base_lr, 40)
        T_max = int(rng.integers(1, 60))
        eta_min = float(base_lr * rng.choice([0.0, rng.uniform(0, 0.5)]))
        assert_agree(cosine_annealing_lr, dict(base_lr=base_lr, T_max=T_max, eta_min=eta_min),
                     lambda o: sched.CosineAnnealingLR(o, T_max, eta_min), base_lr, T_max + 1)
        warmup = int(rng.integers(1, 15))
        total = warmup + int(rng.integers(1, 50))
        start_factor = float(rng.uniform(0.01, 1.0))
        assert_agree(
            warmup_cosine_lr, dict(base_lr=base_lr, warmup_steps=warmup, total_steps=total,
                                   start_factor=start_factor, eta_min=eta_min),
            lambda o: sched.SequentialLR(o, [
                sched.LinearLR(o, start_factor=start_factor, end_factor=1.0, total_iters=warmup),
                sched.CosineAnnealingLR(o, T_max=total - warmup, eta_min=eta_min)], milestones=[warmup]),
            base_lr, total + 1)
        total = int(rng.integers(8, 200))
        one_cycle = dict(max_lr=base_lr, total_steps=total, pct_start=float(rng.uniform(0.1, 0.45)),
                         div_factor=float(rng.uniform(2, 50)), final_div_factor=float(10 ** rng.uniform(1, 5)),
                         three_phase=bool(rng.integers(2)))
        assert_agree(one_cycle_lr, one_cycle,
                     lambda o: sched.OneCycleLR(o, anneal_strategy="cos", cycle_momentum=False, **one_cycle),
                     base_lr, total)
        up = int(rng.integers(1, 10))
        cyclic = dict(base_lr=base_lr / 10, max_lr=base_lr, step_size_up=up,
                      step_size_down=[None, int(rng.integers(1, 10))][int(rng.integers(2))],
                      mode=str(rng.choice(["triangular", "triangular2", "exp_range"])), gamma=gamma)
        assert_agree(cyclic_lr, cyclic, lambda o: sched.CyclicLR(o, cycle_momentum=False, **cyclic),
                     base_lr / 10, 4 * (up + (cyclic["step_size_down"] or up)))


@pytest.mark.parametrize("seed", SEEDS)
def test_reference_plateau_agrees_with_torch(seed):
    rng = np.random.default_rng(seed)
    for _ in range(10):
        kwargs = dict(mode=str(rng.choice(["min", "max"])), factor=float(rng.uniform(0.1, 0.9)),
                      patience=int(rng.integers(0, 5)), threshold=float(rng.choice([1e-4, 0.01, 0.1])),
                      threshold_mode=str(rng.choice(["rel", "abs"])), cooldown=int(rng.integers(0, 4)),
                      min_lr=float(rng.choice([0.0, 0.01])))
        metrics = list(np.round(np.cumsum(rng.choice([0.0, 0.0, -0.05, 0.05, -0.001], 60)) + 5, 4))
        optimizer = torch.optim.SGD([torch.zeros(1, dtype=torch.float64, requires_grad=True)], lr=0.1)
        # the reference has no eps: torch's skips reductions smaller than 1e-8
        scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, **kwargs, eps=0.0)
        ours = ReduceLROnPlateau(type("Optimizer", (), {"lr": 0.1})(), **kwargs)
        for metric in metrics:
            scheduler.step(metric)
            ours.step(metric)
            assert ours.optimizer.lr == pytest.approx(optimizer.param_groups[0]["lr"], rel=1e-12)


# ------------------------------------------------------------------------- references pass

def run_every_check():
    check_step_lr(step_lr)
    check_exponential_lr(exponential_lr)
    check_cosine_annealing_lr(cosine_annealing_lr)
    check_warmup_cosine_lr(warmup_cosine_lr)
    check_one_cycle_lr(one_cycle_lr)
    check_cyclic_lr(cyclic_lr)
    check_reduce_lr_on_plateau(ReduceLROnPlateau)


def test_references_pass_every_check():
    run_every_check()


OPTION_SETS = [
    (check_step_lr, step_lr, [dict(base_lr=0.3, step_size=1), dict(base_lr=2.0, step_size=5, gamma=0.7, steps=30)]),
    (check_exponential_lr, exponential_lr,
     [dict(base_lr=0.3, gamma=0.95), dict(base_lr=1.0, gamma=0.1, decay_epochs=10, staircase=True, steps=35),
      dict(base_lr=1.0, gamma=0.1, decay_epochs=7)]),
    (check_cosine_annealing_lr, cosine_annealing_lr,
     [dict(base_lr=0.1, T_max=1), dict(base_lr=0.1, T_max=50, eta_min=0.05), dict(base_lr=3.0, T_max=2, eta_min=1.0)]),
    (check_warmup_cosine_lr, warmup_cosine_lr,
     [dict(base_lr=0.1, warmup_steps=1, total_steps=2), dict(base_lr=0.1, warmup_steps=10, total_steps=11),
      dict(base_lr=1.0, warmup_steps=7, total_steps=40, start_factor=1 / 3, eta_min=0.1)]),
    (check_one_cycle_lr, one_cycle_lr,
     [dict(max_lr=0.1, total_steps=100), dict(max_lr=1.0, total_steps=8, pct_start=0.5, three_phase=True),
      dict(max_lr=0.01, total_steps=30, pct_start=0.1, div_factor=3.0, final_div_factor=1e3)]),
    (check_cyclic_lr, cyclic_lr,
     [dict(base_lr=0.001, max_lr=0.006, step_size_up=1, step_size_down=1),
      dict(base_lr=0.001, max_lr=0.006, step_size_up=2, step_size_down=7, mode="triangular2"),
      dict(base_lr=0.001, max_lr=0.006, step_size_up=5, mode="exp_range", gamma=0.99, steps=100),
      dict(base_lr=0.001, max_lr=0.006)]),
    (check_reduce_lr_on_plateau, ReduceLROnPlateau,
     [dict(patience=0), dict(mode="max", threshold_mode="abs", threshold=0.01, patience=2,
                             metrics=[0.1, 0.2, 0.205, 0.21, 0.215, 0.22, 0.3, 0.3]),
      dict(cooldown=3, patience=1, factor=0.5, lr=1.0, metrics=[5.0] * 20),
      dict(min_lr=0.05, patience=0, factor=0.3, lr=1.0, metrics=[1.0] * 8)]),
]


@pytest.mark.parametrize("check, reference, option_sets", OPTION_SETS, ids=[c.__name__ for c, _, _ in OPTION_SETS])
def test_references_pass_with_options(check, reference, option_sets):
    for options in option_sets:
        check(reference, **options)


def test_unknown_options_are_the_test_authors_error():
    with pytest.raises(TypeError, match="unknown option"):
        check_step_lr(step_lr, base_lr=0.1, step=3)
    with pytest.raises(TypeError, match="unknown option"):
        check_reduce_lr_on_plateau(ReduceLROnPlateau, eps=1e-8)


def test_other_right_answers_pass():
    """numpy scalars and 0-d arrays are numbers too."""
    check_step_lr(lambda epoch, **k: np.float64(step_lr(epoch, **k)))
    check_cosine_annealing_lr(lambda epoch, **k: np.asarray(cosine_annealing_lr(epoch, **k)))
    check_one_cycle_lr(lambda step, **k: np.float64(one_cycle_lr(step, **k)))


def test_float32_arithmetic_is_told():
    message = failure_message(check_one_cycle_lr, named("one_cycle_lr", lambda step, **k: np.float32(one_cycle_lr(step, **k))))
    assert "Close, but not within the tolerance (relative 1e-09): float32 arithmetic somewhere" in message


def test_a_plateau_with_torchs_eps_passes_too():
    """Reductions below 1e-8 are skipped by torch's eps; a class without eps passes, one with it too."""
    class WithEps(ReduceLROnPlateau):
        def step(self, metrics):
            lr = self.optimizer.lr
            super().step(metrics)
            if lr - self.optimizer.lr <= 1e-8:
                self.optimizer.lr = lr

    for cls in (ReduceLROnPlateau, WithEps):
        check_reduce_lr_on_plateau(cls, patience=0, metrics=[1.0] * 12)


# --------------------------------------------------------------------------- wrong answers


def cosine(t, base_lr, T_max, eta_min):
    return eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * t / T_max)) / 2


WRONG_STEP_LRS = [
    (lambda epoch, *, base_lr, step_size, gamma=0.1: step_lr(epoch + 1, base_lr=base_lr, step_size=step_size, gamma=gamma),
     ["step_lr(2, base_lr=0.1, step_size=3) returned 0.01, torch's StepLR gives 0.1 (steps 0-1 match)",
      "one step ahead", "at step 0 the rate is base_lr, the first decay comes after step_size steps"]),
    (lambda epoch, *, base_lr, step_size, gamma=0.1: base_lr * gamma ** math.ceil(epoch / step_size),
     ["step_lr(1, base_lr=0.1, step_size=3) returned 0.01", "gamma ** ceil(epoch / step_size)"]),
    (lambda epoch, *, base_lr, step_size, gamma=0.1: base_lr * gamma ** (epoch / step_size),
     ["a continuous decay"]),
    (lambda epoch, *, base_lr, step_size, gamma=0.1: base_lr * gamma ** epoch, ["decays every epoch"]),
    (lambda epoch, *, base_lr, step_size, gamma=0.1: step_lr(max(epoch - 1, 0), base_lr=base_lr, step_size=step_size, gamma=gamma),
     ["step_lr(3, base_lr=0.1, step_size=3) returned 0.1", "(steps 0-2 match)", "one step behind"]),
    (lambda epoch, *, base_lr, step_size, gamma=0.5: step_lr(epoch, base_lr=base_lr, step_size=step_size, gamma=gamma),
     ["step_lr(3, base_lr=0.1, step_size=3) returned 0.05, torch's StepLR gives 0.01",
      "Hint: base_lr * gamma ** (epoch // step_size)"]),
]


@pytest.mark.parametrize("function, parts", WRONG_STEP_LRS, ids=range(len(WRONG_STEP_LRS)))
def test_wrong_step_lrs_fail_with_the_reason(function, parts):
    assert_fails_with(check_step_lr, named("step_lr", function), parts)


def exponential(staircase_rule=None, exponent=None):
    def wrong(epoch, *, base_lr, gamma, decay_epochs=1, staircase=False):
        if exponent is not None:
            return base_lr * gamma ** exponent(epoch, decay_epochs, staircase)
        return exponential_lr(epoch, base_lr=base_lr, gamma=gamma, decay_epochs=decay_epochs,
                              staircase=staircase_rule(staircase))
    return named("exponential_lr", wrong)


WRONG_EXPONENTIAL_LRS = [
    (exponential(lambda staircase: False),
     ["exponential_lr(1, base_lr=1.0, gamma=0.5, decay_epochs=3, staircase=True) returned 0.793701, torch's "
      "StepLR gives 1", "staircase=True is ignored"]),
    (exponential(lambda staircase: True),
     ["exponential_lr(1, base_lr=1.0, gamma=0.5, decay_epochs=4) returned 1, torch's ExponentialLR gives 0.840896",
      "rounded down although staircase=False"]),
    (exponential(exponent=lambda epoch, d, staircase: epoch), ["decay_epochs is ignored"]),
    (exponential(exponent=lambda epoch, d, staircase: epoch * d), ["the exponent is epoch * decay_epochs"]),
    (exponential(exponent=lambda epoch, d, staircase: math.ceil(epoch / d) if staircase else epoch / d),
     ["ceil(epoch / decay_epochs) instead of floor"]),
    (exponential(exponent=lambda epoch, d, staircase: (epoch + 1) // d if staircase else epoch / d),
     ["one step ahead"]),
]


@pytest.mark.parametrize("function, parts", WRONG_EXPONENTIAL_LRS, ids=range(len(WRONG_EXPONENTIAL_LRS)))
def test_wrong_exponential_lrs_fail_with_the_reason(function, parts):
    assert_fails_with(check_exponential_lr, function, parts)


def cosine_with(formula):
    def wrong(epoch, *, base_lr, T_max, eta_min=0.0):
        return formula(epoch, base_lr, T_max, eta_min)
    return named("cosine_annealing_lr", wrong)


WRONG_COSINES = [
    (cosine_with(lambda t, b, T, e: cosine(t, b, T, 0.0)),
     ["cosine_annealing_lr(1, base_lr=0.1, T_max=10, eta_min=0.001) returned 0.0975528, torch's CosineAnnealingLR "
      "gives 0.0975773 (step 0 matches)", "eta_min is ignored"]),
    (cosine_with(lambda t, b, T, e: e * cosine(t, b, T, 0.0) if e else cosine(t, b, T, 0.0)),
     ["eta_min is applied as a factor"]),
    (cosine_with(lambda t, b, T, e: e + (b - e) * math.cos(math.pi * t / T)),
     ["cosine_annealing_lr(1, base_lr=0.1, T_max=10) returned 0.0951057", "without (1 + ...) / 2"]),
    (cosine_with(lambda t, b, T, e: (b - e) * (1 + math.cos(math.pi * t / T)) / 2), ["eta_min is not added back"]),
    (cosine_with(lambda t, b, T, e: e + b * (1 + math.cos(math.pi * t / T)) / 2), ["amplitude is base_lr"]),
    (cosine_with(lambda t, b, T, e: cosine(t, b, T + 1, e)), ["the period is T_max + 1"]),
    (cosine_with(lambda t, b, T, e: cosine(t, b, T, e) if t < 5 else b / 3),
     ["cosine_annealing_lr(5, base_lr=0.1, T_max=10) returned 0.0333333, torch's CosineAnnealingLR gives 0.05 "
      "(steps 0-4 match).\nHint: eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2"]),
    (cosine_with(lambda t, b, T, e: cosine(t + 1, b, T, e)), ["one step ahead", "eta_min is reached at step T_max"]),
]


@pytest.mark.parametrize("function, parts", WRONG_COSINES, ids=range(len(WRONG_COSINES)))
def test_wrong_cosine_annealings_fail_with_the_reason(function, parts):
    assert_fails_with(check_cosine_annealing_lr, function, parts)


def test_a_t_max_of_1_is_checked():
    wrong = cosine_with(lambda t, b, T, e: cosine(t, b, T, e) if T > 1 else b)
    message = failure_message(check_cosine_annealing_lr, wrong)
    assert message.startswith("cosine_annealing_lr(1, base_lr=0.5, T_max=1, eta_min=0.05) returned 0.5, torch's "
                              "CosineAnnealingLR gives 0.05 (step 0 matches)")


def warmup_with(warm=None, cos=None):
    """warmup_cosine_lr with its warmup factor or its cosine phase replaced."""
    def wrong(step, *, base_lr, warmup_steps, total_steps, start_factor=0.1, eta_min=0.0):
        w, total = warmup_steps, total_steps
        if step < w:
            return base_lr * (warm(step, w, start_factor) if warm else start_factor + (1 - start_factor) * step / w)
        return cos(step, w, total, base_lr, eta_min) if cos else cosine(step - w, base_lr, total - w, eta_min)
    return named("warmup_cosine_lr", wrong)


WRONG_WARMUPS = [
    (warmup_with(warm=lambda t, w, s: s + (1 - s) * min(t / (w - 1), 1)),
     ["warmup_cosine_lr(1, base_lr=0.1, warmup_steps=5, total_steps=20) returned 0.0325, torch's "
      "SequentialLR(LinearLR, CosineAnnealingLR) gives 0.028 (step 0 matches)", "reaches base_lr one step early"]),
    (warmup_with(warm=lambda t, w, s: s + (1 - s) * t / (w + 1)), ["reaches base_lr one step late"]),
    (warmup_with(warm=lambda t, w, s: t / w), ["the warmup starts from 0"]),
    (warmup_with(cos=lambda t, w, total, b, e: cosine(t - w + 1, b, total - w, e)),
     ["warmup_cosine_lr(5, base_lr=0.1, warmup_steps=5, total_steps=20) returned 0.0989074", "(steps 0-4 match)",
      "the cosine phase starts one step early, at step warmup_steps - 1"]),
    (warmup_with(cos=lambda t, w, total, b, e: cosine(t - w, b, total, e)), ["T_max = total_steps"]),
    (warmup_with(cos=lambda t, w, total, b, e: cosine(t, b, total, e)), ["the cosine is not restarted at the milestone"]),
    (warmup_with(cos=lambda t, w, total, b, e: cosine(t - w, b, total - w, 0.0)),
     ["warmup_cosine_lr(5, base_lr=0.1, warmup_steps=4, total_steps=10, eta_min=0.01)", "eta_min is ignored"]),
]


@pytest.mark.parametrize("function, parts", WRONG_WARMUPS, ids=range(len(WRONG_WARMUPS)))
def test_wrong_warmup_cosines_fail_with_the_reason(function, parts):
    assert_fails_with(check_warmup_cosine_lr, function, parts)


def test_warmup_of_one_step_is_checked():
    early = warmup_with(cos=lambda t, w, total, b, e: cosine(t - w + 1, b, total - w, e) if w == 1
                        else cosine(t - w, b, total - w, e))
    message = failure_message(check_warmup_cosine_lr, early, base_lr=0.5, warmup_steps=1, total_steps=6, start_factor=0.5)
    assert message.startswith("warmup_cosine_lr(1, base_lr=0.5, warmup_steps=1, total_steps=6, start_factor=0.5) returned")
    assert "the cosine phase starts one step early" in message


def one_cycle_with(**changes):
    def wrong(step, *, max_lr, total_steps, pct_start=0.3, div_factor=25.0, final_div_factor=1e4, three_phase=False):
        initial_lr = max_lr / div_factor
        min_lr = changes.get("min_lr", lambda m, i, f: i / f)(max_lr, initial_lr, final_div_factor)
        shift = changes.get("shift", -1)
        three_phase = changes.get("three_phase", lambda t: t)(three_phase)
        anneal = changes.get("anneal", lambda start, end, pct: end + (start - end) / 2 * (1 + math.cos(math.pi * pct)))
        first_end = pct_start * total_steps + shift
        phases = ([(first_end, initial_lr, max_lr), (2 * pct_start * total_steps + 2 * shift, max_lr, initial_lr),
                   (total_steps - 1, initial_lr, min_lr)] if three_phase
                  else [(first_end, initial_lr, max_lr), (total_steps - 1, max_lr, min_lr)])
        phase_start = 0
        for index, (phase_end, start, end) in enumerate(phases):
            if step <= phase_end or index == len(phases) - 1:
                return anneal(start, end, (step - phase_start) / (phase_end - phase_start))
            phase_start = phase_end
    return named("one_cycle_lr", wrong)


WRONG_ONE_CYCLES = [
    (one_cycle_with(shift=0), ["one_cycle_lr(1, max_lr=0.1, total_steps=20) returned", "OneCycleLR gives",
                               "the warm-up phase ends at step pct_start * total_steps"]),
    (one_cycle_with(min_lr=lambda m, i, f: m / f),
     ["one_cycle_lr(6, max_lr=0.1, total_steps=20) returned 0.0987465209695, torch's OneCycleLR gives 0.0987464006235 (steps 0-5 match)",
      "the lowest rate is max_lr / final_div_factor"]),
    (one_cycle_with(anneal=lambda start, end, pct: start + (end - start) * pct), ["the rate changes linearly"]),
    (one_cycle_with(min_lr=lambda m, i, f: i), ["the last phase ends at initial_lr"]),
    (one_cycle_with(three_phase=lambda t: False),
     ["one_cycle_lr(6, max_lr=0.1, total_steps=20, three_phase=True) returned", "three_phase is ignored"]),
]


@pytest.mark.parametrize("function, parts", WRONG_ONE_CYCLES, ids=range(len(WRONG_ONE_CYCLES)))
def test_wrong_one_cycles_fail_with_the_reason(function, parts):
    assert_fails_with(check_one_cycle_lr, function, parts)


def cyclic_with(scale=None, ignore_down=False):
    def wrong(step, *, base_lr, max_lr, step_size_up=2000, step_size_down=None, mode="triangular", gamma=1.0):
        down = None if ignore_down else step_size_down
        if scale is None:
            return cyclic_lr(step, base_lr=base_lr, max_lr=max_lr, step_size_up=step_size_up, step_size_down=down,
                             mode=mode, gamma=gamma)
        triangle = cyclic_lr(step, base_lr=base_lr, max_lr=max_lr, step_size_up=step_size_up, step_size_down=down)
        cycle = math.floor(1 + step / (step_size_up + (down or step_size_up)))
        return base_lr + (triangle - base_lr) * scale(mode, cycle, step, gamma)
    return named("cyclic_lr", wrong)


WRONG_CYCLICS = [
    (cyclic_with(ignore_down=True),
     ["cyclic_lr(4, base_lr=0.01, max_lr=0.1, step_size_up=3, step_size_down=5) returned", "step_size_down is ignored"]),
    (cyclic_with(scale=lambda mode, c, t, g: {"triangular2": 1 / 2 ** c, "exp_range": g ** t}.get(mode, 1.0)),
     ["mode='triangular2'", "halved already in the first cycle"]),
    (cyclic_with(scale=lambda mode, c, t, g: {"triangular2": 1 / 2 ** (c - 1), "exp_range": g ** c}.get(mode, 1.0)),
     ["cyclic_lr(2, base_lr=0.01, max_lr=0.1, step_size_up=3, mode='exp_range', gamma=0.9) returned 0.064, "
      "torch's CyclicLR gives 0.0586 (steps 0-1 match)", "gamma ** cycle", "gamma ** last_epoch"]),
    (cyclic_with(scale=lambda mode, c, t, g: 1.0), ["mode='triangular2' is treated like 'triangular'"]),
    (named("cyclic_lr", lambda step, *, mode="triangular", gamma=1.0, **k:
           cyclic_lr(step, **k) * (gamma ** step if mode == "exp_range" else 1.0) if mode != "triangular2"
           else cyclic_lr(step, mode=mode, **k)),
     ["mode='exp_range'", "the whole rate is scaled by gamma ** step: only the amplitude max_lr - base_lr is."]),
    (cyclic_with(scale=lambda mode, c, t, g: {"triangular2": 1 / 2 ** (c - 1), "exp_range": g ** (t + 1)}.get(mode, 1.0)),
     ["cyclic_lr(1, base_lr=0.01, max_lr=0.1, step_size_up=3, mode='exp_range', gamma=0.9) returned"]),
]


@pytest.mark.parametrize("function, parts", WRONG_CYCLICS, ids=range(len(WRONG_CYCLICS)))
def test_wrong_cyclics_fail_with_the_reason(function, parts):
    assert_fails_with(check_cyclic_lr, function, parts)


def test_cyclic_one_step_ahead_is_named():
    ahead = named("cyclic_lr", lambda step, **k: cyclic_lr(step + 1, **k))
    assert_fails_with(check_cyclic_lr, ahead, ["cyclic_lr(0, base_lr=0.01, max_lr=0.1, step_size_up=4) returned 0.0325",
                                               "one step ahead", "max_lr is reached at step step_size_up"])


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


# ------------------------------------------------------------------ what comes back, and crashes

def blank(*args, **kwargs):
    raise NotImplementedError()


class BlankPlateau:
    def __init__(self, optimizer, **kwargs):
        raise NotImplementedError()


CHECKS = [(check_step_lr, "step_lr"), (check_exponential_lr, "exponential_lr"),
          (check_cosine_annealing_lr, "cosine_annealing_lr"), (check_warmup_cosine_lr, "warmup_cosine_lr"),
          (check_one_cycle_lr, "one_cycle_lr"), (check_cyclic_lr, "cyclic_lr")]


@pytest.mark.parametrize("check, name", CHECKS, ids=[name for _, name in CHECKS])
def test_the_blank_answer_fails_with_a_helpful_message(check, name):
    message = failure_message(check, named(name, blank))
    assert message.startswith(f"{name}(0, ")
    assert "raised NotImplementedError: replace `raise NotImplementedError()` in the answer cell" in message
    message = failure_message(check_reduce_lr_on_plateau, BlankPlateau)
    assert "BlankPlateau(optimizer, patience=2, factor=0.5) with optimizer.lr = 0.1 at the start raised " \
           "NotImplementedError: replace" in message


@pytest.mark.parametrize("result, part", [
    (None, "returned None, but a number, the learning rate, is expected: did the function end without a `return`"),
    ([0.1], "returned a list, but a number, the learning rate, is expected: return the rate at this one step"),
    (np.array([0.1]), "returned a numpy array"),
    (torch.tensor(0.1), "returned a torch.Tensor: return a plain number"),
    (float("nan"), "returned nan"),
    ("0.1", "returned a str"),
    (True, "returned a bool"),
])
def test_a_result_that_is_not_a_number_is_named(result, part):
    message = failure_message(check_step_lr, named("step_lr", lambda epoch, **kwargs: result))
    assert message.startswith("step_lr(0, base_lr=0.1, step_size=3) ") and part in message


def test_a_crash_names_the_call_and_a_division_by_zero():
    message = failure_message(check_cosine_annealing_lr, named("cosine_annealing_lr", lambda epoch, **k: 1 / 0))
    assert message.startswith("cosine_annealing_lr(0, base_lr=0.1, T_max=10) raised ZeroDivisionError")
    assert "Hint: a division by zero" in message


def test_a_lambda_is_called_by_the_exercise_name():
    assert failure_message(check_step_lr, lambda epoch, **kwargs: 0.0).startswith("step_lr(0, ")


# ------------------------------------------------------------------- environment and cost

def test_checks_leave_the_students_random_state_alone():
    assert_global_random_state_untouched(run_every_check)


def test_checks_cannot_be_fooled_by_patched_numpy_torch_or_builtins():
    with tampered(builtin_names=tuple(name for name in BUILTIN_NAMES if name != "max")):  # the reference uses max
        run_every_check()
        assert "one step ahead" in failure_message(check_step_lr, named("step_lr", lambda e, **k: step_lr(e + 1, **k)))
        assert "patience is off by one" in failure_message(check_reduce_lr_on_plateau, ReducesAtPatience)
    with tampered(builtin_names=("max",)):  # the reference's max(lr * factor, min_lr) is True
        assert "after step(0.8) (epoch 6), optimizer.lr is a bool: the scheduler must set optimizer.lr to the new " \
               "rate, a number." in failure_message(check_reduce_lr_on_plateau, ReduceLROnPlateau)


def test_checks_cannot_be_fooled_by_a_patched_math(monkeypatch):
    """torch's schedulers call math.cos too: with math.cos patched, the student's cosine and
    torch's would agree on wrong values, so the oracle runs with math as it was."""
    monkeypatch.setattr(math, "cos", lambda x: 1.0)
    message = failure_message(check_cosine_annealing_lr, cosine_annealing_lr)
    assert message.startswith("cosine_annealing_lr(1, base_lr=0.1, T_max=10) returned 0.1, torch's "
                              "CosineAnnealingLR gives 0.0975528")
    assert math.cos(0.5) == 1.0  # the student's patch is back in place
    monkeypatch.undo()
    check_cosine_annealing_lr(cosine_annealing_lr)


def test_nothing_reaches_stderr_nor_warns():
    stderr = io.StringIO()
    with warnings.catch_warnings(), contextlib.redirect_stderr(stderr):
        warnings.simplefilter("error")
        run_every_check()
        failure_message(check_one_cycle_lr, one_cycle_with(shift=0))
        failure_message(check_reduce_lr_on_plateau, NoCooldown)
    assert stderr.getvalue() == ""


@pytest.mark.parametrize("check, reference", [(c, r) for c, r, _ in OPTION_SETS], ids=[c.__name__ for c, _, _ in OPTION_SETS])
def test_checks_are_fast(check, reference):
    check(reference)
    started = time.perf_counter()
    check(reference)
    assert time.perf_counter() - started < 0.3
