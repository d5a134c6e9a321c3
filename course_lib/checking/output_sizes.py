"""Checks of the output-size arithmetic of convolution and pooling (assignment 06):
`conv_output_size(input_size, kernel_size, stride=1, padding=0, dilation=1)` and
`pool_output_size(input_size, kernel_size, stride=None, padding=0, dilation=1,
ceil_mode=False)`, the length of one spatial dimension after a torch.nn.Conv2d or a
torch.nn.MaxPool2d.

Two exercises, not one with a ceil_mode flag: as in torch, a convolution's stride defaults to
1 and a pooling's to its kernel size, and only pooling has ceil_mode.

Each check calls the answer on a list of cases, simplest first — the kernel alone, then
padding, stride where the division has a remainder, dilation, all of them, the edge cases
(kernel as large as the input, stride larger than the kernel) and everything by position —
then on random cases drawn from `seed`. The expected sizes are those of torch's own output
(torch.conv1d and torch.max_pool1d run on zeros: one dimension is all the arithmetic needs).
After all calls, the first case that differs is reported; a cause is named only when one of
the usual mistakes below, each a small wrong function next to its explanation, gives the
answer's size in every case.

The answer must not run course_lib's reference, nor torch's convolution or pooling (whose
output's shape would be the answer).
"""
from builtins import all, bool, enumerate, int, isinstance, len
from types import SimpleNamespace

import torch

from course_lib.scratch import conv as _scratch

from ._trusted import default_rng, np
from .failure import mistake
from .harness import Answer, exercise
from .values import check_integer

_conv1d, _max_pool1d, _zeros = torch.conv1d, torch.max_pool1d, torch.zeros

# torch's convolution and pooling: running them and reading the output's shape is no answer
TORCH_CONV_AND_POOL = (torch.conv2d, torch.conv1d, torch.convolution, torch.nn.Conv2d,
                       torch.max_pool2d, torch.max_pool1d, torch.nn.MaxPool2d)

CONV_OUTPUT_SIZE = exercise(_scratch.conv_output_size, forbidden=TORCH_CONV_AND_POOL)
POOL_OUTPUT_SIZE = exercise(_scratch.pool_output_size, forbidden=TORCH_CONV_AND_POOL)

CONV_FORMULA = ("output = floor((input_size + 2 * padding - dilation * (kernel_size - 1) - 1) "
                "/ stride) + 1, as in torch.nn.Conv2d's docs.")
POOL_FORMULA = ("stride defaults to kernel_size; output = floor((input_size + 2 * padding - "
                "dilation * (kernel_size - 1) - 1) / stride) + 1, rounded up instead with "
                "ceil_mode=True — and then one less if the last window would start at or after "
                "input_size + padding (in the right padding), as in torch.nn.MaxPool2d's docs.")

# (args, kwargs, what the case adds), simplest first
CONV_CASES = [
    ((28, 5), {}, "the kernel alone"),
    ((28, 3), {"padding": 1}, "padding"),
    ((28, 3), {"stride": 2}, "a stride that leaves a remainder"),
    ((28, 3), {"dilation": 2}, "dilation"),
    ((28, 3), {"stride": 2, "padding": 1}, "stride and padding"),
    ((10, 3), {"stride": 3, "padding": 2, "dilation": 2}, "all of them"),
    ((5, 5), {}, "a kernel as large as the input"),
    ((7, 2), {"stride": 3}, "a stride larger than the kernel"),
    ((11, 3, 2, 1, 2), {}, "every argument by position"),
]
POOL_CASES = [
    ((28, 2), {}, "the default stride"),
    ((28, 3), {}, "a default stride that leaves a remainder"),
    ((28, 3), {"ceil_mode": True}, "ceil_mode"),
    ((28, 2), {"ceil_mode": True}, "ceil_mode where the windows fit exactly"),
    ((28, 2), {"stride": 1}, "stride=1"),
    ((9, 3), {"stride": 2, "dilation": 2}, "dilation"),
    ((6, 3), {"stride": 2, "padding": 1, "ceil_mode": True}, "ceil_mode with padding"),
    ((5, 2), {"stride": 2, "padding": 1, "ceil_mode": True},
     "ceil_mode where the last window would start in the right padding"),
    ((9, 2, 2, 0, 1, True), {}, "every argument by position"),
]
RANDOM_CASES = 6


# ---------------------------------------------------------------------- torch's sizes

def _torch_conv_size(input_size, kernel_size, stride=1, padding=0, dilation=1):
    output = _conv1d(_zeros(1, 1, input_size), _zeros(1, 1, kernel_size), None, stride, padding,
                     dilation)
    return int(output.shape[-1])


def _torch_pool_size(input_size, kernel_size, stride=None, padding=0, dilation=1,
                     ceil_mode=False):
    stride = kernel_size if stride is None else stride
    output = _max_pool1d(_zeros(1, 1, input_size), kernel_size, stride, padding, dilation,
                         ceil_mode)
    return int(output.shape[-1])


# ------------------------------------------------------------------------------ mistakes

def _span(kernel_size, dilation):
    return dilation * (kernel_size - 1) + 1


def _windows(input_size, kernel_size, stride, padding, dilation, ceil_mode=False, *, span=_span,
             sides_padded=2, stride_used=True, round_up=False, plus=1, last_window_rule=True):
    """The output size by the docs' formula — or, with one keyword changed, by a mistaken one."""
    stride = stride if stride_used else 1
    extent = input_size + sides_padded * padding - span(kernel_size, dilation)
    size = (-(-extent // stride) if round_up or ceil_mode else extent // stride) + plus
    if ceil_mode and last_window_rule and (size - 1) * stride >= input_size + padding:
        size -= 1
    return size


def _conv_mistake(explanation, **changes):
    """conv_output_size written with one piece of the formula changed (see `_windows`)."""
    def conv_output_size(input_size, kernel_size, stride=1, padding=0, dilation=1):
        return _windows(input_size, kernel_size, stride, padding, dilation, **changes)
    return mistake(explanation)(conv_output_size)


def _pool_mistake(explanation, *, default_stride=None, ceil_mode_used=True, ceil_adds_one=False,
                  **changes):
    """pool_output_size written with one piece changed: a formula's (see `_windows`), stride's
    default, ceil_mode ignored, or rounding up done as rounding down plus one."""
    def pool_output_size(input_size, kernel_size, stride=None, padding=0, dilation=1,
                         ceil_mode=False):
        if stride is None:
            stride = kernel_size if default_stride is None else default_stride
        if ceil_adds_one and ceil_mode:
            return _windows(input_size, kernel_size, stride, padding, dilation, plus=2)
        return _windows(input_size, kernel_size, stride, padding, dilation,
                        ceil_mode and ceil_mode_used, **changes)
    return mistake(explanation)(pool_output_size)


# the formula's slips, made in either exercise
FORMULA_SLIPS = (
    ("dilation is left out: a kernel of kernel_size taps with dilation between them spans "
     "dilation * (kernel_size - 1) + 1 positions.", {"span": lambda kernel, dilation: kernel}),
    ("the dilated kernel is taken to span dilation * kernel_size positions: its kernel_size taps "
     "have kernel_size - 1 gaps of dilation, so it spans dilation * (kernel_size - 1) + 1.",
     {"span": lambda kernel, dilation: dilation * kernel}),
    ("padding is counted once: it is added on both sides, so the padded input is input_size + "
     "2 * padding long.", {"sides_padded": 1}),
    ("the + 1 is missing: the first window sits at position 0, and (extent - span) // stride "
     "more fit after it.", {"plus": 0}),
    ("stride is left out: with stride s only every s-th window is computed, so divide by it.",
     {"stride_used": False}),
)

CONV_MISTAKES = (
    *(_conv_mistake(explanation, **changes) for explanation, changes in FORMULA_SLIPS),
    _conv_mistake("the division by stride is rounded up: a window that does not fit entirely is "
                  "not computed, so round down (//).", round_up=True),
)
POOL_MISTAKES = (
    _pool_mistake("stride=None is taken as 1: a pooling's stride defaults to its kernel_size, so "
                  "the windows lie side by side (nn.MaxPool2d(2) halves the image).",
                  default_stride=1),
    _pool_mistake("ceil_mode is ignored: with ceil_mode=True the division is rounded up, so a "
                  "last, partial window still counts.", ceil_mode_used=False),
    _pool_mistake("with ceil_mode=True a window that would start in the right padding is kept: "
                  "torch drops it (it would see only padding), so subtract one when (output - 1) "
                  "* stride >= input_size + padding.", last_window_rule=False),
    _pool_mistake("ceil_mode=True adds one window always: rounding up adds one only when the "
                  "division leaves a remainder.", ceil_adds_one=True),
    *(_pool_mistake(explanation, **changes) for explanation, changes in FORMULA_SLIPS),
)


# ------------------------------------------------------------------------------ checking

def _random_cases(seed, pooling):
    """RANDOM_CASES cases (args, kwargs, words) whose windows fit, drawn from `seed`."""
    rng = default_rng(int(seed))
    cases = []
    while len(cases) < RANDOM_CASES:
        size, kernel = int(rng.integers(1, 40)), int(rng.integers(1, 8))
        stride = int(rng.integers(1, 5))
        padding, dilation = int(rng.integers(0, 4)), int(rng.integers(1, 4))
        fits = dilation * (kernel - 1) + 1 <= size + 2 * padding
        if fits and (not pooling or padding <= kernel // 2):
            kwargs = {"stride": stride, "padding": padding, "dilation": dilation}
            if pooling:
                kwargs["ceil_mode"] = len(cases) % 2 == 1
            cases.append(((size, kernel), kwargs, "random sizes"))
    return cases


def _check_sizes(answer, cases, oracle, mistakes, formula):
    """Run every case, then report the first that differs, naming the mistake that gives the
    answer's size in every case."""
    __tracebackhide__ = True
    runs = []
    for number, (args, kwargs, words) in enumerate(cases, start=1):
        call = answer.words(*args, **kwargs)
        runs.append(SimpleNamespace(call=call, result=answer.run(call, *args, **kwargs),
                                    expected=oracle(*args, **kwargs), args=args, kwargs=kwargs,
                                    where=f" (case {number} of {len(cases)}: {words}"))
    for run in runs:  # a float or None is told as such first
        if not isinstance(run.result, (int, np.integer)) or isinstance(run.result, bool):
            check_integer(run.call, run.result, run.expected, hint=formula)
    wrong = [run for run in runs if run.result != run.expected]
    if not wrong:
        return
    causes = [candidate for candidate in mistakes
              if all(candidate(*run.args, **run.kwargs) == run.result for run in runs)]
    first = wrong[0]
    right_before = runs.index(first)
    where = first.where + {0: ")", 1: "; case 1 is right)"}.get(
        right_before, f"; cases 1–{right_before} are right)")
    known = {first.result: causes[0].explanation} if causes else None
    check_integer(first.call + where, first.result, first.expected, known_mistakes=known,
                  hint=formula)


def check_conv_output_size(conv_output_size, *, seed=0):
    """Check `conv_output_size(input_size, kernel_size, stride=1, padding=0, dilation=1)` (an
    int) against the size of torch's convolution output, on the cases of CONV_CASES and
    RANDOM_CASES more drawn from `seed`."""
    __tracebackhide__ = True
    answer = Answer(CONV_OUTPUT_SIZE, conv_output_size)
    _check_sizes(answer, CONV_CASES + _random_cases(seed, pooling=False), _torch_conv_size,
                 CONV_MISTAKES, CONV_FORMULA)


def check_pool_output_size(pool_output_size, *, seed=0):
    """Check `pool_output_size(input_size, kernel_size, stride=None, padding=0, dilation=1,
    ceil_mode=False)` (an int) against the size of torch's max-pooling output, on the cases of
    POOL_CASES and RANDOM_CASES more drawn from `seed`, half of them with ceil_mode=True."""
    __tracebackhide__ = True
    answer = Answer(POOL_OUTPUT_SIZE, pool_output_size)
    _check_sizes(answer, POOL_CASES + _random_cases(seed, pooling=True), _torch_pool_size,
                 POOL_MISTAKES, POOL_FORMULA)
