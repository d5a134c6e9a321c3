"""Checks for batch normalisation (assignment 05) on numpy arrays [N, C]: the training-mode
forward pass here, with the scenarios, data and comparisons the three batch-norm checks
share; the update of the running statistics in `running_stats`, the backward pass in
`normalization_backward`.

Each check runs the student's function over a short list of scenarios, simplest first, so
that the first one to fail isolates the mistake: ordinary columns of different means and
spreads, a batch of two samples, a constant column (variance 0, where only eps keeps the
result finite) next to a nearly constant one (variance below eps, where eps changes the
values), eps passed by keyword, and float32 input, which must give float32 results. The
expected values come from `torch.batch_norm`, the op under F.batch_norm and
torch.nn.BatchNorm1d, in float64 (its running statistics updated in place, carried from
batch to batch; autograd for the gradients). On a mismatch the message says which call,
which scenario and which array differ, and names the usual mistake that reproduces the
student's values, recomputed in numpy on the same data.

The student's function runs through the harness: on copies of the inputs it must not
change, quietly, a crash or a return of the wrong kind told, under the delegation watch —
the answer must not run course_lib's batch norm (scratch.batch_norm_forward, batch_norm,
batch_norm_backward) nor torch's (`TORCH_BATCH_NORM`; autograd for the backward pass).
Tamper-proofing as in the rest of the package: numpy, torch and builtins are bound at
import, and the data come from a local generator.
"""
from builtins import ValueError, enumerate, float, int, isinstance, len, list, tuple
from types import SimpleNamespace

import torch
from numpy import sqrt as _sqrt
from torch import batch_norm as _torch_batch_norm
from torch import from_numpy as _from_numpy

from course_lib.scratch import normalization as _scratch

from ._trusted import default_rng, np
from .failure import CheckFailure, fail, kind_of, number
from .harness import Answer, exercise
from .values import check_array

TOLERANCES = {"float64": (1e-7, 1e-10),  # float64 answers agree with torch to ~1e-13
              "float32": (1e-4, 1e-5)}
DEFAULT_EPS, DEFAULT_MOMENTUM = 1e-5, 0.1
SCENARIO_EPS, SCENARIO_MOMENTUM = 0.1, 0.3  # the scenarios that pass eps / momentum by keyword
CONSTANT = 0.75  # exact in binary, so the constant column's mean is exactly it

EPS_FIX = ("add eps inside the square root, (input - mean) / np.sqrt(var + eps): that is what "
           "eps is for.")


# torch's batch norm, which a forward pass or an update of the running statistics written
# from scratch must not run
TORCH_BATCH_NORM = (torch.nn.functional.batch_norm, torch.batch_norm, torch.native_batch_norm,
                    torch.nn.BatchNorm1d)


# ------------------------------------------------------------------ comparisons

def compare(context, name, actual, expected, *, dtype, known_mistakes=(), factor_hints=None,
            hint=None, scale=1.0):
    """check_array(name, ...) with `context` (the call and the scenario) before its message;
    `scale`, the size of the terms that cancel in `expected`, scales the absolute tolerance."""
    __tracebackhide__ = True
    rtol, atol = TOLERANCES[np.dtype(dtype).name]
    try:
        check_array(name, actual, expected, rtol=rtol, atol=atol * scale, dtype=dtype,
                    known_mistakes=known_mistakes, factor_hints=factor_hints)
    except CheckFailure as failure:
        fail(f"{context}: {failure.message}", hint)


# ------------------------------------------------------------------------------ scenarios

def scenario(words, shape, *, unit=False, constant=False, eps=None, momentum=None,
             dtype=np.float64, batches=1, start="BatchNorm1d"):
    return SimpleNamespace(words=words, shape=shape, unit=unit, constant=constant, eps=eps,
                           momentum=momentum, dtype=np.dtype(dtype), batches=batches, start=start)


def validated(shape, dtype):
    shape = tuple(int(size) for size in shape)
    if len(shape) != 2 or shape[0] < 2 or shape[1] < 1:
        raise ValueError(f"shape must be (N, C) with N >= 2 and C >= 1, got {shape}")
    dtype = np.dtype(dtype)
    if dtype.name not in TOLERANCES:
        raise ValueError(f"dtype must be float32 or float64, got {dtype.name}")
    return shape, dtype


def common_scenarios(shape, dtype, **settings):
    """The scenarios every check runs, simplest first, each with `settings` (eps, momentum,
    batches, start): ordinary data, N = 2, constant columns."""
    n, c = shape
    constant_words = ("column 0 is constant (variance 0)" if c == 1 else
                      "column 0 is constant (variance 0) and column 1 nearly so (variance about "
                      "1e-6, below eps)")
    return [scenario("", shape, dtype=dtype, **settings),
            scenario("a batch of two samples", (2, c), dtype=dtype, **settings),
            scenario(constant_words, shape, constant=True, dtype=dtype, **settings)]


def float32_last(scenarios, shape, dtype, **settings):
    """`scenarios` and, unless dtype is float32 already, a last one in float32."""
    if dtype.name == "float64":
        scenarios.append(scenario("", shape, dtype=np.float32, **settings))
    return scenarios


def eps_scenarios(shape, dtype, eps):
    """The scenarios of a check that takes eps: the common ones, then one that passes
    eps=0.1 by keyword unless the test passes its own `eps` to every call, float32 last."""
    scenarios = common_scenarios(shape, dtype, eps=eps)
    if eps is None:
        scenarios.append(scenario("", shape, eps=SCENARIO_EPS, dtype=dtype))
    return float32_last(scenarios, shape, dtype, eps=eps)


def columns(rng, scenario):
    """Input [N, C] whose columns differ in mean and spread, in the scenario's dtype."""
    n, c = scenario.shape
    values = rng.uniform(-3, 3, c) + rng.uniform(0.5, 3, c) * rng.standard_normal((n, c))
    if scenario.constant:
        values[:, 0] = CONSTANT
        if c >= 2:
            values[:, 1] = 1e-3 * rng.standard_normal(n)  # about 0: no cancellation in float32
    return values.astype(scenario.dtype)


def words(scenario):
    """' with input of shape (6, 4) of dtype float32, column 0 constant ...'."""
    parts = [f"input of shape {scenario.shape}"]
    if scenario.dtype.name == "float32":
        parts[0] += " of dtype float32"
    if scenario.words:
        parts.append(scenario.words)
    return " with " + ", ".join(parts)


def float64(array):
    return array.astype(np.float64)


def statistics(x, eps):
    """float64 mean, biased variance and normalised input of x, per column."""
    x = float64(x)
    mean, var = x.mean(0), x.var(0)
    return mean, var, (x - mean) / _sqrt(var + eps)


def nan_in_constant_column(context, what, actual, x):
    """Fail if `actual` is nan in a column where the input is constant (0 / 0 without eps)."""
    __tracebackhide__ = True
    if not isinstance(actual, np.ndarray) or actual.shape != x.shape or actual.dtype.kind != "f":
        return
    constant = float64(x).var(0) == 0
    bad = np.isnan(actual).any(0) & constant
    if bad.any():
        column = int(np.flatnonzero(bad)[0])
        fail(f"{context}: {what} is nan in column {column}, where the input is constant "
             f"(variance 0): dividing by np.sqrt(var) divides 0 by 0 there.", EPS_FIX)


# ---------------------------------------------------------------------------- forward pass

class _Notebook:
    """The exercise as the notebook states it, for its name and parameters in messages:
    course_lib's scratch.batch_norm_forward takes running statistics and returns a cache."""

    def batch_norm_forward(input, weight, bias, eps=1e-5):
        """Training-mode batch normalisation of input [N, C]; returns the output."""


BATCH_NORM_FORWARD = exercise(_Notebook.batch_norm_forward, forbidden=(
    _scratch.batch_norm_forward, _scratch.batch_norm, *TORCH_BATCH_NORM))


def _torch_forward(x, weight, bias, eps):
    output = _torch_batch_norm(_from_numpy(float64(x)), _from_numpy(float64(weight)),
                               _from_numpy(float64(bias)), None, None, True, 0.0, eps, False)
    return output.numpy()


def _forward_mistakes(x, weight, bias, eps, eps_passed):
    """(wrong output, explanation) for the usual mistakes, in float64."""
    x, weight, bias = float64(x), float64(weight), float64(bias)
    mean, var, normalized = statistics(x, eps)
    centred = x - mean

    def affine(values):
        return values * weight + bias

    per_sample = x - x.mean(1, keepdims=True)
    mistakes = [
        (affine(centred / _sqrt(x.var(0, ddof=1) + eps)),
         "the variance is the unbiased one, divided by N - 1 (ddof=1, or torch.var's "
         "default): batch norm normalises with the biased variance, divided by N (np.var's "
         "default)."),
        (affine(centred / (_sqrt(var) + eps)),
         "eps is added to the standard deviation, (input - mean) / (std + eps): it goes inside "
         "the square root, (input - mean) / np.sqrt(var + eps)."),
        (affine(per_sample / _sqrt(x.var(1, keepdims=True) + eps)),
         "the mean and variance are taken over each sample's features (axis=1): batch norm "
         "takes them per column, over the batch (axis=0)."),
        (normalized * bias + weight, "weight and bias are swapped: output = normalised * weight "
                                     "+ bias."),
        (normalized, "weight and bias are ignored: multiply the normalised input by weight, "
                     "then add bias."),
        (normalized + bias, "weight is ignored: multiply the normalised input by weight before "
                            "adding bias."),
        (normalized * weight, "bias is ignored: add bias after multiplying by weight."),
        (affine(centred / _sqrt(_sqrt(var) + eps)),
         "the standard deviation is used where the variance goes, np.sqrt(std + eps): divide "
         "by np.sqrt(var + eps), var the mean of the squared deviations."),
        (affine(centred / (var + eps)), "the square root is missing: divide by np.sqrt(var + "
                                        "eps), not by var + eps."),
        (affine(centred / _sqrt(var)), f"eps is missing: {EPS_FIX}"),
    ]
    if eps_passed and eps != DEFAULT_EPS:
        mistakes.append((affine(centred / _sqrt(var + DEFAULT_EPS)),
                         f"the eps passed in is ignored: 1e-05 was used instead of eps="
                         f"{number(eps)}."))
    return mistakes


def _returned_tuple(call, result, what):
    __tracebackhide__ = True
    if isinstance(result, (tuple, list)):
        fail(f"{call} returned {kind_of(result)} of {len(result)} values, but only {what} is "
             f"expected: return just that array (no cache, no statistics).")


def check_batch_norm_forward(batch_norm_forward, *, seed=0, shape=(6, 4), eps=None,
                             dtype=np.float64):
    """Check `batch_norm_forward(input, weight, bias, eps=1e-5)` (numpy, input [N, C], weight
    and bias [C]) against torch.batch_norm(training=True) in float64.

    Scenarios, simplest first: weight = 1 and bias = 0; random weight and bias; N = 2; a
    constant column (variance 0) next to a nearly constant one (variance below eps); eps=0.1
    by keyword; float32 input (the output must be float32). Options: `seed` (of the data),
    `shape` (N, C) of the input, `eps` (passed by keyword to every call; the eps scenario is
    then left out), `dtype` (np.float32 runs every scenario in float32).
    """
    __tracebackhide__ = True
    shape, dtype = validated(shape, dtype)
    answer = Answer(BATCH_NORM_FORWARD, batch_norm_forward, shape_hint=(
        "input is [N, C], weight and bias [C]: the mean and variance of each column, "
        "input.mean(axis=0) and input.var(axis=0), have shape [C] and broadcast against input."))
    scenarios = [scenario("weight = 1 and bias = 0", shape, unit=True, eps=eps, dtype=dtype),
                 *eps_scenarios(shape, dtype, eps)]
    for index, current in enumerate(scenarios):
        rng = default_rng((int(seed), index))
        x = columns(rng, current)
        c = current.shape[1]
        if current.unit:
            weight, bias = np.zeros(c, dtype=current.dtype) + 1, np.zeros(c, dtype=current.dtype)
        else:
            weight = rng.uniform(0.5, 2, c).astype(current.dtype)
            bias = rng.standard_normal(c).astype(current.dtype)
        used_eps = DEFAULT_EPS if current.eps is None else float(current.eps)
        keywords = {} if current.eps is None else {"eps": current.eps}
        context = f"{answer.words(x, weight, bias, **keywords)}{words(current)}"
        result = answer(x, weight, bias, **keywords)
        _returned_tuple(context, result, "the output")
        nan_in_constant_column(context, "the output", result, x)
        with np.errstate(all="ignore"):  # a mistake without eps divides 0 by 0
            mistakes = _forward_mistakes(x, weight, bias, used_eps, current.eps is not None)
        compare(context, "the output", result, _torch_forward(x, weight, bias, used_eps),
                dtype=current.dtype, known_mistakes=mistakes,
                hint="each column j: (input[:, j] - its mean) / np.sqrt(its biased variance + "
                     "eps) * weight[j] + bias[j], mean and variance over the batch (axis=0).")
