import inspect
import math
import pickle
from functools import partial

import numpy as np
import pytest
import torch

from course_lib.optim import SGD, Adam, RMSprop
from course_lib.optim import lr_scheduler as ours
from tests.strategies import SEEDS

STEPS = 120
# The tests step torch's schedulers without training anything in between.
pytestmark = pytest.mark.filterwarnings("ignore:Detected call of `lr_scheduler.step\\(\\)` before")


def optimizers(lr, kind="SGD", momentum=0.0):
    """Our optimizer and torch's, on a dummy parameter, with the same learning rate.
    SGD and RMSprop cycle "momentum", Adam its betas[0]."""
    mine, theirs = dict(SGD=SGD, Adam=Adam, RMSprop=RMSprop)[kind], getattr(torch.optim, kind)
    options = dict(lr=lr) if kind == "Adam" else dict(lr=lr, momentum=momentum)
    tensor = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    return mine([np.zeros(1)], **options), theirs([tensor], **options)


def assert_same_state(mine, theirs, mine_opt, their_opt, where):
    want = theirs.get_last_lr()
    assert len(mine.get_last_lr()) == 1, where
    np.testing.assert_allclose(mine.get_last_lr(), want, rtol=1e-6, atol=0, err_msg=where)
    np.testing.assert_allclose(mine_opt.param_groups[0]["lr"], their_opt.param_groups[0]["lr"],
                               rtol=1e-6, atol=0, err_msg=where)
    for key in ("momentum", "betas"):
        if key in their_opt.param_groups[0]:
            np.testing.assert_allclose(mine_opt.param_groups[0][key], their_opt.param_groups[0][key],
                                       rtol=1e-6, atol=0, err_msg=f"{key}, {where}")
    assert mine.last_epoch == theirs.last_epoch, where


def compare(name, make_kwargs, seed, kind="SGD", steps=STEPS, lr=None, momentum=0.0):
    """Build scheduler `name` with the same arguments on both sides and step them together."""
    rng = np.random.default_rng(seed)
    lr = float(10 ** rng.uniform(-4, 0)) if lr is None else lr
    kwargs = make_kwargs(rng)
    mine_opt, their_opt = optimizers(lr, kind, momentum)
    mine = getattr(ours, name)(mine_opt, **kwargs)
    theirs = getattr(torch.optim.lr_scheduler, name)(their_opt, **kwargs)
    assert_same_state(mine, theirs, mine_opt, their_opt, f"{name}{kwargs} at construction")
    for step in range(steps):
        mine.step()
        theirs.step()
        assert_same_state(mine, theirs, mine_opt, their_opt, f"{name}{kwargs} after step {step + 1}")
    return mine, theirs


SWEEPS = {
    "StepLR": lambda rng: dict(step_size=int(rng.integers(1, 30)), gamma=float(rng.uniform(0.05, 1.2))),
    "MultiStepLR": lambda rng: dict(
        # unsorted and repeated milestones too: torch counts repeats
        milestones=[int(m) for m in rng.integers(0, STEPS, size=rng.integers(1, 6))],
        gamma=float(rng.uniform(0.05, 1.2))),
    "ExponentialLR": lambda rng: dict(gamma=float(rng.uniform(0.9, 1.02))),
    "CosineAnnealingLR": lambda rng: dict(T_max=int(rng.integers(1, 60)),
                                          eta_min=float(rng.choice([0.0, 1e-5, 1e-3]))),
    "LambdaLR": lambda rng: dict(lr_lambda=partial(pow, float(rng.uniform(0.8, 1.05)))),
    "LinearLR": lambda rng: dict(start_factor=float(rng.uniform(0.01, 1.0)), end_factor=float(rng.uniform(0, 1.0)),
                                 total_iters=int(rng.integers(0, 40))),
}


@pytest.mark.parametrize("name", SWEEPS)
@pytest.mark.parametrize("seed", SEEDS)
def test_matches_torch_step_by_step(name, seed):
    compare(name, SWEEPS[name], seed)


def test_defaults_match_torch():
    for name in ["LambdaLR", "StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "LinearLR", "SequentialLR",
                 "OneCycleLR", "CyclicLR", "ReduceLROnPlateau"]:
        mine = inspect.signature(getattr(ours, name)).parameters
        theirs = inspect.signature(getattr(torch.optim.lr_scheduler, name)).parameters
        assert list(mine) == list(theirs), name
        for parameter in theirs:
            assert mine[parameter].default == theirs[parameter].default, (name, parameter)
        assert issubclass(getattr(ours, name), ours.LRScheduler)


def test_cosine_follows_torchs_chainable_form_not_the_closed_form():
    mine, _ = compare("CosineAnnealingLR", lambda rng: dict(T_max=7, eta_min=1e-3), seed=0, lr=0.1, steps=40)
    closed_form = 1e-3 + (0.1 - 1e-3) * (1 + math.cos(math.pi * 40 / 7)) / 2
    assert mine.get_last_lr()[0] != closed_form
    assert mine.get_last_lr()[0] == pytest.approx(closed_form, rel=1e-9)


def sequential_pair(seed):
    rng = np.random.default_rng(seed)
    lr = float(10 ** rng.uniform(-4, 0))
    warmup = int(rng.integers(1, 20))
    second = int(rng.integers(warmup + 1, 80))
    linear = dict(start_factor=float(rng.uniform(0.01, 1)), total_iters=warmup)
    cosine = dict(T_max=int(rng.integers(1, 60)), eta_min=float(rng.choice([0.0, 1e-5])))
    step = dict(step_size=int(rng.integers(1, 10)), gamma=float(rng.uniform(0.1, 0.9)))
    built = []
    for library, optimizer in zip((ours, torch.optim.lr_scheduler), optimizers(lr)):
        schedulers = [library.LinearLR(optimizer, **linear), library.CosineAnnealingLR(optimizer, **cosine),
                      library.StepLR(optimizer, **step)]
        built.append((library.SequentialLR(optimizer, schedulers, milestones=[warmup, second]), optimizer))
    return built


@pytest.mark.parametrize("seed", SEEDS)
def test_sequential_warmup_then_cosine_matches_torch(seed):
    (mine, mine_opt), (theirs, their_opt) = sequential_pair(seed)
    assert_same_state(mine, theirs, mine_opt, their_opt, "construction")
    for step in range(STEPS):
        mine.step()
        theirs.step()
        assert_same_state(mine, theirs, mine_opt, their_opt, f"step {step + 1}")


def one_cycle_kwargs(rng):
    kwargs = dict(max_lr=float(10 ** rng.uniform(-3, 0)), pct_start=float(rng.uniform(0.05, 0.6)),
                  anneal_strategy=str(rng.choice(["cos", "linear"])), cycle_momentum=bool(rng.integers(2)),
                  base_momentum=float(rng.uniform(0.7, 0.85)), max_momentum=float(rng.uniform(0.85, 0.99)),
                  div_factor=float(rng.uniform(2, 50)), final_div_factor=float(10 ** rng.uniform(1, 5)),
                  three_phase=bool(rng.integers(2)))
    if rng.integers(2):
        kwargs["total_steps"] = STEPS
    else:
        kwargs.update(epochs=12, steps_per_epoch=10)
    return kwargs


@pytest.mark.parametrize("kind", ["SGD", "RMSprop", "Adam"])
@pytest.mark.parametrize("seed", SEEDS)
def test_one_cycle_matches_torch_with_its_momentum_or_beta1(seed, kind):
    # torch allows one step past the end (step total_steps), extrapolating the last phase
    compare("OneCycleLR", one_cycle_kwargs, seed, kind=kind, momentum=0.9)


def test_one_cycle_refuses_to_step_past_total_steps_like_torch():
    mine, theirs = compare("OneCycleLR", lambda rng: dict(max_lr=0.1, total_steps=10), seed=0, steps=10)
    for scheduler in (mine, theirs):
        with pytest.raises(ValueError, match="Tried to step 11 times"):
            scheduler.step()


def cyclic_kwargs(rng):
    up = int(rng.integers(1, 25))
    kwargs = dict(base_lr=float(10 ** rng.uniform(-4, -2)), max_lr=float(10 ** rng.uniform(-2, 0)),
                  step_size_up=up, step_size_down=[None, int(rng.integers(1, 25))][int(rng.integers(2))],
                  mode=str(rng.choice(["triangular", "triangular2", "exp_range"])),
                  gamma=float(rng.uniform(0.97, 1.0)), cycle_momentum=bool(rng.integers(2)),
                  base_momentum=float(rng.uniform(0.7, 0.85)), max_momentum=float(rng.uniform(0.85, 0.99)),
                  # ignored by the three built-in modes, as in torch
                  scale_mode=str(rng.choice(["cycle", "iterations"])))
    return kwargs


@pytest.mark.parametrize("kind", ["SGD", "RMSprop", "Adam"])
@pytest.mark.parametrize("seed", SEEDS)
def test_cyclic_matches_torch_with_its_momentum_or_beta1(seed, kind):
    compare("CyclicLR", cyclic_kwargs, seed, kind=kind, momentum=0.9)


@pytest.mark.parametrize("scale_mode", ["cycle", "iterations"])
def test_cyclic_with_a_custom_scale_fn_matches_torch(scale_mode):
    compare("CyclicLR", lambda rng: dict(base_lr=0.001, max_lr=0.1, step_size_up=7, step_size_down=3,
                                         scale_fn=lambda x: 1 / (1 + 0.1 * x), scale_mode=scale_mode), seed=0,
            momentum=0.9)


def plateau_metrics(rng, steps):
    """A noisy decreasing curve that flattens into plateaus, with repeated values."""
    values, current = [], float(rng.uniform(1, 10))
    for _ in range(steps):
        phase = rng.integers(4)
        if phase == 0:
            current *= float(rng.uniform(0.8, 1.0))
        elif phase == 1:
            current += float(rng.normal(0, 0.01))
        # phases 2 and 3: exactly the same value again (a plateau)
        values.append(current)
    return values


@pytest.mark.parametrize("seed", range(12))
def test_reduce_on_plateau_matches_torch_on_random_metric_streams(seed):
    rng = np.random.default_rng(seed)
    kwargs = dict(mode=str(rng.choice(["min", "max"])), factor=float(rng.uniform(0.1, 0.9)),
                  patience=int(rng.integers(0, 6)), threshold=float(rng.choice([0.0, 1e-4, 1e-2])),
                  threshold_mode=str(rng.choice(["rel", "abs"])), cooldown=int(rng.integers(0, 5)),
                  min_lr=float(rng.choice([0.0, 1e-4])), eps=float(rng.choice([1e-8, 1e-3])))
    metrics = plateau_metrics(rng, 150)
    if kwargs["mode"] == "max":
        metrics = [-value for value in metrics]
    mine_opt, their_opt = optimizers(0.1)
    mine = ours.ReduceLROnPlateau(mine_opt, **kwargs)
    theirs = torch.optim.lr_scheduler.ReduceLROnPlateau(their_opt, **kwargs)
    reductions = 0
    for step, metric in enumerate(metrics):
        before = their_opt.param_groups[0]["lr"]
        mine.step(np.float64(metric))
        theirs.step(metric)
        reductions += their_opt.param_groups[0]["lr"] < before
        assert_same_state(mine, theirs, mine_opt, their_opt, f"{kwargs} after step {step + 1}")
        assert (mine.num_bad_epochs, mine.cooldown_counter, mine.best) == (
            theirs.num_bad_epochs, theirs.cooldown_counter, theirs.best)
    assert reductions > 0


def test_reduce_on_plateau_waits_patience_then_cooldown():
    optimizer = SGD([np.zeros(1)], lr=1.0)
    scheduler = ours.ReduceLROnPlateau(optimizer, factor=0.5, patience=2, cooldown=1)
    lrs = []
    for metric in [1.0] + [1.0] * 8:
        scheduler.step(metric)
        lrs.append(optimizer.lr)
    # 3 bad epochs reduce; one cooldown epoch; then 3 more bad epochs
    assert lrs == [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25]


SCHEDULES_TO_RESUME = {
    "StepLR": dict(step_size=4, gamma=0.5),
    "MultiStepLR": dict(milestones=[3, 3, 9], gamma=0.5),
    "ExponentialLR": dict(gamma=0.95),
    "CosineAnnealingLR": dict(T_max=9, eta_min=1e-3),
    "LinearLR": dict(start_factor=0.2, total_iters=8),
    "OneCycleLR": dict(max_lr=0.5, total_steps=40, three_phase=True),
    "CyclicLR": dict(base_lr=0.01, max_lr=0.2, step_size_up=3, mode="triangular2"),
}


@pytest.mark.parametrize("name", SCHEDULES_TO_RESUME)
def test_state_dict_round_trip_continues_the_same_schedule(name):
    kwargs = SCHEDULES_TO_RESUME[name]
    optimizer = SGD([np.zeros(1)], lr=0.1, momentum=0.9)
    scheduler = getattr(ours, name)(optimizer, **kwargs)
    for _ in range(13):
        scheduler.step()
    # a checkpoint: plain data, no optimizer inside the scheduler's part
    checkpoint = pickle.loads(pickle.dumps((optimizer.state_dict(), scheduler.state_dict())))
    expected = []
    for _ in range(15):
        scheduler.step()
        expected.append(scheduler.get_last_lr()[0])
    restored_optimizer = SGD([np.zeros(1)], lr=0.1, momentum=0.9)
    restored = getattr(ours, name)(restored_optimizer, **kwargs)
    restored_optimizer.load_state_dict(checkpoint[0])
    restored.load_state_dict(checkpoint[1])
    got = []
    for _ in range(15):
        restored.step()
        got.append(restored.get_last_lr()[0])
    assert got == expected


def test_sequential_and_plateau_state_dict_round_trip():
    (mine, _), _ = sequential_pair(1)
    for _ in range(30):
        mine.step()
    state = pickle.loads(pickle.dumps(mine.state_dict()))
    (restored, restored_opt), _ = sequential_pair(1)
    restored.load_state_dict(state)
    assert restored.last_epoch == mine.last_epoch
    assert [s.last_epoch for s in restored._schedulers] == [s.last_epoch for s in mine._schedulers]

    optimizer = SGD([np.zeros(1)], lr=0.1)
    plateau = ours.ReduceLROnPlateau(optimizer, patience=1)
    for metric in [3.0, 2.0, 2.0]:
        plateau.step(metric)
    copy = ours.ReduceLROnPlateau(SGD([np.zeros(1)], lr=0.1), patience=1)
    copy.load_state_dict(pickle.loads(pickle.dumps(plateau.state_dict())))
    assert (copy.best, copy.num_bad_epochs, copy.last_epoch) == (2.0, 1, 3)


@pytest.mark.parametrize("name", SCHEDULES_TO_RESUME)
def test_resuming_with_last_epoch_uses_initial_lr_like_torch(name):
    kwargs = SCHEDULES_TO_RESUME[name]
    mine_opt, their_opt = optimizers(0.1, momentum=0.9)
    for optimizer, library in ((mine_opt, ours), (their_opt, torch.optim.lr_scheduler)):
        scheduler = getattr(library, name)(optimizer, **kwargs)
        for _ in range(5):
            scheduler.step()
        optimizer.param_groups[0]["lr"] = 0.07  # changed by hand: a chainable schedule continues from it
    # last_epoch=7: the initial step goes to epoch 8, a StepLR milestone (torch applies gamma there)
    mine = getattr(ours, name)(mine_opt, last_epoch=7, **kwargs)
    theirs = getattr(torch.optim.lr_scheduler, name)(their_opt, last_epoch=7, **kwargs)
    assert mine.base_lrs == theirs.base_lrs
    assert_same_state(mine, theirs, mine_opt, their_opt, "resumed")
    for step in range(30):
        mine.step()
        theirs.step()
        assert_same_state(mine, theirs, mine_opt, their_opt, f"resumed, step {step + 1}")


def test_resuming_without_initial_lr_is_refused_like_torch():
    mine_opt, their_opt = optimizers(0.1)
    with pytest.raises(KeyError, match="initial_lr"):
        torch.optim.lr_scheduler.StepLR(their_opt, 3, last_epoch=4)
    with pytest.raises(KeyError, match="initial_lr"):
        ours.StepLR(mine_opt, 3, last_epoch=4)


INVALID = [
    ("LinearLR", dict(start_factor=0.0), ValueError),
    ("LinearLR", dict(start_factor=1.5), ValueError),
    ("LinearLR", dict(end_factor=-0.1), ValueError),
    ("OneCycleLR", dict(max_lr=0.1), ValueError),
    ("OneCycleLR", dict(max_lr=0.1, total_steps=0), ValueError),
    ("OneCycleLR", dict(max_lr=0.1, total_steps=10.0), ValueError),
    ("OneCycleLR", dict(max_lr=0.1, epochs=0, steps_per_epoch=3), ValueError),
    ("OneCycleLR", dict(max_lr=0.1, epochs=2, steps_per_epoch=-1), ValueError),
    ("OneCycleLR", dict(max_lr=0.1, total_steps=10, pct_start=1), ValueError),
    ("OneCycleLR", dict(max_lr=0.1, total_steps=10, pct_start=1.5), ValueError),
    ("OneCycleLR", dict(max_lr=0.1, total_steps=10, anneal_strategy="exp"), ValueError),
    ("OneCycleLR", dict(max_lr=[0.1, 0.2], total_steps=10), ValueError),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, mode="sawtooth"), ValueError),
    ("CyclicLR", dict(base_lr=0.01, max_lr=[0.1, 0.2]), ValueError),
    ("ReduceLROnPlateau", dict(factor=1.0), ValueError),
    ("ReduceLROnPlateau", dict(mode="lowest"), ValueError),
    ("ReduceLROnPlateau", dict(threshold_mode="relative"), ValueError),
    ("ReduceLROnPlateau", dict(min_lr=[0.0, 0.1]), ValueError),
]


@pytest.mark.parametrize("name,kwargs,error", INVALID, ids=[f"{n}{k}" for n, k, _ in INVALID])
def test_invalid_arguments_are_refused_like_torch(name, kwargs, error):
    mine_opt, their_opt = optimizers(0.1, momentum=0.9)
    with pytest.raises(error) as theirs:
        getattr(torch.optim.lr_scheduler, name)(their_opt, **kwargs)
    with pytest.raises(error, match=str(theirs.value)[:25].replace("(", r"\(").replace("[", r"\[")):
        getattr(ours, name)(mine_opt, **kwargs)


@pytest.mark.parametrize("name", ["CyclicLR", "OneCycleLR"])
def test_cycling_momentum_needs_momentum_or_betas(name):
    class LearningRateOnly:
        param_groups = [{"params": [np.zeros(1)], "lr": 0.1}]
    kwargs = dict(CyclicLR=dict(base_lr=0.01, max_lr=0.1), OneCycleLR=dict(max_lr=0.1, total_steps=10))[name]
    with pytest.raises(ValueError, match="momentum or beta1"):
        getattr(ours, name)(LearningRateOnly(), **kwargs)
    getattr(ours, name)(LearningRateOnly(), cycle_momentum=False, **kwargs)


def test_not_an_optimizer_is_refused():
    with pytest.raises(TypeError, match="is not an Optimizer"):
        ours.StepLR([np.zeros(1)], step_size=3)


def test_sequential_checks_like_torch():
    optimizer, other = SGD([np.zeros(1)], lr=0.1), SGD([np.zeros(1)], lr=0.1)
    with pytest.raises(ValueError, match="at least one scheduler"):
        ours.SequentialLR(optimizer, [], milestones=[])
    with pytest.raises(ValueError, match="one more than the number of milestone"):
        ours.SequentialLR(optimizer, [ours.ExponentialLR(optimizer, 0.9)], milestones=[3])
    with pytest.raises(ValueError, match="same optimizer"):
        ours.SequentialLR(optimizer, [ours.ExponentialLR(optimizer, 0.9), ours.StepLR(other, 2)], milestones=[3])
    with pytest.raises(ValueError, match="ReduceLROnPlateau"):
        ours.SequentialLR(optimizer, [ours.ExponentialLR(optimizer, 0.9), ours.ReduceLROnPlateau(optimizer)],
                          milestones=[3])


def test_the_optimizer_lr_property_sees_the_schedule():
    optimizer = SGD([np.zeros(1)], lr=0.1)
    scheduler = ours.StepLR(optimizer, step_size=2, gamma=0.5)
    seen = []
    for _ in range(5):
        seen.append(optimizer.lr)
        optimizer.step([np.ones(1)])
        scheduler.step()
    assert seen == [0.1, 0.1, 0.05, 0.05, 0.025]
