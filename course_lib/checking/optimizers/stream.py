"""Running a student's update rule over a stream of gradients, next to torch's optimizer.

`check(rule, update, ...)` runs each of the rule's scenarios in turn. A scenario is a
`Stream`: initial params, one gradient per step and parameter, the calls in order (step,
parameter) and each step's hyperparameters. The student's `update` gets the same `state`
dict on every call of a parameter; torch's optimizer gets the same gradients (float64).
At the first call whose param differs, the student's function runs on to the end of the
stream and the failure says which call diverged, where and by how much, and — when a
wrong variant of the rule reproduces the student's trajectory here, and in every later
scenario where the student's differs from torch's too, — which mistake that is
(`explain`). A variant that fits one scenario by coincidence is not blamed.
"""
from builtins import (
    KeyError, TypeError, ValueError, ZeroDivisionError, all, enumerate, float, int, isinstance,
    len, list, object, range, str, tuple, zip,
)
from dataclasses import dataclass
from inspect import signature as _signature

from numpy import maximum as _maximum
from numpy import minimum as _minimum
from torch import from_numpy as _from_numpy

from .._trusted import as_index, default_rng, isclose, np
from ..failure import CheckFailure, DelegationFailure, fail, kind_of, name_of
from ..harness import Answer
from .rule import STEP_COUNT, TWO_PARAMETERS_HINT, variants
from .words import (
    apart, arguments_words, call_words, ordinal, signature_words, value_words,
)

RTOL = {"float64": 1e-9, "float32": 1e-5}  # relative to the trajectory's largest entry
# A wrong variant explains the student's trajectory when it is 100 times closer to it than
# torch's is, and at most this far from it (relative to the trajectory's largest entry).
MATCH_RTOL = {"float64": 1e-7, "float32": 1e-4}
EXPLAINED = 0.01
# gradient sizes over steps (cycled): several orders of magnitude, and one all-zero step
MAGNITUDES = (1.0, 1e-2, 10.0, 0.0, 1e-1, 100.0, 1e-3, 1.0)
TINY = 1e-8  # gradients this small make sqrt(v) about eps
LR_CHANGE = 0.5

OUTSIDE_STATE_HINT = (
    "the same first step with a fresh state dict gave two different results: the function "
    "keeps buffers or a step count outside `state` (a global, a function attribute). Keep them "
    "in `state`, the dict passed with each parameter.")


@dataclass(frozen=True)
class Stream:
    """One scenario's inputs and torch's answer: `calls` lists (step, parameter) in call
    order, `hyper` each step's hyperparameters, `keywords` those passed to the student's
    function, `expected` the param after each call (torch, float64), `scale` its largest
    entry, the tolerances for the params' dtype."""
    rule: object
    scenario: object
    shapes: list
    initial: list
    gradients: list
    calls: list
    hyper: list
    keywords: list
    expected: list
    scale: float
    rtol: float
    match_rtol: float

    def keyword_arguments(self, k):
        return {key: self.hyper[k][key] for key in self.keywords}

    def call_words(self, name, k):
        return call_words(name, self.hyper[k], self.keywords)


def _other_shape(shape):
    """The second parameter's shape: where it can be, one that doesn't broadcast with
    `shape`, so that a buffer shared by the two raises."""
    return (shape[-1] + 1,) if len(shape) and shape[-1] > 1 else (3, 2)


def _stream(rule, scenario, rng, shape, steps, dtype, options):
    shapes = [shape, _other_shape(shape)] if scenario.two else [shape]
    # asarray: a draw of shape () is a number, not an array
    initial = [np.asarray(rng.standard_normal(size), dtype=dtype) for size in shapes]
    size_of = TINY if scenario.tiny else 1.0
    gradients = [[np.asarray(rng.standard_normal(size)
                             * (size_of * MAGNITUDES[k % len(MAGNITUDES)]), dtype=dtype)
                  for k in range(steps)] for size in shapes]
    calls = [(k, j) for k in range(steps) for j in range(len(shapes))]
    base = {**rule.defaults, **scenario.options, **options}
    change = steps // 2 if scenario.lr_change else steps
    hyper = [{**base, "lr": base["lr"] * (LR_CHANGE if k >= change else 1.0)}
             for k in range(steps)]
    keywords = [key for key in rule.defaults if key in rule.required or key in scenario.options
                or key in options or (key == "lr" and scenario.lr_change)]
    expected = _torch_trajectory(rule, initial, gradients, calls, hyper)
    scale = 1e-30
    for values in expected:
        scale = float(_maximum(scale, np.absolute(values).max()))
    return Stream(rule, scenario, shapes, initial, gradients, calls, hyper, keywords, expected,
                  scale, RTOL[dtype.name], MATCH_RTOL[dtype.name])


def _torch_trajectory(rule, initial, gradients, calls, hyper):
    """Each parameter's values after each call, from the torch optimizer (float64)."""
    tensors = [_from_numpy(values.astype(np.float64)).requires_grad_() for values in initial]
    optimizers = [rule.oracle([tensor], **rule.to_torch(hyper[0])) for tensor in tensors]
    trajectory = []
    for k, j in calls:
        optimizers[j].param_groups[0]["lr"] = rule.to_torch(hyper[k])["lr"]
        tensors[j].grad = _from_numpy(gradients[j][k].astype(np.float64))
        optimizers[j].step()
        trajectory.append(tensors[j].detach().numpy().copy())
    return trajectory


def _numpy_trajectory(wrong, stream, count):
    """The first `count` calls' values of a wrong variant `wrong(param, grad, state, hp)`."""
    params = [values.astype(np.float64) for values in stream.initial]
    states = [{} for _ in stream.initial]
    trajectory = []
    with np.errstate(all="ignore"):
        for k, j in stream.calls[:count]:
            wrong(params[j], stream.gradients[j][k].astype(np.float64), states[j], stream.hyper[k])
            trajectory.append(params[j].copy())
    return trajectory


def _close(actual, wanted, stream):
    return isclose(actual, wanted, rtol=stream.rtol, atol=stream.rtol * stream.scale).all()


def _distance(first, second):
    """The largest difference between two trajectories; nan against nan and inf against
    inf count as 0, nan or inf against anything else as inf."""
    largest = 0.0
    with np.errstate(invalid="ignore", over="ignore"):
        for a, b in zip(first, second):
            difference = np.asarray(np.absolute(a - b))  # an array also for shape ()
            difference[np.isnan(difference)] = float("inf")
            difference[(a == b) | np.isnan(a) & np.isnan(b)] = 0.0
            largest = float(_maximum(largest, difference.max()))
    return largest


def _quiet_trajectory(update, name, stream):
    """The student's params after each call of `stream`, or None if a call fails."""
    params = [values.copy() for values in stream.initial]
    states = [{} for _ in stream.shapes]
    trajectory = []
    for c, (_, j) in enumerate(stream.calls):
        if not _ran(update, name, stream, c, params[j], states[j]):
            return None
        trajectory.append(params[j].astype(np.float64))
    return trajectory


def _reproduces(wrong, stream, recorded):
    """Whether the variant's trajectory is the student's `recorded` one: far closer to it
    than torch's, and within MATCH_RTOL."""
    deviation = _distance(recorded, stream.expected)
    within = float(_maximum(EXPLAINED * deviation, stream.rtol * stream.scale))
    within = float(_minimum(within, stream.match_rtol * stream.scale))
    return _distance(recorded, _numpy_trajectory(wrong, stream, len(recorded))) <= within


def _keeps_state_elsewhere(update, name, stream):
    """Whether two first steps from the same inputs, each with a fresh state dict, differ."""
    results = []
    for _ in range(2):
        param = stream.initial[0].copy()
        if not _ran(update, name, stream, 0, param, {}):
            return False
        results.append(param)
    first, second = results
    return not ((first == second) | np.isnan(first) & np.isnan(second)).all()


def explain(update, name, stream, recorded, others):
    """The explanation of the first wrong variant that reproduces the student's trajectory
    `recorded` here and differs from torch's here; else the scenario's hint or the rule's
    formula. `others` are (stream, the student's trajectory) of the later scenarios where
    the student's is wrong too: a variant that reproduces those as well is preferred, and
    one that does not is named with the scenario it leaves unexplained."""
    if _keeps_state_elsewhere(update, name, stream):
        return OUTSIDE_STATE_HINT
    if stream.scenario.two:
        return stream.scenario.hint
    count = len(recorded)
    partial = None
    for wrong in variants(stream.rule):
        if not _reproduces(wrong, stream, recorded) or _distance(
                _numpy_trajectory(wrong, stream, count),
                stream.expected[:count]) <= stream.rtol * stream.scale:
            continue
        unexplained = [other for other, trajectory in others
                       if not _reproduces(wrong, other, trajectory)]
        if not unexplained:
            return wrong.explanation
        if partial is None:
            other = unexplained[0]
            partial = (f"{wrong.explanation} That explains this scenario but not "
                       f"{other.call_words(name, 0)}{_scenario_words(other, ' ')}, where your "
                       f"update differs from torch's in another way too.")
    return partial or stream.scenario.hint or stream.rule.formula


def _also_wrong(update, name, streams):
    """(stream, the student's trajectory) for each of `streams` where the student's function
    runs through and its params differ from torch's."""
    wrong = []
    for stream in streams:
        trajectory = _quiet_trajectory(update, name, stream)
        if trajectory is not None and not all(
                _close(actual, wanted, stream)
                for actual, wanted in zip(trajectory, stream.expected)):
            wrong.append((stream, trajectory))
    return wrong


# ------------------------------------------------------------------------------- failures

def _progress_words(stream, c):
    """'step 1 differs from torch.optim.X(...)' or 'steps 1–3 match ..., step 4 diverges'."""
    rule = stream.rule
    k, j = stream.calls[c]
    torch_call = f"{rule.oracle_name}({arguments_words(rule.to_torch(stream.hyper[k]))})"
    if len(stream.shapes) == 1:
        which, unit = f"step {k + 1}", "step"
    else:
        which = (f"call {c + 1} (step {k + 1} of the {ordinal(j)} parameter, shape "
                 f"{stream.shapes[j]})")
        unit = "call"
    if c == 0:
        return f"{which} differs from {torch_call}"
    matched = f"{unit} 1 matches" if c == 1 else f"{unit}s 1–{c} match"
    return f"{matched} {torch_call}, {which} diverges"


def _scenario_words(stream, before):
    """' with tiny gradients ...', or for a changing lr ' with lr=0.1 on steps 1–4, then 0.05',
    after `before` (' ' or ', '); '' for the defaults."""
    scenario, hyper = stream.scenario, stream.hyper
    if scenario.lr_change:
        change = _lr_change_step(hyper)
        steps = "step 1" if change == 1 else f"steps 1–{change}"
        return (f"{before}with lr={value_words(hyper[0]['lr'])} on {steps}, then "
                f"{value_words(hyper[change]['lr'])}")
    return f"{before}{scenario.words}" if scenario.words else ""


def _lr_change_step(hyper):
    """The first step whose lr differs from the first step's."""
    for k, step_hyper in enumerate(hyper):
        if step_hyper["lr"] != hyper[0]["lr"]:
            return k
    return len(hyper)


def _fail_mismatch(update, name, stream, c, recorded, later):
    """Call `c` is the first whose param differs from torch's; `recorded` goes on after it."""
    __tracebackhide__ = True
    k, j = stream.calls[c]
    actual, wanted = recorded[c], stream.expected[c]
    with np.errstate(invalid="ignore", over="ignore"):
        difference = np.asarray(np.absolute(actual - wanted))  # an array also for shape ()
    difference[~np.isfinite(actual)] = float("inf")
    position = int(difference.reshape(-1).argmax())
    index = as_index(position, stream.shapes[j])
    where = f"param[{', '.join(str(i) for i in index)}]" if index else "param"
    got, want = apart(actual.reshape(-1)[position], wanted.reshape(-1)[position])
    message = (f"{stream.call_words(name, k)}{_scenario_words(stream, ' ')}: "
               f"{_progress_words(stream, c)}: {where} is {got}, expected {want} (largest "
               f"difference {float(difference.max()):.2g}).")
    fail(message, explain(update, name, stream, recorded, _also_wrong(update, name, later)))


def _advice(name, stream, c, error):
    """The hint for the student's function raising `error` on call `c`, or None for the
    harness's shared advice."""
    rule, two = stream.rule, stream.scenario.two
    k, j = stream.calls[c]
    if isinstance(error, TypeError) and "argument" in str(error):
        return (f"the check passes hyperparameters by keyword; the signature is "
                f"{signature_words(name, rule.defaults, rule.required)}.")
    if two and (j == 1 or k > 0):
        return TWO_PARAMETERS_HINT
    if isinstance(error, KeyError):
        return ("state is an empty dict before a parameter's first step: create the buffers "
                "then (`if not state:` or state.get(...)), and read them on later steps.")
    if isinstance(error, ZeroDivisionError) and "betas" in rule.defaults:
        return f"t = 0 makes 1 - beta**t zero. {STEP_COUNT}"
    if isinstance(error, ValueError):
        return ("grad and every buffer have the shape of param; build buffers with "
                "np.zeros_like(param).")
    return None


def _call_words(name, stream, c):
    """'adam_update(param, grad, state, lr=0.05) on step 3 of the second parameter, ...'"""
    k, j = stream.calls[c]
    of = f" of the {ordinal(j)} parameter" if stream.scenario.two else ""
    return f"{stream.call_words(name, k)} on step {k + 1}{of}{_scenario_words(stream, ', ')}"


def _run(update, name, stream, c, param, state):
    """The student's `update` on call `c` of `stream`, through the harness: on a copy of the
    gradient, quietly, watched; a crash fails with the advice above."""
    __tracebackhide__ = True
    k, j = stream.calls[c]
    answer = Answer(stream.rule.exercise, update,
                    advice=lambda error: _advice(name, stream, c, error))
    return answer.run(_call_words(name, stream, c), param, stream.gradients[j][k], state,
                      **stream.keyword_arguments(k))


def _ran(update, name, stream, c, param, state):
    """Whether `_run` went through, for the runs that only diagnose; an answer caught
    running its exercise's reference fails all the same."""
    __tracebackhide__ = True
    try:
        _run(update, name, stream, c, param, state)
    except DelegationFailure:
        raise
    except CheckFailure:
        return False
    return True


def _fail_in_place(name, stream, result, k):
    __tracebackhide__ = True
    call = stream.call_words(name, k)
    when = f"on step {k + 1}{_scenario_words(stream, ', ')}"
    if result is None:
        fail(f"{call} left param unchanged {when}, but {stream.rule.oracle_name} changes it.",
             "`param = param - ...` makes a new array and only rebinds the local name: write "
             "into the caller's array, param -= lr * update (or param[...] = new_value).")
    got = "a new array" if isinstance(result, np.ndarray) else kind_of(result)
    fail(f"{call} returned {got} and left param unchanged {when}.",
         "update param in place, param -= lr * update (or param[...] = new_value), and return "
         "None: the caller keeps its own array, as with torch's optimizer.step().")


# --------------------------------------------------------------------------------- checks

def _check_defaults(update, name, rule):
    """A default in the student's signature that differs from torch's fails first."""
    __tracebackhide__ = True
    try:
        parameters = _signature(update).parameters
    except (TypeError, ValueError):
        return
    for key, wanted in rule.defaults.items():
        parameter = parameters.get(key)
        if key in rule.required or parameter is None or parameter.default is parameter.empty:
            continue
        default = parameter.default
        same = (tuple(default) == wanted if isinstance(default, (tuple, list))
                else isinstance(default, (int, float)) and default == wanted)
        if not same:
            fail(f"{name}'s default is {key}={default!r}, but {rule.oracle_name}'s is "
                 f"{key}={value_words(wanted)}.",
                 f"use the signature {signature_words(name, rule.defaults, rule.required)}.")


def _check_stream(update, name, stream, later):
    __tracebackhide__ = True
    params = [values.copy() for values in stream.initial]
    torch_before = [values.astype(np.float64) for values in stream.initial]
    states = [{} for _ in stream.shapes]
    recorded = []
    for c, (k, j) in enumerate(stream.calls):
        before = params[j].copy()
        result = _run(update, name, stream, c, params[j], states[j])
        if (params[j] == before).all() and not (stream.expected[c] == torch_before[j]).all():
            _fail_in_place(name, stream, result, k)
        torch_before[j] = stream.expected[c]
        recorded.append(params[j].astype(np.float64))
        if not _close(recorded[-1], stream.expected[c], stream):
            # run on (without the checks above) to see which mistake the trajectory follows
            for c_next in range(c + 1, len(stream.calls)):
                j_next = stream.calls[c_next][1]
                if not _ran(update, name, stream, c_next, params[j_next], states[j_next]):
                    break
                recorded.append(params[j_next].astype(np.float64))
            _fail_mismatch(update, name, stream, c, recorded, later)


def check(rule, update, seed, shape, steps, dtype, options):
    """Run every scenario of `rule` on `update`; see the module docstring."""
    __tracebackhide__ = True
    unknown = [key for key in options if key not in rule.defaults]
    if unknown:
        raise TypeError(f"check_{rule.name} takes the hyperparameters "
                        f"{', '.join(rule.defaults)}, not {', '.join(unknown)}")
    shape, steps, dtype = tuple(int(size) for size in shape), int(steps), np.dtype(dtype)
    if dtype.name not in RTOL or steps < 1:
        raise ValueError(f"dtype must be float32 or float64 and steps at least 1, got {dtype.name} "
                         f"and {steps}")
    name = name_of(update, rule.name)
    _check_defaults(update, name, rule)
    streams = [_stream(rule, scenario, default_rng((int(seed), index)), shape, steps, dtype,
                       options)
               for index, scenario in enumerate(rule.scenarios)
               if not (scenario.lr_change and steps < 2)]
    for index, stream in enumerate(streams):
        _check_stream(update, name, stream, streams[index + 1:])
