"""Images: digits from the dataset and the weights of a linear model over their pixels."""
import matplotlib.pyplot as plt
import numpy as np

from ._axes import _axes


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
