"""The check of batch normalisation's running statistics (assignment 05):
`update_running_stats(running_mean, running_var, input, momentum=0.1)` updates the [C] arrays
in place from a batch input [N, C], as torch.nn.BatchNorm1d does in training mode.

The scenarios are those of `normalization` (ordinary data, N = 2, constant columns, float32),
each run over several batches in a row with the arrays carried from call to call, after a
first scenario from BatchNorm1d's start (running_mean = 0, running_var = 1) and before one
with momentum=0.3 by keyword. The expected arrays come from torch.batch_norm's own update, in
float64, after each batch; on a mismatch the message names the batch, the array, and the
usual mistake whose update, recomputed from the right state before that batch, reproduces it.

The student's function runs through the harness, which hands it the running arrays
themselves and a copy of the batch (changing it fails), under the delegation watch: it must
not run course_lib's batch norm (scratch.batch_norm_forward, batch_norm), which updates the
running statistics too, nor torch's.
"""
from builtins import ValueError, enumerate, float, int, len, range

from numpy import sqrt as _sqrt
from torch import batch_norm as _torch_batch_norm
from torch import from_numpy as _from_numpy

from course_lib.scratch import normalization as _scratch

from ._trusted import default_rng, np
from .failure import fail, kind_of, number
from .harness import Answer, exercise
from .normalization import (
    DEFAULT_EPS, DEFAULT_MOMENTUM, SCENARIO_MOMENTUM, TORCH_BATCH_NORM, columns, common_scenarios,
    compare, float32_last, float64, scenario, validated, words,
)


class _Notebook:
    """The exercise as the notebook states it, for its name and parameters in messages:
    course_lib updates the running statistics inside scratch.batch_norm_forward."""

    def update_running_stats(running_mean, running_var, input, momentum=0.1):
        """Updates running_mean and running_var in place from the batch input [N, C]."""


UPDATE_RUNNING_STATS = exercise(
    _Notebook.update_running_stats, mutates=("running_mean", "running_var"),
    forbidden=(_scratch.batch_norm_forward, _scratch.batch_norm, *TORCH_BATCH_NORM))

KERAS = ("momentum is used the other way round (Keras's convention, running = momentum * "
         "running + (1 - momentum) * batch statistic): torch's momentum weighs the new batch, "
         "running = (1 - momentum) * running + momentum * batch statistic.")


def _running_mistakes(mean_before, var_before, x, momentum):
    """({'running_mean': [...], 'running_var': [...]}, (wrong value, explanation) pairs) for
    one update from the right state before it, in float64."""
    x = float64(x)
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
               "variance is the mean of (input - mean) ** 2, divided by N - 1 here.")
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
    running_mean, running_var = _from_numpy(float64(mean)), _from_numpy(float64(var))
    _torch_batch_norm(_from_numpy(float64(x)), None, None, running_mean, running_var, True,
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
    shape, dtype = validated(shape, dtype)
    batches = int(batches)
    if batches < 1:
        raise ValueError(f"batches must be at least 1, got {batches}")
    answer = Answer(UPDATE_RUNNING_STATS, update_running_stats, shape_hint=(
        "running_mean and running_var are [C], input [N, C]: the batch's mean and variance per "
        "column (axis=0) have shape [C]."))
    settings = {"momentum": momentum, "batches": batches, "start": "random"}
    scenarios = [scenario("from running_mean = 0 and running_var = 1 (BatchNorm1d's start)",
                          shape, momentum=momentum, dtype=dtype)]
    scenarios += common_scenarios(shape, dtype, **settings)
    if momentum is None:
        scenarios.append(scenario("", shape, dtype=dtype, **{**settings,
                                                             "momentum": SCENARIO_MOMENTUM}))
    float32_last(scenarios, shape, dtype, **settings)
    for index, current in enumerate(scenarios):
        _check_scenario(answer, current, default_rng((int(seed), index)))


def _check_scenario(answer, current, rng):
    __tracebackhide__ = True
    c = current.shape[1]
    if current.start == "random":
        running_mean = rng.standard_normal(c).astype(current.dtype)
        running_var = rng.uniform(0.5, 2, c).astype(current.dtype)
    else:
        running_mean, running_var = np.zeros(c, dtype=current.dtype), np.zeros(c) + 1
        running_var = running_var.astype(current.dtype)
    momentum = DEFAULT_MOMENTUM if current.momentum is None else float(current.momentum)
    keywords = {} if current.momentum is None else {"momentum": current.momentum}
    oracle = f"torch.nn.BatchNorm1d({c}, momentum={number(momentum)})"
    scenario_words = words(current)
    expected_mean, expected_var = float64(running_mean), float64(running_var)
    for batch in range(1, current.batches + 1):
        x = columns(rng, current)
        call = answer.words(running_mean, running_var, x, **keywords)
        context = call + scenario_words
        if current.batches > 1:
            context += (f": on batch {batch}" if batch == 1 else
                        f": batch{' 1 matches' if batch == 2 else f'es 1–{batch - 1} match'} "
                        f"{oracle}, batch {batch} differs")
        before_mean, before_var = running_mean.copy(), running_var.copy()
        result = answer.run(f"{call} on batch {batch}{scenario_words}", running_mean, running_var,
                            x, **keywords)
        with np.errstate(all="ignore"):
            mistakes = _running_mistakes(expected_mean, expected_var, x, momentum)
        expected_mean, expected_var = _torch_update(expected_mean, expected_var, x, momentum)
        unchanged = [label for label, now, before, wanted in (
            ("running_mean", running_mean, before_mean, expected_mean),
            ("running_var", running_var, before_var, expected_var))
            if (now == before).all() and not (wanted == float64(before)).all()]
        if unchanged:
            _left_unchanged(context, unchanged, result)
        for label, actual, wanted in (("running_mean", running_mean, expected_mean),
                                      ("running_var", running_var, expected_var)):
            compare(context, label, actual, wanted, dtype=current.dtype,
                    known_mistakes=mistakes[label],
                    hint=f"with the batch's mean and unbiased variance per column (axis=0, "
                         f"ddof=1), running = (1 - momentum) * running + momentum * "
                         f"statistic, as {oracle} does in training mode.")
