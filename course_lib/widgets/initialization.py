"""Assignment 02: an initialisation scheme, activation, depth and width as controls, the
spread of a deep network's signal and gradients layer by layer as the result."""
import math
from dataclasses import dataclass
from functools import partial
from typing import NamedTuple

import ipywidgets as widgets
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ..plots.gradients import plot_layer_statistics
from ..scratch.backward import cross_entropy_backward, linear_backward
from ..scratch.functional import cross_entropy, linear
from ..scratch.init import calculate_gain, kaiming_normal_, normal_, orthogonal_, xavier_normal_
from ..scratch.mlp import mlp_backward, mlp_forward
from ._figure import PNG_DPI, render_png


NORMAL = "N(0, σ²)"
XAVIER = "Xavier normal"
KAIMING = "Kaiming normal (fan_in)"
ORTHOGONAL = "orthogonal (gain √2 for ReLU, 1 for tanh)"
INIT_SCHEMES = (NORMAL, XAVIER, KAIMING, ORTHOGONAL)
NONLINEARITIES = {"ReLU": "relu", "tanh": "tanh"}  # control label -> init's nonlinearity
WIDTHS = (32, 64, 128, 256, 512)
# How far the spread may drift between the first and the last layer (in either direction)
# before the signal counts as vanished or exploded.
VANISHED, EXPLODED = 1e-3, 1e3
# A per-layer factor outside this band is worth a warning even when the spread survives
# the depth shown: a deeper network would lose it.
STEADY_FACTORS = (0.85, 1 / 0.85)
VERDICT_COLORS = {"stable": "green", "vanishing": "crimson", "exploding": "crimson"}


class InitSettings(NamedTuple):
    """What decides a network's weights and its probe; sigma is None unless it applies."""
    scheme: str
    sigma: float | None
    activation: str
    depth: int
    width: int


def _orthogonal_gain(nonlinearity):
    # ReLU halves the signal's second moment and sqrt(2) restores it; tanh is the identity
    # near 0, where an orthogonal matrix already keeps the signal's length exactly.
    return calculate_gain("relu") if nonlinearity == "relu" else 1


def _weight_init(settings):
    """The `init` function, arguments bound, that draws the weights of `settings`' scheme."""
    nonlinearity = NONLINEARITIES[settings.activation]
    if settings.scheme == NORMAL:
        return partial(normal_, std=settings.sigma)
    if settings.scheme == XAVIER:
        return xavier_normal_  # gain 1: right for tanh, and a factor 2 short per ReLU layer
    if settings.scheme == KAIMING:
        return partial(kaiming_normal_, nonlinearity=nonlinearity)
    return partial(orthogonal_, gain=_orthogonal_gain(nonlinearity))


def _weight_variance(settings, fan_in, fan_out):
    """Var(W) of one weight entry as the scheme prescribes it: the input of the theory."""
    nonlinearity = NONLINEARITIES[settings.activation]
    if settings.scheme == NORMAL:
        return settings.sigma**2
    if settings.scheme == XAVIER:
        return 2 / (fan_in + fan_out)
    if settings.scheme == KAIMING:
        return calculate_gain(nonlinearity) ** 2 / fan_in
    # orthonormal rows (or columns, whichever are fewer) of length gain over max(fan) entries
    return _orthogonal_gain(nonlinearity) ** 2 / max(fan_in, fan_out)


def _variance_formula(settings, n):
    """Var(W) of a hidden n × n layer, as the scheme's formula and its value."""
    variance = _weight_variance(settings, n, n)
    formula = {NORMAL: "σ²", XAVIER: "2/(n_in + n_out)", KAIMING: "gain²/n_in",
               ORTHOGONAL: "gain²/n"}[settings.scheme]
    return f"{formula} = {variance:.3g}"


def _layer_sizes(n_inputs, settings, classes):
    return [n_inputs] + [settings.width] * (settings.depth - 1) + [classes]


def _tanh_forward(params, input):
    """`mlp_forward` with tanh in place of ReLU: (logits, [(a_{l-1}, z_l) per layer])."""
    layers = len(params) // 2
    cache = []
    activation = input
    for layer in range(1, layers + 1):
        pre_activation = linear(activation, params[f"W{layer}"], params[f"b{layer}"])
        cache.append((activation, pre_activation))
        activation = np.tanh(pre_activation) if layer < layers else pre_activation
    return activation, cache


def _tanh_backward(params, cache, grad_logits):
    """`mlp_backward` for `_tanh_forward`'s network, gradients keyed like `params`."""
    layers = len(params) // 2
    grads = {}
    grad_pre_activation = grad_logits
    for layer in range(layers, 1, -1):
        layer_input, _ = cache[layer - 1]
        grad_input, grads[f"W{layer}"], grads[f"b{layer}"] = linear_backward(
            grad_pre_activation, layer_input, params[f"W{layer}"])
        # layer_input is tanh(z_{l-1}), and tanh' = 1 - tanh²: no need to keep z_{l-1}
        grad_pre_activation = grad_input * (1 - layer_input * layer_input)
    # as mlp_backward: the gradient with respect to the data would be wasted work
    grads["W1"], grads["b1"] = grad_pre_activation.T @ cache[0][0], grad_pre_activation.sum(axis=0)
    return grads


def _spread(array):
    # accumulated in float64: the squares of float32 values beyond 1e19 would overflow
    return float(np.std(array, dtype=np.float64))


@dataclass(frozen=True)
class LayerProbe:
    """One forward and backward pass of the probe batch, per layer l = 1..L."""
    loss: float  # mean cross-entropy at initialisation
    activation_stds: np.ndarray  # std of the pre-activations z_l (the last: the logits)
    gradient_stds: np.ndarray  # std of dloss/dW_l


def _probe(params, input, target, activation):
    """Run `params` (an MLP as in `scratch.mlp`, ReLU or tanh between its layers) forward
    and backward on one batch and measure the spread of every layer's signal and gradient.

    An exploding network overflows float32 to inf and then nan: that is a result here, not
    an accident, so numpy is not asked to warn about it.
    """
    forward, backward = ((mlp_forward, mlp_backward) if activation == "ReLU"
                         else (_tanh_forward, _tanh_backward))
    with np.errstate(over="ignore", invalid="ignore"):
        logits, cache = forward(params, input)
        loss = float(cross_entropy(logits, target))
        grads = backward(params, cache, cross_entropy_backward(logits, target))
        activation_stds = np.array([_spread(pre_activation) for _, pre_activation in cache])
        gradient_stds = np.array([_spread(grads[f"W{layer}"])
                                  for layer in range(1, len(cache) + 1)])
    return LayerProbe(loss, activation_stds, gradient_stds)


def _ratio(numerator, denominator):
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.float64(numerator) / denominator)


def _factor_per_layer(stds):
    """Geometric mean of the layer-to-layer ratios of `stds`: (last / first)^(1/steps)."""
    return _ratio(stds[-1], stds[0]) ** (1 / (len(stds) - 1))


def _first_non_finite(values):
    return int(np.flatnonzero(~np.isfinite(values))[0]) + 1


def _verdict(probe):
    """("vanishing" | "exploding" | "stable", the reason in words) for one probe."""
    z, g = probe.activation_stds, probe.gradient_stds
    if not np.isfinite(z).all():
        return "exploding", (f"exploded (overflow): from layer {_first_non_finite(z)} on the "
                             f"pre-activations are beyond float32's largest number "
                             f"{np.finfo(np.float32).max:.1e} (inf, then nan)")
    if not (np.isfinite(g).all() and math.isfinite(probe.loss)):
        return "exploding", ("exploded (overflow): the loss or the gradients went beyond "
                             f"float32's largest number {np.finfo(np.float32).max:.1e}")
    forward = _ratio(z[-1], z[0])
    if not VANISHED <= forward <= EXPLODED:  # nan (0 / 0) too: nothing came through
        word = "exploding" if forward > EXPLODED else "vanishing"
        return word, f"the spread of the logits is {forward:.1e} × that of the first layer"
    backward = _ratio(g[0], g[-1])
    if not VANISHED <= backward <= EXPLODED:
        word = "exploding" if backward > EXPLODED else "vanishing"
        return word, (f"the signal survives, but the gradients do not: the first layer's "
                      f"weight gradient has {backward:.1e} × the spread of the last layer's")
    reason = f"the spread of the logits is {forward:.2g} × that of the first layer"
    factor = _factor_per_layer(z)
    if not STEADY_FACTORS[0] <= factor <= STEADY_FACTORS[1]:
        reason += (f" — but at ×{factor:.2f} per layer a deeper network would "
                   f"{'lose' if factor < 1 else 'blow up'} it")
    return "stable", reason


def _describe_loss(loss, classes):
    uniform = math.log(classes)
    if not math.isfinite(loss):
        return f"{loss} — the logits overflowed"
    if abs(loss - uniform) < 0.05 * uniform:
        return (f"{loss:.3f} ≈ ln {classes} = {uniform:.3f}: every class about equally likely, "
                f"as it should be before training")
    if loss > 2 * uniform:
        return (f"{loss:.3g}, far above ln {classes} = {uniform:.3f} (a uniform guess): huge "
                f"logits make confident, mostly wrong guesses")
    return f"{loss:.3f} (ln {classes} = {uniform:.3f} would be a uniform guess)"


class InitExplorer:
    """Initialisation scheme, activation, depth and width as controls; the spread of a deep
    network's pre-activations and weight gradients, layer by layer, updates on every change.

    The network is [X.shape[1]] + [width] * (depth - 1) + [classes] in float32, biases
    zero, weights drawn by the `scratch.init` function of the scheme; layer l draws from
    `np.random.default_rng((seed, l))`, so a deeper network shares its first layers with a
    shallower one. One forward and backward pass (mean cross-entropy) on the first
    `probe_size` rows of `X` with class indices `y` gives the curves, the initial loss, the
    measured per-layer factor of the spread next to the theory's, and a verdict. The
    previous setting's curves stay on the figure in grey for comparison.
    """

    def __init__(self, X, y, *, probe_size=256, classes=10, seed=0, scheme=NORMAL, sigma=0.01,
                 activation="ReLU", depth=10, width=256):
        X = np.asarray(X)
        probe_size = int(min(probe_size, len(X)))
        self.input = X[:probe_size].reshape(probe_size, -1).astype(np.float32)
        self.target = np.asarray(y)[:probe_size].astype(np.int64)
        self.classes, self.seed = classes, seed
        self.scheme = widgets.Dropdown(options=INIT_SCHEMES, value=scheme, description="scheme")
        self.sigma = widgets.FloatLogSlider(
            value=sigma, base=10, min=-3, max=0, step=0.1, description="σ",
            readout_format=".3g", continuous_update=False)
        self.activation = widgets.ToggleButtons(options=tuple(NONLINEARITIES), value=activation,
                                                description="activation")
        self.depth = widgets.IntSlider(value=depth, min=2, max=50, description="depth L",
                                       continuous_update=False)
        self.width = widgets.SelectionSlider(options=WIDTHS, value=width, description="width n",
                                             continuous_update=False)
        for control in (self.scheme, self.sigma, self.activation, self.depth, self.width):
            control.style.description_width = "70px"
        self.scheme.layout.width = "390px"
        self.activation.style.button_width = "60px"
        self.image = widgets.Image(format="png")
        self.summary = widgets.HTML()
        self.widget = widgets.VBox([
            widgets.HBox([widgets.VBox([self.scheme, self.sigma]),
                          widgets.VBox([self.activation, self.depth, self.width])]),
            self.image,
            self.summary,
        ])
        self.figure = Figure(figsize=(10, 4.2), dpi=PNG_DPI)
        # A canvas of its own (savefig would make a new one each time), so the renderer
        # and its cache of typeset tick labels last from one update to the next.
        FigureCanvasAgg(self.figure)
        self.result = None  # the latest LayerProbe
        self.verdict = None  # "vanishing", "exploding" or "stable"
        self._previous = None  # (label, LayerProbe) of the setting before
        self._shown = None  # the InitSettings of the current result
        # The weights of the networks shown now and just before, by what decides them, so
        # that moving the depth, or going back to the setting before, redraws few of them.
        self._weights, self._weights_before = {}, {}
        for control in (self.scheme, self.sigma, self.activation, self.depth, self.width):
            control.observe(self._on_change, names="value")
        self.update()

    def settings(self):
        scheme = self.scheme.value
        return InitSettings(scheme, self.sigma.value if scheme == NORMAL else None,
                            self.activation.value, self.depth.value, self.width.value)

    def _label(self, settings):
        scheme = f"N(0, {settings.sigma:.3g}²)" if settings.scheme == NORMAL else settings.scheme
        if settings.scheme == ORTHOGONAL:
            gain = _orthogonal_gain(NONLINEARITIES[settings.activation])
            scheme = f"orthogonal (gain {'√2' if gain != 1 else '1'})"
        return f"{scheme}, {settings.activation}, depth {settings.depth}, width {settings.width}"

    def _on_change(self, change):
        self.update()

    def _network(self, settings):
        """The MLP's params for `settings`, drawing only the weights not drawn already."""
        weight_init = _weight_init(settings)
        # Only Kaiming's and orthogonal's weights depend on the activation (via their gain).
        nonlinearity = (settings.activation if settings.scheme in (KAIMING, ORTHOGONAL)
                        else None)
        sizes = _layer_sizes(self.input.shape[1], settings, self.classes)
        params, weights = {}, {}
        for layer, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
            key = (settings.scheme, settings.sigma, nonlinearity, layer, fan_in, fan_out)
            weight = self._weights.get(key)
            if weight is None:
                weight = self._weights_before.get(key)
            if weight is None:
                weight = weight_init(np.empty((fan_out, fan_in), dtype=np.float32),
                                     generator=np.random.default_rng((self.seed, layer)))
            weights[key] = params[f"W{layer}"] = weight
            params[f"b{layer}"] = np.zeros(fan_out, dtype=np.float32)
        self._weights_before, self._weights = self._weights, weights
        return params

    def update(self):
        """Rebuild the network, probe it and redraw, unless nothing that matters changed."""
        self.sigma.disabled = self.scheme.value != NORMAL
        settings = self.settings()
        if settings == self._shown:  # e.g. σ moved while another scheme is chosen
            return
        if self.result is not None:
            self._previous = (self._label(self._shown), self.result)
        self.result = _probe(self._network(settings), self.input, self.target,
                             settings.activation)
        self.verdict, reason = _verdict(self.result)
        self._shown = settings
        self.summary.value = self._describe(settings, reason)
        self._draw(settings)

    def _describe(self, settings, reason):
        """The summary under the figure, as HTML."""
        probe, n = self.result, settings.width
        sizes = _layer_sizes(self.input.shape[1], settings, self.classes)
        relu = settings.activation == "ReLU"
        halving = 2 if relu else 1
        # per step z_{l-1} -> z_l, l = 2..L: the same steps as the measured factor
        steps = [math.sqrt(fan_in * _weight_variance(settings, fan_in, fan_out) / halving)
                 for fan_in, fan_out in zip(sizes[1:-1], sizes[2:])]
        predicted = math.prod(steps) ** (1 / len(steps))
        hidden = math.sqrt(n * _weight_variance(settings, n, n) / halving)
        theory = ("theory √(n·Var(W)/2)" if relu else
                  "theory √(n·Var(W)) (tanh ≈ identity near 0, so no halving; "
                  "|tanh| ≤ 1 stops any growth)")
        theory += f" with n = {n}, Var(W) = {_variance_formula(settings, n)}: ×{hidden:.3g}"
        if abs(predicted - hidden) > 0.01 * hidden:
            theory += (f" (×{predicted:.3g} over these layers, the {self.classes}-unit output "
                       f"layer included)")
        measured = _factor_per_layer(probe.activation_stds)
        measured = f"×{measured:.3g}" if math.isfinite(measured) else "— (overflow)"
        color = VERDICT_COLORS[self.verdict]
        lines = [
            f"<b>initial loss</b> {_describe_loss(probe.loss, self.classes)}",
            f"<b>spread of the pre-activations per layer</b>: measured {measured} "
            f"(geometric mean from layer 1 to the logits); {theory}",
            f"<b>verdict: <span style='color:{color}'>{self.verdict}</span></b> — {reason}",
        ]
        return f"<div style='font-family:sans-serif;line-height:1.5'>{'<br>'.join(lines)}</div>"

    def _draw(self, settings):
        fig = self.figure
        fig.clear()
        # fixed margins: constrained layout would measure every tick label, which costs as
        # much as the rest of the drawing
        axes = fig.subplots(1, 2, gridspec_kw=dict(left=0.095, right=0.985, top=0.92,
                                                   bottom=0.21, wspace=0.3))
        if self._previous is not None:
            label, probe = self._previous
            plot_layer_statistics({f"before: {label}": _finite(probe.activation_stds)},
                                  {f"before: {label}": _finite(probe.gradient_stds)}, axes=axes)
            for ax in axes:
                for line in ax.get_lines():
                    line.set(color="0.7", zorder=1)
                ax.set_prop_cycle(None)  # so the current setting gets the first colour
        label = f"now: {self._label(settings)}"
        plot_layer_statistics({label: _finite(self.result.activation_stds)},
                              {label: _finite(self.result.gradient_stds)}, axes=axes)
        for ax, stds in zip(axes, (self.result.activation_stds, self.result.gradient_stds)):
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # up to 50 layers
            low, high = ax.get_ylim()
            if high > 1e3 * low:  # minor ticks on many decades: unlabelled clutter, slow to draw
                ax.minorticks_off()
            if not np.isfinite(stds).all():
                ax.text(0.98, 0.04, f"inf/nan from layer {_first_non_finite(stds)} on",
                        transform=ax.transAxes, ha="right", color="crimson", fontsize=10)
        # under the panels, where the long labels hide no curve
        axes[0].get_legend().remove()
        fig.legend(*axes[0].get_legend_handles_labels(), loc="lower center", ncols=2,
                   fontsize=9, frameon=False)
        self.image.value = render_png(fig)  # at the figure's own dpi: the same renderer

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


def _finite(stds):
    # inf and nan (an overflow) have no place on the axes: leave a gap from there on
    return np.where(np.isfinite(stds), stds, np.nan)


def init_explorer(X, y, **options):
    """An `InitExplorer` on `X, y` (see there for `options`); display it as a cell's value."""
    return InitExplorer(X, y, **options)
