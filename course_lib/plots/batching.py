"""Assignment 01: how a dataset is cut into mini-batches, and what the batch size costs."""
import math

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import BoundaryNorm, ListedColormap

from ._axes import EPOCH_COLOR, ITERATION_COLOR, _axes


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


def plot_batch_size_sweep(batch_sizes, updates, seconds_per_epoch, accuracy, *, epochs=None):
    """A measured batch-size sweep in three panels sharing a log2 batch-size axis:
    optimizer steps taken, wall time per epoch, and final validation accuracy (fractions in
    [0, 1], shown in percent). `accuracy` holds one value per batch size, or one row per
    seed ([seeds, batch sizes]): then the panel shows the mean with error bars of ± one
    standard deviation over the seeds. The accuracy axis spans the measured values, not
    0-100 %, and its label says so. Returns the Figure."""
    batch_sizes = np.asarray(batch_sizes)
    runs = 100 * np.atleast_2d(np.asarray(accuracy, dtype=float))
    accuracy_label = "validation accuracy (%)"
    if len(runs) > 1:
        accuracy_label += f"\nmean ± std over {len(runs)} seeds"
    columns = [
        (np.asarray(updates), None, "optimizer steps (total)", "log", "{:,.0f}"),
        (np.asarray(seconds_per_epoch, dtype=float), None, "wall time per epoch (s)", "linear", "{:.2f}"),
        (runs.mean(axis=0), runs.std(axis=0) if len(runs) > 1 else None,
         accuracy_label + " (axis not from 0)", "linear", "{:.1f}"),
    ]
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8), layout="constrained")
    for ax, (values, spread, label, yscale, fmt) in zip(axes, columns):
        ax.errorbar(batch_sizes, values, yerr=spread, fmt="o-", color=ITERATION_COLOR, lw=2, capsize=4)
        ax.set_xscale("log", base=2)
        ax.set_xticks(batch_sizes, [str(b) for b in batch_sizes])
        ax.minorticks_off()
        ax.set_yscale(yscale)
        ax.set_xlabel("batch size")
        ax.set_ylabel(label)
        ax.grid(True, alpha=0.3)
        for b, v in zip(batch_sizes, values):
            ax.annotate(fmt.format(v), (b, v), textcoords="offset points", xytext=(8, 7),
                        ha="left", fontsize=8)
        ax.margins(x=0.12, y=0.18)
    if epochs is not None:
        fig.suptitle(f"every run: {epochs} epoch{'s' if epochs != 1 else ''} over the same data")
    return fig
