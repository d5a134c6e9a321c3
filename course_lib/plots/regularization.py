"""Assignment 05: overfitting and what regularisation does about it — the gap between
training and validation, weights pulled towards zero, validation during training, runs
repeated over seeds and compared, gradient norms under clipping, and what augmentation does
to a digit.

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


def _mean_and_spread(values):
    """Mean and sample standard deviation (ddof = 1; 0 for a single value) of a sequence."""
    values = np.asarray(values, dtype=float)
    return values.mean(), values.std(ddof=1) if len(values) > 1 else 0.0


def _bar_ends(values):
    """The two ends of mean ± sd: an error bar can reach beyond the values themselves."""
    mean, spread = _mean_and_spread(values)
    return np.array([mean - spread, mean + spread])


def _seed_dots(ax, ranked, per_seed, *, baseline, chosen):
    """One row per run: each seed's value a small dot, the mean ± sd a large one with an
    error bar; the baseline's mean ± sd a grey band across all rows."""
    if baseline in per_seed:
        mean, spread = _mean_and_spread(per_seed[baseline])
        ax.axvspan(mean - spread, mean + spread, color="0.85", zorder=0,
                   label=f"{baseline}: mean ± sd")
        ax.axvline(mean, color="0.5", lw=1, zorder=0)
    for row, label in enumerate(ranked):
        values = np.asarray(per_seed[label], dtype=float)
        mean, spread = _mean_and_spread(values)
        color = BASELINE_COLOR if label == baseline else ("crimson" if label == chosen else "tab:blue")
        ax.plot(values, np.full(len(values), row), "o", ms=3.5, color=color, alpha=0.45, mfc="none")
        ax.errorbar(mean, row, xerr=spread, fmt="o", ms=6, capsize=3, color=color,
                    label=f"{label}: chosen" if label == chosen else None)
    ax.set_yticks(range(len(ranked)), ranked)
    ax.set_ylim(-0.6, len(ranked) - 0.4)
    ax.grid(True, axis="x", alpha=0.3)


def plot_seed_comparison(val_accuracy, gap=None, *, baseline="baseline", chosen=None):
    """Runs repeated over several seeds, as dot plots: left the validation accuracy, right the
    gap between training and validation accuracy (both given as fractions, {label: [one value
    per seed]}; without `gap`, the accuracy alone). Each seed is a small open dot, the mean ±
    one standard deviation over the seeds a filled dot with an error bar; rows are sorted by
    mean validation accuracy, the best on top. The baseline is black and its mean ± sd a grey
    band across the rows, so a run outside the band differs by more than the baseline's
    seed-to-seed spread; `chosen` is drawn in red, and named in the legend. The accuracy axis
    is zoomed to the runs and says so in its label, with its range; the gap axis starts at 0.
    Returns the Figure."""
    labels = list(val_accuracy)
    if gap is not None and set(gap) != set(labels):
        raise ValueError(f"val_accuracy and gap must have the same runs, got {sorted(labels)} and {sorted(gap)}")
    seeds = {len(values) for values in val_accuracy.values()}
    accuracy = {label: _percent(values) for label, values in val_accuracy.items()}
    ranked = sorted(labels, key=lambda label: accuracy[label].mean())  # drawn bottom-up: the best on top
    height = 0.42 * len(labels) + 1.6
    if gap is None:
        fig, accuracy_ax = plt.subplots(figsize=(7.5, height), layout="constrained")
    else:
        fig, (accuracy_ax, gap_ax) = plt.subplots(1, 2, figsize=(13, height), layout="constrained", sharey=True)
    _seed_dots(accuracy_ax, ranked, accuracy, baseline=baseline, chosen=chosen)
    shown = np.concatenate([values for label in labels
                            for values in (accuracy[label], _bar_ends(accuracy[label]))])
    margin = max(0.1 * (shown.max() - shown.min()), 0.2)
    low, high = shown.min() - margin, min(100.0, shown.max() + margin)
    accuracy_ax.set_xlim(low, high)
    accuracy_ax.set_xlabel(f"validation accuracy (%) — axis from {low:.1f} to {high:.1f}, not from 0")
    if gap is not None:
        gaps = {label: _percent(values) for label, values in gap.items()}
        _seed_dots(gap_ax, ranked, gaps, baseline=baseline, chosen=chosen)
        shown_gaps = np.concatenate([values for label in labels for values in (gaps[label], _bar_ends(gaps[label]))])
        gap_ax.set_xlim(min(0.0, shown_gaps.min() - 0.5), shown_gaps.max() + 0.5)
        gap_ax.axvline(0, color="gray", lw=1)
        gap_ax.set_xlabel("training − validation accuracy (percentage points)")
    if accuracy_ax.get_legend_handles_labels()[0]:
        accuracy_ax.legend(loc="lower right", fontsize=8)
    seed_words = "/".join(str(count) for count in sorted(seeds))
    fig.suptitle(f"each run over {seed_words} seeds: open dots one seed each, filled dot and bar mean ± sd",
                 fontsize=10)
    return fig


def plot_validation_curves(histories, *, key="val_accuracy", ax=None):
    """Each run's validation `key` ({label: History}) at every validation it made — every
    N optimizer steps with fit(..., validate_every=N), and at each epoch's end — against
    the optimizer step. An accuracy is drawn in percent, on an axis from 0 to 100."""
    ax = _axes(ax, (8, 4.2))
    is_accuracy = "accuracy" in key
    for label, history in histories.items():
        values = history.validation_series(key)
        ax.plot(history.validation_series("step"), _percent(values) if is_accuracy else values,
                "o-", ms=3, lw=1.4, label=label)
    if is_accuracy:
        ax.set_ylim(0, 100)
    ax.set_xlabel("iteration (optimizer step)")
    ax.set_ylabel(key.replace("val_", "validation ") + (" (%)" if is_accuracy else ""))
    ax.grid(True, alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    return ax


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
