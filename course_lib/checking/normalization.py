"""Checks for batch normalisation (assignment 05): the training-mode forward pass, the update
of the running statistics, and the backward pass, all on numpy arrays [N, C].

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

The student's function gets copies of its inputs and fails if it changes one it should
not; a crash, `raise NotImplementedError()`, or a return of the wrong kind each get their
own message. Tamper-proofing as in the rest of the package: numpy, torch and builtins are
bound at import, the data come from a local generator, and the student's warnings are
silenced (nbgrader counts stderr as a failure) while the check speaks for them.
"""
from builtins import (
    Exception, NotImplementedError, ValueError, all, dict, enumerate, float, getattr, int,
    isinstance, len, list, range, str, tuple, type, zip,
)
from itertools import permutations
from types import SimpleNamespace
from warnings import catch_warnings as _catch_warnings
from warnings import simplefilter as _simplefilter

from numpy import sqrt as _sqrt
from torch import batch_norm as _torch_batch_norm
from torch import enable_grad as _enable_grad
from torch import from_numpy as _from_numpy
from torch.autograd import grad as _autograd_grad

from ._trusted import default_rng, isclose, np
from .failure import NOT_IMPLEMENTED, CheckFailure, fail, kind_of, number, unpacked
from .values import check_array

RTOL, ATOL = 1e-7, 1e-10  # float64 answers agree with torch to ~1e-13
TOLERANCES = {"float64": (RTOL, ATOL), "float32": (1e-4, 1e-5)}
DEFAULT_EPS, DEFAULT_MOMENTUM = 1e-5, 0.1
SCENARIO_EPS, SCENARIO_MOMENTUM = 0.1, 0.3  # the scenarios that pass eps / momentum by keyword
CONSTANT = 0.75  # exact in binary, so the constant column's mean is exactly it

EPS_FIX = ("add eps inside the square root, (input - mean) / np.sqrt(var + eps): that is what "
           "eps is for.")


# ------------------------------------------------------------------ running the student's code

def _name(function, default):
    name = getattr(function, "__name__", default)
    return name if isinstance(name, str) and name.isidentifier() and name != "<lambda>" else default


def _quietly(function, arguments, keywords):
    """function(*arguments, **keywords) with warnings silenced: nbgrader counts a warning on
    stderr as a failure, and the check explains nan and inf itself."""
    with _catch_warnings(), np.errstate(all="ignore"):
        _simplefilter("ignore")
        return function(*arguments, **keywords)


def _crashed(call, error, hint):
    __tracebackhide__ = True
    if isinstance(error, NotImplementedError):
        fail(f"{call} raised NotImplementedError: {NOT_IMPLEMENTED}")
    message = f"{call} raised {type(error).__name__}: {error}"
    if isinstance(error, ValueError):
        message += f"\nHint: {hint}"
    raise CheckFailure(message) from error


def _check_unchanged(call, arguments, originals):
    """Fail if the student's function wrote into one of its (copied) argument arrays."""
    __tracebackhide__ = True
    for (name, given), original in zip(arguments, originals):
        if given.shape != original.shape or not ((given == original)
                                                 | (np.isnan(given) & np.isnan(original))).all():
            fail(f"{call} changed its argument {name} in place: `{name} -= ...`, `{name} /= ...` "
                 f"or `{name}[...] = ...` writes into the caller's array, which it still needs. "
                 f"Compute a new array instead ({name} - mean, or work on {name}.copy()).")


def _run(function, call, arguments, keywords, crash_hint):
    """The student's function on copies of the named `arguments` ((name, array) pairs)."""
    __tracebackhide__ = True
    copies = [value.copy() for _, value in arguments]
    try:
        result = _quietly(function, copies, keywords)
    except Exception as error:
        _crashed(call, error, crash_hint)
    _check_unchanged(call, [(name, copy) for (name, _), copy in zip(arguments, copies)],
                     [value for _, value in arguments])
    return result


def _compare(context, name, actual, expected, *, dtype, known_mistakes=(), factor_hints=None,
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

def _scenario(words, shape, *, unit=False, constant=False, eps=None, momentum=None,
              dtype=np.float64, batches=1, start="BatchNorm1d"):
    return SimpleNamespace(words=words, shape=shape, unit=unit, constant=constant, eps=eps,
                           momentum=momentum, dtype=np.dtype(dtype), batches=batches, start=start)


def _validated(shape, dtype):
    shape = tuple(int(size) for size in shape)
    if len(shape) != 2 or shape[0] < 2 or shape[1] < 1:
        raise ValueError(f"shape must be (N, C) with N >= 2 and C >= 1, got {shape}")
    dtype = np.dtype(dtype)
    if dtype.name not in TOLERANCES:
        raise ValueError(f"dtype must be float32 or float64, got {dtype.name}")
    return shape, dtype


def _common_scenarios(shape, dtype, **settings):
    """The scenarios every check runs, simplest first, each with `settings` (eps, momentum,
    batches, start): ordinary data, N = 2, constant columns."""
    n, c = shape
    constant_words = ("column 0 is constant (variance 0)" if c == 1 else
                      "column 0 is constant (variance 0) and column 1 nearly so (variance about "
                      "1e-6, below eps)")
    scenarios = [_scenario("", shape, dtype=dtype, **settings),
                 _scenario("a batch of two samples", (2, c), dtype=dtype, **settings),
                 _scenario(constant_words, shape, constant=True, dtype=dtype, **settings)]
    return scenarios


def _float32_last(scenarios, shape, dtype, **settings):
    """`scenarios` and, unless dtype is float32 already, a last one in float32."""
    if dtype.name == "float64":
        scenarios.append(_scenario("", shape, dtype=np.float32, **settings))
    return scenarios


def _columns(rng, scenario):
    """Input [N, C] whose columns differ in mean and spread, in the scenario's dtype."""
    n, c = scenario.shape
    values = rng.uniform(-3, 3, c) + rng.uniform(0.5, 3, c) * rng.standard_normal((n, c))
    if scenario.constant:
        values[:, 0] = CONSTANT
        if c >= 2:
            values[:, 1] = 1e-3 * rng.standard_normal(n)  # about 0: no cancellation in float32
    return values.astype(scenario.dtype)


def _words(scenario):
    """' with input of shape (6, 4) of dtype float32, column 0 constant ...'."""
    parts = [f"input of shape {scenario.shape}"]
    if scenario.dtype.name == "float32":
        parts[0] += " of dtype float32"
    if scenario.words:
        parts.append(scenario.words)
    return " with " + ", ".join(parts)


def _float64(array):
    return array.astype(np.float64)


def _statistics(x, eps):
    """float64 mean, biased variance and normalised input of x, per column."""
    x = _float64(x)
    mean, var = x.mean(0), x.var(0)
    return mean, var, (x - mean) / _sqrt(var + eps)


def _nan_in_constant_column(context, what, actual, x):
    """Fail if `actual` is nan in a column where the input is constant (0 / 0 without eps)."""
    __tracebackhide__ = True
    if not isinstance(actual, np.ndarray) or actual.shape != x.shape or actual.dtype.kind != "f":
        return
    constant = _float64(x).var(0) == 0
    bad = np.isnan(actual).any(0) & constant
    if bad.any():
        column = int(np.flatnonzero(bad)[0])
        fail(f"{context}: {what} is nan in column {column}, where the input is constant "
             f"(variance 0): dividing by np.sqrt(var) divides 0 by 0 there.", EPS_FIX)


# ---------------------------------------------------------------------------- forward pass

def _torch_forward(x, weight, bias, eps):
    output = _torch_batch_norm(_from_numpy(_float64(x)), _from_numpy(_float64(weight)),
                               _from_numpy(_float64(bias)), None, None, True, 0.0, eps, False)
    return output.numpy()


def _forward_mistakes(x, weight, bias, eps, eps_passed):
    """(wrong output, explanation) for the usual mistakes, in float64."""
    x, weight, bias = _float64(x), _float64(weight), _float64(bias)
    mean, var, normalized = _statistics(x, eps)
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
         "eps is added to the standard deviation, (x - mean) / (std + eps): it goes inside "
         "the square root, (x - mean) / np.sqrt(var + eps)."),
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
    shape, dtype = _validated(shape, dtype)
    name = _name(batch_norm_forward, "batch_norm_forward")
    crash_hint = ("input is [N, C], weight and bias [C]: the mean and variance of each column, "
                  "input.mean(axis=0) and input.var(axis=0), have shape [C] and broadcast "
                  "against input.")
    scenarios = [_scenario("weight = 1 and bias = 0", shape, unit=True, eps=eps, dtype=dtype)]
    scenarios += _common_scenarios(shape, dtype, eps=eps)
    if eps is None:
        scenarios.append(_scenario("", shape, eps=SCENARIO_EPS, dtype=dtype))
    _float32_last(scenarios, shape, dtype, eps=eps)
    for index, scenario in enumerate(scenarios):
        rng = default_rng((int(seed), index))
        x = _columns(rng, scenario)
        c = scenario.shape[1]
        if scenario.unit:
            weight, bias = np.zeros(c, dtype=scenario.dtype) + 1, np.zeros(c, dtype=scenario.dtype)
        else:
            weight = rng.uniform(0.5, 2, c).astype(scenario.dtype)
            bias = rng.standard_normal(c).astype(scenario.dtype)
        used_eps = DEFAULT_EPS if scenario.eps is None else float(scenario.eps)
        keywords = {} if scenario.eps is None else {"eps": scenario.eps}
        call = f"{name}(input, weight, bias{'' if scenario.eps is None else f', eps={scenario.eps!r}'})"
        context = f"{call}{_words(scenario)}"
        result = _run(batch_norm_forward, call,
                      [("input", x), ("weight", weight), ("bias", bias)], keywords, crash_hint)
        _returned_tuple(context, result, "the output")
        _nan_in_constant_column(context, "the output", result, x)
        with np.errstate(all="ignore"):  # a mistake without eps divides 0 by 0
            mistakes = _forward_mistakes(x, weight, bias, used_eps, scenario.eps is not None)
        _compare(context, "the output", result, _torch_forward(x, weight, bias, used_eps),
                 dtype=scenario.dtype, known_mistakes=mistakes,
                 hint="each column j: (input[:, j] - its mean) / np.sqrt(its biased variance + "
                      "eps) * weight[j] + bias[j], mean and variance over the batch (axis=0).")


# ---------------------------------------------------------------------- running statistics

KERAS = ("momentum is used the other way round (Keras's convention, running = momentum * "
         "running + (1 - momentum) * batch statistic): torch's momentum weighs the new batch, "
         "running = (1 - momentum) * running + momentum * batch statistic.")


def _running_mistakes(mean_before, var_before, x, momentum):
    """({'running_mean': [...], 'running_var': [...]}, (wrong value, explanation) pairs) for
    one update from the right state before it, in float64."""
    x = _float64(x)
    n = x.shape[0]
    mean, biased, unbiased = x.mean(0), x.var(0), x.var(0, ddof=1)
    normalized = (x - mean) / _sqrt(biased + DEFAULT_EPS)

    def moving(before, statistic):
        return (1 - momentum) * before + momentum * statistic

    def keras(before, statistic):
        return momentum * before + (1 - momentum) * statistic

    of_normalized = ("running_var is fed the variance of the normalised values, which is about "
                     "1 whatever the data: use the variance of the input batch itself.")
    squares = ("running_var is fed the mean of the squares, without subtracting the mean: the "
               "variance is the mean of (x - mean) ** 2, divided by N - 1 here.")
    std = "running_var is fed the standard deviation: use the (unbiased) variance."
    usual = DEFAULT_MOMENTUM
    ignored = (f"the momentum passed in is ignored: {number(usual)} was used instead of "
               f"momentum={number(momentum)}.")
    return {
        "running_mean": [(keras(mean_before, mean), KERAS),
                         ((1 - usual) * mean_before + usual * mean, ignored)],
        "running_var": [
            (moving(var_before, biased),
             "running_var is fed the biased variance (divided by N): torch's running_var "
             "estimates the population's variance, so it takes the unbiased one, divided by "
             "N - 1 (np.var(input, axis=0, ddof=1))."),
            (keras(var_before, unbiased), KERAS), (keras(var_before, biased), KERAS),
            (moving(var_before, normalized.var(0, ddof=1)), of_normalized),
            (moving(var_before, normalized.var(0)), of_normalized),
            (moving(var_before, (x * x).mean(0)), squares),
            (moving(var_before, (x * x).sum(0) / (n - 1)), squares),
            (moving(var_before, x.std(0, ddof=1)), std), (moving(var_before, x.std(0)), std),
            ((1 - usual) * var_before + usual * unbiased, ignored),
        ],
    }


def _torch_update(mean, var, x, momentum):
    """running_mean and running_var after torch.batch_norm's update, as float64 arrays."""
    running_mean, running_var = _from_numpy(_float64(mean)), _from_numpy(_float64(var))
    _torch_batch_norm(_from_numpy(_float64(x)), None, None, running_mean, running_var, True,
                      momentum, DEFAULT_EPS, False)
    return running_mean.numpy(), running_var.numpy()


def _left_unchanged(context, names, result):
    __tracebackhide__ = True
    which = " and ".join(names)
    if result is None:
        fail(f"{context}: {which} {'are' if len(names) > 1 else 'is'} unchanged after the call.",
             "`running_mean = ...` makes a new array and only rebinds the local name: write "
             "into the caller's arrays, running_mean *= 1 - momentum; running_mean += momentum "
             "* mean (or running_mean[:] = ...), and the same for running_var.")
    fail(f"{context}: it returned {kind_of(result)} and left {which} unchanged.",
         "update the arrays in place, running_mean[:] = (1 - momentum) * running_mean + "
         "momentum * mean (or *= and +=), and return None: the caller, like "
         "torch.nn.BatchNorm1d, keeps its own arrays.")


def check_update_running_stats(update_running_stats, *, seed=0, shape=(6, 4), momentum=None,
                               batches=3, dtype=np.float64):
    """Check `update_running_stats(running_mean, running_var, input, momentum=0.1)` (numpy,
    updating the [C] arrays in place from input [N, C]) against the running statistics of
    torch.batch_norm(training=True) — torch.nn.BatchNorm1d's — in float64, after each batch.

    Scenarios, simplest first: one batch from running_mean = 0 and running_var = 1;
    `batches` batches in a row, the arrays carried from call to call; N = 2; a constant
    column; momentum=0.3 by keyword; float32 arrays (which must stay float32). Options:
    `seed`, `shape` (N, C) of each batch, `momentum` (passed by keyword to every call; the
    momentum scenario is then left out), `batches` (calls per scenario), `dtype`.
    """
    __tracebackhide__ = True
    shape, dtype = _validated(shape, dtype)
    batches = int(batches)
    if batches < 1:
        raise ValueError(f"batches must be at least 1, got {batches}")
    name = _name(update_running_stats, "update_running_stats")
    settings = {"momentum": momentum, "batches": batches, "start": "random"}
    scenarios = [_scenario("from running_mean = 0 and running_var = 1 (BatchNorm1d's start)",
                           shape, momentum=momentum, dtype=dtype)]
    scenarios += _common_scenarios(shape, dtype, **settings)
    if momentum is None:
        scenarios.append(_scenario("", shape, dtype=dtype, **{**settings,
                                                              "momentum": SCENARIO_MOMENTUM}))
    _float32_last(scenarios, shape, dtype, **settings)
    for index, scenario in enumerate(scenarios):
        _check_running_scenario(update_running_stats, name, scenario,
                                default_rng((int(seed), index)))


def _check_running_scenario(update_running_stats, name, scenario, rng):
    __tracebackhide__ = True
    c = scenario.shape[1]
    if scenario.start == "random":
        running_mean = rng.standard_normal(c).astype(scenario.dtype)
        running_var = rng.uniform(0.5, 2, c).astype(scenario.dtype)
    else:
        running_mean, running_var = np.zeros(c, dtype=scenario.dtype), np.zeros(c) + 1
        running_var = running_var.astype(scenario.dtype)
    momentum = DEFAULT_MOMENTUM if scenario.momentum is None else float(scenario.momentum)
    keywords = {} if scenario.momentum is None else {"momentum": scenario.momentum}
    call = (f"{name}(running_mean, running_var, input"
            f"{'' if scenario.momentum is None else f', momentum={scenario.momentum!r}'})")
    oracle = f"torch.nn.BatchNorm1d({c}, momentum={number(momentum)})"
    words = _words(scenario)
    expected_mean, expected_var = _float64(running_mean), _float64(running_var)
    for batch in range(1, scenario.batches + 1):
        x = _columns(rng, scenario)
        context = call + words
        if scenario.batches > 1:
            context += (f": on batch {batch}" if batch == 1 else
                        f": batch{' 1 matches' if batch == 2 else f'es 1–{batch - 1} match'} "
                        f"{oracle}, batch {batch} differs")
        before_mean, before_var = running_mean.copy(), running_var.copy()
        given = x.copy()
        try:
            result = _quietly(update_running_stats, [running_mean, running_var, given], keywords)
        except Exception as error:
            _crashed(f"{call} on batch {batch}{words}", error,
                     "running_mean and running_var are [C], input [N, C]: the batch's mean and "
                     "variance per column (axis=0) have shape [C].")
        _check_unchanged(call, [("input", given)], [x])
        with np.errstate(all="ignore"):
            mistakes = _running_mistakes(expected_mean, expected_var, x, momentum)
        expected_mean, expected_var = _torch_update(expected_mean, expected_var, x, momentum)
        unchanged = [label for label, now, before, wanted in (
            ("running_mean", running_mean, before_mean, expected_mean),
            ("running_var", running_var, before_var, expected_var))
            if (now == before).all() and not (wanted == _float64(before)).all()]
        if unchanged:
            _left_unchanged(context, unchanged, result)
        for label, actual, wanted in (("running_mean", running_mean, expected_mean),
                                      ("running_var", running_var, expected_var)):
            _compare(context, label, actual, wanted, dtype=scenario.dtype,
                     known_mistakes=mistakes[label],
                     hint=f"with the batch's mean and unbiased variance per column (axis=0, "
                          f"ddof=1), running = (1 - momentum) * running + momentum * "
                          f"statistic, as {oracle} does in training mode.")


# --------------------------------------------------------------------------- backward pass

def _torch_backward(grad_output, x, weight, eps):
    with _enable_grad():
        leaves = [_from_numpy(_float64(array)).requires_grad_()
                  for array in (x, weight, np.zeros(x.shape[1]))]
        output = _torch_batch_norm(*leaves, None, None, True, 0.0, eps, False)
        gradients = _autograd_grad(output, leaves, grad_outputs=_from_numpy(_float64(grad_output)))
    return [gradient.numpy() for gradient in gradients]


def _backward_mistakes(grad_output, x, weight, eps):
    """{gradient's name: [(wrong value, explanation), ...]} for the usual mistakes."""
    g, x, weight = _float64(grad_output), _float64(x), _float64(weight)
    n = x.shape[0]
    mean, var, normalized = _statistics(x, eps)
    inv_std = 1 / _sqrt(var + eps)
    scaled = g * weight

    def full(gn, xhat, inv, axis=0):
        return inv / n * (n * gn - gn.sum(axis, keepdims=True)
                          - xhat * (gn * xhat).sum(axis, keepdims=True))

    unbiased_inv_std = 1 / _sqrt(x.var(0, ddof=1) + eps)
    unbiased_normalized = (x - mean) * unbiased_inv_std
    unbiased = ("the variance is the unbiased one (divided by N - 1): the forward pass "
                "normalises with the biased variance, divided by N.")
    return {
        "grad_input": [
            (scaled * inv_std, "the mean and the variance are treated as constants: they are "
                               "computed from the whole batch, so every input's gradient also "
                               "flows through them — grad_input = weight / (N * std) * (N * g "
                               "- g.sum(0) - x_hat * (g * x_hat).sum(0)), g = grad_output."),
            (full(scaled, normalized, inv_std) + inv_std / n * scaled.sum(0),
             "the term through the mean is missing: subtract grad_output's column sums, "
             "(g * weight).sum(axis=0), as well."),
            (full(scaled, normalized, inv_std) + inv_std / n * normalized
             * (scaled * normalized).sum(0),
             "the term through the variance is missing: subtract x_hat * (g * weight * "
             "x_hat).sum(axis=0) as well."),
            (full(g, normalized, inv_std), "weight is missing: the output is x_hat * weight + "
                                           "bias, so the gradient reaching x_hat is grad_output "
                                           "* weight."),
            (full(scaled, unbiased_normalized, unbiased_inv_std), unbiased),
            (full(scaled, normalized, inv_std, axis=1),
             "the sums run over each sample's features (axis=1): they run over the batch, "
             "axis=0, one per column."),
        ],
        "grad_weight": [
            ((g * x).sum(0), "it is computed from the input: weight multiplies the normalised "
                             "input, so grad_weight = (grad_output * x_hat).sum(axis=0)."),
            ((g * unbiased_normalized).sum(0), unbiased),
        ],
        "grad_bias": [],
    }


def _three_arrays(context, result, names, expected):
    """The three arrays of `result`, after checking it is a 3-tuple in the right order."""
    __tracebackhide__ = True
    unpacked(f"{context}: it returned", result, 3, f"a tuple of three arrays ({', '.join(names)})")

    def close(actual, wanted):
        return (isinstance(actual, np.ndarray) and actual.shape == wanted.shape
                and actual.dtype.kind == "f"
                and isclose(actual, wanted, rtol=1e-4, atol=1e-5).all())

    for order in permutations(range(3)):
        if order != (0, 1, 2) and all(close(result[position], expected[meant])
                                      for position, meant in enumerate(order)):
            fail(f"{context}: it returned the right gradients in the wrong order, "
                 f"({', '.join(names[meant] for meant in order)}): return "
                 f"({', '.join(names)}).")
    return list(result)


def _wrong_shape(context, name, actual, n, c):
    """Fail with the cause if a [C] gradient came back [N] or [N, C]."""
    __tracebackhide__ = True
    if not isinstance(actual, np.ndarray) or actual.shape == (c,):
        return
    if actual.shape == (n,):
        fail(f"{context}: {name} has shape ({n},) but should have shape ({c},): it is summed "
             f"over the features (axis=1) instead of over the batch (axis=0).")
    if actual.shape == (n, c):
        fail(f"{context}: {name} has shape ({n}, {c}) but should have shape ({c},): each of "
             f"the {n} samples contributes to it — sum over the batch (axis=0).")


def check_batch_norm_backward(batch_norm_backward, *, seed=0, shape=(6, 4), eps=None,
                              dtype=np.float64):
    """Check `batch_norm_backward(grad_output, input, weight, eps=1e-5)` -> (grad_input [N, C],
    grad_weight [C], grad_bias [C]) (numpy) against autograd through
    torch.batch_norm(training=True) in float64; grad_bias first, then grad_weight, then
    grad_input.

    Scenarios, simplest first: random data; N = 2 (where the normalised output hardly depends
    on the input); a constant column next to a nearly constant one; eps=0.1 by keyword;
    float32 (the gradients must be float32). Options: `seed`, `shape` (N, C), `eps` (passed
    by keyword to every call; the eps scenario is then left out), `dtype`.
    """
    __tracebackhide__ = True
    shape, dtype = _validated(shape, dtype)
    name = _name(batch_norm_backward, "batch_norm_backward")
    names = ("grad_input", "grad_weight", "grad_bias")
    crash_hint = ("grad_output and input are [N, C], weight [C]; sums over the batch (axis=0) "
                  "have shape [C] and broadcast against [N, C].")
    scenarios = _common_scenarios(shape, dtype, eps=eps)
    if eps is None:
        scenarios.append(_scenario("", shape, eps=SCENARIO_EPS, dtype=dtype))
    _float32_last(scenarios, shape, dtype, eps=eps)
    for index, scenario in enumerate(scenarios):
        rng = default_rng((int(seed), index))
        x = _columns(rng, scenario)
        n, c = scenario.shape
        weight = rng.uniform(0.5, 2, c).astype(scenario.dtype)
        grad_output = rng.standard_normal((n, c)).astype(scenario.dtype)
        used_eps = DEFAULT_EPS if scenario.eps is None else float(scenario.eps)
        keywords = {} if scenario.eps is None else {"eps": scenario.eps}
        call = (f"{name}(grad_output, input, weight"
                f"{'' if scenario.eps is None else f', eps={scenario.eps!r}'})")
        context = f"{call}{_words(scenario)}"
        expected = _torch_backward(grad_output, x, weight, used_eps)
        result = _run(batch_norm_backward, call,
                      [("grad_output", grad_output), ("input", x), ("weight", weight)],
                      keywords, crash_hint)
        gradients = dict(zip(names, _three_arrays(context, result, names, expected)))
        with np.errstate(all="ignore"):
            mistakes = _backward_mistakes(grad_output, x, weight, used_eps)
        # grad_input is a difference of terms of about this size, which cancel nearly
        # completely for N = 2: float32 rounding of the terms is what its error is relative to
        terms = float(np.absolute(_float64(grad_output) * _float64(weight)
                                  / _sqrt(_float64(x).var(0) + used_eps)).max())
        for label in ("grad_bias", "grad_weight", "grad_input"):
            wanted = expected[names.index(label)]
            scale = 1.0 if label != "grad_input" or scenario.dtype.name == "float64" else 10 * terms
            if label == "grad_input":
                _nan_in_constant_column(context, label, gradients[label], x)
            else:
                _wrong_shape(context, label, gradients[label], n, c)
            _compare(context, label, gradients[label], wanted, dtype=scenario.dtype,
                     known_mistakes=mistakes[label], factor_hints={"the batch size": n},
                     scale=scale,
                     hint="with x_hat = (input - mean) / std, std = np.sqrt(var + eps) and g = "
                          "grad_output: grad_bias = g.sum(0), grad_weight = (g * x_hat).sum(0), "
                          "grad_input = weight / (N * std) * (N * g - g.sum(0) - x_hat * (g * "
                          "x_hat).sum(0)).")

