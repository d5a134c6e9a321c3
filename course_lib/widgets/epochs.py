"""Assignment 01: dataset size, batch size, epochs and drop_last as controls, the iteration
arithmetic and a live mini-batch gradient-descent run as the result."""
import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure

from ..data.batching import iterations_per_epoch
from ..scratch.regression import logistic_regression_gradients, minibatch_gradient_descent
from ._figure import render_png


BATCH_SIZES = (1, 2, 4, 8, 16, 32, 64, 100, 128, 256, 500, 512, 1000, 1024, 2048)


def _describe(n, b, epochs, drop_last):
    """The epoch/iteration arithmetic for one setting, as HTML lines."""
    full, leftover = divmod(n, b)
    ipe = iterations_per_epoch(n, b, drop_last)
    rule = (rf"⌊N/B⌋ = ⌊{n:,}/{b:,}⌋" if drop_last else rf"⌈N/B⌉ = ⌈{n:,}/{b:,}⌉")
    lines = [f"<b>iterations per epoch</b> = {rule} = <b>{ipe:,}</b>"]
    if full == 0 and drop_last:
        lines.append(f"B &gt; N: not even one full batch of {b:,}; all {n:,} samples are dropped")
    elif leftover == 0:
        lines.append(f"{full:,} batches of {b:,}: B divides N, so drop_last changes nothing")
    elif drop_last:
        lines.append(f"{full:,} full batches of {b:,}; the last {leftover:,} samples of each "
                     f"epoch's shuffle are <b>dropped</b> (different ones every epoch)")
    else:
        lines.append(f"{full:,} full batch{'es' if full != 1 else ''} of {b:,} "
                     f"+ one last batch of {leftover:,}")
    lines.append(f"<b>total updates</b> = epochs × iterations per epoch = {epochs} × {ipe:,} "
                 f"= <b>{epochs * ipe:,}</b>")
    seen = ipe * b if drop_last else n
    lines.append(f"samples seen per epoch: {min(seen, n):,} of {n:,}")
    if ipe == 0:
        lines.append("<b style='color:crimson'>with drop_last=True and B &gt; N the model is "
                     "never updated</b>")
    return "<br>".join(lines)


class EpochExplorer:
    """Dataset size, batch size, epochs and drop_last as controls; the iteration
    arithmetic and a live mini-batch gradient-descent run update on every change.

    The run is logistic regression (`course_lib.scratch`) from zero weights on the first
    `N` rows of `X, y` (0/1 labels), with a fixed learning rate and a fixed seed, so the
    only things that change between two curves are the controls. The previous setting's
    epoch curve stays on the figure in grey for comparison.
    """

    def __init__(self, X, y, *, lr=0.2, seed=0, max_samples=2000, n_samples=1000,
                 batch_size=64, epochs=5, drop_last=False,
                 gradients=logistic_regression_gradients, loss_name="training loss (BCE)"):
        X, y = np.asarray(X), np.asarray(y)
        max_samples = int(min(max_samples, len(X)))
        self.X, self.y = X[:max_samples], y[:max_samples]
        self.lr, self.seed, self.gradients, self.loss_name = lr, seed, gradients, loss_name
        step = 10 if max_samples <= 500 else 50
        self.n_samples = widgets.IntSlider(
            value=min(n_samples, max_samples), min=min(step, max_samples), max=max_samples,
            step=step, description="dataset N", continuous_update=False)
        self.batch_size = widgets.SelectionSlider(
            options=BATCH_SIZES, value=batch_size, description="batch size B",
            continuous_update=False)
        self.epochs = widgets.IntSlider(value=epochs, min=1, max=8, description="epochs E",
                                        continuous_update=False)
        self.drop_last = widgets.Checkbox(value=drop_last, description="drop_last")
        for control in (self.n_samples, self.batch_size, self.epochs):
            control.style.description_width = "90px"
        self.summary = widgets.HTML()
        self.image = widgets.Image(format="png")
        self.widget = widgets.VBox([
            widgets.HBox([widgets.VBox([self.n_samples, self.batch_size]),
                          widgets.VBox([self.epochs, self.drop_last])]),
            self.summary,
            self.image,
        ])
        self.figure = Figure(figsize=(8, 3.6), layout="constrained")
        self.result = None  # the latest GradientDescentResult (None: no update possible)
        self._previous = None  # (label, epochs, epoch_losses) of the setting before
        for control in (self.n_samples, self.batch_size, self.epochs, self.drop_last):
            control.observe(self._on_change, names="value")
        self.update()

    def settings(self):
        return (self.n_samples.value, self.batch_size.value, self.epochs.value,
                self.drop_last.value)

    def _label(self):
        n, b, epochs, drop_last = self.settings()
        return f"N={n:,}, B={b:,}, E={epochs}" + (", drop_last" if drop_last else "")

    def _on_change(self, change):
        self.update()

    def update(self):
        """Recompute the arithmetic, rerun training and redraw."""
        if self.result is not None:
            self._previous = (self._label_shown, self.result.epoch_losses)
        n, b, epochs, drop_last = self.settings()
        self.summary.value = (f"<div style='font-family:sans-serif;line-height:1.5'>"
                              f"{_describe(n, b, epochs, drop_last)}</div>")
        if iterations_per_epoch(n, b, drop_last) == 0:
            self.result = None
        else:
            self.result = minibatch_gradient_descent(
                self.X[:n], self.y[:n], self.gradients, lr=self.lr, batch_size=b,
                epochs=epochs, rng=np.random.default_rng(self.seed), drop_last=drop_last)
        self._label_shown = self._label()
        self._draw()

    def _draw(self):
        fig = self.figure
        fig.clear()
        ax = fig.add_subplot()
        n, b, epochs, drop_last = self.settings()
        ipe = iterations_per_epoch(n, b, drop_last)
        if self._previous is not None:
            label, losses = self._previous
            ax.plot(np.arange(1, len(losses) + 1), losses, "o-", color="0.7", lw=1.5, ms=4,
                    label=f"before: {label}")
        if self.result is None:
            ax.text(0.5, 0.5, "no batches: nothing to train on", transform=ax.transAxes,
                    ha="center", va="center", color="crimson", fontsize=13)
        else:
            steps = np.arange(1, self.result.steps + 1)
            busy = self.result.steps > 2000  # thousands of lines: fainter, or they hide the rest
            ax.plot(steps / ipe, self.result.iteration_losses, color="tab:blue",
                    lw=0.4 if busy else 0.6, alpha=0.3 if busy else 0.6, label=f"each of the {self.result.steps:,} iterations")
            ax.plot(np.arange(1, epochs + 1), self.result.epoch_losses, "o-", color="tab:orange",
                    lw=2, label=f"epoch means: {self._label_shown}")
            secondary = ax.secondary_xaxis(
                "top", functions=(lambda e: e * ipe, lambda it: it / ipe))
            secondary.set_xlabel("iteration (optimizer step)")
        ax.set_xlim(0, self.epochs.max + 0.2)
        ax.set_yscale("log")
        ax.set_ylim(3e-3, 2.0)
        ax.set_xlabel("epoch")
        ax.set_ylabel(self.loss_name)
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(loc="lower left", fontsize=8)
        self.image.value = render_png(fig)

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


def epoch_explorer(X, y, **options):
    """An `EpochExplorer` on `X, y` (see there for `options`); display it as a cell's value."""
    return EpochExplorer(X, y, **options)
