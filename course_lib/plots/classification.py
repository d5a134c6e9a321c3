"""Where a classifier's mistakes go, and whether its confidence can be trusted."""
import matplotlib.pyplot as plt
import numpy as np

from ..metrics import calibration_bins, expected_calibration_error
from ._axes import _axes
from .images import plot_digits


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


def plot_reliability_diagram(confidences, correct, n_bins=15, *, ax=None, title=None):
    """A reliability diagram (Guo et al. 2017): per equal-width confidence bin, a bar up to
    the fraction of its samples predicted right, the gap between that and the bin's mean
    confidence shaded red, and the bin's sample count above it; a calibrated model's bars
    reach the diagonal. The title gives the expected calibration error. Arguments as for
    `metrics.calibration_bins` (`confidences`: each sample's probability of its predicted
    class; `correct`: whether that prediction is right); empty bins draw no bar."""
    bins = calibration_bins(confidences, correct, n_bins)
    ece = expected_calibration_error(confidences, correct, n_bins)
    filled = bins.counts > 0
    lefts, width = bins.edges[:-1][filled], 1 / n_bins
    accuracy, confidence = bins.accuracy[filled], bins.confidence[filled]
    ax = _axes(ax, (5.2, 5.0))
    ax.bar(lefts, accuracy, width, align="edge", color="tab:blue", edgecolor="black", linewidth=0.5,
           label="accuracy of the bin")
    ax.bar(lefts, confidence - accuracy, width, bottom=accuracy, align="edge", color="tab:red",
           alpha=0.3, edgecolor="tab:red", hatch="//", label="gap to its mean confidence")
    ax.plot([0, 1], [0, 1], "--", color="gray", label="perfect calibration")
    for left, count, top in zip(lefts, bins.counts[filled], np.maximum(accuracy, confidence)):
        ax.text(left + width / 2, top + 0.015, f"{count}", ha="center", va="bottom", fontsize=7,
                rotation=90 if n_bins > 10 else 0)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.15)  # room for the counts above a full bar
    ax.set_xlabel("confidence (probability of the predicted class)")
    ax.set_ylabel("accuracy")
    ax.legend(loc="upper left", fontsize=8)
    ece_words = f"ECE {100 * ece:.2f}% ({n_bins} bins)"
    ax.set_title(f"{title}: {ece_words}" if title else ece_words)
    return ax


def plot_most_confident_mistakes(images, labels, probabilities, k=16, *, columns=8):
    """A grid of the `k` misclassified images the model was surest of, most confident first,
    each titled "true → predicted, confidence". `images` [N, H, W] or [N, 1, H, W], `labels`
    [N] class indices, `probabilities` [N, C] (softmax of the logits), as numpy arrays or CPU
    tensors. Fewer than k mistakes show them all. Returns the Figure."""
    images, labels, probabilities = np.asarray(images), np.asarray(labels), np.asarray(probabilities)
    if probabilities.ndim != 2 or len(probabilities) != len(labels) or len(images) != len(labels):
        raise ValueError(f"expected images [N, ...], labels [N] and probabilities [N, C] of one N, got shapes "
                         f"{images.shape}, {labels.shape} and {probabilities.shape}")
    if not np.allclose(probabilities.sum(axis=1), 1, atol=1e-3) or probabilities.min() < 0:
        raise ValueError("probabilities must be rows that sum to 1: pass softmax(logits, dim=1), not the logits")
    if images.ndim == 4 and images.shape[1] == 1:
        images = images[:, 0]
    predicted, confidence = probabilities.argmax(axis=1), probabilities.max(axis=1)
    mistakes = np.flatnonzero(predicted != labels)
    shown = mistakes[np.argsort(-confidence[mistakes], kind="stable")][:k]
    if len(shown) == 0:
        fig = plt.figure(figsize=(4, 1))
        fig.text(0.5, 0.5, "no mistakes: every image is classified right", ha="center", va="center")
        return fig
    titles = [f"{labels[i]} → {predicted[i]}, {confidence[i]:.3f}" for i in shown]
    fig = plot_digits(images[shown], titles, columns=columns)
    fig.suptitle(f"the {len(shown)} most confident mistakes of {len(mistakes)} (true → predicted, confidence)",
                 fontsize=10)
    return fig
