"""Figures for the notebooks, so a notebook cell stays about the idea it shows.

Every function draws with pyplot (so Jupyter's inline backend shows the figure at the
end of the cell), returns what it drew (a `Figure` for several panels, an `Axes`
otherwise), and accepts plain sequences or numpy arrays. Most take `ax=` to draw into
an existing axes.
"""
import math

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import BoundaryNorm, ListedColormap

__all__ = [
    "plot_batch_size_sweep",
    "plot_confusion_matrix",
    "plot_digits",
    "plot_early_stopping",
    "plot_epoch_batches",
    "plot_finite_difference_errors",
    "plot_gradient_check",
    "plot_iterations_per_epoch",
    "plot_layer_statistics",
    "plot_learning_rate_sweep",
    "plot_loss_curves",
    "plot_losses_by_iteration_and_epoch",
    "plot_training_curves",
    "plot_weight_image",
]

ITERATION_COLOR = "tab:blue"
EPOCH_COLOR = "tab:orange"
VALIDATION_COLOR = "tab:green"


def _axes(ax, figsize):
    if ax is None:
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def _epoch_axis(ax, iterations_per_epoch, *, location="top", label="epoch"):
    """A secondary x-axis on `ax` (iterations) that reads in epochs, aligned with it."""
    ipe = float(iterations_per_epoch)
    secondary = ax.secondary_xaxis(location, functions=(lambda it: it / ipe, lambda ep: ep * ipe))
    secondary.set_xlabel(label)
    return secondary


def _iteration_axis(ax, iterations_per_epoch, *, location="top", label="iteration (optimizer step)"):
    """A secondary x-axis on `ax` (epochs) that reads in iterations, aligned with it."""
    ipe = float(iterations_per_epoch)
    secondary = ax.secondary_xaxis(location, functions=(lambda ep: ep * ipe, lambda it: it / ipe))
    secondary.set_xlabel(label)
    return secondary


def plot_digits(images, titles=None, *, split_row=None, columns=None):
    """A row (or grid) of images, each titled with `titles[i]` (e.g. its label).
    `split_row=14` draws a line between image rows 13 and 14, to show a split into
    top and bottom halves. Returns the Figure."""
    images = np.asarray(images)
    count = len(images)
    columns = min(count, columns or 12)
    rows = -(-count // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(1.05 * columns, 1.25 * rows),
                             layout="constrained", squeeze=False)
    for position, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if position >= count:
            continue
        ax.imshow(images[position], cmap="gray_r", vmin=0, vmax=images.max() or 1)
        if titles is not None:
            ax.set_title(str(titles[position]), fontsize=9)
        if split_row is not None:
            ax.axhline(split_row - 0.5, color="crimson", lw=1)
    return fig


def plot_iterations_per_epoch(n_samples=60_000, *, ax=None):
    """Iterations per epoch against batch size B (from 1 to N), log-log, for
    drop_last=False (ceil(N/B)) and drop_last=True (floor(N/B)), annotated where they part."""
    n = int(n_samples)
    ax = _axes(ax, (7, 4.5))
    # every B up to 1000, then a dense log-spaced selection: the same picture, drawn fast
    batch_sizes = np.unique(np.concatenate([
        np.arange(1, min(n, 1000) + 1), np.geomspace(1, n, 3000).round().astype(int), [n]]))
    with_last = -(-n // batch_sizes)
    without_last = n // batch_sizes
    ax.loglog(batch_sizes, with_last, color=ITERATION_COLOR, lw=2,
              label=r"drop_last=False: $\lceil N/B \rceil$")
    kept = without_last > 0
    ax.loglog(batch_sizes[kept], without_last[kept], color=EPOCH_COLOR, lw=2, ls="--",
              label=r"drop_last=True: $\lfloor N/B \rfloor$")
    ax.axvline(n, color="gray", lw=1, ls=":")
    ax.set_xlabel("batch size B")
    ax.set_ylabel("iterations per epoch")
    ax.set_title(f"N = {n:,} samples")
    ax.grid(True, which="major", alpha=0.3)

    # Annotate one batch size where the two rules differ visibly: the largest B < N/2
    # that does not divide N (e.g. N = 60000 -> B = 25000: 3 vs 2).
    for b in (n * 5 // 12, n // 3 + 1, n // 2 + 1):
        if 1 < b < n and n % b:
            hi, lo = -(-n // b), n // b
            ax.plot([b, b], [lo, hi], color="black", lw=1)
            ax.annotate(
                f"B = {b:,}: {hi} vs {lo} iterations;\n"
                f"drop_last skips {n - lo * b:,} samples per epoch",
                xy=(b, math.sqrt(hi * lo)), xytext=(1.5, 1.6),
                arrowprops=dict(arrowstyle="->", color="black", lw=0.8), fontsize=9)
            break
    ax.annotate("B > N (right of the dotted line): drop_last=True\nmakes no update at all",
                xy=(n, 1), xytext=(1.5, 12), fontsize=9,
                arrowprops=dict(arrowstyle="->", color="gray", lw=0.8))
    ax.legend(loc="upper right")
    return ax


def plot_epoch_batches(epoch_batches, n_samples, *, ax=None):
    """Which mini-batch every sample landed in, one row per epoch.

    `epoch_batches[e]` is the list of index arrays of epoch e (as a mini-batch generator
    yields them). Samples that no batch of an epoch contains (dropped by drop_last) are
    left white and marked with a dot.
    """
    n = int(n_samples)
    n_epochs = len(epoch_batches)
    assignment = np.full((n_epochs, n), -1, dtype=int)
    for epoch, batches in enumerate(epoch_batches):
        for number, batch in enumerate(batches):
            assignment[epoch, np.asarray(batch, dtype=int)] = number
    n_batches = max(1, int(assignment.max()) + 1)
    ax = _axes(ax, (max(6.0, 0.32 * n + 1.5), 0.55 * n_epochs + 1.2))
    colors = plt.get_cmap("tab10" if n_batches <= 10 else "tab20").colors[:n_batches]
    cmap = ListedColormap(["white", *colors])
    norm = BoundaryNorm(np.arange(-1.5, n_batches, 1.0), cmap.N)
    ax.imshow(assignment, cmap=cmap, norm=norm, aspect="auto", interpolation="nearest")
    if n <= 60:
        for (epoch, sample), number in np.ndenumerate(assignment):
            ax.text(sample, epoch, "·" if number < 0 else str(number + 1),
                    ha="center", va="center", fontsize=8)
    ax.set_xticks(np.arange(n) if n <= 60 else ax.get_xticks())
    ax.set_yticks(np.arange(n_epochs), [f"epoch {e + 1}" for e in range(n_epochs)])
    ax.set_xlabel("sample index (number in a cell: the sample's mini-batch in that epoch)")
    ax.set_ylabel("epoch")
    return ax


def _positions(iteration_losses, epoch_losses, iterations_per_epoch):
    iteration_losses = np.asarray(iteration_losses, dtype=float)
    epoch_losses = np.asarray(epoch_losses, dtype=float)
    ipe = int(iterations_per_epoch)
    if ipe < 1:
        raise ValueError(f"iterations_per_epoch must be at least 1, got {ipe}")
    steps = np.arange(1, len(iteration_losses) + 1)
    epochs = np.arange(1, len(epoch_losses) + 1)
    return iteration_losses, epoch_losses, ipe, steps, epochs


def plot_losses_by_iteration_and_epoch(iteration_losses, epoch_losses, iterations_per_epoch,
                                       *, logy=False, title=None):
    """One run's loss against both clocks, side by side.

    Left: every mini-batch loss against the iteration (bottom axis), with the epoch as
    an aligned top axis and each epoch's mean marked at the iteration where the epoch
    ended. Right: the per-epoch mean against the epoch, with the iteration on top.
    Returns the Figure (axes: left, right).
    """
    iteration_losses, epoch_losses, ipe, steps, epochs = _positions(
        iteration_losses, epoch_losses, iterations_per_epoch)
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.2), sharey=True, layout="constrained")

    left.plot(steps, iteration_losses, color=ITERATION_COLOR, lw=0.7, alpha=0.8,
              label="mini-batch loss (one per iteration)")
    left.plot(epochs * ipe, epoch_losses, "o-", color=EPOCH_COLOR, lw=2,
              label="epoch loss (mean over the epoch)")
    for boundary in epochs[:-1] * ipe:
        left.axvline(boundary + 0.5, color="gray", lw=0.5, ls=":")
    left.set_xlabel("iteration (optimizer step)")
    left.set_ylabel("loss")
    left.set_xlim(0, max(len(iteration_losses), len(epoch_losses) * ipe) + 1)
    _epoch_axis(left, ipe)
    left.legend(loc="upper right", title="against iterations: noisy")

    right.plot(steps / ipe, iteration_losses, color=ITERATION_COLOR, lw=0.5, alpha=0.25,
               label="mini-batch loss")
    right.plot(epochs, epoch_losses, "o-", color=EPOCH_COLOR, lw=2, label="epoch loss")
    right.set_xlabel("epoch")
    right.set_xlim(0, max(len(epoch_losses), len(iteration_losses) / ipe) + 0.05)
    _iteration_axis(right, ipe)
    right.legend(loc="upper right", title="against epochs: smooth")
    for ax in (left, right):
        ax.grid(True, alpha=0.3)
        if logy:
            ax.set_yscale("log")
    if title:
        fig.suptitle(title)
    return fig


def plot_batch_size_sweep(batch_sizes, updates, seconds_per_epoch, accuracy, *, epochs=None):
    """A measured batch-size sweep in three panels sharing a log2 batch-size axis:
    optimizer steps taken, wall time per epoch, and final validation accuracy (a
    fraction in [0, 1], shown in percent). Returns the Figure."""
    batch_sizes = np.asarray(batch_sizes)
    columns = [
        (np.asarray(updates), "optimizer steps (total)", "log", "{:,.0f}"),
        (np.asarray(seconds_per_epoch, dtype=float), "wall time per epoch (s)", "linear", "{:.2f}"),
        (100 * np.asarray(accuracy, dtype=float), "validation accuracy (%)", "linear", "{:.1f}"),
    ]
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8), layout="constrained")
    for ax, (values, label, yscale, fmt) in zip(axes, columns):
        ax.plot(batch_sizes, values, "o-", color=ITERATION_COLOR, lw=2)
        ax.set_xscale("log", base=2)
        ax.set_xticks(batch_sizes, [str(b) for b in batch_sizes])
        ax.minorticks_off()
        ax.set_yscale(yscale)
        ax.set_xlabel("batch size")
        ax.set_ylabel(label)
        ax.grid(True, alpha=0.3)
        for b, v in zip(batch_sizes, values):
            ax.annotate(fmt.format(v), (b, v), textcoords="offset points", xytext=(0, 7),
                        ha="center", fontsize=8)
        ax.margins(x=0.12, y=0.18)
    if epochs is not None:
        fig.suptitle(f"every run: {epochs} epoch{'s' if epochs != 1 else ''} over the same data")
    return fig


def _moving_average(values, window):
    values = np.asarray(values, dtype=float)
    if window <= 1 or len(values) < window:
        return np.arange(1, len(values) + 1), values
    averaged = np.convolve(values, np.ones(window) / window, mode="valid")
    return np.arange(window, len(values) + 1), averaged


def plot_learning_rate_sweep(losses_by_lr, *, iterations_per_epoch=None, smooth=1, ax=None,
                             ceiling=None):
    """Per-iteration training loss for several learning rates, one line each (log y).

    `losses_by_lr` maps a learning rate to its per-iteration losses. `smooth` > 1 plots
    a moving average over that many iterations. A run whose loss became inf or nan is
    drawn up to that point and marked with an x ("diverged"); losses above `ceiling`
    are clipped to it so one exploding run does not flatten the others.
    """
    ax = _axes(ax, (8, 4.5))
    colors = plt.get_cmap("viridis")(np.linspace(0.0, 0.9, max(1, len(losses_by_lr))))
    for color, (lr, losses) in zip(colors, sorted(losses_by_lr.items())):
        losses = np.asarray(losses, dtype=float)
        bad = np.flatnonzero(~np.isfinite(losses))
        finite = losses[: bad[0]] if len(bad) else losses
        if ceiling is not None:
            finite = np.minimum(finite, ceiling)
        steps, values = _moving_average(finite, smooth)
        label = f"lr = {lr:g}"
        if len(bad):
            label += f" (diverged at step {bad[0] + 1})"
        ax.plot(steps, values, color=color, lw=1.6, label=label)
        if len(bad):
            y = values[-1] if len(values) else (ceiling or 1.0)
            ax.plot([bad[0] + 1], [y], "x", color=color, ms=10, mew=2.5)
    ax.set_yscale("log")
    ax.set_xlabel("iteration (optimizer step)")
    ax.set_ylabel("training loss" + (f" (moving average over {smooth} steps)" if smooth > 1 else ""))
    if iterations_per_epoch:
        _epoch_axis(ax, iterations_per_epoch)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="best")
    return ax


def _mark_stop(ax, values, best_epoch, stopped_epoch, patience_words):
    ax.plot([best_epoch], [values[best_epoch - 1]], "*", color="black", ms=14,
            label=f"best validation loss (epoch {best_epoch})")
    if stopped_epoch is None:
        ax.plot([], [], ls="--", color="crimson",
                label=f"no stop within {len(values)} epochs{patience_words}")
    else:
        ax.axvline(stopped_epoch, color="crimson", ls="--", lw=1.5,
                   label=f"stopped after epoch {stopped_epoch}{patience_words}")
        if stopped_epoch > best_epoch:
            ax.axvspan(best_epoch, stopped_epoch, color="crimson", alpha=0.07)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_xlabel("epoch")
    ax.grid(True, which="both", alpha=0.3)


def plot_early_stopping(train_losses, validation_losses, *, best_epoch, stopped_epoch,
                        patience=None, title=None):
    """Early stopping in two panels (epochs count from 1): left, training and validation
    loss on a log scale; right, the validation loss alone on a linear scale, where its
    turn is easy to see. Both mark the best validation epoch with a star and the epoch
    where training stopped with a dashed line; `stopped_epoch=None` means the rule never
    fired, and the legend says so. Returns the Figure (axes: left, right)."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 4.3), layout="constrained")
    patience_words = "" if patience is None else f" (patience {patience})"
    train_epochs = np.arange(1, len(train_losses) + 1)
    validation_epochs = np.arange(1, len(validation_losses) + 1)
    left.plot(train_epochs, train_losses, "o-", color=ITERATION_COLOR, ms=3, label="training loss")
    left.plot(validation_epochs, validation_losses, "o-", color=VALIDATION_COLOR, ms=3,
              label="validation loss")
    _mark_stop(left, validation_losses, best_epoch, stopped_epoch, patience_words)
    left.set_yscale("log")
    left.set_ylabel("loss (cross-entropy, log scale)")
    left.legend(loc="best")
    right.plot(validation_epochs, validation_losses, "o-", color=VALIDATION_COLOR, ms=3,
               label="validation loss")
    _mark_stop(right, validation_losses, best_epoch, stopped_epoch, patience_words)
    right.set_ylabel("validation loss (linear scale)")
    right.legend(loc="best")
    if title:
        fig.suptitle(title)
    return fig


def plot_weight_image(weights, *, shape=(28, 28), ax=None, title=None, labels=None):
    """A weight vector of a linear model over image pixels, drawn as an image: red
    pixels push the score up, blue ones push it down (symmetric colour scale).
    `labels=(low, high)` names what a low and a high score mean on the colour bar."""
    ax = _axes(ax, (4.2, 3.6))
    image = np.asarray(weights, dtype=float).reshape(shape)
    limit = float(np.max(np.abs(image))) or 1.0
    shown = ax.imshow(image, cmap="RdBu_r", vmin=-limit, vmax=limit)
    colorbar = ax.figure.colorbar(shown, ax=ax, shrink=0.85)
    if labels is not None:
        colorbar.set_label(f"← {labels[0]}    weight    {labels[1]} →")
    else:
        colorbar.set_label("weight")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title)
    return ax


# ------------------------------------------------------------- assignment 02: backprop

GOOD_RELATIVE_ERROR = 1e-7  # below: the gradient is right (float64, central differences)
WRONG_RELATIVE_ERROR = 1e-2  # above: the gradient is wrong


def plot_finite_difference_errors(step_sizes, errors_by_method, *, ax=None, title=None):
    """Error of finite-difference derivatives against the step size eps, log-log, one line
    per method (e.g. {"forward": [...], "central": [...]}): the V shape of truncation error
    (falling with eps) meeting rounding error (growing as eps shrinks)."""
    ax = _axes(ax, (6, 4))
    for method, errors in errors_by_method.items():
        ax.loglog(step_sizes, errors, "o-", ms=3, label=method)
    ax.set_xlabel("step size eps")
    ax.set_ylabel("|finite difference − true derivative|")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(loc="best")
    if title:
        ax.set_title(title)
    return ax


def plot_gradient_check(relative_errors, *, ax=None, title=None):
    """Relative error of each parameter's gradient ({"W1": 3e-9, ...}) as bars on a log
    scale, over bands that say how to read it: right below 1e-7, wrong above 1e-2."""
    ax = _axes(ax, (6, 3.2))
    names = list(relative_errors)
    # an exact match (0) cannot sit on a log axis: draw it at the bottom of the scale
    floor = 1e-16
    values = [max(float(relative_errors[name]), floor) for name in names]
    ax.bar(names, values, color="tab:blue")
    ax.set_yscale("log")
    ax.set_ylim(floor, 1)
    ax.axhspan(floor, GOOD_RELATIVE_ERROR, color="tab:green", alpha=0.12,
               label=f"< {GOOD_RELATIVE_ERROR:.0e}: right")
    ax.axhspan(GOOD_RELATIVE_ERROR, WRONG_RELATIVE_ERROR, color="tab:orange", alpha=0.12,
               label="suspicious (or a ReLU kink)")
    ax.axhspan(WRONG_RELATIVE_ERROR, 1, color="tab:red", alpha=0.12,
               label=f"> {WRONG_RELATIVE_ERROR:.0e}: wrong")
    ax.set_ylabel("relative error")
    ax.legend(loc="upper left", fontsize=8)
    if title:
        ax.set_title(title)
    return ax


def plot_layer_statistics(activation_stds, gradient_stds, *, title=None, axes=None):
    """Two panels, one line per initialisation scheme ({"Kaiming": [std per layer], ...}):
    the spread of the pre-activations going forward and of the weight gradients coming back,
    layer by layer, on a log scale. `axes=(left, right)` draws into existing axes (a
    widget's figure) instead of a new figure. Returns the Figure."""
    if axes is None:
        fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
    else:
        left, right = axes
        fig = left.figure
    for ax, stds_by_scheme, what in ((left, activation_stds, "pre-activations $Z_l$ (forward)"),
                                     (right, gradient_stds, r"weight gradients $\partial L/\partial W_l$ (backward)")):
        for scheme, stds in stds_by_scheme.items():
            layers = np.arange(1, len(stds) + 1)
            # a spread of exactly 0 (everything vanished) has no place on a log axis
            ax.semilogy(layers, np.maximum(stds, 1e-30), "o-", ms=4, label=scheme)
        ax.set_xlabel("layer $l$")
        ax.set_ylabel("standard deviation (log scale)")
        ax.set_title(what)
        ax.set_xticks(layers)
        ax.grid(True, which="major", alpha=0.3)
    left.legend(loc="best", fontsize=8)
    if title:
        fig.suptitle(title)
    return fig


def plot_loss_curves(losses_by_label, *, smooth=1, chance_loss=None, ax=None, title=None):
    """Per-iteration training loss of several runs, one labelled line each (log y), as a
    moving average over `smooth` steps. `chance_loss` draws the loss of guessing
    uniformly (ln C for C classes) as a dashed line, the level an untrained model sits at."""
    ax = _axes(ax, (8, 4.2))
    for label, losses in losses_by_label.items():
        steps, values = _moving_average(losses, smooth)
        ax.plot(steps, values, lw=1.6, label=label)
    if chance_loss is not None:
        ax.axhline(chance_loss, color="gray", ls="--", lw=1, label="uniform guess")
    ax.set_yscale("log")
    ax.set_xlabel("iteration (optimizer step)")
    ax.set_ylabel("training loss" + (f" (moving average over {smooth} steps)" if smooth > 1 else ""))
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    if title:
        ax.set_title(title)
    return ax


def plot_training_curves(train_losses, validation_accuracies, *, title=None):
    """Training loss and validation accuracy per epoch, side by side. Returns the Figure."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6), layout="constrained")
    epochs = np.arange(1, len(train_losses) + 1)
    left.plot(epochs, train_losses, "o-", color=EPOCH_COLOR, ms=3)
    left.set_xlabel("epoch")
    left.set_ylabel("training loss (mean over the epoch)")
    right.plot(epochs, 100 * np.asarray(validation_accuracies), "o-", color=VALIDATION_COLOR, ms=3)
    right.set_xlabel("epoch")
    right.set_ylabel("validation accuracy (%)")
    for ax in (left, right):
        ax.grid(True, alpha=0.3)
    if title:
        fig.suptitle(title)
    return fig


def plot_confusion_matrix(confusion, *, class_names=None, ax=None, title=None):
    """A confusion matrix (rows: true class, columns: predicted class) as a heat map of
    the row-normalised rates, each cell labelled with its count. The diagonal holds the
    right answers, so the colour scale is set by the off-diagonal cells to show the errors."""
    confusion = np.asarray(confusion)
    classes = len(confusion)
    names = [str(name) for name in (class_names if class_names is not None else range(classes))]
    ax = _axes(ax, (6.2, 5.4))
    rates = confusion / np.maximum(confusion.sum(axis=1, keepdims=True), 1)
    errors = rates.copy()
    np.fill_diagonal(errors, 0)
    shown = ax.imshow(errors, cmap="Reds", vmin=0, vmax=errors.max() or 1)
    ax.figure.colorbar(shown, ax=ax, shrink=0.85,
                       label="fraction of the true class (off the diagonal)")
    for true_class in range(classes):
        for predicted in range(classes):
            count = confusion[true_class, predicted]
            on_diagonal = true_class == predicted
            ax.text(predicted, true_class, f"{count}", ha="center", va="center",
                    fontsize=7 if classes > 10 else 8,
                    color="black" if on_diagonal or errors[true_class, predicted] < 0.6 * errors.max()
                    else "white", fontweight="bold" if on_diagonal else "normal")
    ax.set_xticks(range(classes), names)
    ax.set_yticks(range(classes), names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    if title:
        ax.set_title(title)
    return ax
