"""Assignment 02: checking gradients, and their spread layer by layer at initialisation."""
import matplotlib.pyplot as plt
import numpy as np

from ._axes import _axes


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
