"""Where a classifier's mistakes go."""
import numpy as np

from ._axes import _axes


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
