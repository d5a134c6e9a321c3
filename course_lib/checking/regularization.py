"""Checks for the regularisers of assignment 05: the L2 penalty, the L1 penalty's gradients,
inverted dropout, clipping by global norm and an early-stopping rule.

Each check runs a short list of scenarios, simplest first (one weight matrix before a whole
MLP, p = 0.5 before p = 0.2, one gradient before several, patience 0 before patience 2), so
that the first one to fail isolates the mistake. The expected values come from torch in
float64: the penalty from the parameters as tensors, the L1 gradients from autograd, the
clipped gradients from torch.nn.utils.clip_grad_norm_, dropout's zero fraction from
torch.nn.functional.dropout on the same input (its kept entries are input / (1 - p), which
the check requires entry by entry); the early stopper follows the rule of the contract
(that of course_lib.training.EarlyStopping), a few comparisons written out here. On a
mismatch the message names the call, what came back and what was expected, and — by
recomputing the usual mistakes and naming the one that reproduces the answer — the cause.

Options: `seed` changes the random data of the built-in scenarios; any other option (a
hyperparameter or a shape) makes the check run just that one scenario, the options not
given taking the signature's defaults. See each check's docstring.

Tamper-proofing as in the rest of the package: numpy, torch and the builtins are bound at
import, data come from local generators, the student's function gets copies and fails if it
changes them when it should not, and torch's clip_grad_norm_ runs with the torch functions
it looks up put back as they were at import. The student's code runs with warnings silenced
(nbgrader counts stderr as a failure): a nan or inf it produces is reported in the message.
"""
import warnings
from builtins import (
    AttributeError, Exception, NotImplementedError, TypeError,
    bool, callable, dict, enumerate, float, getattr, int, isinstance, len, list, range,
    str, tuple, type, zip,
)
from contextlib import contextmanager
from math import log as _log
from math import sqrt as _math_sqrt

import torch
from numpy import sign as _sign
from numpy import sqrt as _sqrt
from numpy import where as _where
from numpy.random import get_state as _np_global_state
from torch import Tensor as _Tensor
from torch import enable_grad as _enable_grad
from torch import equal as _torch_equal
from torch import from_numpy as _from_numpy
from torch import manual_seed as _torch_manual_seed
from torch.autograd import grad as _autograd_grad
from torch.nn.functional import dropout as _torch_dropout
from torch.nn.utils import clip_grad_norm_ as _torch_clip_grad_norm_
from torch.random import fork_rng as _fork_rng
from torch.random import get_rng_state as _torch_global_state

from ._trusted import as_index, at_import, default_rng, isclose, np, pristine
from .failure import NOT_IMPLEMENTED, CheckFailure, fail, kind_of, listing, number, wrong_kind
from .values import check_array, check_scalar

RTOL = 1e-9  # float64 answers agree with torch to ~1e-15
RTOL_FLOAT32 = 1e-5
SIGMAS = 6  # a zero fraction this many standard deviations from p is a mistake, not chance
BY_CHANCE = 1e-12  # a mask structure this unlikely for independent entries is a mistake

# What torch.nn.utils.clip_grad_norm_ looks up when it runs; a notebook may have replaced them.
_PRISTINE = (at_import(torch, ("clamp", "stack", "no_grad", "_foreach_norm", "_foreach_mul_"))
             + at_import(torch.linalg, ("vector_norm",)))


# ------------------------------------------------------------------ running the student's code

def _name(function, default):
    """The function's own name for messages, or `default` for a lambda or a partial."""
    name = getattr(function, "__name__", default)
    return name if isinstance(name, str) and name.isidentifier() and name != "<lambda>" else default


@contextmanager
def _quietly():
    """The student's code runs without printing warnings: nbgrader would count them."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        yield


def _crashed(call, error, signature):
    __tracebackhide__ = True
    if isinstance(error, NotImplementedError):
        fail(f"{call} raised NotImplementedError: {NOT_IMPLEMENTED}")
    message = f"{call} raised {type(error).__name__}: {error}"
    if isinstance(error, TypeError) and "argument" in str(error):
        message += f"\nHint: the signature is {signature}."
    raise CheckFailure(message) from error


def _run(function, call, signature, *args, **kwargs):
    """function(*args, **kwargs), quietly; a crash fails with the call and the error."""
    __tracebackhide__ = True
    try:
        with _quietly():
            return function(*args, **kwargs)
    except Exception as error:
        _crashed(call, error, signature)


def _copies(params):
    return {key: value.copy() for key, value in params.items()}


def _check_params_unchanged(call, given, originals):
    """Fail if the student's function changed the params dict or an array in it."""
    __tracebackhide__ = True
    if not isinstance(given, dict) or list(given) != list(originals):
        fail(f"{call} changed the dict params (its keys are now {listing(list(given))}, they "
             f"were {listing(list(originals))}): build a new dict for the result and leave "
             f"params as it is — the caller still trains with it.")
    for key, original in originals.items():
        value = given[key]
        if (not isinstance(value, np.ndarray) or value.shape != original.shape
                or not (value == original).all()):
            fail(f"{call} changed params[{key!r}] in place: `W **= 2`, `W *= ...` or "
                 f"`params[name] = ...` overwrites the network's parameters. Compute new "
                 f"arrays (W**2, np.sign(W)) and leave params alone.")


def _shapes_words(params):
    """'W1 (3, 4), b1 (3,) and W2 (2, 3)'."""
    return listing([f"{key} {tuple(value.shape)}" for key, value in params.items()], limit=8)


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


def _options(options, allowed, check):
    unknown = [key for key in options if key not in allowed]
    if unknown:
        raise TypeError(f"{check} takes the options {list(allowed)}, not {unknown}")


def _penalty_scenarios(default_scenarios, seed, options):
    """[(params, weight)] for the L1/L2 checks: the built-in ones, or the options' one."""
    rng = default_rng(int(seed))
    if not options:
        return [(_params(rng, shapes), weight) for shapes, weight in default_scenarios]
    if "params" in options:
        given = options["params"]
        params = {key: np.asarray(value, dtype=np.float64).copy() for key, value in given.items()}
    else:
        params = _params(rng, _mlp_shapes(options.get("sizes", (4, 5, 3))))
    return [(params, float(options.get("weight", 0.01)))]


def _weights(params):
    return [value for key, value in params.items() if not key.startswith("b")]


# ----------------------------------------------------------------------------- l2_penalty

PENALTY_SCENARIOS = [
    ({"W1": (3, 4)}, 0.1),
    ({"W1": (5, 4), "b1": (5,), "W2": (3, 5), "b2": (3,)}, 0.01),
    ({"W1": (6, 8), "b1": (6,), "W2": (6, 6), "b2": (6,), "W3": (2, 6), "b3": (2,)}, 0.5),
]
L2_SIGNATURE = "l2_penalty(params, weight)"
L2_FORMULA = ("weight / 2 * the sum of W**2 over every entry of every parameter whose name does "
              "not start with 'b': loop over params.items() and add np.sum(W**2) for the weights.")


def _torch_l2(params, weight):
    total = _from_numpy(np.zeros(()))
    for value in _weights(params):
        tensor = _from_numpy(value)
        total = total + (tensor * tensor).sum()
    return float(weight / 2 * total)


def _l2_mistakes(params, weight):
    """(value of a wrong formula, explanation) pairs."""
    weights = _weights(params)
    everything = list(params.values())

    def total(arrays, term):
        result = 0.0
        for array in arrays:
            result += float(term(array))
        return result

    squares = total(weights, lambda W: (W * W).sum())
    pairs = [
        (weight / 2 * total(everything, lambda W: (W * W).sum()),
         "the biases are penalised too: only parameters whose name does not start with 'b' "
         "(the weights) count."),
        (weight * squares, "the 1/2 is missing: weight / 2 * sum W**2, whose gradient is "
                           "weight * W, what SGD's weight_decay adds."),
        (squares / 2, "weight is ignored: multiply by weight / 2."),
        (squares, "weight / 2 is missing: the penalty is weight / 2 * sum W**2."),
        (weight / 2 * float(_sqrt(squares)),
         "that is the norm, the square root of the sum of squares: L2 uses the squares "
         "themselves, sum W**2."),
        (weight / 2 * total(weights, lambda W: _sqrt((W * W).sum())),
         "that sums each matrix's norm: L2 sums the squared entries, np.sum(W**2)."),
        (weight / 2 * total(weights, lambda W: np.absolute(W).sum()),
         "that sums |W|, the L1 penalty: L2 sums the squares, W**2."),
        (weight * total(weights, lambda W: np.absolute(W).sum()),
         "that is weight * sum |W|, the L1 penalty: L2 is weight / 2 * sum W**2."),
        (weight / 2 * total(weights, lambda W: (W * W).mean()),
         "that averages each matrix's squares (np.mean): the penalty sums them (np.sum)."),
        (weight / 2 * total(weights, lambda W: W.sum() ** 2),
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


def check_l2_penalty(l2_penalty, *, seed=0, **options):
    """Check `l2_penalty(params, weight)` (weight / 2 * sum of W**2 over the parameters whose
    name does not start with "b") against torch in float64. Scenarios: one weight matrix
    (weight=0.1); an MLP with two layers and biases (0.01); three layers (0.5).

    Options: `seed` (the random parameters); `weight` (default 0.01), `sizes` (layer sizes of
    an MLP, default (4, 5, 3): W1 [5, 4], b1 [5], W2 [3, 5], b2 [3]) or `params` (a dict of
    arrays, used as given) — given any of these, only that scenario runs.
    """
    __tracebackhide__ = True
    _options(options, ("weight", "sizes", "params"), "check_l2_penalty")
    name = _name(l2_penalty, "l2_penalty")
    for params, weight in _penalty_scenarios(PENALTY_SCENARIOS, seed, options):
        call = f"{name}(params, {number(weight)})"
        described = f"{call} with params holding {_shapes_words(params)}"
        given = _copies(params)
        result = _run(l2_penalty, call, L2_SIGNATURE, given, weight)
        _check_params_unchanged(call, given, params)
        check_scalar(described, result, _torch_l2(params, weight), rtol=RTOL, atol=0.0,
                     known_mistakes=_l2_mistakes(params, weight), hint=L2_FORMULA)


# ------------------------------------------------------------------- l1_penalty_gradients

L1_SIGNATURE = "l1_penalty_gradients(params, weight)"
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
        wrong_kind(f"{call} returned", result, f"a dict of gradients with the keys {listing(names)} (those of params)")
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


def check_l1_penalty_gradients(l1_penalty_gradients, *, seed=0, **options):
    """Check `l1_penalty_gradients(params, weight)` (weight * sign(W) for weights, zeros for
    biases, keyed like params) against torch's autograd of weight * sum |W| in float64; the
    weights hold some exact zeros, where the gradient is 0. Scenarios: one weight matrix
    (weight=0.1); an MLP with two layers and biases (0.01); three layers (0.5).

    Options: as for `check_l2_penalty` — `seed`; `weight`, `sizes` or `params`.
    """
    __tracebackhide__ = True
    _options(options, ("weight", "sizes", "params"), "check_l1_penalty_gradients")
    name = _name(l1_penalty_gradients, "l1_penalty_gradients")
    for params, weight in _penalty_scenarios(PENALTY_SCENARIOS, seed, options):
        call = f"{name}(params, {number(weight)})"
        described = f"{call}, params holding {_shapes_words(params)}"
        given = _copies(params)
        result = _run(l1_penalty_gradients, call, L1_SIGNATURE, given, weight)
        _check_params_unchanged(call, given, params)
        _check_l1_keys(described, result, params)
        expected = _autograd_l1(params, weight)
        for key, value in params.items():
            actual = result[key]
            if isinstance(actual, (int, float, np.number)) and value.ndim:
                fail(f"{described}: grads[{key!r}] is {kind_of(actual)}, but an array of shape "
                     f"{value.shape} is expected: give every parameter a gradient of its own "
                     f"shape (np.zeros_like(b) for a bias).")
            zero = value == 0
            if (isinstance(actual, np.ndarray) and actual.shape == value.shape
                    and actual.dtype.kind == "f" and zero.any() and not key.startswith("b")
                    and np.isnan(actual[zero]).all() and not np.isnan(actual[~zero]).any()):
                fail(f"{described}: grads[{key!r}] is nan where W == 0: W / |W| divides 0 by 0 "
                     f"there. np.sign(W) gives the sign, and 0 where W == 0.")
            try:
                check_array(f"grads[{key!r}]", actual, expected[key], rtol=RTOL, atol=1e-12,
                            dtype=value.dtype, factor_hints={"weight": weight},
                            known_mistakes=_l1_mistakes(key, value, weight), hint=L1_FORMULA)
            except CheckFailure as failure:
                raise CheckFailure(f"{described}: {failure.message}") from None


# -------------------------------------------------------------------------------- dropout

DROPOUT_SIGNATURE = "dropout(input, p=0.5, training=True, *, generator)"
DROPOUT_SHAPE = (200, 100)
DROPOUT_SCENARIOS = [  # keyword arguments of the call, and the input's dtype
    ({}, "float64"),
    ({"p": 0.2}, "float64"),
    ({"p": 0.5, "training": False}, "float64"),
    ({"p": 0.0}, "float64"),
    ({"p": 1.0}, "float64"),
    ({"p": 0.3}, "float32"),
]
DROPOUT_FORMULA = ("keep = generator.random(input.shape) >= p, then input * keep / (1 - p) "
                   "(all zeros when p == 1); with training=False return input as it is.")


def _percent(fraction):
    return f"{100 * fraction:.1f} %"


def _dropout_call(name, kwargs):
    arguments = "".join(f", {key}={value!r}" for key, value in kwargs.items())
    return f"{name}(input{arguments}, generator=rng)"


def _torch_zero_fraction(input, p, seed):
    """The fraction of entries torch.nn.functional.dropout zeroes in `input`, drawn from
    torch's global generator seeded inside fork_rng, so the student's torch state is kept."""
    with _fork_rng(devices=[]):
        _torch_manual_seed(seed)
        output = _torch_dropout(_from_numpy(input.astype(np.float64)), p, True)
    return float((output == 0).double().mean())


def _check_returned_array(call, output, input):
    __tracebackhide__ = True
    if not isinstance(output, np.ndarray):
        problem = f"{call} returned {kind_of(output)}, but a numpy array of shape {input.shape} is expected"
        if output is None:
            fail(f"{problem}: did the function end without a `return` statement?")
        if isinstance(output, _Tensor):
            fail(f"{problem}: this dropout is numpy only — draw the mask with generator.random "
                 f"and multiply the numpy arrays.")
        if isinstance(output, (tuple, list)):
            fail(f"{problem}: return only the output, input * mask / (1 - p).")
        fail(f"{problem}.")
    if output.shape != input.shape:
        fail(f"{call} returned shape {output.shape} for an input of shape {input.shape}: the "
             f"mask has one entry per entry of input, generator.random(input.shape).")
    if output.dtype != input.dtype:
        fail(f"{call} returned dtype {output.dtype} for a {input.dtype} input: the output keeps "
             f"the input's dtype — a float64 mask (np.where(..., 1 / (1 - p), 0.0), "
             f".astype(float)) promotes it; use .astype(input.dtype) or multiply by a bool mask.")


def _nonfinite(call, output, p):
    __tracebackhide__ = True
    bad = ~np.isfinite(output)
    if not bad.any():
        return
    what = "nan" if np.isnan(output).any() else "inf"
    if p == 1:
        fail(f"{call} returned {what} in {int(bad.sum())} of {output.size} entries: at p = 1, "
             f"1 / (1 - p) divides by zero and 0 * inf is nan. Every entry is dropped at p = 1: "
             f"return np.zeros_like(input) then.")
    fail(f"{call} returned {what} in {int(bad.sum())} of {output.size} entries: a division by "
         f"zero?")


def _check_identity(call, output, input, p, training):
    """training=False, or p = 0: the output must be the input."""
    __tracebackhide__ = True
    rtol = RTOL if input.dtype == np.float64 else RTOL_FLOAT32
    if isclose(output, input, rtol=rtol, atol=0).all():
        return
    scale = 1 / (1 - p) if p < 1 else 0.0
    zeros = int((output == 0).sum())
    if not training:
        if isclose(output, input * scale, rtol=rtol, atol=0).all():
            fail(f"{call} rescaled the input by 1 / (1 - p) in evaluation: inverted dropout "
                 f"scales the kept entries during training only, so with training=False it "
                 f"returns input unchanged.")
        if isclose(output, input * (1 - p), rtol=rtol, atol=0).all():
            fail(f"{call} multiplied the input by 1 - p in evaluation: that is the old, "
                 f"non-inverted dropout. Inverted dropout scales during training, so with "
                 f"training=False it returns input unchanged.")
        if zeros:
            fail(f"{call} zeroed {zeros} of {input.size} entries although training=False: in "
                 f"evaluation nothing is dropped, return input unchanged.")
        fail(f"{call} changed the input although training=False: return input unchanged.")
    fail(f"{call} changed the input although p = 0: nothing is dropped and 1 / (1 - p) = 1, so "
         f"the output equals the input ({zeros} of {input.size} entries came back 0).")


def _structure_mistake(kept, p):
    """The axis along which the mask is constant, where independent entries would almost
    never be (None if there is none)."""
    if not 0 < p < 1:
        return None
    for axis in range(kept.ndim):
        size = kept.shape[axis]
        if size < 2:
            continue
        # log of the chance that every line along the axis is constant: p**size + (1 - p)**size
        # for one line, written so that neither power underflows to 0 first
        likely, unlikely = (p, 1 - p) if p >= 0.5 else (1 - p, p)
        chance = kept.size // size * (size * _log(likely) + _log(1 + (unlikely / likely) ** size))
        if chance < _log(BY_CHANCE) and (kept == kept.take([0], axis=axis)).all():
            return axis
    return None


def _structure_words(axis, shape):
    mask_shape = tuple(1 if k == axis else size for k, size in enumerate(shape))
    if axis == 0:
        which = ("one mask per feature, shared by every sample of the batch (a mask of shape "
                 f"{mask_shape} broadcast over axis 0)")
    else:
        which = f"the same decision all along axis {axis} (a mask of shape {mask_shape} broadcast)"
    return (f"{which}: each entry is dropped independently — draw one random number per entry, "
            f"generator.random(input.shape).")


def _check_kept_values(call, output, input, p, zero_fraction):
    """Every entry is 0 or input / (1 - p); else the mistake that explains the kept ones."""
    __tracebackhide__ = True
    rtol = RTOL if input.dtype == np.float64 else RTOL_FLOAT32
    kept = output != 0
    right = isclose(output, input / (1 - p), rtol=rtol, atol=0)
    wrong = kept & ~right
    if not wrong.any():
        return
    observed, wanted = output[kept], input[kept]
    keeps_p = zero_fraction is not None and _fraction_fits(zero_fraction, 1 - p, input.size)
    for factor, explanation in (
            (1 / p if p else None,
             "p is used as the probability of KEEPING an entry (kept with probability p, scaled "
             "by 1 / p): p is the probability of dropping it — keep with probability 1 - p, "
             "generator.random(shape) >= p, and scale by 1 / (1 - p)." if keeps_p else
             "the kept entries are scaled by 1 / p: the kept fraction is 1 - p, so divide by "
             "1 - p to keep the expected value."),
            (1.0, "the kept entries are not rescaled: multiply them by 1 / (1 - p), so that "
                  "every entry keeps its expected value and evaluation needs no rescaling."),
            (1 - p, "the kept entries are multiplied by 1 - p: divide by it, input / (1 - p)."),
            (p, "the kept entries are multiplied by p: divide by 1 - p, input / (1 - p).")):
        if factor is not None and isclose(observed, wanted * factor, rtol=rtol, atol=0).all():
            fail(f"{call}: {explanation}")
    if isclose(observed, observed * 0 + 1 / (1 - p), rtol=rtol, atol=0).all():
        fail(f"{call} returned the mask itself (0 or 1 / (1 - p)): multiply the input by it.")
    first = int(np.flatnonzero(wrong.reshape(-1))[0])
    index = list(as_index(first, input.shape))
    fail(f"{call}: at input{index} = {number(input.reshape(-1)[first])} the output is "
         f"{number(output.reshape(-1)[first])}, but every entry must be 0 (dropped) or input / "
         f"(1 - p) = {number(input.reshape(-1)[first] / (1 - p))} (kept); "
         f"{int(wrong.sum())} of {int(kept.sum())} nonzero entries are neither.",
         DROPOUT_FORMULA)


def _fraction_fits(fraction, expected, count):
    sigma = _math_sqrt(expected * (1 - expected) / count)
    return -SIGMAS * sigma - 1 / count <= fraction - expected <= SIGMAS * sigma + 1 / count


def _check_zero_fraction(call, output, input, p, seed):
    __tracebackhide__ = True
    fraction = float((output == 0).mean())
    if _fraction_fits(fraction, p, output.size):
        return
    torch_fraction = _torch_zero_fraction(input, p, seed)
    message = (f"{call} zeroed {_percent(fraction)} of the {output.size} entries; "
               f"torch.nn.functional.dropout(input, p={p!r}) zeroes {_percent(torch_fraction)} "
               f"of the same input, and each entry should be dropped with probability p = "
               f"{_percent(p)}.")
    if _fraction_fits(fraction, 1 - p, output.size):
        fail(f"{message} Likely cause: p is used as the probability of keeping an entry: it is "
             f"the probability of dropping it — keep where generator.random(shape) >= p.")
    fail(message, DROPOUT_FORMULA)


def _states(generator):
    return generator.bit_generator.state, _np_global_state(), _torch_global_state()


def _check_reproducible(dropout, call, kwargs, input, output, seed, first_generator):
    """The same generator state gives the same output, and the next call another one."""
    __tracebackhide__ = True
    generator = default_rng(seed)
    before = _states(generator)
    again = _run(dropout, call, DROPOUT_SIGNATURE, input.copy(), **kwargs, generator=generator)
    after = _states(generator)
    if not (isinstance(again, np.ndarray) and again.shape == output.shape
            and (again == output).all()):
        if before[0] == after[0]:
            source = "it never drew from `generator`"
            if not (before[1][0] == after[1][0] and before[1][2] == after[1][2]
                    and (before[1][1] == after[1][1]).all()):
                source += " but from numpy's global generator (np.random.rand, np.random.random…)"
            elif not _torch_equal(before[2], after[2]):
                source += " but from torch's global generator (torch.rand, F.dropout…)"
            else:
                source += " (a generator of its own, np.random.default_rng()?)"
        else:
            source = "something besides `generator` changes the mask"
        fail(f"{call} gave two different outputs for two generators in the same state "
             f"(np.random.default_rng({seed}) each): {source}, so a run can't be reproduced "
             f"from its seed. Draw every random number from the generator passed in, "
             f"generator.random(input.shape).")
    following = _run(dropout, call, DROPOUT_SIGNATURE, input.copy(), **kwargs,
                     generator=first_generator)
    if isinstance(following, np.ndarray) and following.shape == output.shape and (
            (following == 0) == (output == 0)).all():
        fail(f"{call} dropped exactly the same entries on two calls in a row with the same "
             f"generator: a new generator with a fixed seed inside the function? Draw from the "
             f"generator passed in, which moves on with every call, so every call gets a new "
             f"mask.")


def _dropout_scenarios(seed, options):
    """[(call's keyword arguments, input shape, dtype, seed of the scenario)]."""
    shape = tuple(int(size) for size in options.get("shape", DROPOUT_SHAPE))
    dtype = options.get("dtype")
    selected = {key: options[key] for key in ("p", "training") if key in options}
    if selected:
        scenarios = [(selected, np.dtype(dtype or "float64").name)]
    else:
        scenarios = [(kwargs, np.dtype(dtype).name if dtype else kind)
                     for kwargs, kind in DROPOUT_SCENARIOS]
    return [(kwargs, shape, kind, (int(seed), index))
            for index, (kwargs, kind) in enumerate(scenarios)]


def check_dropout(dropout, *, seed=0, **options):
    """Check `dropout(input, p=0.5, training=True, *, generator)`, inverted dropout on a numpy
    array, on a standard normal input (no zeros) of shape (200, 100): every entry of the
    output must be 0 or input / (1 - p) (torch's kept value), the mask independent per entry
    (not one per row or column), the fraction of zeros within 6 standard deviations of p
    (torch.nn.functional.dropout's fraction on the same input is quoted), the output
    reproducible from the generator's state and different on the next call; training=False and
    p = 0 give the input, p = 1 zeros (no nan); dtype and shape are kept and input is not
    modified. Scenarios: the defaults; p=0.2; training=False; p=0; p=1; a float32 input, p=0.3.

    Options: `seed` (the input and the generators), `shape` and `dtype` (of the input, for
    every scenario); `p` and `training` — given either, only that scenario runs.
    """
    __tracebackhide__ = True
    _options(options, ("p", "training", "shape", "dtype"), "check_dropout")
    name = _name(dropout, "dropout")
    for kwargs, shape, kind, scenario_seed in _dropout_scenarios(seed, options):
        rng = default_rng(scenario_seed)
        input = np.asarray(rng.standard_normal(shape), dtype=np.dtype(kind))
        input[input == 0] = 1.0  # a kept entry must not look dropped
        p, training = float(kwargs.get("p", 0.5)), bool(kwargs.get("training", True))
        call = _dropout_call(name, kwargs)
        if input.dtype != np.float64:
            call += f" on a {input.dtype} input"
        generator = default_rng(scenario_seed)
        given = input.copy()
        output = _run(dropout, call, DROPOUT_SIGNATURE, given, **kwargs, generator=generator)
        if not (given == input).all():
            fail(f"{call} changed its argument input in place (`input *= mask`, "
                 f"`input[mask] = 0`): the caller may still need it — compute a new array, "
                 f"input * mask.")
        _check_returned_array(call, output, input)
        _nonfinite(call, output, p)
        if not training or p == 0:
            _check_identity(call, output, input, p, training)
            continue
        if p == 1:
            if (output != 0).any():
                fail(f"{call} kept {int((output != 0).sum())} of {output.size} entries: at "
                     f"p = 1 every entry is dropped, the output is all zeros.")
            continue
        fraction = float((output == 0).mean())
        _check_kept_values(call, output, input, p, fraction)
        axis = _structure_mistake(output != 0, p)
        if axis is not None:
            fail(f"{call}: {_structure_words(axis, shape)}")
        _check_zero_fraction(call, output, input, p, int(scenario_seed[0]))
        _check_reproducible(dropout, call, kwargs, input, output, scenario_seed, generator)


# ------------------------------------------------------------------------ clip_grad_norm_

CLIP_SIGNATURE = "clip_grad_norm_(grads, max_norm)"
CLIP_SCENARIOS = [  # shapes, scale of each array, max_norm
    ([(3, 4)], [1.5], 1.0),
    ([(4, 3), (4,)], [1.5, 0.3], 1.0),
    ([(4, 3), (4,)], [0.2, 0.1], 1.0),
    ([(4, 3), (4,)], [0.0, 0.0], 1.0),
    ([(2, 3, 2), (5,), (1,)], [1.0, 2.0, 0.5], 0.5),
]
CLIP_FORMULA = ("total_norm = the square root of the sum of every entry squared, over all the "
                "arrays together; then g *= min(1, max_norm / (total_norm + 1e-6)) for each "
                "array g (in place); return total_norm.")




def _torch_clip(grads, max_norm):
    """(total norm, clipped float64 copies) from torch.nn.utils.clip_grad_norm_."""
    parameters = []
    for grad in grads:
        parameter = _from_numpy(np.zeros(grad.shape)).requires_grad_()
        parameter.grad = _from_numpy(grad.astype(np.float64))
        parameters.append(parameter)
    with pristine(_PRISTINE), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        total = float(_torch_clip_grad_norm_(parameters, max_norm))
    return total, [parameter.grad.numpy() for parameter in parameters]


def _norms(grads):
    return [float(_sqrt((grad.astype(np.float64) ** 2).sum())) for grad in grads]


def _clip_variants(grads, max_norm, total):
    """(coefficient of each array, explanation) for the usual mistakes, and the right answer
    without the 1e-6 (accepted, explanation None)."""
    norms = _norms(grads)

    def limited(value):
        return value if value < 1 else 1.0

    def ratio(norm):
        return max_norm / norm if norm else float("inf")

    summed = 0.0
    for norm in norms:
        summed += norm
    variants = [
        ([limited(ratio(total))] * len(grads), None),
        ([limited(max_norm / (norm + 1e-6)) for norm in norms],
         "each array is clipped by its own norm: the limit is on the norm of all the gradients "
         "together, total_norm = sqrt(sum of every array's squared entries), and every array is "
         "scaled by the same min(1, max_norm / (total_norm + 1e-6))."),
        ([max_norm / (total + 1e-6)] * len(grads),
         "the gradients are scaled by max_norm / total_norm even below the limit, which scales "
         "small gradients up: the factor is min(1, max_norm / (total_norm + 1e-6)), so gradients "
         "below max_norm stay as they are."),
        ([limited(max_norm / (summed + 1e-6))] * len(grads),
         "total_norm is the sum of the arrays' norms: it is the norm of all entries together, "
         "the square root of the sum of the squared norms, sqrt(sum ||g||**2)."),
        ([limited(max_norm / (_math_sqrt(summed) + 1e-6))] * len(grads),
         "total_norm is the square root of the sum of the arrays' norms: square each norm first, "
         "sqrt(sum ||g||**2)."),
        ([limited(max_norm / (total * total + 1e-6))] * len(grads),
         "total_norm is the sum of squares without the square root: take np.sqrt of it."),
    ]
    return variants, norms, summed


def _returned_norm_mistakes(max_norm, total, norms, summed, coefficient):
    squares = 0.0
    for norm in norms:
        squares += norm * norm
    return [
        (total * coefficient, "that is the norm after clipping: return total_norm as it was "
                              "before, as torch does (it tells how large the gradients were)."),
        (coefficient, "that is the clipping factor: return total_norm, the norm before "
                      "clipping."),
        (squares, "that is the sum of squares: total_norm is its square root."),
        (summed, "that is the sum of the arrays' norms: total_norm is the norm of all entries "
                 "together, sqrt(sum ||g||**2)."),
        (max_norm, "that is max_norm: return total_norm, the norm before clipping."),
    ]


def _check_clipped_arrays(call, arrays, originals, max_norm, total, expected, rtol):
    """The arrays the student scaled in place against torch's, or against the right answer
    without the 1e-6; on a mismatch, the mistake whose factors reproduce them."""
    __tracebackhide__ = True
    variants, _, _ = _clip_variants(originals, max_norm, total)

    def fits(factors):
        return all_close([array.astype(np.float64) for array in arrays],
                         [factor * original.astype(np.float64)
                          for factor, original in zip(factors, originals)])

    def all_close(actual, wanted):
        for a, w in zip(actual, wanted):
            if not isclose(a, w, rtol=rtol, atol=1e-12 * (total + 1.0)).all():
                return False
        return True

    if all_close([array.astype(np.float64) for array in arrays], expected) or fits(variants[0][0]):
        return
    for factors, explanation in variants[1:]:
        if fits(factors) and not all_close(
                [factor * original for factor, original in zip(factors, originals)], expected):
            fail(f"{call}: {explanation}")
    for index, (array, wanted) in enumerate(zip(arrays, expected)):
        try:
            check_array(f"grads[{index}]", array.astype(np.float64), wanted, rtol=rtol,
                        atol=1e-12 * (total + 1.0), hint=CLIP_FORMULA)
        except CheckFailure as failure:
            raise CheckFailure(f"{call}, after the call: {failure.message}") from None


def _scales_up(clip_grad_norm_, originals, max_norm, total):
    """Whether the student's function scales gradients of half the limit's norm up."""
    arrays = [grad * (max_norm / 2 / total) for grad in originals]
    before = [array.copy() for array in arrays]
    try:
        with _quietly():
            clip_grad_norm_(list(arrays), max_norm)
    except Exception:
        return False
    for array, original in zip(arrays, before):
        if not (array == original).all():
            return True
    return False


def _clip_scenarios(seed, options):
    rng = default_rng(int(seed))
    dtype = np.dtype(options.get("dtype", "float64"))
    if {"shapes", "max_norm", "scale"} & {key for key in options}:
        shapes = [tuple(int(size) for size in shape) for shape in options.get("shapes", [(4, 3), (4,)])]
        scale = float(options.get("scale", 1.0))
        scenarios = [(shapes, [scale] * len(shapes), float(options.get("max_norm", 1.0)))]
    else:
        scenarios = CLIP_SCENARIOS
    return [([np.asarray(rng.standard_normal(shape) * size, dtype=dtype)
              for shape, size in zip(shapes, scales)], float(max_norm))
            for shapes, scales, max_norm in scenarios]


def check_clip_grad_norm(clip_grad_norm_, *, seed=0, **options):
    """Check `clip_grad_norm_(grads, max_norm)` (scale a list of numpy arrays in place by
    min(1, max_norm / (total_norm + 1e-6)) and return total_norm, the norm of all entries
    before clipping) against torch.nn.utils.clip_grad_norm_ in float64; the answer without
    the 1e-6 passes too, as long as all-zero gradients stay zero. Scenarios: one array above
    the limit; two arrays above it; two below it; all zeros; three arrays of 3, 1 and 1
    dimensions with max_norm=0.5.

    Options: `seed` (the gradients), `dtype` (of the gradients, for every scenario: float32
    ones are compared 1e-5 relative); `shapes` (a list of shapes, default [(4, 3), (4,)]),
    `scale` (the gradients' standard deviation, default 1.0) and `max_norm` (default 1.0) —
    given any of these three, only that scenario runs.
    """
    __tracebackhide__ = True
    _options(options, ("max_norm", "shapes", "scale", "dtype"), "check_clip_grad_norm")
    name = _name(clip_grad_norm_, "clip_grad_norm_")
    for originals, max_norm in _clip_scenarios(seed, options):
        rtol = RTOL if originals[0].dtype == np.float64 else RTOL_FLOAT32
        call = (f"{name}(grads, {number(max_norm)}) with grads a list of arrays of shapes "
                f"{listing([tuple(grad.shape) for grad in originals])}")
        total, expected = _torch_clip(originals, max_norm)
        arrays = [grad.copy() for grad in originals]
        grads = list(arrays)
        result = _run(clip_grad_norm_, call, CLIP_SIGNATURE, grads, max_norm)
        changed = [index for index, (item, array) in enumerate(zip(grads, arrays))
                   if item is not array]
        if len(grads) != len(arrays) or changed:
            fail(f"{call} replaced the arrays in the list grads (grads[i] = ...) instead of "
                 f"scaling them: the caller's arrays, e.g. the values of a dict of gradients, "
                 f"are left as they were. Scale each array in place, g *= factor.")
        unchanged = True
        for array, original in zip(arrays, originals):
            unchanged = unchanged and bool((array == original).all())
        if unchanged and total > max_norm:
            if _scales_up(clip_grad_norm_, originals, max_norm, total):
                fail(f"{call} left grads unchanged although their total norm {number(total)} is "
                     f"above max_norm, and scales gradients below the limit up: the factor is "
                     f"max(1, ...) instead of min(1, max_norm / (total_norm + 1e-6)).")
            returned = ("returned new arrays" if isinstance(result, (list, tuple))
                        else "left grads unchanged")
            fail(f"{call} {returned}, but their total norm {number(total)} is above max_norm: "
                 f"the arrays must be scaled in place. `g = g * factor` in a loop only rebinds "
                 f"the loop variable; `g *= factor` changes the caller's array.")
        for index, array in enumerate(arrays):
            if not np.isfinite(array).all():
                fail(f"{call} put nan or inf into grads[{index}]"
                     + (": the gradients are all zero, so total_norm is 0 and max_norm / "
                        "total_norm divides by zero — add 1e-6 to total_norm, as torch does."
                        if total == 0 else "."))
        _check_clipped_arrays(call, arrays, originals, max_norm, total, expected, rtol)
        _, norms, summed = _clip_variants(originals, max_norm, total)
        coefficient = max_norm / (total + 1e-6)
        coefficient = coefficient if coefficient < 1 else 1.0
        if isinstance(result, (list, tuple)):
            fail(f"{call} returned {kind_of(result)}: return total_norm, one number (the norm "
                 f"of all the gradients before clipping); the arrays are scaled in place.")
        check_scalar(call, result, total, rtol=rtol, atol=1e-12,
                     known_mistakes=_returned_norm_mistakes(max_norm, total, norms, summed,
                                                            coefficient),
                     hint="return total_norm, the norm of all entries of all the arrays "
                          "together, computed before the arrays are scaled.")


# --------------------------------------------------------------------------- EarlyStopper

EARLY_STOPPER_SIGNATURE = "EarlyStopper(patience=0, min_delta=0.0, mode='min')"
EARLY_STOPPER_SCENARIOS = [  # constructor keywords, monitored values
    ({}, [1.0, 0.9, 0.95]),
    ({"patience": 2}, [1.0, 0.8, 0.85, 0.7, 0.7, 0.75, 0.72, 0.71]),
    ({"patience": 2, "min_delta": 0.05}, [10.0, 9.9, 9.0, 8.97, 8.9, 8.88, 8.86, 8.84]),
    ({"mode": "max", "patience": 1}, [0.5, 0.6, 0.55, 0.7]),
    ({"mode": "max", "patience": 2, "min_delta": 0.02},
     [0.5, 0.51, 0.6, 0.61, 0.7, 0.69, 0.715, 0.71]),
]
EARLY_STOPPER_RULE = ("an epoch improves if value < best - min_delta (mode 'min') or value > "
                      "best + min_delta (mode 'max'): then best = value, best_epoch = this "
                      "epoch, wait = 0 and step returns False; otherwise wait += 1 and step "
                      "returns wait >= patience.")
EARLY_STOPPER_MISTAKES = {
    "wait > patience": "patience is off by one: training stops when wait REACHES patience "
                       "(wait >= patience), i.e. after patience epochs without improvement.",
    "min_delta ignored": "min_delta is ignored: an improvement must beat best by more than "
                         "min_delta, value < best - min_delta (mode 'min').",
    "min_delta relative": "min_delta is used as a fraction of best (best * (1 - min_delta)): it "
                          "is an absolute amount, value < best - min_delta.",
    "min_delta wrong way": "min_delta is added the wrong way round: an improvement must beat "
                           "best by min_delta, value < best - min_delta in mode 'min', value > "
                           "best + min_delta in mode 'max'.",
    "mode ignored": "mode='max' is ignored: then higher is better, value > best + min_delta, "
                    "and best starts at -inf.",
    "compared as min": "in mode 'max' a value improves if it is HIGHER, value > best + min_delta: "
                       "the comparison is that of mode 'min'.",
    "wait not reset": "wait is not reset on an improvement: set wait = 0 whenever the value "
                      "improves, so patience counts epochs without improvement IN A ROW.",
    "equal improves": "an equal value counts as an improvement (<=): only a strictly better "
                      "value does, value < best - min_delta.",
    "best every epoch": "best is updated on every epoch: only an improvement replaces it.",
    "epochs from 0": "the epochs are counted from 0: the first call of step is epoch 1.",
}


def _early_stopper_trace(values, patience=0, min_delta=0.0, mode="min", *, mistake=None):
    """[(returned, best, best_epoch)] for each value up to the first stop, by the contract's
    rule or with `mistake`."""
    if mistake == "mode ignored":
        mode = "min"
    if mistake == "min_delta ignored":
        min_delta = 0.0
    best, best_epoch, wait = (float("inf") if mode == "min" else -float("inf")), 0, 0
    trace = []
    for epoch, value in enumerate(values, start=1 if mistake != "epochs from 0" else 0):
        if mistake == "min_delta relative":
            bound = best * (1 - min_delta) if mode == "min" else best * (1 + min_delta)
        elif mistake == "min_delta wrong way":
            bound = best + min_delta if mode == "min" else best - min_delta
        else:
            bound = best - min_delta if mode == "min" else best + min_delta
        if mistake == "equal improves":
            improves = value <= bound if mode == "min" else value >= bound
        elif mistake == "compared as min":
            improves = value < best - min_delta
        else:
            improves = value < bound if mode == "min" else value > bound
        if improves:
            best, best_epoch, stop = value, epoch, False
            wait = wait if mistake == "wait not reset" else 0
        else:
            wait += 1
            stop = wait > patience if mistake == "wait > patience" else wait >= patience
            if mistake == "best every epoch":
                best = value
        trace.append((stop, best, best_epoch))
        if stop:
            break
    return trace


def _early_stopper_scenarios(seed, options):
    kwargs = {key: options[key] for key in ("patience", "min_delta", "mode") if key in options}
    if "values" in options:
        return [(kwargs, [float(value) for value in options["values"]])]
    if not kwargs and seed is None:
        return EARLY_STOPPER_SCENARIOS
    # a noisy loss curve that levels off, to 2 decimals so that equal values occur
    rng = default_rng(0 if seed is None else int(seed))
    epochs = np.arange(30)
    curve = 1 / (1 + 0.3 * epochs) + 0.03 * rng.standard_normal(30)
    values = [float(int(value * 100 + 0.5)) / 100 for value in curve]
    if kwargs.get("mode", "min") == "max":
        values = [1 - value for value in values]
    return [(kwargs, values)]


def _attribute(stopper, key, described):
    __tracebackhide__ = True
    try:
        value = getattr(stopper, key)
    except AttributeError:
        fail(f"{described}, the stopper has no attribute {key}: keep best, best_epoch and wait "
             f"as attributes (self.{key} = ...).")
    except Exception as error:
        raise CheckFailure(f"{described}, reading {key} raised {type(error).__name__}: "
                           f"{error}") from error
    if isinstance(value, (bool, np.bool_)) or not isinstance(
            value, (int, float, np.integer, np.floating)):
        fail(f"{described}, {key} is {kind_of(value)}, but a number is expected.")
    return value


def _same(a, b):
    return float(a) == float(b)


def check_early_stopper(EarlyStopper, *, seed=None, **options):
    """Check the class `EarlyStopper(patience=0, min_delta=0.0, mode="min")` with its method
    step(value) -> bool: after construction best is ±inf and best_epoch 0; then for each
    value of a stream, step(value) must return what the contract's rule returns, up to and
    including the first True, and best and best_epoch must follow it. Scenarios: the defaults;
    patience=2 (with an equal value); min_delta=0.05; mode="max"; mode="max" with min_delta.

    Options: `patience`, `min_delta`, `mode` (the constructor's) and `values` (the stream) —
    given any, only that scenario runs, on a noisy loss curve of 30 epochs if `values` is not
    given; `seed` draws that curve (given alone: just that curve with the defaults).
    """
    __tracebackhide__ = True
    _options(options, ("patience", "min_delta", "mode", "values"), "check_early_stopper")
    name = _name(EarlyStopper, "EarlyStopper")
    for kwargs, values in _early_stopper_scenarios(seed, options):
        _check_early_stopper_scenario(EarlyStopper, name, dict(kwargs), list(values))


def _check_early_stopper_scenario(EarlyStopper, name, kwargs, values):
    __tracebackhide__ = True
    arguments = ", ".join(f"{key}={value!r}" for key, value in kwargs.items())
    construction = f"{name}({arguments})"
    stopper = _run(EarlyStopper, construction, EARLY_STOPPER_SIGNATURE, **kwargs)
    mode = kwargs.get("mode", "min")
    start = float("inf") if mode == "min" else -float("inf")
    described = f"right after {construction}"
    best = _attribute(stopper, "best", described)
    if not _same(best, start):
        better = "lower" if mode == "min" else "higher"
        fail(f"{described}, best is {number(best)}, expected {number(start)}: in mode {mode!r} "
             f"{better} is better, so best starts at {number(start)} and the first value always "
             f"improves on it.")
    best_epoch = _attribute(stopper, "best_epoch", described)
    if best_epoch != 0:
        fail(f"{described}, best_epoch is {number(best_epoch)}, expected 0 (no epoch yet).")
    wait = _attribute(stopper, "wait", described)
    if wait != 0:
        fail(f"{described}, wait is {number(wait)}, expected 0.")
    step = getattr(stopper, "step", None)
    if not callable(step):
        fail(f"{construction} has no method step: define step(self, value) in the class.")
    expected = _early_stopper_trace(values, **kwargs)
    actual = []
    for epoch, (value, (stop, wanted_best, wanted_epoch)) in enumerate(zip(values, expected),
                                                                       start=1):
        stream = ", ".join(number(item) for item in values[:epoch])
        call = f"{construction} fed {stream}: step({number(value)}) (epoch {epoch})"
        returned = _run(step, call, "step(self, value)", value)
        if not isinstance(returned, (bool, np.bool_)):
            cause = (": does every path end in `return`? An improvement returns False."
                     if returned is None else ".")
            fail(f"{call} returned {kind_of(returned)}, but True or False is expected{cause}")
        got_best = _attribute(stopper, "best", f"after {call}")
        got_epoch = _attribute(stopper, "best_epoch", f"after {call}")
        actual.append((bool(returned), got_best, got_epoch))
        problems = []
        if not _same(got_best, wanted_best):
            problems.append(f"best is {number(got_best)}, expected {number(wanted_best)}")
        if got_epoch != wanted_epoch:
            problems.append(f"best_epoch is {number(got_epoch)}, expected {wanted_epoch}")
        if bool(returned) != stop:
            problems.insert(0, f"{call} returned {bool(returned)}, expected {stop}")
        elif problems:
            problems[0] = f"after {call}, {problems[0]}"
        if problems:
            _fail_early_stopper(epoch, problems, actual, values, kwargs)


def _fail_early_stopper(epoch, problems, actual, values, kwargs):
    __tracebackhide__ = True
    matched = ("the epochs before match" if epoch > 1 else "already on the first call")
    message = f"{'; '.join(problems)} ({matched})."
    causes = []
    right = _early_stopper_trace(values, **kwargs)
    for mistake, explanation in EARLY_STOPPER_MISTAKES.items():
        trace = _early_stopper_trace(values, **kwargs, mistake=mistake)
        if _traces_agree(actual, trace) and not _traces_agree(right[:len(actual)], trace):
            causes.append(explanation)
    if causes:
        message += " Likely cause: " + " Or: ".join(causes[:2])
    fail(message, EARLY_STOPPER_RULE)


def _traces_agree(actual, trace):
    """Whether the student's steps so far are the first steps of `trace`."""
    if len(actual) > len(trace):
        return False
    for (stop, best, best_epoch), (wanted_stop, wanted_best, wanted_epoch) in zip(actual, trace):
        if stop != wanted_stop or not _same(best, wanted_best) or best_epoch != wanted_epoch:
            return False
    return True
