import math

import numpy as np
import optuna
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from course_lib.errors import CourseError
from course_lib.training.fit import fit
from course_lib.training.search import (
    OptunaPruning, SearchTrial, best_so_far, best_trial, choice, grid_configurations, grid_search, log_uniform,
    mean_and_sd, optuna_search, random_search, repeat_over_seeds, search_table, trials_from_study, uniform,
)


class CountingObjective:
    """A cheap, deterministic stand-in for training: the 'validation accuracy' peaks at
    lr = 1e-2 and batch_size = 64, and grows with the epochs; every call is recorded.
    With callbacks (Optuna's), it reports a learning curve epoch by epoch as fit would."""

    def __init__(self):
        self.calls = []

    def accuracy(self, params, epoch=None):
        epochs = params.get("epochs", 3) if epoch is None else epoch
        lr_term = (math.log10(params.get("lr", 1e-2)) + 2) ** 2
        batch_term = (math.log2(params.get("batch_size", 64)) - 6) ** 2
        return 0.99 - 0.05 * lr_term - 0.01 * batch_term - 0.1 / epochs + 0.001 * params.get("seed", 0)

    def __call__(self, params, callbacks=()):
        self.calls.append(dict(params))
        for epoch in range(1, params.get("epochs", 3) + 1):
            for callback in callbacks:
                callback.on_epoch_end(epoch, {"epoch": epoch, "val_accuracy": self.accuracy(params, epoch)})
        return self.accuracy(params)


GRID = {"epochs": [1, 2, 3], "batch_size": [32, 64, 128, 256]}


def test_grid_search_runs_every_configuration_once_in_product_order():
    objective = CountingObjective()
    trials = grid_search(objective, GRID)

    assert objective.calls == grid_configurations(GRID)
    assert len(trials) == 12
    assert objective.calls[:5] == [{"epochs": 1, "batch_size": 32}, {"epochs": 1, "batch_size": 64},
                                   {"epochs": 1, "batch_size": 128}, {"epochs": 1, "batch_size": 256},
                                   {"epochs": 2, "batch_size": 32}]
    assert [trial.number for trial in trials] == list(range(12))
    assert [trial.value for trial in trials] == [objective.accuracy(params) for params in objective.calls]
    assert all(trial.state == "complete" and trial.seconds >= 0 and trial.intermediate == {} for trial in trials)
    assert best_trial(trials).params == {"epochs": 3, "batch_size": 64}


def test_random_search_keeps_to_its_budget_and_its_seed():
    space = {"lr": log_uniform(1e-4, 1.0), "batch_size": choice([32, 64, 128]), "momentum": uniform(0.5, 0.99)}
    objective = CountingObjective()
    trials = random_search(objective, space, n_trials=7, seed=3)

    assert len(objective.calls) == len(trials) == 7
    assert [trial.params for trial in trials] == objective.calls
    for params in objective.calls:
        assert list(params) == ["lr", "batch_size", "momentum"]
        assert 1e-4 <= params["lr"] <= 1.0 and params["batch_size"] in (32, 64, 128)
        assert 0.5 <= params["momentum"] <= 0.99
    again = random_search(CountingObjective(), space, n_trials=7, seed=3)
    assert [trial.params for trial in again] == [trial.params for trial in trials]
    other = random_search(CountingObjective(), space, n_trials=7, seed=4)
    assert [trial.params for trial in other] != [trial.params for trial in trials]
    # a Generator draws as default_rng(seed) does
    generated = random_search(CountingObjective(), space, n_trials=7, seed=np.random.default_rng(3))
    assert [trial.params for trial in generated] == [trial.params for trial in trials]


def draws(sampler, count, seed):
    rng = np.random.default_rng(seed)
    return np.array([sampler.sample(rng) for _ in range(count)])


def binomial_band(count, p, z=4):
    """The fraction of `count` draws with probability `p` stays within this of p (z sd)."""
    return z * math.sqrt(p * (1 - p) / count)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_log_uniform_draws_every_decade_equally_often(seed):
    values = draws(log_uniform(1e-4, 1e-1), 4000, seed)
    assert values.min() >= 1e-4 and values.max() <= 1e-1
    decades = np.floor(np.log10(values)).astype(int)
    fractions = np.bincount(decades + 4, minlength=3)[:3] / len(values)
    assert np.abs(fractions - 1 / 3).max() < binomial_band(len(values), 1 / 3)
    # a uniform draw on [1e-4, 1e-1] would put 90 % in the top decade
    assert np.mean(values < 1e-2) > 0.6


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_uniform_and_choice_draw_evenly(seed):
    values = draws(uniform(-1.0, 3.0), 4000, seed)
    assert values.min() >= -1.0 and values.max() < 3.0
    quarters = np.bincount(np.floor(values + 1).astype(int), minlength=4) / len(values)
    assert np.abs(quarters - 0.25).max() < binomial_band(len(values), 0.25)

    picks = draws(choice([32, 64, 128]), 3000, seed)
    assert set(picks.tolist()) == {32, 64, 128}
    shares = np.array([np.mean(picks == option) for option in (32, 64, 128)])
    assert np.abs(shares - 1 / 3).max() < binomial_band(len(picks), 1 / 3)


def test_bad_spaces_and_grids_are_explained():
    with pytest.raises(CourseError, match="needs low > 0"):
        log_uniform(0.0, 1.0)
    with pytest.raises(CourseError, match="needs low < high"):
        uniform(2.0, 1.0)
    with pytest.raises(CourseError, match="list of options"):
        choice("adam")
    with pytest.raises(CourseError, match=r"space\['lr'\] is 0.1, not a sampler"):
        random_search(CountingObjective(), {"lr": 0.1}, n_trials=2, seed=0)
    with pytest.raises(CourseError, match="n_trials"):
        random_search(CountingObjective(), {"lr": uniform(0, 1)}, n_trials=0, seed=0)
    with pytest.raises(CourseError, match=r"grid\['epochs'\] must be a list.*\[3\]"):
        grid_search(CountingObjective(), {"epochs": 3})
    with pytest.raises(CourseError, match="holds no value"):
        grid_search(CountingObjective(), {"epochs": []})
    with pytest.raises(CourseError, match="did it end without a `return`"):
        grid_search(lambda params: None, {"epochs": [1]})


def test_repeat_over_seeds_hands_each_seed_to_the_objective():
    objective = CountingObjective()
    trials = repeat_over_seeds(objective, {"lr": 1e-2, "batch_size": 64}, seeds=[0, 1, 2, 3])

    assert objective.calls == [{"lr": 1e-2, "batch_size": 64, "seed": seed} for seed in range(4)]
    mean, sd = mean_and_sd([trial.value for trial in trials])
    values = [objective.accuracy(params) for params in objective.calls]
    assert mean == pytest.approx(np.mean(values)) and sd == pytest.approx(np.std(values, ddof=1))
    with pytest.raises(CourseError, match="at least 3 seeds"):
        repeat_over_seeds(objective, {"lr": 1e-2}, seeds=[0, 1])
    with pytest.raises(CourseError, match="already holds a seed"):
        repeat_over_seeds(objective, {"seed": 1})


def test_best_so_far_skips_trials_without_a_value():
    trials = [SearchTrial(0, {}, None, 1.0, "pruned"), SearchTrial(1, {}, 0.5, 1.0),
              SearchTrial(2, {}, 0.4, 1.0), SearchTrial(3, {}, None, 0.3, "pruned"), SearchTrial(4, {}, 0.7, 1.0),
              SearchTrial(5, {}, math.nan, 1.0)]
    curve = best_so_far(trials)
    assert math.isnan(curve[0]) and curve[1:] == [0.5, 0.5, 0.5, 0.7, 0.7]
    assert best_trial(trials).number == 4
    with pytest.raises(CourseError, match="no trial completed"):
        best_trial(trials[:1])


def test_search_table_lists_the_trials_best_first():
    trials = [SearchTrial(0, {"lr": 0.001, "optimizer": "sgd"}, 0.9, 2.04),
              SearchTrial(1, {"lr": 0.1, "optimizer": "a|b"}, 0.95, 3.0),
              SearchTrial(2, {"lr": 0.5, "optimizer": "sgd"}, None, 0.5, "pruned")]
    assert search_table(trials).splitlines() == [
        "| trial | lr | optimizer | val acc | seconds | state |",
        "|---:|---:|---:|---:|---:|:---|",
        r"| 1 | 0.1 | a\|b | 95.00 % | 3.0 | complete |",
        "| 0 | 0.001 | sgd | 90.00 % | 2.0 | complete |",
        "| 2 | 0.5 | sgd | – | 0.5 | pruned |",
    ]
    assert search_table(trials[:1], sort=False).splitlines()[0] == "| trial | lr | optimizer | val acc | seconds |"


# ------------------------------------------------------------------------------ Optuna

SPACE = {"lr": log_uniform(1e-4, 1.0), "batch_size": choice([16, 32, 64, 128, 256]), "epochs": choice([4])}


def test_optuna_search_prunes_and_is_reproducible_with_its_seed():
    objective = CountingObjective()
    trials = optuna_search(objective, SPACE, n_trials=16, seed=0, startup_trials=4)

    assert len(objective.calls) == len(trials) == 16
    assert [trial.params for trial in trials] == objective.calls
    states = [trial.state for trial in trials]
    assert states[:4] == ["complete"] * 4  # no pruning before the startup trials have completed
    pruned = [trial for trial in trials if trial.state == "pruned"]
    assert pruned, states
    for trial in pruned:
        assert trial.value is None
        assert len(trial.intermediate) < 4  # stopped before its last epoch
        assert trial.intermediate == {epoch: objective.accuracy(trial.params, epoch) for epoch in trial.intermediate}
    for trial in trials:
        if trial.state == "complete":
            assert trial.value == objective.accuracy(trial.params)
            assert list(trial.intermediate) == [1, 2, 3, 4]
    again = optuna_search(CountingObjective(), SPACE, n_trials=16, seed=0, startup_trials=4)
    assert [(trial.params, trial.state) for trial in again] == [(trial.params, trial.state) for trial in trials]
    other = optuna_search(CountingObjective(), SPACE, n_trials=16, seed=1, startup_trials=4)
    assert [trial.params for trial in other] != [trial.params for trial in trials]


def test_optuna_search_without_pruning_completes_every_trial():
    trials = optuna_search(CountingObjective(), SPACE, n_trials=8, seed=0, pruner=optuna.pruners.NopPruner())
    assert [trial.state for trial in trials] == ["complete"] * 8


def test_tpe_after_its_startup_trials_searches_near_the_best():
    """Past the random start, TPE proposes learning rates closer to the best (1e-2) than
    random draws from the same space do, on average (seeded, so fixed)."""
    distance = lambda trials: np.mean([abs(math.log10(trial.params["lr"]) + 2) for trial in trials[8:]])  # noqa: E731
    tpe = optuna_search(CountingObjective(), SPACE, n_trials=24, seed=0, startup_trials=8,
                        pruner=optuna.pruners.NopPruner())
    drawn = random_search(CountingObjective(), SPACE, n_trials=24, seed=0)
    assert distance(tpe) < distance(drawn)


def tiny_problem(seed):
    generator = torch.Generator().manual_seed(seed)
    inputs = torch.randn(64, 2, generator=generator)
    targets = (inputs[:, 0] + 0.5 * inputs[:, 1] > 0).long()
    return (DataLoader(TensorDataset(inputs[:48], targets[:48]), batch_size=16),
            DataLoader(TensorDataset(inputs[48:], targets[48:]), batch_size=16))


def train_tiny(params, callbacks=()):
    """A real objective: a linear classifier trained by fit; lr decides how far it gets."""
    torch.manual_seed(0)
    train_loader, val_loader = tiny_problem(0)
    model = torch.nn.Linear(2, 2)
    history = fit(model, train_loader, loss_fn=torch.nn.CrossEntropyLoss(), epochs=3, val_loader=val_loader,
                  optimizer=torch.optim.SGD(model.parameters(), lr=params["lr"]), callbacks=callbacks,
                  progress=False)
    return history["val_accuracy"][-1]


def test_the_pruning_callback_stops_a_real_fit_run():
    study = optuna.create_study(direction="maximize", pruner=optuna.pruners.MedianPruner(n_startup_trials=2),
                                sampler=optuna.samplers.TPESampler(seed=0))
    study.enqueue_trial({"lr": 1.0})
    study.enqueue_trial({"lr": 0.5})
    study.enqueue_trial({"lr": 1e-5})  # hardly moves from its random start: below the median at epoch 1

    def objective(trial):
        lr = trial.suggest_float("lr", 1e-5, 1.0, log=True)
        return train_tiny({"lr": lr}, callbacks=[OptunaPruning(trial)])

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study.optimize(objective, n_trials=3)
    trials = trials_from_study(study)

    assert [trial.state for trial in trials] == ["complete", "complete", "pruned"]
    assert list(trials[2].intermediate) == [1]  # pruned at the end of its first epoch
    assert trials[2].intermediate[1] < min(trials[0].intermediate[1], trials[1].intermediate[1])
    assert trials[0].value == train_tiny({"lr": 1.0}) == trials[0].intermediate[3]


def test_the_pruning_callback_names_what_fit_logs():
    study = optuna.create_study(direction="maximize")
    trial = study.ask()
    with pytest.raises(CourseError, match="OptunaPruning monitors 'val_accuracy'.*val_loader"):
        OptunaPruning(trial).on_epoch_end(1, {"epoch": 1, "loss": 0.3})
