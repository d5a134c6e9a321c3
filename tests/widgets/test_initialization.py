import re

import numpy as np
import pytest
import torch

from course_lib import widgets
from course_lib.widgets.initialization import _probe
from tests.strategies import SEEDS, random_array


@pytest.fixture(scope="module")
def digits():
    """MNIST-shaped data: 300 "images" of 784 pixels in [0, 1], labels 0..9."""
    rng = np.random.default_rng(0)
    return rng.random((300, 784)).astype(np.float32), rng.integers(0, 10, 300)


@pytest.fixture
def init_panel(digits):
    return widgets.init_explorer(*digits)


def line_labels(ax):
    return [line.get_label() for line in ax.get_lines()]


def test_init_explorer_is_exported():
    assert {"InitExplorer", "init_explorer"} <= set(widgets.__all__)


def test_the_first_view_shows_both_panels_and_a_summary(init_panel):
    assert bytes(init_panel.image.value).startswith(b"\x89PNG")
    assert "initial loss" in init_panel.summary.value
    assert "ln 10 = 2.303" in init_panel.summary.value
    assert "verdict" in init_panel.summary.value
    forward, backward = init_panel.figure.axes[:2]
    assert forward.get_yscale() == backward.get_yscale() == "log"
    assert len(init_panel.result.activation_stds) == len(init_panel.result.gradient_stds) == 10
    # the first view has nothing to compare with
    assert not any(label.startswith("before") for label in line_labels(forward))


@pytest.mark.parametrize(("control", "value"), [
    ("scheme", widgets.KAIMING),
    ("sigma", 0.1),
    ("activation", "tanh"),
    ("depth", 12),
    ("width", 128),
])
def test_every_control_changes_the_figure_and_the_summary(init_panel, control, value):
    image, summary = init_panel.image.value, init_panel.summary.value

    getattr(init_panel, control).value = value

    assert init_panel.image.value != image
    assert init_panel.summary.value != summary


def test_depth_and_width_shape_the_network(init_panel):
    init_panel.depth.value = 13
    init_panel.width.value = 64

    assert len(init_panel.result.activation_stds) == 13
    assert "n = 64" in init_panel.summary.value


def test_small_normal_weights_make_the_signal_vanish_as_the_theory_says(digits):
    panel = widgets.init_explorer(*digits, scheme=widgets.NORMAL, sigma=0.01,
                                  activation="ReLU", depth=10, width=256)

    assert panel.verdict == "vanishing"
    assert "vanishing" in panel.summary.value
    # sqrt(256 * 0.01² / 2) = 0.113 per layer, measured and predicted
    assert "×0.113" in panel.summary.value
    stds = panel.result.activation_stds
    np.testing.assert_allclose((stds[-1] / stds[0]) ** (1 / 9), 0.113, rtol=0.1)
    assert panel.result.loss == pytest.approx(np.log(10), abs=1e-3)


def test_kaiming_keeps_a_relu_network_stable(digits):
    panel = widgets.init_explorer(*digits, scheme=widgets.KAIMING, activation="ReLU")

    assert panel.verdict == "stable"
    assert "stable" in panel.summary.value
    # the theory's factor per layer: sqrt(n * (2 / n) / 2) = 1
    assert re.search(r"theory [^<]*: ×1(?![\d.])", panel.summary.value)


def test_xavier_keeps_a_tanh_network_stable_but_not_a_relu_one(digits):
    panel = widgets.init_explorer(*digits, scheme=widgets.XAVIER, activation="tanh")

    assert panel.verdict == "stable"

    panel.activation.value = "ReLU"

    assert "×0.707" in panel.summary.value  # halved variance per ReLU layer
    assert "deeper network would lose it" in panel.summary.value
    panel.depth.value = 50
    assert panel.verdict == "vanishing"


def test_orthogonal_keeps_a_relu_network_stable(digits):
    panel = widgets.init_explorer(*digits, scheme=widgets.ORTHOGONAL, activation="ReLU")

    assert panel.verdict == "stable"
    assert "gain √2" in line_labels(panel.figure.axes[0])[-1]


def test_sigma_is_enabled_only_for_the_normal_scheme(init_panel):
    assert not init_panel.sigma.disabled

    for scheme in (widgets.XAVIER, widgets.KAIMING, widgets.ORTHOGONAL):
        init_panel.scheme.value = scheme
        assert init_panel.sigma.disabled

    init_panel.scheme.value = widgets.NORMAL
    assert not init_panel.sigma.disabled


def test_sigma_moved_while_it_does_not_apply_changes_nothing(init_panel):
    init_panel.scheme.value = widgets.KAIMING
    image, result = init_panel.image.value, init_panel.result

    init_panel.sigma.value = 0.5

    assert init_panel.image.value == image
    assert init_panel.result is result


def test_the_previous_setting_stays_in_grey(init_panel):
    init_panel.scheme.value = widgets.KAIMING

    for ax in init_panel.figure.axes[:2]:
        before = [line for line in ax.get_lines() if line.get_label().startswith("before: ")]
        now = [line for line in ax.get_lines() if line.get_label().startswith("now: ")]
        assert len(before) == len(now) == 1
        assert "N(0, 0.01²), ReLU, depth 10, width 256" in before[0].get_label()
        assert before[0].get_color() == "0.7"
        assert now[0].get_color() != "0.7"
        assert "Kaiming normal (fan_in)" in now[0].get_label()


@pytest.mark.filterwarnings("error")  # an overflow is a result here, not a numpy warning
def test_huge_weights_in_a_deep_network_report_the_overflow_without_crashing(digits):
    panel = widgets.init_explorer(*digits, scheme=widgets.NORMAL, sigma=1.0, depth=50)

    assert panel.verdict == "exploding"
    assert "exploded (overflow)" in panel.summary.value
    assert not np.isfinite(panel.result.activation_stds[-1])
    assert bytes(panel.image.value).startswith(b"\x89PNG")
    texts = [text.get_text() for text in panel.figure.axes[0].texts]
    assert any("inf/nan from layer" in text for text in texts)


def test_huge_weights_in_a_shallow_network_explode_without_overflow(digits):
    panel = widgets.init_explorer(*digits, scheme=widgets.NORMAL, sigma=1.0, depth=10)

    assert panel.verdict == "exploding"
    assert np.isfinite(panel.result.activation_stds).all()
    assert "far above ln 10" in panel.summary.value


def test_a_deeper_network_shares_its_first_layers(digits):
    shallow = widgets.init_explorer(*digits, scheme=widgets.KAIMING, depth=10)
    deep = widgets.init_explorer(*digits, scheme=widgets.KAIMING, depth=11)

    np.testing.assert_array_equal(shallow.result.activation_stds[:9],
                                  deep.result.activation_stds[:9])


def test_going_back_to_a_setting_gives_the_same_curves(init_panel):
    first = init_panel.result

    init_panel.depth.value = 20
    init_panel.depth.value = 10

    np.testing.assert_array_equal(init_panel.result.activation_stds, first.activation_stds)
    np.testing.assert_array_equal(init_panel.result.gradient_stds, first.gradient_stds)


def torch_stds(params, input, target, activation):
    """The probe's statistics computed by torch autograd: the oracle."""
    weights = [torch.tensor(params[f"W{layer}"], requires_grad=True)
               for layer in range(1, len(params) // 2 + 1)]
    signal, pre_activations = torch.from_numpy(input), []
    for layer, weight in enumerate(weights, start=1):
        signal = signal @ weight.T + torch.from_numpy(params[f"b{layer}"])
        pre_activations.append(signal.detach())
        if layer < len(weights):
            signal = torch.relu(signal) if activation == "ReLU" else torch.tanh(signal)
    loss = torch.nn.functional.cross_entropy(signal, torch.from_numpy(target))
    loss.backward()
    return (loss.item(), [z.std(correction=0).item() for z in pre_activations],
            [weight.grad.std(correction=0).item() for weight in weights])


@pytest.mark.parametrize("activation", ["ReLU", "tanh"])
@pytest.mark.parametrize("seed", SEEDS)
def test_the_probe_matches_torch_autograd(activation, seed):
    rng = np.random.default_rng(seed)
    sizes = [int(size) for size in rng.integers(2, 9, size=int(rng.integers(3, 6)))]
    params = {}
    for layer, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        params[f"W{layer}"] = random_array(rng, (fan_out, fan_in))
        params[f"b{layer}"] = random_array(rng, fan_out)
    input = random_array(rng, (7, sizes[0]))
    target = rng.integers(0, sizes[-1], 7)

    probe = _probe(params, input, target, activation)

    loss, activation_stds, gradient_stds = torch_stds(params, input, target, activation)
    assert probe.loss == pytest.approx(loss, rel=1e-10)
    np.testing.assert_allclose(probe.activation_stds, activation_stds, rtol=1e-10)
    np.testing.assert_allclose(probe.gradient_stds, gradient_stds, rtol=1e-10)


def test_init_explorer_displays_as_its_widget(init_panel):
    bundle = init_panel._repr_mimebundle_()
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == init_panel.widget.model_id
