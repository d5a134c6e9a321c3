"""Assignment 06: transfer learning — accuracy against the number of labelled examples, one
line per way of training (a frozen pretrained base, fine-tuning, from scratch)."""
import numpy as np

from ._axes import _axes


def plot_transfer_curves(accuracy, *, ax=None, title=None):
    """`accuracy`: {method: {number of labelled examples: [accuracy per seed, as fractions]}}.
    Each method is a line through its mean over the seeds, with ± one standard deviation as
    error bars when there are several seeds, against the number of labels on a log axis."""
    ax = _axes(ax, (7, 4.2))
    for method, by_count in accuracy.items():
        counts = sorted(by_count)
        values = [100 * np.asarray(by_count[count], dtype=float) for count in counts]
        means = [value.mean() for value in values]
        spreads = [value.std(ddof=1) if len(value) > 1 else 0.0 for value in values]
        ax.errorbar(counts, means, yerr=spreads, fmt="o-", capsize=3, lw=1.6, label=method)
    ax.set_xscale("log")
    ax.set_xlabel("labelled examples of the new classes (log scale)")
    ax.set_ylabel("validation accuracy (%)")
    ax.grid(True, alpha=0.3, which="both")
    ax.legend(loc="lower right", fontsize=9)
    if title:
        ax.set_title(title)
    return ax
