"""The check of inverted dropout on a numpy array (assignment 05), by its statistics.

A dropout mask is random, so the check cannot compare the output with torch's entry by
entry. It requires what every right answer shares: each entry of the output is 0 or
input / (1 - p) (torch's kept value); the mask is independent per entry (not one per row or
column); the fraction of zeros is within 6 standard deviations of p
(torch.nn.functional.dropout's fraction on the same input is quoted next to it); the output
can be reproduced from the generator's state and differs on the next call; training=False
and p = 0 give the input, p = 1 zeros. Scenarios, simplest first: the defaults; p=0.2;
training=False; p=0; p=1; a float32 input with p=0.3.

A cause is named only when it reproduces the answer: the kept entries' factor is measured,
and "p is the probability of keeping" is said only when the answer's mask is exactly the one
`generator.random(input.shape) < p` draws from a generator in the same state; otherwise the
message says how the fraction of zeros or the values differ.

The student's function runs through the harness, on a copy of the input (changing it
fails), under the delegation watch: the answer must not run course_lib's dropout or its
mask, nor torch's dropout (F.dropout, torch.dropout, nn.Dropout). Tamper-proofing as in the
rest of the package: numpy, torch and the builtins are bound at import, the input and the
generators are made here, and torch's dropout runs inside fork_rng (the student's torch
state is kept).
"""
from builtins import bool, enumerate, float, int, isinstance, list, range, tuple
from math import log as _log
from math import sqrt as _math_sqrt

import torch
from numpy.random import get_state as _np_global_state
from torch import Tensor as _Tensor
from torch import equal as _torch_equal
from torch import from_numpy as _from_numpy
from torch import manual_seed as _torch_manual_seed
from torch.nn.functional import dropout as _torch_dropout
from torch.random import fork_rng as _fork_rng
from torch.random import get_rng_state as _torch_global_state

from course_lib.scratch import regularization as _scratch

from ._trusted import as_index, default_rng, isclose, np
from .failure import fail, kind_of, number
from .harness import Answer, exercise

RTOL = {"float64": 1e-9, "float32": 1e-5}
SIGMAS = 6  # a zero fraction this many standard deviations from p is a mistake, not chance
BY_CHANCE = 1e-12  # a mask structure this unlikely for independent entries is a mistake


class _Notebook:
    """The exercise as the notebook states it, for its name and parameters in messages:
    course_lib's reference, scratch.dropout, makes the generator optional."""

    def dropout(input, p=0.5, training=True, *, generator):
        """Inverted dropout on a numpy array."""


DROPOUT = exercise(_Notebook.dropout, forbidden=(
    _scratch.dropout, _scratch.dropout_mask, torch.nn.functional.dropout, torch.dropout,
    torch.nn.Dropout))

SHAPE = (200, 100)
SCENARIOS = [  # keyword arguments of the call, and the input's dtype
    ({}, "float64"),
    ({"p": 0.2}, "float64"),
    ({"p": 0.5, "training": False}, "float64"),
    ({"p": 0.0}, "float64"),
    ({"p": 1.0}, "float64"),
    ({"p": 0.3}, "float32"),
]
FORMULA = ("keep = generator.random(input.shape) >= p, then input * keep / (1 - p) "
           "(all zeros when p == 1); with training=False return input as it is.")


def _percent(fraction):
    return f"{100 * fraction:.1f} %"


def _fraction_fits(fraction, expected, count):
    sigma = _math_sqrt(expected * (1 - expected) / count)
    return -SIGMAS * sigma - 1 / count <= fraction - expected <= SIGMAS * sigma + 1 / count


def _draws(scenario_seed, shape):
    """What generator.random(input.shape) gives the answer on its first call: the right mask
    keeps where it is >= p, the mask of "p keeps" where it is < p."""
    return default_rng(scenario_seed).random(shape)


def _torch_zero_fraction(input, p, seed):
    """The fraction of entries torch.nn.functional.dropout zeroes in `input`, drawn from
    torch's global generator seeded inside fork_rng, so the student's torch state is kept."""
    with _fork_rng(devices=[]):
        _torch_manual_seed(seed)
        output = _torch_dropout(_from_numpy(input.astype(np.float64)), p, True)
    return float((output == 0).double().mean())


# ------------------------------------------------------------------ what came back

def _check_returned_array(call, output, input):
    __tracebackhide__ = True
    if not isinstance(output, np.ndarray):
        problem = (f"{call} returned {kind_of(output)}, but a numpy array of shape {input.shape} "
                   f"is expected")
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
             f"the input's dtype. Anything float64 in the product promotes it — a mask made "
             f"with .astype(float), np.where(..., 1 / (1 - p), 0.0) — so convert with "
             f".astype(input.dtype), or multiply by a bool mask.")


def _check_finite(call, output, p):
    __tracebackhide__ = True
    bad = ~np.isfinite(output)
    if not bad.any():
        return
    what = "nan" if np.isnan(output).any() else "inf"
    problem = f"{call} returned {what} in {int(bad.sum())} of {output.size} entries"
    if p == 1 and np.isnan(output).all():
        fail(f"{problem}: at p = 1, 1 / (1 - p) divides by zero, and a dropped entry becomes "
             f"0 / 0 or 0 * inf, which is nan. Every entry is dropped at p = 1: return "
             f"np.zeros_like(input) then.")
    if p == 1:
        fail(f"{problem}: every entry is dropped at p = 1, so the output is all zeros — return "
             f"np.zeros_like(input) then.")
    fail(f"{problem}, although input holds none.", FORMULA)


# ------------------------------------------------------------------ p = 0 and evaluation

def _check_identity(call, output, input, p, training):
    """training=False, or p = 0: the output must be the input."""
    __tracebackhide__ = True
    rtol = RTOL[input.dtype.name]
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


# ------------------------------------------------------------------ 0 < p < 1: the mask

def _check_kept_values(call, output, input, p, draws):
    """Every entry is 0 or input / (1 - p); else the factor that explains the kept ones."""
    __tracebackhide__ = True
    rtol = RTOL[input.dtype.name]
    kept = output != 0
    wrong = kept & ~isclose(output, input / (1 - p), rtol=rtol, atol=0)
    if not wrong.any():
        return
    observed, wanted = output[kept], input[kept]
    keeps_with_p = bool((kept == (draws < p)).all())
    for factor, explanation in (
            (1 / p if p else None,
             "p is used as the probability of KEEPING an entry (kept where "
             "generator.random(shape) < p, scaled by 1 / p): p is the probability of dropping "
             "it — keep where generator.random(shape) >= p, and scale by 1 / (1 - p)."
             if keeps_with_p else
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
         f"{int(wrong.sum())} of {int(kept.sum())} nonzero entries are neither.", FORMULA)


def _constant_axis(kept, p):
    """The axis along which the mask is constant, where independent entries would almost
    never be (None if there is none)."""
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


def _check_independent(call, output, p):
    __tracebackhide__ = True
    axis = _constant_axis(output != 0, p)
    if axis is None:
        return
    shape = output.shape
    mask_shape = tuple(1 if k == axis else size for k, size in enumerate(shape))
    if axis == 0:
        which = ("one mask per feature, shared by every sample of the batch (a mask of shape "
                 f"{mask_shape} broadcast over axis 0)")
    else:
        which = f"the same decision all along axis {axis} (a mask of shape {mask_shape} broadcast)"
    fail(f"{call}: {which}: each entry is dropped independently — draw one random number per "
         f"entry, generator.random(input.shape).")


def _check_zero_fraction(call, output, input, p, seed, draws):
    __tracebackhide__ = True
    fraction = float((output == 0).mean())
    if _fraction_fits(fraction, p, output.size):
        return
    torch_fraction = _torch_zero_fraction(input, p, seed)
    message = (f"{call} zeroed {_percent(fraction)} of the {output.size} entries; "
               f"torch.nn.functional.dropout(input, p={p!r}) zeroes {_percent(torch_fraction)} "
               f"of the same input, and each entry should be dropped with probability p = "
               f"{_percent(p)}.")
    if ((output == 0) == (draws >= p)).all():
        fail(f"{message} Likely cause: p is used as the probability of keeping an entry (its "
             f"mask is exactly generator.random(shape) < p): it is the probability of dropping "
             f"it — keep where generator.random(shape) >= p.")
    if _fraction_fits(fraction, 1 - p, output.size):
        fail(f"{message} That is 1 - p = {_percent(1 - p)} to within chance: the entries are "
             f"dropped with probability 1 - p, and kept with probability p.", FORMULA)
    fail(message, FORMULA)


# ------------------------------------------------------------------ the generator

def _states(generator):
    return generator.bit_generator.state, _np_global_state(), _torch_global_state()


def _same_numpy_global_state(before, after):
    return (before[0] == after[0] and before[2] == after[2] and (before[1] == after[1]).all())


def _check_reproducible(answer, call, kwargs, input, output, seed, first_generator):
    """The same generator state gives the same output, and the next call another one."""
    __tracebackhide__ = True
    generator = default_rng(seed)
    before = _states(generator)
    again = answer.run(call, input, **kwargs, generator=generator)
    after = _states(generator)
    if not (isinstance(again, np.ndarray) and again.shape == output.shape
            and (again == output).all()):
        if before[0] == after[0]:
            source = "it never drew from `generator`"
            if not _same_numpy_global_state(before[1], after[1]):
                source += " but from numpy's global generator (np.random.rand, np.random.random…)"
            elif not _torch_equal(before[2], after[2]):
                source += " but from torch's global generator (torch.rand, F.dropout…)"
            else:
                source += (", nor from numpy's or torch's global generator: from a generator "
                           "of its own (np.random.default_rng() inside the function?)")
        else:
            source = "something besides `generator` changes the mask"
        fail(f"{call} gave two different outputs for two generators in the same state "
             f"(np.random.default_rng({seed}) each): {source}, so a run can't be reproduced "
             f"from its seed. Draw every random number from the generator passed in, "
             f"generator.random(input.shape).")
    state = first_generator.bit_generator.state
    following = answer.run(call, input, **kwargs, generator=first_generator)
    if isinstance(following, np.ndarray) and following.shape == output.shape and (
            (following == 0) == (output == 0)).all():
        unused = (", which it never drew from" if first_generator.bit_generator.state == state
                  else "")
        fail(f"{call} dropped exactly the same entries on two calls in a row with the same "
             f"generator{unused}: a new generator with a fixed seed inside the function? Draw "
             f"from the generator passed in, which moves on with every call, so every call gets "
             f"a new mask.")


# ------------------------------------------------------------------ the check

def _scenarios(seed, p, training, shape, dtype):
    """[(call's keyword arguments, input shape, dtype, seed of the scenario)]."""
    shape = tuple(int(size) for size in shape)
    selected = {key: value for key, value in (("p", p), ("training", training))
                if value is not None}
    if selected:
        scenarios = [(selected, np.dtype(dtype or "float64").name)]
    else:
        scenarios = [(kwargs, np.dtype(dtype).name if dtype else kind)
                     for kwargs, kind in SCENARIOS]
    return [(kwargs, shape, kind, (int(seed), index))
            for index, (kwargs, kind) in enumerate(scenarios)]


def check_dropout(dropout, *, seed=0, p=None, training=None, shape=SHAPE, dtype=None):
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
    answer = Answer(DROPOUT, dropout)
    for kwargs, scenario_shape, kind, scenario_seed in _scenarios(seed, p, training, shape, dtype):
        rng = default_rng(scenario_seed)
        input = np.asarray(rng.standard_normal(scenario_shape), dtype=np.dtype(kind))
        input[input == 0] = 1.0  # a kept entry must not look dropped
        scenario_p = float(kwargs.get("p", 0.5))
        scenario_training = bool(kwargs.get("training", True))
        arguments = "".join(f", {key}={value!r}" for key, value in kwargs.items())
        call = f"{DROPOUT.name}(input{arguments}, generator=rng)"
        if input.dtype != np.float64:
            call += f" on a {input.dtype} input"
        generator = default_rng(scenario_seed)
        output = answer.run(call, input, **kwargs, generator=generator)
        _check_returned_array(call, output, input)
        _check_finite(call, output, scenario_p)
        if not scenario_training or scenario_p == 0:
            _check_identity(call, output, input, scenario_p, scenario_training)
            continue
        if scenario_p == 1:
            if (output != 0).any():
                fail(f"{call} kept {int((output != 0).sum())} of {output.size} entries: at "
                     f"p = 1 every entry is dropped, the output is all zeros.")
            continue
        draws = _draws(scenario_seed, scenario_shape)
        _check_kept_values(call, output, input, scenario_p, draws)
        _check_independent(call, output, scenario_p)
        _check_zero_fraction(call, output, input, scenario_p, int(scenario_seed[0]), draws)
        _check_reproducible(answer, call, kwargs, input, output, scenario_seed, generator)
