"""Hyperparameter search, done honestly: every configuration is judged on the validation
split, never on the test set, which measures the one configuration chosen, once, at the end.

The three searches share one `objective(params, callbacks=())`: it trains a model with the
hyperparameters in the dict `params` on the training split and returns what the search
maximises, the validation accuracy (any number where higher is better), passing
`callbacks` on to `fit(..., callbacks=callbacks)`. Grid and random search call it as
`objective(params)`; Optuna's search adds its pruning callback. Every search returns one
`SearchTrial` per configuration tried, in the order tried, with the wall seconds it took
(the first trial of a session also pays one-time costs — lazy imports, the first
DataLoader —: call the objective once before timing a search).

- `grid_search(objective, grid)`: every combination of the values in `grid`
  ({"epochs": [1, 2], "batch_size": [32, 128]}), in `grid_configurations` order.
- `random_search(objective, space, n_trials, seed)`: `n_trials` configurations drawn from
  `space`, {name: sampler}, with the samplers `log_uniform(low, high)`, `uniform(low,
  high)` and `choice(options)`. Give it the grid's budget, n_trials =
  len(grid_configurations(grid)), to compare the two fairly.
- `optuna_search(objective, space, n_trials, seed)`: Optuna's TPE sampler, seeded,
  proposes each configuration from the results so far; a `MedianPruner` stops a trial
  whose validation accuracy after an epoch is below the median of the completed trials'
  at that epoch (`OptunaPruning`, the `fit` callback that reports to the trial).
  `trials_from_study` reads any Optuna study (one written by hand) as `SearchTrial`s.
- `repeat_over_seeds(objective, params, seeds)`: one configuration trained once per seed,
  `mean_and_sd` of what it scored: how much of a difference between configurations is the
  seed's doing.
- `best_trial`, `best_so_far` (the best validation accuracy after each trial, what a
  search had found by then) and `search_table`, the trials as a Markdown table.
"""
import itertools
import math
import numbers
import time
from dataclasses import dataclass, field

import numpy as np
import optuna

from ..errors import CourseError
from .callbacks import Callback, monitored_value
from .summary import MISSING, _percent

STATES = ("complete", "pruned", "failed")
_OPTUNA_STATES = {optuna.trial.TrialState.COMPLETE: "complete", optuna.trial.TrialState.PRUNED: "pruned",
                  optuna.trial.TrialState.FAIL: "failed"}
MIN_SEEDS = 3  # with two, the standard deviation rests on a single difference


@dataclass
class SearchTrial:
    """One configuration a search tried.

    `number` counts from 0 in the order tried (Optuna's numbering); `params` the
    hyperparameters the objective got; `value` what it returned (None for a trial that did
    not complete); `seconds` the trial's wall time; `state` "complete", "pruned" (stopped by
    Optuna's pruner) or "failed"; `intermediate` {epoch: value} what an Optuna trial reported
    after each epoch (empty for grid and random search).
    """
    number: int
    params: dict
    value: float | None
    seconds: float
    state: str = "complete"
    intermediate: dict = field(default_factory=dict)


# ------------------------------------------------------------------------------ samplers

@dataclass(frozen=True)
class LogUniform:
    """A number whose logarithm is uniform between log(low) and log(high): each factor of 10
    in the range is drawn as often — the distribution for a learning rate or weight decay."""
    low: float
    high: float

    def sample(self, rng):
        return float(np.exp(rng.uniform(math.log(self.low), math.log(self.high))))

    def suggest(self, trial, name):
        return trial.suggest_float(name, self.low, self.high, log=True)


@dataclass(frozen=True)
class Uniform:
    """A number drawn uniformly between low and high."""
    low: float
    high: float

    def sample(self, rng):
        return float(rng.uniform(self.low, self.high))

    def suggest(self, trial, name):
        return trial.suggest_float(name, self.low, self.high)


@dataclass(frozen=True)
class Choice:
    """One of `options`, each equally likely."""
    options: tuple

    def sample(self, rng):
        return self.options[int(rng.integers(len(self.options)))]

    def suggest(self, trial, name):
        return trial.suggest_categorical(name, self.options)


def _check_range(kind, low, high):
    for bound in (low, high):
        if isinstance(bound, bool) or not isinstance(bound, numbers.Real) or not math.isfinite(bound):
            raise CourseError(f"{kind}(low, high) takes two finite numbers, got low={low!r}, high={high!r}")
    if not low < high:
        raise CourseError(f"{kind}(low, high) needs low < high, got low={low!r}, high={high!r}")


def log_uniform(low, high):
    """A sampler of numbers between `low` and `high` (both > 0) whose logarithm is uniform."""
    _check_range("log_uniform", low, high)
    if not low > 0:
        raise CourseError(f"log_uniform draws on a log scale, which needs low > 0; got low={low!r}")
    return LogUniform(float(low), float(high))


def uniform(low, high):
    """A sampler of numbers drawn uniformly between `low` and `high`."""
    _check_range("uniform", low, high)
    return Uniform(float(low), float(high))


def choice(options):
    """A sampler of one of `options` (a list: [32, 64, 128]), each equally likely."""
    if isinstance(options, (str, bytes)) or not hasattr(options, "__iter__"):
        raise CourseError(f"choice takes a list of options, e.g. choice([32, 64, 128]); got {options!r}")
    options = tuple(options)
    if not options:
        raise CourseError("choice needs at least one option")
    return Choice(options)


def _check_space(space):
    if not isinstance(space, dict) or not space:
        raise CourseError("the search space is a dict {name: sampler}, e.g. {\"lr\": log_uniform(1e-4, 1e-1), "
                          f"\"batch_size\": choice([32, 128])}}; got {space!r}")
    for name, sampler in space.items():
        if not isinstance(sampler, (LogUniform, Uniform, Choice)):
            raise CourseError(f"space[{name!r}] is {sampler!r}, not a sampler: use log_uniform(low, high), "
                              "uniform(low, high) or choice(options) (a fixed value: choice([value]))")


def _check_trial_count(n_trials):
    if isinstance(n_trials, bool) or not isinstance(n_trials, numbers.Integral) or n_trials < 1:
        raise CourseError(f"n_trials is the number of configurations to try, a whole number >= 1; got {n_trials!r}")


# ------------------------------------------------------------------------------ searches

def _value(params, value):
    """The objective's result as a float, or an error saying what it returned instead."""
    if isinstance(value, bool) or value is None:
        raise CourseError(f"the objective returned {value!r} for {params}: it must return the validation "
                          "accuracy (a number; did it end without a `return`?)")
    try:
        return float(value)
    except (TypeError, ValueError, RuntimeError) as error:
        raise CourseError(f"the objective returned {value!r} for {params}: it must return one number, the "
                          "validation accuracy (a tensor: .item())") from error


def _run(objective, number, params):
    start = time.perf_counter()
    value = objective(dict(params))  # a copy: what the objective does to it stays out of the record
    seconds = time.perf_counter() - start
    return SearchTrial(number, params, _value(params, value), seconds)


def grid_configurations(grid):
    """Every combination of `grid`'s values ({name: [values]}), as a list of dicts in
    `itertools.product` order: the last name varies fastest."""
    if not isinstance(grid, dict) or not grid:
        raise CourseError(f"the grid is a dict {{name: [values]}}, e.g. {{\"epochs\": [1, 2], "
                          f"\"batch_size\": [32, 128]}}; got {grid!r}")
    for name, values in grid.items():
        if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
            raise CourseError(f"grid[{name!r}] must be a list of values to try, got {values!r} "
                              f"(one value: [{values!r}])")
    names, value_lists = list(grid), [list(values) for values in grid.values()]
    empty = [name for name, values in zip(names, value_lists) if not values]
    if empty:
        raise CourseError(f"grid[{empty[0]!r}] holds no value, so the grid has no configuration")
    return [dict(zip(names, combination)) for combination in itertools.product(*value_lists)]


def grid_search(objective, grid):
    """`objective(params)` for every configuration of `grid` (see `grid_configurations`),
    one `SearchTrial` each, with its validation accuracy and wall seconds."""
    return [_run(objective, number, params) for number, params in enumerate(grid_configurations(grid))]


def random_search(objective, space, n_trials, seed):
    """`objective(params)` for `n_trials` configurations drawn from `space` ({name: sampler}).

    The draws come from numpy's `np.random.default_rng(seed)` (`seed` an int, or a
    `np.random.Generator` to draw from), trial after trial, each trial's parameters in the
    space's order, all before the trial runs: the same seed gives the same configurations
    whatever the objective does. The objective's own randomness (weights, shuffling) is
    its own to seed, e.g. with `torch.manual_seed`.
    """
    _check_space(space)
    _check_trial_count(n_trials)
    rng = np.random.default_rng(seed)
    trials = []
    for number in range(n_trials):
        params = {name: sampler.sample(rng) for name, sampler in space.items()}
        trials.append(_run(objective, number, params))
    return trials


class OptunaPruning(Callback):
    """A `fit` callback that reports `monitor` to an Optuna `trial` at every epoch's end
    (step = the epoch, from 1) and raises `optuna.TrialPruned` when the study's pruner says
    the trial is not worth finishing. The exception leaves `fit` at once; Optuna's
    `study.optimize` records the trial as pruned and goes on with the next."""

    def __init__(self, trial, monitor="val_accuracy"):
        self.trial, self.monitor = trial, monitor

    def on_epoch_end(self, epoch, logs):
        value = monitored_value(logs, self.monitor, "OptunaPruning")
        self.trial.report(value, step=epoch)
        if self.trial.should_prune():
            raise optuna.TrialPruned(f"trial {self.trial.number} pruned after epoch {epoch}: "
                                     f"{self.monitor} = {value:.4f}")


def trials_from_study(study):
    """An Optuna study's finished trials as `SearchTrial`s, in order (seconds from Optuna's
    start and end times); trials still running are left out."""
    complete = optuna.trial.TrialState.COMPLETE
    # Optuna gives a pruned trial its last reported value; here only a completed trial has one
    return [SearchTrial(trial.number, dict(trial.params), trial.value if trial.state == complete else None,
                        trial.duration.total_seconds(), _OPTUNA_STATES[trial.state], dict(trial.intermediate_values))
            for trial in study.trials if trial.state in _OPTUNA_STATES]


def optuna_search(objective, space, n_trials, seed, *, startup_trials=4, monitor="val_accuracy", pruner=None):
    """`n_trials` configurations from `space` ({name: sampler}) proposed by Optuna's TPE
    sampler, seeded with `seed` (an int), each trained by
    `objective(params, callbacks=[OptunaPruning(trial, monitor)])`.

    The first `startup_trials` configurations are drawn at random and run to the end (Optuna's
    default, 10, would be most of a small budget); after that TPE proposes each from the
    results so far, and the pruner — by default `MedianPruner(n_startup_trials=startup_trials)` —
    stops a trial after any epoch at which its `monitor` is below the median of the completed
    trials' at the same epoch. Pass `pruner=optuna.pruners.NopPruner()` to prune nothing.
    With a deterministic objective the same seed proposes the same configurations. Optuna's
    log lines are silenced while the study runs.
    """
    _check_space(space)
    _check_trial_count(n_trials)
    if pruner is None:
        pruner = optuna.pruners.MedianPruner(n_startup_trials=startup_trials)
    tpe = optuna.samplers.TPESampler(seed=seed, n_startup_trials=startup_trials)

    def run(trial):
        params = {name: sampler.suggest(trial, name) for name, sampler in space.items()}
        return _value(params, objective(params, callbacks=[OptunaPruning(trial, monitor)]))

    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        study = optuna.create_study(direction="maximize", sampler=tpe, pruner=pruner)
        study.optimize(run, n_trials=n_trials)
    finally:
        optuna.logging.set_verbosity(verbosity)
    return trials_from_study(study)


def repeat_over_seeds(objective, params, seeds=(0, 1, 2)):
    """`objective({**params, "seed": seed})` for each of `seeds` (at least 3): the objective
    seeds its random draws (weights, shuffling) with params["seed"]. One `SearchTrial` per
    seed; `mean_and_sd` of their values says how far one configuration's accuracy moves
    with the seed alone."""
    if "seed" in params:
        raise CourseError(f"params already holds a seed ({params['seed']!r}); repeat_over_seeds adds one per run")
    seeds = list(seeds)
    if len(seeds) < MIN_SEEDS:
        raise CourseError(f"repeat a configuration over at least {MIN_SEEDS} seeds to estimate its spread; "
                          f"got {seeds}")
    return grid_search(objective, {**{name: [value] for name, value in params.items()}, "seed": seeds})


# ------------------------------------------------------------------------------ results

def mean_and_sd(values):
    """The mean and the sample standard deviation (ddof=1) of `values`, as two floats."""
    values = np.asarray(values, dtype=float)
    if len(values) < 2:
        raise CourseError(f"a standard deviation needs at least two values, got {len(values)}")
    return float(values.mean()), float(values.std(ddof=1))


def _completed(trials):
    return [trial for trial in trials
            if trial.state == "complete" and trial.value is not None and not math.isnan(trial.value)]


def best_trial(trials):
    """The completed trial with the highest value (the first of equals)."""
    completed = _completed(trials)
    if not completed:
        raise CourseError("no trial completed with a value: there is no best configuration yet")
    return max(completed, key=lambda trial: trial.value)


def best_so_far(trials):
    """After each trial, the best value of the completed trials up to it: what the search
    had found by then (nan before the first completed trial)."""
    best, curve = -math.inf, []
    completed = {id(trial) for trial in _completed(trials)}
    for trial in trials:
        if id(trial) in completed:
            best = max(best, trial.value)
        curve.append(best if best > -math.inf else math.nan)
    return curve


def _cell(value):
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value).replace("|", r"\|")  # a bar would end the cell


def search_table(trials, *, sort=True):
    """The trials as a Markdown table: trial number, each parameter, validation accuracy
    (percent, 2 decimals; "–" for a trial that did not complete), wall seconds, and the
    state when any trial was pruned or failed. Sorted best first (`sort=False`: in the order
    tried). Show it with `IPython.display.Markdown(search_table(trials))`."""
    if not trials:
        raise CourseError("search_table needs at least one trial")
    names = list(dict.fromkeys(name for trial in trials for name in trial.params))
    with_state = any(trial.state != "complete" for trial in trials)
    if sort:
        completed = {id(trial) for trial in _completed(trials)}
        trials = sorted(trials, key=lambda trial: trial.value if id(trial) in completed else -math.inf,
                        reverse=True)
    columns = ["trial", *names, "val acc", "seconds"] + (["state"] if with_state else [])
    alignments = ["---:"] * (len(columns) - with_state) + [":---"] * with_state
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join(alignments) + "|"]
    for trial in trials:
        cells = [str(trial.number), *(_cell(trial.params[name]) if name in trial.params else MISSING
                                      for name in names),
                 _percent(trial.value if trial.state == "complete" else None), f"{trial.seconds:.1f}"]
        lines.append("| " + " | ".join(cells + ([trial.state] if with_state else [])) + " |")
    return "\n".join(lines)
