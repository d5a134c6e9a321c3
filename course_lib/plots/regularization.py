"""Assignment 05: overfitting and what regularisation does about it — the gap between
training and validation, weights pulled towards zero, runs compared, gradient norms under
clipping, and what augmentation does to a digit.

The runs are `training.History` objects as `fit` returns them.
"""
import matplotlib.pyplot as plt
import numpy as np

from ..training.summary import run_summary
from ._axes import EPOCH_COLOR, VALIDATION_COLOR, _axes

SMALL_WEIGHT = 1e-3  # |w| below this counts as (practically) zero: what L1 produces
BASELINE_COLOR = "black"


def _epochs(history):
    return np.asarray(history["epoch"])


def _percent(values):
    return 100 * np.asarray(values, dtype=float)


def _best_epoch_line(ax, best_epoch):
    ax.axvline(best_epoch, color="crimson", ls="--", lw=1.2,
               label=f"best validation loss (epoch {best_epoch})")


def plot_overfitting(history, *, title=None):
    """Loss (left) and, if logged, accuracy (right) per epoch, training against validation.
    The epoch of the lowest validation loss is marked by a dashed line, and the gap between
    training and validation accuracy is shaded. Returns the Figure."""
    has_accuracy = "accuracy" in history.keys() and "val_accuracy" in history.keys()
    fig, axes = plt.subplots(1, 1 + has_accuracy, figsize=(6 * (1 + has_accuracy), 4), layout="constrained",
                             squeeze=False)
    epochs, best_epoch = _epochs(history), run_summary(history)["best_epoch"]
    loss_ax = axes[0, 0]
    loss_ax.plot(epochs, history["loss"], "o-", color=EPOCH_COLOR, ms=3, label="training loss")
    loss_ax.plot(epochs, history["val_loss"], "s-", color=VALIDATION_COLOR, ms=3, label="validation loss")
    loss_ax.set_ylabel("loss (mean over the epoch)")
    if has_accuracy:
        accuracy_ax = axes[0, 1]
        train, val = _percent(history["accuracy"]), _percent(history["val_accuracy"])
        accuracy_ax.plot(epochs, train, "o-", color=EPOCH_COLOR, ms=3, label="training accuracy")
        accuracy_ax.plot(epochs, val, "s-", color=VALIDATION_COLOR, ms=3, label="validation accuracy")
        accuracy_ax.fill_between(epochs, train, val, color="crimson", alpha=0.12,
                                 label="gap: training − validation")
        accuracy_ax.set_ylabel("accuracy (%)")
    for ax in axes[0]:
        if best_epoch is not None:
            _best_epoch_line(ax, best_epoch)
        ax.set_xlabel("epoch")
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.grid(True, alpha=0.3)
        ax.legend(loc="best", fontsize=8)
    if title:
        fig.suptitle(title)
    return fig


def _values(weights):
    """All entries of an array or tensor, or of a sequence of them, as one float64 vector."""
    if hasattr(weights, "detach"):
        weights = weights.detach().cpu().numpy()
    if isinstance(weights, np.ndarray):
        return weights.astype(np.float64).ravel()
    return np.concatenate([_values(part) for part in weights])


def plot_weight_histograms(weights_by_label, *, bins=100, ax=None):
    """Overlaid histograms of weight values, one per label ({"L2": model.weight, "L1": [w1, w2],
    ...}: an array or tensor, or a sequence of them), on shared bins and a log count axis,
    where the heavy tails of a plain run and the spike at zero of an L1 run both show.
    Each legend entry gives the fraction of weights with |w| < 1e-3."""
    ax = _axes(ax, (7, 4))
    values = {label: _values(weights) for label, weights in weights_by_label.items()}
    edges = np.histogram_bin_edges(np.concatenate(list(values.values())), bins=bins)
    for label, weights in values.items():
        small = np.mean(np.abs(weights) < SMALL_WEIGHT)
        ax.hist(weights, bins=edges, histtype="step", lw=1.6,
                label=f"{label}: {100 * small:.1f} % with |w| < {SMALL_WEIGHT:g}")
    ax.set_yscale("log")
    ax.set_xlabel("weight value")
    ax.set_ylabel("number of weights (log scale)")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    return ax


def _run_colors(labels, baseline):
    """One colour per run, the same in every panel; the baseline in black."""
    others = iter(plt.get_cmap("tab10").colors)
    return {label: BASELINE_COLOR if label == baseline else next(others) for label in labels}


def plot_regularization_comparison(histories, *, test_accuracy=None, baseline="baseline"):
    """Several runs ({label: History}) in three panels: the validation loss per epoch, the
    gap between training and validation accuracy per epoch (percentage points), and bars
    of the test accuracy (`test_accuracy`: {label: accuracy}) or, without it, of the
    validation accuracy at each run's best validation-loss epoch, sorted, the value written
    on each bar. The run called `baseline` is drawn in black. Returns the Figure."""
    labels = list(histories)
    if test_accuracy is not None and set(labels) - set(test_accuracy):
        raise ValueError(f"test_accuracy has no value for {sorted(set(labels) - set(test_accuracy))}")
    colors = _run_colors(labels, baseline)
    fig, (loss_ax, gap_ax, bar_ax) = plt.subplots(1, 3, figsize=(16, 4.3), layout="constrained")
    for label, history in histories.items():
        width = 2.5 if label == baseline else 1.5
        epochs = _epochs(history)
        loss_ax.plot(epochs, history["val_loss"], "o-", ms=3, lw=width, color=colors[label], label=label)
        gap = _percent(history["accuracy"]) - _percent(history["val_accuracy"])
        gap_ax.plot(epochs, gap, "o-", ms=3, lw=width, color=colors[label], label=label)
    loss_ax.set_ylabel("validation loss")
    gap_ax.axhline(0, color="gray", lw=1)
    gap_ax.set_ylabel("training − validation accuracy (pp)")
    for ax in (loss_ax, gap_ax):
        ax.set_xlabel("epoch")
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.grid(True, alpha=0.3)
    loss_ax.legend(loc="best", fontsize=8)

    if test_accuracy is not None:
        scores, what = {label: test_accuracy[label] for label in labels}, "test accuracy (%)"
    else:
        scores = {label: run_summary(history)["best_val_accuracy"] for label, history in histories.items()}
        what = "validation accuracy at the best epoch (%)"
    ranked = sorted(labels, key=lambda label: scores[label])  # barh draws bottom-up: the best on top
    values = _percent([scores[label] for label in ranked])
    bars = bar_ax.barh(ranked, values, color=[colors[label] for label in ranked])
    bar_ax.bar_label(bars, [f"{value:.2f} %" for value in values], padding=3, fontsize=8)
    # accuracies of regularised runs differ by tenths of a percent: zoom to them
    spread = max(values.max() - values.min(), 0.5)
    bar_ax.set_xlim(max(0.0, values.min() - spread), min(100.0, values.max() + spread))
    bar_ax.set_xlabel(what)
    bar_ax.grid(True, axis="x", alpha=0.3)
    return fig


def plot_gradient_norms(histories, *, max_norm=None, ax=None):
    """The global gradient norm of every optimizer step (before clipping, as `fit` records
    it) for several runs ({label: History}), on a log scale. Steps where it was inf or nan
    are marked with an x at the top of the axes; `max_norm` (the clipping threshold) is
    drawn as a dashed line: clipping rescales every step above it down to it."""
    ax = _axes(ax, (8, 4.2))
    transform = ax.get_xaxis_transform()  # x in steps, y as a fraction of the axes' height
    for label, history in histories.items():
        steps = np.asarray(history.iteration_series("step"))
        norms = np.asarray(history.iteration_series("grad_norm"), dtype=float)
        bad = ~np.isfinite(norms)
        line, = ax.plot(steps, np.where(bad, np.nan, norms), lw=1, label=label)
        if bad.any():
            ax.plot(steps[bad], np.full(bad.sum(), 0.96), "x", color=line.get_color(), ms=7, mew=2,
                    transform=transform, label=f"{label}: not finite from step {steps[bad][0]}")
    if max_norm is not None:
        ax.axhline(max_norm, color="crimson", ls="--", lw=1.2, label=f"max_norm = {max_norm:g}")
    ax.set_yscale("log")
    ax.set_xlabel("iteration (optimizer step)")
    ax.set_ylabel("gradient norm before clipping (log scale)")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    return ax


def _images(images):
    if hasattr(images, "detach"):
        images = images.detach().cpu().numpy()
    return np.asarray(images, dtype=float)


def plot_augmentations(images, augmented, *, title=None):
    """A grid of digits: the originals ([N, 28, 28], array or tensor) in the first column,
    then one column per augmentation ({name: its images of the originals, [N, 28, 28]}),
    titled with its name. All images share one grey scale. Returns the Figure."""
    columns = {"original": _images(images), **{name: _images(shown) for name, shown in augmented.items()}}
    count = len(columns["original"])
    for name, shown in columns.items():
        if shown.shape != columns["original"].shape:
            raise ValueError(f"augmented[{name!r}] has shape {list(shown.shape)}, the originals "
                             f"{list(columns['original'].shape)}: one augmented image per original")
    brightest = max(shown.max() for shown in columns.values()) or 1.0
    fig, axes = plt.subplots(count, len(columns), figsize=(1.1 * len(columns), 1.1 * count + 0.3),
                             layout="constrained", squeeze=False)
    for column, (name, shown) in enumerate(columns.items()):
        axes[0, column].set_title(name, fontsize=9)
        for row in range(count):
            axes[row, column].imshow(shown[row], cmap="gray_r", vmin=0, vmax=brightest)
            axes[row, column].set_axis_off()
    if title:
        fig.suptitle(title)
    return fig
