"""Checks for the weight penalties of assignment 05: the L2 penalty and the L1 penalty's
gradients, on a dict of numpy parameters {W1, b1, W2, b2, ...} whose biases (names starting
with "b") are not penalised.

Each check runs a short list of scenarios, simplest first (one weight matrix, then an MLP of
two and of three layers with their biases), so that the first one to fail isolates the
mistake. The expected values come from torch in float64: the penalty from the parameters as
tensors, the L1 gradients from autograd. The weights hold some exact zeros, where sign(W) is
0. On a mismatch the message names the call, what came back and what was expected and — when
one of the usual wrong formulas, recomputed on the same parameters, gives the answer's values
— the mistake.

Options: `seed` changes the random parameters; `weight`, `sizes` or `params` make the check
run just that one scenario. The student's function runs through the harness, on a copy of
params (changing it fails), under the delegation watch: the L2 penalty must not run
course_lib's l2_penalty, the L1 gradients neither course_lib's l1_penalty_gradients nor
torch's autograd. Tamper-proofing as in the rest of the package: numpy, torch and the
builtins are bound at import, and the data come from a local generator.
"""
from builtins import dict, enumerate, float, int, isinstance, len, list, tuple, zip

import torch
from numpy import sign as _sign
from numpy import sqrt as _sqrt
from numpy import where as _where
from torch import enable_grad as _enable_grad
from torch import from_numpy as _from_numpy
from torch.autograd import grad as _autograd_grad

from course_lib.scratch.regularization import l1_penalty_gradients as _l1_reference
from course_lib.scratch.regularization import l2_penalty as _l2_reference

from ._trusted import default_rng, isclose, np
from .failure import CheckFailure, fail, kind_of, listing, number, wrong_kind
from .harness import Answer, exercise
from .values import check_array, check_scalar

RTOL = 1e-9  # float64 answers agree with torch to ~1e-15
DEFAULT_WEIGHT, DEFAULT_SIZES = 0.01, (4, 5, 3)

PENALTY_SCENARIOS = [  # {name: shape} of the parameters, and the weight
    ({"W1": (3, 4)}, 0.1),
    ({"W1": (5, 4), "b1": (5,), "W2": (3, 5), "b2": (3,)}, 0.01),
    ({"W1": (6, 8), "b1": (6,), "W2": (6, 6), "b2": (6,), "W3": (2, 6), "b3": (2,)}, 0.5),
]


# ------------------------------------------------------------------------ the parameters

def _params(rng, shapes):
    """Standard normal parameters of the given shapes ({name: shape}), about a fifth of each
    weight's entries (and at least the first) exactly 0, where sign(W) is 0."""
    params = {}
    for key, shape in shapes.items():
        values = np.asarray(rng.standard_normal(shape), dtype=np.float64)
        if not key.startswith("b") and values.size:
            values[rng.random(shape) < 0.2] = 0.0
            values.reshape(-1)[0] = 0.0
        params[key] = values
    return params


def _mlp_shapes(sizes):
    """{W1: (sizes[1], sizes[0]), b1: (sizes[1],), ...}: the layout of torch.nn.Linear."""
    shapes = {}
    for layer, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        shapes[f"W{layer}"] = (int(fan_out), int(fan_in))
        shapes[f"b{layer}"] = (int(fan_out),)
    return shapes


def _scenarios(seed, weight, sizes, params):
    """[(params, weight)]: the built-in scenarios, or the one the options describe."""
    rng = default_rng(int(seed))
    if weight is None and sizes is None and params is None:
        return [(_params(rng, shapes), scenario_weight)
                for shapes, scenario_weight in PENALTY_SCENARIOS]
    if params is not None:
        params = {key: np.asarray(value, dtype=np.float64).copy() for key, value in params.items()}
    else:
        params = _params(rng, _mlp_shapes(DEFAULT_SIZES if sizes is None else sizes))
    return [(params, DEFAULT_WEIGHT if weight is None else float(weight))]


def _shapes_words(params):
    """'W1 (3, 4), b1 (3,) and W2 (2, 3)'."""
    return listing([f"{key} {tuple(value.shape)}" for key, value in params.items()], limit=8)


def _weights(params):
    return [value for key, value in params.items() if not key.startswith("b")]


# ----------------------------------------------------------------------------- l2_penalty

L2_PENALTY = exercise(_l2_reference)
L2_FORMULA = ("weight / 2 * the sum of W**2 over every entry of every parameter W whose name "
              "does not start with 'b': loop over params.items() and add np.sum(W**2) for the "
              "weights.")


def _torch_l2(params, weight):
    total = _from_numpy(np.zeros(()))
    for value in _weights(params):
        tensor = _from_numpy(value)
        total = total + (tensor * tensor).sum()
    return float(weight / 2 * total)


def _sum_over(arrays, term):
    total = 0.0
    for array in arrays:
        total += float(term(array))
    return total


def _l2_mistakes(params, weight):
    """(value of a wrong formula, explanation) pairs."""
    weights = _weights(params)
    squares = _sum_over(weights, lambda W: (W * W).sum())
    pairs = [
        (weight / 2 * _sum_over(params.values(), lambda W: (W * W).sum()),
         "the biases are penalised too: only parameters whose name does not start with 'b' "
         "(the weights) count."),
        (weight * squares, "the 1/2 is missing: weight / 2 * sum W**2, whose gradient is "
                           "weight * W, what SGD's weight_decay adds."),
        (squares / 2, "weight is ignored: multiply by weight / 2."),
        (squares, "weight / 2 is missing: the penalty is weight / 2 * sum W**2."),
        (weight / 2 * float(_sqrt(squares)),
         "that is the norm, the square root of the sum of squares: L2 uses the squares "
         "themselves, sum W**2."),
        (weight / 2 * _sum_over(weights, lambda W: _sqrt((W * W).sum())),
         "that sums each matrix's norm: L2 sums the squared entries, np.sum(W**2)."),
        (weight / 2 * _sum_over(weights, lambda W: np.absolute(W).sum()),
         "that sums |W|, the L1 penalty: L2 sums the squares, W**2."),
        (weight * _sum_over(weights, lambda W: np.absolute(W).sum()),
         "that is weight * sum |W|, the L1 penalty: L2 is weight / 2 * sum W**2."),
        (weight / 2 * _sum_over(weights, lambda W: (W * W).mean()),
         "that averages each matrix's squares (np.mean): the penalty sums them (np.sum)."),
        (weight / 2 * _sum_over(weights, lambda W: W.sum() ** 2),
         "that is the square of the sum of W's entries: the penalty is the sum of the squares, "
         "np.sum(W**2)."),
    ]
    if len(weights) > 1:
        pairs += [
            (weight / 2 * float((weights[-1] * weights[-1]).sum()),
             "only the last weight matrix counts: `total = ...` inside the loop replaces the "
             "sum so far — add to it, `total += ...`, starting from 0 before the loop."),
            (weight / 2 * float((weights[0] * weights[0]).sum()),
             "only the first weight matrix counts: is there a `return` inside the loop?"),
        ]
    return pairs


def check_l2_penalty(l2_penalty, *, seed=0, weight=None, sizes=None, params=None):
    """Check `l2_penalty(params, weight)` (weight / 2 * sum of W**2 over the parameters whose
    name does not start with "b") against torch in float64. Scenarios: one weight matrix
    (weight=0.1); an MLP with two layers and biases (0.01); three layers (0.5).

    Options: `seed` (the random parameters); `weight` (default 0.01), `sizes` (layer sizes of
    an MLP, default (4, 5, 3): W1 [5, 4], b1 [5], W2 [3, 5], b2 [3]) or `params` (a dict of
    arrays, used as given) — given any of these, only that scenario runs.
    """
    __tracebackhide__ = True
    answer = Answer(L2_PENALTY, l2_penalty)
    for scenario_params, scenario_weight in _scenarios(seed, weight, sizes, params):
        call = f"{L2_PENALTY.name}(params, {number(scenario_weight)})"
        described = f"{call} with params holding {_shapes_words(scenario_params)}"
        result = answer.run(call, scenario_params, scenario_weight)
        check_scalar(described, result, _torch_l2(scenario_params, scenario_weight), rtol=RTOL,
                     atol=0.0, known_mistakes=_l2_mistakes(scenario_params, scenario_weight),
                     hint=L2_FORMULA)


# ------------------------------------------------------------------- l1_penalty_gradients

# the gradients by hand: not from autograd
L1_PENALTY_GRADIENTS = exercise(
    _l1_reference, forbidden=(torch.autograd.grad, torch.autograd.backward, torch.Tensor.backward))
L1_FORMULA = ("for a weight W, weight * np.sign(W) (0 where W == 0); for a bias b, "
              "np.zeros_like(b); in a dict with the keys of params.")


def _autograd_l1(params, weight):
    """{name: gradient of weight * sum |W| (biases excluded)} from torch's autograd."""
    gradients = {}
    with _enable_grad():
        for key, value in params.items():
            leaf = _from_numpy(value.copy()).requires_grad_()
            penalty = weight * leaf.abs().sum() if not key.startswith("b") else 0.0 * leaf.sum()
            gradients[key] = _autograd_grad(penalty, [leaf])[0].numpy()
    return gradients


def _l1_mistakes(key, value, weight):
    if key.startswith("b"):
        return [(weight * _sign(value), "the biases are penalised too: a bias gets zeros, "
                                        "np.zeros_like(b).")]
    return [
        (weight * value, "that is weight * W, the L2 penalty's gradient: the gradient of "
                         "weight * |W| is weight * sign(W)."),
        (weight * np.absolute(value), "that is weight * |W|, the penalty itself: its gradient "
                                      "is weight * sign(W)."),
        (weight / 2 * _sign(value), "the gradient is halved: the L1 penalty has no 1/2 (that "
                                    "is L2's convention), so its gradient is weight * sign(W)."),
        (_where(value >= 0, weight, -weight),
         "entries where W == 0 get +weight: sign(0) is 0, so use np.sign(W) — np.where(W >= 0, "
         "...) puts 0 on the positive side."),
        (_where(value > 0, weight, -weight),
         "entries where W == 0 get -weight: sign(0) is 0, so use np.sign(W) — np.where(W > 0, "
         "...) puts 0 on the negative side."),
    ]


def _check_l1_keys(call, result, params):
    __tracebackhide__ = True
    names = list(params)
    if not isinstance(result, dict):
        wrong_kind(f"{call} returned", result,
                   f"a dict of gradients with the keys {listing(names)} (those of params)")
    missing = [key for key in names if key not in result]
    extra = [key for key in result if key not in params]
    if missing:
        biases = [key for key in missing if key.startswith("b")]
        note = (" Biases are not penalised, but still get a gradient: zeros of their shape, "
                "np.zeros_like(b)." if biases else "")
        fail(f"{call} returned no gradient for {listing(missing)}: return one for every "
             f"parameter, with the keys of params.{note}")
    if extra:
        fail(f"{call} returned gradients for {listing(extra)}, which are not parameters: "
             f"return exactly the keys of params, {listing(names)}.")


def _nan_where_zero(described, key, actual, value, expected):
    """Fail if the gradient is nan exactly where W == 0 — W / |W| there is 0 / 0 — naming
    that division only when every other entry is right, as W / |W| makes them."""
    __tracebackhide__ = True
    zero = value == 0
    if (key.startswith("b") or not isinstance(actual, np.ndarray) or actual.shape != value.shape
            or actual.dtype.kind != "f" or not zero.any() or not np.isnan(actual[zero]).all()
            or np.isnan(actual[~zero]).any()):
        return
    problem = f"{described}: grads[{key!r}] is nan where W == 0"
    if isclose(actual[~zero], expected[~zero], rtol=RTOL, atol=1e-12).all():
        fail(f"{problem}: W / |W| divides 0 by 0 there (every other entry is right). "
             f"np.sign(W) gives the sign, and 0 where W == 0.")
    fail(f"{problem}, and other entries differ from weight * sign(W) too.", L1_FORMULA)


def check_l1_penalty_gradients(l1_penalty_gradients, *, seed=0, weight=None, sizes=None,
                               params=None):
    """Check `l1_penalty_gradients(params, weight)` (weight * sign(W) for weights, zeros for
    biases, keyed like params) against torch's autograd of weight * sum |W| in float64; the
    weights hold some exact zeros, where the gradient is 0. Scenarios: one weight matrix
    (weight=0.1); an MLP with two layers and biases (0.01); three layers (0.5).

    Options: as for `check_l2_penalty` — `seed`; `weight`, `sizes` or `params`.
    """
    __tracebackhide__ = True
    answer = Answer(L1_PENALTY_GRADIENTS, l1_penalty_gradients)
    for scenario_params, scenario_weight in _scenarios(seed, weight, sizes, params):
        call = f"{L1_PENALTY_GRADIENTS.name}(params, {number(scenario_weight)})"
        described = f"{call}, params holding {_shapes_words(scenario_params)}"
        result = answer.run(call, scenario_params, scenario_weight)
        _check_l1_keys(described, result, scenario_params)
        expected = _autograd_l1(scenario_params, scenario_weight)
        for key, value in scenario_params.items():
            actual = result[key]
            if isinstance(actual, (int, float, np.number)) and value.ndim:
                fail(f"{described}: grads[{key!r}] is {kind_of(actual)}, but an array of shape "
                     f"{value.shape} is expected: give every parameter a gradient of its own "
                     f"shape (np.zeros_like(b) for a bias).")
            _nan_where_zero(described, key, actual, value, expected[key])
            try:
                check_array(f"grads[{key!r}]", actual, expected[key], rtol=RTOL, atol=1e-12,
                            dtype=value.dtype, factor_hints={"weight": scenario_weight},
                            known_mistakes=_l1_mistakes(key, value, scenario_weight),
                            hint=L1_FORMULA)
            except CheckFailure as failure:
                raise CheckFailure(f"{described}: {failure.message}") from None
