"""Training runs: losses against iterations and epochs, learning-rate sweeps, early stopping."""
import matplotlib.pyplot as plt
import numpy as np

from ._axes import (
    EPOCH_COLOR, ITERATION_COLOR, VALIDATION_COLOR, _axes, _epoch_axis, _iteration_axis,
    _moving_average,
)


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
