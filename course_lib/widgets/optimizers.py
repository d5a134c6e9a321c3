"""Assignment 03: an optimizer, its learning rate and betas as controls, its path on a 2-D
surface (`course_lib.optim.surfaces`) and the value along it as the result."""
from typing import NamedTuple

import ipywidgets as widgets
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ..optim import SGD, Adagrad, Adam, Adamax, AdamW, RMSprop
from ..optim.surfaces import ill_conditioned_quadratic, rosenbrock, trajectory
from ..plots.optimizers import plot_trajectories, plot_values_along_trajectories
from ._figure import PNG_DPI, render_png


class OptimizerChoice(NamedTuple):
    """How a choice of the dropdown builds its optimizer: the class, fixed arguments, and
    which sliders it reads (its momentum or beta1, its beta2 or RMSprop's alpha)."""
    optimizer: type
    fixed: dict
    uses_beta1: bool
    uses_beta2: bool


OPTIMIZERS = {
    "SGD": OptimizerChoice(SGD, {}, False, False),
    "SGD + momentum": OptimizerChoice(SGD, {}, True, False),
    "Nesterov": OptimizerChoice(SGD, dict(nesterov=True), True, False),
    "RMSprop": OptimizerChoice(RMSprop, {}, False, True),
    "Adagrad": OptimizerChoice(Adagrad, {}, False, False),
    "Adam": OptimizerChoice(Adam, {}, True, True),
    "AdamW": OptimizerChoice(AdamW, {}, True, True),
    "Adamax": OptimizerChoice(Adamax, {}, True, True),
}


def default_surfaces():
    return {"ill-conditioned quadratic": ill_conditioned_quadratic(),
            "Rosenbrock": rosenbrock()}


def hyperparameters(name, lr, beta1, beta2):
    """The keyword arguments of optimizer `name` for the slider values."""
    choice = OPTIMIZERS[name]
    arguments = dict(choice.fixed, lr=lr)
    if choice.optimizer is SGD and choice.uses_beta1:
        arguments["momentum"] = beta1
    elif choice.optimizer is RMSprop:
        arguments["alpha"] = beta2
    elif choice.uses_beta1:
        arguments["betas"] = (beta1, beta2)
    return arguments


def describe(surface, path):
    """One line on how the run ended: where it got, or where it diverged."""
    steps = len(path) - 1
    if surface.diverged(path[-1]):
        return f"diverged at step {steps}: lower the learning rate"
    gap = surface(path[-1]) - surface.minimum_value
    distance = np.linalg.norm(path[-1] - surface.minimum)
    return f"after {steps} steps: f = {gap:.2g}, distance to the minimum {distance:.2g}"


class OptimizerExplorer:
    """A surface, an optimizer, its learning rate, momentum / beta1, beta2 (RMSprop's alpha)
    and the number of steps as controls; the path from the surface's start point on its
    contour map and f(x_t) − f(x*) along it update on every change, with a line saying
    how the run ended. A slider the chosen optimizer has no use for is disabled. The
    previous setting's path on the same surface stays on the figure in grey.

    `surfaces` maps a label to a `course_lib.optim.surfaces.Surface` (by default the
    ill-conditioned quadratic and Rosenbrock's function).
    """

    def __init__(self, surfaces=None, *, optimizer="SGD", lr=0.05, steps=200, beta1=0.9,
                 beta2=0.999):
        self.surfaces = default_surfaces() if surfaces is None else dict(surfaces)
        self.surface = widgets.Dropdown(options=tuple(self.surfaces), description="surface")
        self.optimizer = widgets.Dropdown(options=tuple(OPTIMIZERS), value=optimizer,
                                          description="optimizer")
        self.lr = widgets.FloatLogSlider(value=lr, base=10, min=-4, max=0.5, step=0.05,
                                         description="lr", readout_format=".3g",
                                         continuous_update=False)
        self.beta1 = widgets.FloatSlider(value=beta1, min=0.0, max=0.99, step=0.01,
                                         description="momentum / β₁", continuous_update=False)
        self.beta2 = widgets.FloatSlider(value=beta2, min=0.8, max=0.999, step=0.001,
                                         description="β₂ (RMSprop: α)", readout_format=".3f",
                                         continuous_update=False)
        self.steps = widgets.IntSlider(value=steps, min=10, max=2000, step=10,
                                       description="steps", continuous_update=False)
        controls = (self.surface, self.optimizer, self.lr, self.beta1, self.beta2, self.steps)
        for control in controls:
            control.style.description_width = "110px"
        self.surface.layout.width = self.optimizer.layout.width = "330px"
        self.summary = widgets.HTML()
        self.image = widgets.Image(format="png")
        self.widget = widgets.VBox([
            widgets.HBox([widgets.VBox([self.surface, self.optimizer, self.steps]),
                          widgets.VBox([self.lr, self.beta1, self.beta2])]),
            self.image,
            self.summary,
        ])
        self.figure = Figure(figsize=(11, 4.4), dpi=PNG_DPI)
        FigureCanvasAgg(self.figure)  # one canvas for all redraws, as InitExplorer does
        self.trajectory = None  # the latest path, float64 [k, 2]
        self.result = None  # the summary line of the latest path
        self._shown = None  # (surface label, run label, what decides the run) of the latest path
        self._previous = None  # the same and the path, of the setting before
        for control in controls:
            control.observe(self._on_change, names="value")
        self.update()

    def _label(self):
        name = self.optimizer.value
        choice = OPTIMIZERS[name]
        words = [f"{name}, lr {self.lr.value:.3g}"]
        if choice.uses_beta1:
            words.append(f"{'momentum' if choice.optimizer is SGD else 'β₁'} {self.beta1.value:g}")
        if choice.uses_beta2:
            words.append(f"{'α' if choice.optimizer is RMSprop else 'β₂'} {self.beta2.value:g}")
        return ", ".join(words)

    def _on_change(self, change):
        self.update()

    def update(self):
        """Rerun the optimizer from the surface's start point and redraw."""
        choice = OPTIMIZERS[self.optimizer.value]
        self.beta1.disabled = not choice.uses_beta1
        self.beta2.disabled = not choice.uses_beta2
        arguments = hyperparameters(self.optimizer.value, self.lr.value, self.beta1.value,
                                    self.beta2.value)
        run = (self.optimizer.value, sorted(arguments.items()), self.steps.value)
        if self._shown is not None and (self.surface.value, run) == self._shown[::2]:
            return  # e.g. beta2 moved while SGD is chosen
        if self.trajectory is not None:
            self._previous = (*self._shown, self.trajectory)
        surface = self.surfaces[self.surface.value]
        self.trajectory = trajectory(surface, choice.optimizer, self.steps.value, **arguments)
        self._shown = (self.surface.value, self._label(), run)
        self.result = describe(surface, self.trajectory)
        color = "crimson" if surface.diverged(self.trajectory[-1]) else "black"
        self.summary.value = (f"<div style='font-family:sans-serif;color:{color}'>"
                              f"<b>{self.result}</b></div>")
        self._draw(surface)

    def _draw(self, surface):
        fig = self.figure
        fig.clear()
        # fixed margins: constrained layout would measure every label on every redraw
        left, right = fig.subplots(1, 2, gridspec_kw=dict(left=0.06, right=0.985, top=0.92,
                                                          bottom=0.12, wspace=0.22))
        runs = {f"now: {self._shown[1]}": self.trajectory}
        before = self._previous is not None and self._previous[0] == self._shown[0]
        if before:
            runs = {f"before: {self._previous[1]}": self._previous[3], **runs}
        plot_trajectories(surface, runs, ax=left, levels=16)
        plot_values_along_trajectories(surface, runs, ax=right)
        if before:
            for ax in (left, right):
                previous = [line for line in ax.get_lines() if line.get_label().startswith("before")]
                previous[0].set(color="0.65", zorder=2)
                ax.legend(loc="upper right", fontsize=8)  # again, with the grey line
        self.image.value = render_png(fig)

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


def optimizer_explorer(surfaces=None, **options):
    """An `OptimizerExplorer` (see there for `options`); display it as a cell's value."""
    return OptimizerExplorer(surfaces, **options)
