"""Assignment 06: hyperparameter searches — a 2-D grid's accuracy and cost as heat maps,
what grid, random and Optuna's search had found after each trial, and the learning curves
Optuna's pruner cut short. Every function takes the `SearchTrial`s a search in
`course_lib.training.search` returns."""
import math

import matplotlib.pyplot as plt
import numpy as np

from ..training.search import best_so_far
from ._axes import _axes

PRUNED_COLOR = "crimson"
COMPLETE_COLOR = "tab:blue"


def _grid_cells(trials, x, y):
    """The sorted values of x and of y, and per (y, x) cell the values and the seconds of its trials."""
    for name in (x, y):
        missing = [trial for trial in trials if name not in trial.params]
        if missing:
            raise ValueError(f"trial {missing[0].number} has no parameter {name!r}; its parameters are "
                             f"{sorted(missing[0].params)}")
    xs = sorted({trial.params[x] for trial in trials})
    ys = sorted({trial.params[y] for trial in trials})
    cells = {}
    for trial in trials:
        if trial.state == "complete":
            cell = cells.setdefault((ys.index(trial.params[y]), xs.index(trial.params[x])), ([], []))
            cell[0].append(trial.value)
            cell[1].append(trial.seconds)
    return xs, ys, cells


def _heatmap(ax, grid, xs, ys, x, y, *, cmap, label, best=None):
    shown = ax.imshow(grid, cmap=cmap, origin="lower", aspect="auto")
    ax.figure.colorbar(shown, ax=ax, shrink=0.9, label=label)
    for (row, column), value in np.ndenumerate(grid):
        if not math.isnan(value):
            red, green, blue, _ = shown.cmap(shown.norm(value))
            dark = 0.299 * red + 0.587 * green + 0.114 * blue < 0.5
            ax.text(column, row, f"{value:.1f}", ha="center", va="center", fontsize=9,
                    color="white" if dark else "black")
    if best is not None:
        ax.add_patch(plt.Rectangle((best[1] - 0.5, best[0] - 0.5), 1, 1, fill=False, lw=2.5, color="crimson"))
    ax.set_xticks(range(len(xs)), [str(value) for value in xs])
    ax.set_yticks(range(len(ys)), [str(value) for value in ys])
    ax.set_xlabel(x)
    ax.set_ylabel(y)


def plot_grid_heatmaps(trials, x, y):
    """A grid search over two parameters as two heat maps side by side: validation accuracy
    (%) and wall seconds per configuration, `x` across and `y` up, each cell labelled with
    its value; the best accuracy is outlined. A cell repeated (other parameters, seeds) shows
    the mean of its trials, and the titles say so. Returns the Figure."""
    xs, ys, cells = _grid_cells(trials, x, y)
    accuracy, seconds = np.full((2, len(ys), len(xs)), np.nan)
    for (row, column), (values, times) in cells.items():
        accuracy[row, column], seconds[row, column] = 100 * np.mean(values), np.mean(times)
    best = np.unravel_index(np.nanargmax(accuracy), accuracy.shape) if cells else None
    repeats = max((len(values) for values, _ in cells.values()), default=1)
    each = f" (mean of {repeats} runs per cell)" if repeats > 1 else ""
    fig, (accuracy_ax, seconds_ax) = plt.subplots(1, 2, figsize=(12, 4.4), layout="constrained")
    _heatmap(accuracy_ax, accuracy, xs, ys, x, y, cmap="viridis", label="validation accuracy (%)", best=best)
    _heatmap(seconds_ax, seconds, xs, ys, x, y, cmap="Greys", label="wall seconds")
    accuracy_ax.set_title("validation accuracy, the best outlined" + each)
    seconds_ax.set_title("what it cost: wall seconds" + each)
    return fig


def _last_reported(trial):
    return trial.intermediate[max(trial.intermediate)] if trial.intermediate else math.nan


def plot_search_progress(trials_by_method, *, x="trial", ax=None):
    """The best validation accuracy found so far, after each trial, one step line per search
    ({label: trials}, e.g. grid, random, Optuna), against the trials run (`x="trial"`) or
    the wall seconds spent (`x="seconds"`, where pruning pays off). Each trial's own value is
    a faint dot; a pruned trial an x at the last value it reported before it was stopped."""
    if x not in ("trial", "seconds"):
        raise ValueError(f'x must be "trial" or "seconds", got {x!r}')
    ax = _axes(ax, (8, 4.4))
    for label, trials in trials_by_method.items():
        positions = (np.arange(1, len(trials) + 1) if x == "trial"
                     else np.cumsum([trial.seconds for trial in trials]))
        line, = ax.step(positions, 100 * np.asarray(best_so_far(trials)), where="post", lw=2, label=label)
        complete = [index for index, trial in enumerate(trials) if trial.state == "complete"]
        pruned = [index for index, trial in enumerate(trials) if trial.state == "pruned"]
        ax.plot(positions[complete], [100 * trials[index].value for index in complete], "o", ms=4, alpha=0.35,
                color=line.get_color())
        if pruned:
            ax.plot(positions[pruned], [100 * _last_reported(trials[index]) for index in pruned], "x", ms=7, mew=2,
                    color=line.get_color(), label=f"{label}: pruned ({len(pruned)} of {len(trials)})")
    ax.set_xlabel("trials run" if x == "trial" else "wall seconds spent (cumulative)")
    ax.set_ylabel("best validation accuracy so far (%)")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    return ax


def plot_intermediate_values(trials, *, ylabel="validation accuracy (%)", ax=None):
    """Each Optuna trial's learning curve — the value it reported after every epoch, in
    percent — completed trials in blue, pruned ones in red and ending in an x where the
    pruner stopped them."""
    ax = _axes(ax, (8, 4.4))
    counts = {"complete": 0, "pruned": 0}
    for trial in trials:
        if not trial.intermediate or trial.state not in counts:
            continue
        epochs = sorted(trial.intermediate)
        values = [100 * trial.intermediate[epoch] for epoch in epochs]
        pruned = trial.state == "pruned"
        color = PRUNED_COLOR if pruned else COMPLETE_COLOR
        label = None if counts[trial.state] else ("pruned" if pruned else "completed")
        ax.plot(epochs, values, "-x" if pruned else "-", markevery=[len(epochs) - 1], ms=8, mew=2, lw=1.3,
                color=color, alpha=0.8, label=label)
        counts[trial.state] += 1
    if not any(counts.values()):
        raise ValueError("no trial reported a value per epoch: pass the trials of optuna_search (or "
                         "trials_from_study), whose objective ran fit with the OptunaPruning callback")
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.set_title(f"{counts['complete']} trials completed, {counts['pruned']} pruned")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    return ax
