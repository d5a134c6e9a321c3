"""The closed forms the tests use as right answers agree with torch's schedulers, and the
oracle computes torch's rates with math as it was at import."""
import math
import warnings

import numpy as np
import pytest
import torch

from course_lib.checking.schedules import check_cosine_annealing_lr
from tests.checking.failures import failure_message
from tests.checking.schedules.answers import (
    ReduceLROnPlateau, cosine_annealing_lr, cyclic_lr, exponential_lr, one_cycle_lr, step_lr, warmup_cosine_lr,
)
from tests.strategies import SEEDS


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
