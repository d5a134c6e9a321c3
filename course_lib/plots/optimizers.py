"""Assignment 03: optimizers on 2-D surfaces (`course_lib.optim.surfaces`) and on MNIST."""
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import LogNorm

from ._axes import _axes, _moving_average

# f - f_min of exactly 0 (an iterate right on the minimum) has no place on a log axis
VALUE_FLOOR = 1e-16


def _trajectory_label(surface, label, path):
    if surface.diverged(path[-1]):
        return f"{label} (diverged at step {len(path) - 1})"
    return label


def _finite_rows(path):
    path = np.asarray(path, dtype=np.float64)
    return path[np.isfinite(path).all(axis=1)]


def _contour_levels(heights, levels):
    """`levels` log-spaced heights above the minimum, from 1e-5 of the window's highest up:
    equally spaced ones would all crowd the walls and leave a flat valley blank."""
    if np.ndim(levels):
        return np.asarray(levels, dtype=np.float64)
    highest = float(np.max(heights))
    return np.geomspace(highest * 1e-5, highest, int(levels))


def plot_trajectories(surface, trajectories, *, ax=None, title=None, levels=20):
    """Optimizer paths on the contour map of `surface` (a `course_lib.optim.surfaces.Surface`).

    `trajectories` maps a label to the iterates [k, 2] of one run (as `trajectory` returns
    them): each is drawn as a line with a small dot per step; a run that diverged says at
    which step in its legend entry and leaves the window. The contours are `levels`
    log-spaced heights above the minimum (or the given heights); the minimum is a star.
    """
    ax = _axes(ax, (6.5, 5))
    x = np.linspace(*surface.x_range, 200)
    y = np.linspace(*surface.y_range, 200)
    grid_x, grid_y = np.meshgrid(x, y)
    heights = surface(np.stack([grid_x, grid_y], axis=-1)) - surface.minimum_value
    heights = np.maximum(heights, VALUE_FLOOR)
    contour_heights = _contour_levels(heights, levels)
    # grey from dark (the valley floor) to light (the walls): the lowest 70 % of the
    # colour map on a log scale, so that no contour is white
    low, high = contour_heights.min(), contour_heights.max()
    ax.contour(grid_x, grid_y, heights, levels=contour_heights, cmap="Greys_r", linewidths=0.6,
               norm=LogNorm(low, low * (high / low) ** (1 / 0.7)))
    ax.plot(*surface.minimum, "*", color="black", ms=13, label="minimum", zorder=4)
    for label, path in trajectories.items():
        path = np.asarray(path, dtype=np.float64)
        shown = _finite_rows(path)
        ax.plot(shown[:, 0], shown[:, 1], "o-", ms=2.5, lw=1.2, zorder=3,
                label=_trajectory_label(surface, label, path))
    ax.set_xlim(surface.x_range)
    ax.set_ylim(surface.y_range)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title(surface.name if title is None else title)
    ax.legend(loc="upper right", fontsize=8)
    return ax


def plot_values_along_trajectories(surface, trajectories, *, ax=None):
    """f(x_t) − f(x*) against the step t for each run of `trajectories` (as in
    `plot_trajectories`), on a log y-axis where linear convergence is a straight line."""
    ax = _axes(ax, (6, 4))
    for label, path in trajectories.items():
        path = np.asarray(path, dtype=np.float64)
        with np.errstate(over="ignore", invalid="ignore"):
            gaps = surface(path) - surface.minimum_value
        finite = np.isfinite(gaps)
        ax.plot(np.arange(len(path))[finite], np.maximum(gaps[finite], VALUE_FLOOR), lw=1.5,
                label=_trajectory_label(surface, label, path))
    ax.set_yscale("log")
    ax.set_xlabel("step t")
    ax.set_ylabel("f(x_t) − f(x*)")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    return ax


def plot_optimizer_comparison(histories, *, test_accuracy=None, smooth=50):
    """Training runs of several optimizers side by side, one colour each: training loss per
    iteration (moving average over `smooth` steps, log y), validation loss and validation
    accuracy per epoch. `histories` maps a label to a `TrainingHistory`
    (`course_lib.scratch.mlp`); `test_accuracy` ({label: fraction}) adds each run's test
    accuracy to the legend. Returns the Figure (axes: loss per iteration, validation loss,
    validation accuracy)."""
    fig, (iterations, losses, accuracies) = plt.subplots(1, 3, figsize=(15, 4.2),
                                                         layout="constrained")
    for label, history in histories.items():
        if test_accuracy is not None and label in test_accuracy:
            label = f"{label} (test {100 * test_accuracy[label]:.2f} %)"
        steps, values = _moving_average(history.iteration_loss, smooth)
        iterations.plot(steps, values, lw=1.2, label=label)
        epochs = np.arange(1, len(history.val_loss) + 1)
        losses.plot(epochs, history.val_loss, "o-", ms=3, label=label)
        accuracies.plot(np.arange(1, len(history.val_accuracy) + 1),
                        100 * np.asarray(history.val_accuracy, dtype=float), "o-", ms=3, label=label)
    iterations.set_yscale("log")
    iterations.set_xlabel("iteration (optimizer step)")
    iterations.set_ylabel("training loss" + (f" (moving average over {smooth} steps)" if smooth > 1 else ""))
    losses.set_yscale("log")
    losses.set_ylabel("validation loss")
    accuracies.set_ylabel("validation accuracy (%)")
    for ax in (losses, accuracies):
        ax.set_xlabel("epoch")
        ax.xaxis.get_major_locator().set_params(integer=True)
    for ax in (iterations, losses, accuracies):
        ax.grid(True, which="major", alpha=0.3)
    iterations.legend(loc="best", fontsize=8)
    return fig


def _best(values, higher_is_better):
    finite = np.where(np.isfinite(values), values, -np.inf if higher_is_better else np.inf)
    return int(np.argmax(finite) if higher_is_better else np.argmin(finite))


def plot_lr_sensitivity(lrs, final_metric_by_optimizer, *, metric_name, higher_is_better=None,
                        ax=None):
    """A learning-rate sweep: the final `metric_name` of each optimizer ({label: [value per
    rate]}) against the rate `lrs` on a log x-axis, the best rate of each marked with a
    star. A run that diverged (nan or inf) is a cross at the top of the panel. Higher is
    better if `higher_is_better`, by default when `metric_name` mentions accuracy."""
    if higher_is_better is None:
        higher_is_better = "accuracy" in metric_name.lower()
    lrs = np.asarray(lrs, dtype=np.float64)
    ax = _axes(ax, (7, 4.2))
    top = ax.get_xaxis_transform()  # x in data, y in axes coordinates
    any_diverged = False
    for label, values in final_metric_by_optimizer.items():
        values = np.asarray(values, dtype=np.float64)
        finite = np.isfinite(values)
        line, = ax.plot(lrs, np.where(finite, values, np.nan), "o-", ms=4, label=label)
        if finite.any():
            best = _best(values, higher_is_better)
            ax.plot([lrs[best]], [values[best]], "*", color=line.get_color(), ms=15,
                    markeredgecolor="black", label=f"_best {label}")
        if not finite.all():
            any_diverged = True
            ax.plot(lrs[~finite], np.full((~finite).sum(), 0.96), "x", color=line.get_color(),
                    ms=10, mew=2.5, transform=top, label=f"_diverged {label}")
    ax.plot([], [], "*", color="gray", markeredgecolor="black", ms=12, label="best rate")
    if any_diverged:
        ax.plot([], [], "x", color="gray", ms=8, mew=2, label="diverged (nan/inf)")
    ax.set_xscale("log")
    ax.set_xlabel("learning rate")
    ax.set_ylabel(metric_name)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    return ax
