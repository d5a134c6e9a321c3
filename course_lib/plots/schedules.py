"""Assignment 04: learning-rate schedules, the LR range test, and training runs under
different schedules."""
import matplotlib.pyplot as plt
import numpy as np

from ._axes import _axes, _moving_average


def _steps(lrs, iterations_per_epoch):
    """x positions of a rate per step: the step index, or in epochs if `iterations_per_epoch`."""
    steps = np.arange(len(lrs), dtype=np.float64)
    return steps / iterations_per_epoch if iterations_per_epoch else steps


def _schedule_axes(ax, xlabel, log):
    ax.set_xlabel(xlabel)
    ax.set_ylabel("learning rate")
    if log:
        ax.set_yscale("log")
    ax.grid(True, which="major", alpha=0.3)


def plot_lr_schedules(schedules, *, ax=None, xlabel="epoch", iterations_per_epoch=None, log=False,
                      title=None):
    """Several schedules overlaid, one line each: `schedules` maps a label to its learning
    rate at each step (an epoch, or an iteration: then pass `iterations_per_epoch` to read
    the x-axis in epochs). `log` puts the rate on a log scale."""
    ax = _axes(ax, (7, 4))
    for label, lrs in schedules.items():
        ax.plot(_steps(lrs, iterations_per_epoch), np.asarray(lrs, dtype=np.float64), lw=1.8,
                label=label)
    _schedule_axes(ax, xlabel, log)
    ax.legend(loc="best", fontsize=8)
    if title:
        ax.set_title(title)
    return ax


def plot_schedule_grid(schedules, *, columns=3, xlabel="epoch", iterations_per_epoch=None,
                       log=False, title=None):
    """The schedules of `plot_lr_schedules` in a grid of small panels, one per schedule,
    titled by its label: shapes that an overlay would hide under each other. Returns the
    Figure (unused cells of the grid are left blank)."""
    count = len(schedules)
    columns = max(1, min(columns, count))
    rows = -(-count // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(3.6 * columns, 2.6 * rows),
                             layout="constrained", squeeze=False)
    for ax, (label, lrs) in zip(axes.flat, schedules.items()):
        ax.plot(_steps(lrs, iterations_per_epoch), np.asarray(lrs, dtype=np.float64), lw=1.8)
        _schedule_axes(ax, xlabel, log)
        ax.set_title(label, fontsize=10)
    for ax in axes.flat[count:]:
        ax.set_axis_off()
    if title:
        fig.suptitle(title)
    return fig


def _loss_limits(losses, smoothed):
    """y-limits that show the fall of the loss: from a little below the lowest loss to a
    little above the first smoothed one, so the climb into divergence leaves the panel
    instead of squashing the rest of the curve against the bottom."""
    finite = losses[np.isfinite(losses)]
    smooth = smoothed[np.isfinite(smoothed)]
    if not len(finite) or not len(smooth):
        return None
    low = float(finite.min())
    high = float(smooth[: np.argmin(smooth) + 1].max())  # the highest point before the lowest
    span = max(high - low, 1e-12 * max(abs(high), 1.0))
    return low - 0.1 * span, high + 0.5 * span


def plot_lr_finder(result, *, ax=None):
    """The LR range test (a `course_lib.optim.LRFinderResult`): each batch's loss faint,
    the smoothed loss bold, against the learning rate on a log axis; its two readings as
    vertical lines — the suggested rate (steepest fall) dashed with its value, the rate at
    the minimum dotted —, the iteration that diverged as a cross. The y-axis shows the fall
    of the loss and clips the climb into divergence."""
    ax = _axes(ax, (7, 4.2))
    lrs = np.asarray(result.lrs, dtype=np.float64)
    losses = np.asarray(result.losses, dtype=np.float64)
    smoothed = np.asarray(result.smoothed_losses, dtype=np.float64)
    ax.plot(lrs, losses, color="tab:blue", lw=0.8, alpha=0.35, label="loss of each batch")
    ax.plot(lrs, smoothed, color="tab:blue", lw=2.2, label="smoothed loss")
    limits = _loss_limits(losses, smoothed)
    if result.suggested_lr is not None:
        ax.axvline(result.suggested_lr, color="crimson", ls="--", lw=1.5,
                   label=f"suggested lr = {result.suggested_lr:.2g}")
        ax.annotate(f"{result.suggested_lr:.2g}", xy=(result.suggested_lr, 0.97),
                    xycoords=ax.get_xaxis_transform(), xytext=(4, 0), textcoords="offset points",
                    color="crimson", va="top", fontsize=9)
    ax.axvline(result.lr_at_minimum, color="black", ls=":", lw=1.5,
               label=f"minimum at lr = {result.lr_at_minimum:.2g}")
    if result.diverged_at is not None:
        at = result.diverged_at
        y = smoothed[at] if np.isfinite(smoothed[at]) else np.nan
        if limits is not None and not (limits[0] <= y <= limits[1]):
            y = limits[1]  # above the panel: drawn on its upper edge
        ax.plot([lrs[at]], [y], "x", color="black", ms=10, mew=2.5,
                label=f"diverged (iteration {at + 1}, lr = {lrs[at]:.2g})")
    ax.set_xscale("log")
    if limits is not None:
        ax.set_ylim(*limits)
    ax.set_xlabel("learning rate (log scale)")
    ax.set_ylabel("training loss")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    return ax


def plot_schedule_comparison(histories, *, accuracies=None, accuracy_name="validation",
                             iterations_per_epoch=None, smooth=None):
    """Training runs under different schedules in one figure of three panels: the learning
    rate of every iteration, the training loss per iteration (moving average over `smooth`
    steps, by default a fifth of an epoch) with the validation loss per epoch as dots, and
    each schedule's final accuracy as a dot plot.

    `histories` maps a label to a `TrainingHistory` (`course_lib.scratch.mlp`), the run drawn
    in the first two panels. `accuracies` ({label: [final accuracy of each run]}, fractions,
    e.g. one per seed) gives the dots, each run's a small dot and their mean a large one with
    an error bar of one standard deviation; by default the last validation accuracy of each
    history. A dot plot, not bars: the axis spans only the accuracies, and its range is
    written in the title. The x-axes read in epochs; `iterations_per_epoch` defaults to the
    iterations of a run over its epochs. Returns the Figure (axes: rate, loss, accuracy).
    """
    fig, (rates, losses, dots) = plt.subplots(
        1, 3, figsize=(15, 4.2), layout="constrained", gridspec_kw=dict(width_ratios=[1, 1.2, 0.8]))
    for label, history in histories.items():
        ipe = iterations_per_epoch or max(1, len(history.iteration_loss) // max(1, len(history.train_loss)))
        window = smooth or max(1, ipe // 5)
        line, = rates.plot(_steps(history.iteration_lr, ipe), history.iteration_lr, lw=1.6,
                           label=label)
        steps, values = _moving_average(history.iteration_loss, window)
        losses.plot(steps / ipe, values, lw=1.2, color=line.get_color(), label=f"{label}: training")
        if len(history.val_loss):
            losses.plot(np.arange(1, len(history.val_loss) + 1), history.val_loss, "o--", ms=4,
                        lw=1, color=line.get_color(), label=f"{label}: validation")
    rates.set_xlabel("epoch")
    rates.set_ylabel("learning rate")
    rates.set_title("learning rate of each iteration")
    rates.legend(loc="best", fontsize=8)
    losses.set_yscale("log")
    losses.set_xlabel("epoch")
    losses.set_ylabel("loss")
    # the colours are the rate panel's: a legend of twice as many entries would hide the curves
    losses.set_title("training loss (line) and validation loss (dots)")
    for ax in (rates, losses):
        ax.grid(True, which="major", alpha=0.3)
    if accuracies is None:
        accuracies = {label: [history.val_accuracy[-1]] for label, history in histories.items()
                      if len(history.val_accuracy)}
    _accuracy_dots(dots, accuracies, accuracy_name)
    return fig


def _accuracy_dots(ax, accuracies, which):
    """Each run's accuracy as a small dot, the mean of each label's runs as a large one with
    an error bar of one standard deviation (when there are several runs)."""
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    drawn = []  # every value the panel must show: the runs, and the ends of the error bars
    for position, (label, values) in enumerate(accuracies.items()):
        percent = 100 * np.asarray(values, dtype=np.float64)
        color = colors[position % len(colors)]  # the colour of the run's lines
        ax.plot(np.full(len(percent), position), percent, "o", ms=3.5, alpha=0.5, color=color,
                label="_runs")
        spread = percent.std(ddof=1) if len(percent) > 1 else 0.0
        ax.errorbar([position], [percent.mean()], yerr=[spread], fmt="o", ms=7, capsize=4,
                    color=color, label="_mean")
        drawn += [*percent, percent.mean() - spread, percent.mean() + spread]
    ax.set_xticks(range(len(accuracies)), list(accuracies), rotation=35, ha="right", fontsize=8)
    ax.set_xlim(-0.6, len(accuracies) - 0.4)
    ax.set_ylabel(f"{which} accuracy (%)")
    counts = {len(values) for values in accuracies.values()}
    if counts == {1}:
        runs = "one run each"
    elif len(counts) == 1:
        runs = f"{counts.pop()} runs each: mean ± standard deviation"
    else:
        runs = "mean ± standard deviation of the runs"
    if drawn:
        low, high = min(drawn), max(drawn)
        margin = max(0.1 * (high - low), 0.05)
        ax.set_ylim(low - margin, high + margin)
        low, high = ax.get_ylim()
        ax.set_title(f"{which} accuracy, {runs}\n(dots: the axis runs from {low:.1f} to "
                     f"{high:.1f} %, not from 0)", fontsize=10)
    ax.grid(True, axis="y", alpha=0.3)
