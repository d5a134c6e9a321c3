"""What the figures share: the colours of the two clocks and of validation, a fresh axes
when none is given, secondary axes that convert between iterations and epochs, and the
moving average that smooths per-iteration curves."""
import matplotlib.pyplot as plt
import numpy as np


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


def _moving_average(values, window):
    values = np.asarray(values, dtype=float)
    if window <= 1 or len(values) < window:
        return np.arange(1, len(values) + 1), values
    averaged = np.convolve(values, np.ones(window) / window, mode="valid")
    return np.arange(window, len(values) + 1), averaged
