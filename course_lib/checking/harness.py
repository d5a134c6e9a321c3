"""The one way a check runs a student's answer.

Declare each exercise once, at import of the checking module that checks it:

    SOFTMAX = exercise(course_lib.scratch.functional.softmax,
                       forbidden=(torch.softmax, torch.Tensor.softmax, F.softmax))
    ADAM = exercise(course_lib.optim.adam_update, forbidden=(torch.optim.Adam,),
                    mutates=("param", "state"))
    LINEAR_BACKWARD = exercise(course_lib.scratch.backward.linear_backward, forbidden=AUTOGRAD)

- The reference — the course_lib function or class the exercise asks the student to write —
  gives the exercise its name and signature, so that messages name the call with the
  signature's parameter names, `softmax(input, dim=-1)`. The answer must not run it.
- `forbidden`: what else the answer must not run: for an exercise written from scratch,
  torch's implementation of the same operation (function, `torch.Tensor` method,
  `torch.nn.functional` function, class; `AUTOGRAD` where a gradient is to be derived by
  hand); a course_lib helper that does the whole job. As objects, or as (public name,
  object) pairs where no public name is found (see `watch`). Never a building block the
  notebook hands out — the references of earlier exercises, helpers such as `one_hot` or
  `sigmoid` — nor ordinary numpy and torch operations; in an exercise *about* torch (a
  training step), only its own course_lib reference. The solution runs with the building
  blocks its answer cell imports: check that none of them runs a forbidden function
  (tests/grading/test_delegating_answers.py runs every solution through its test cell).
- `parameters`: the answer cell's parameter names, where its signature is not the
  reference's (`cross_entropy(input, target)` for a reference with a `reduction=` too).
- `mutates`: the parameters the answer is meant to change in place (an optimizer's `param`
  and `state`, the `tensor` an initialiser fills). Every other argument is handed over as a
  copy, and a change to it fails.
- `fresh_result=True`: the result (or an array in it, one level deep) must not share memory
  with an argument it may not change.

In a check, wrap the student's function (or class) in an `Answer` and call it:

    answer = Answer(SOFTMAX, softmax, shape_hint="softmax must work along any dim: ...")
    result = answer(x, dim=-1)              # messages call it softmax(input, dim=-1)
    call = answer.words(x, dim=-1)          # that call as messages write it
    result = answer.run(f"{call} with input of dtype float32", x32, dim=-1)
    batches = answer.collect(call, generator, limit)     # a generator's items
    stopper = answer(patience=2)                         # a class: the instance ...
    answer.method(f"{call}.step(0.5)", stopper, "step", 0.5)   # ... and its methods
    answer(X, y, trusted(gradients))        # a checker's callback, run unwatched

Every run of the student's code (the arguments' part is in `arguments`):

- gets copies of array, tensor, dict, list and tuple arguments not in `mutates`; afterwards a
  changed one fails: "relu_backward(grad_output, input) changed its argument grad_output in
  place: ..." (nan counts as equal to nan);
- fails if an array or tensor one level deep in a mutated dict or list argument (or in the
  result, with `fresh_result`) shares memory with such a copy: `state["buffer"] = grad`,
  later updated in place, would change the caller's gradient ("sgd_update(...) keeps its
  argument grad itself (or a view of it) in state['momentum_buffer']: ... Store a copy");
- runs with warnings silenced, `np.errstate(all="ignore")` and stdout and stderr captured and
  dropped: nbgrader scores a test cell that writes anything to stderr as 0, and the checks
  explain nan and inf themselves;
- runs under the delegation watch (`watch`): if the answer runs a forbidden function, the
  run fails with `DelegationFailure`, a CheckFailure the grader can list by name, saying
  which function ran and that the exercise asks for the student's own code;
- turns a crash into a CheckFailure "<call> raised <Type>: <message>", with the advice
  shared by every notebook: a blank answer (`raise NotImplementedError()`) gets
  `failure.NOT_IMPLEMENTED`; a TypeError at the call itself (wrong parameters) the
  signature; a shape error (numpy broadcasting or matmul, torch's size mismatches) the
  check's `shape_hint` or a general one. `advice(error)`, if the check gives one, may return
  a more specific hint first. File paths of the grading machine are cut from messages down
  to their last part. A CheckFailure raised by a checker's callback passes unchanged.

`collect` takes a generator's items under the same watch and crash handling: a generator's
body runs while it is iterated, not when it is called. `method` calls a method of an
instance of the student's class, on copies of its arguments. `trusted(callback)` wraps a
function the check hands to the answer (a loss_fn, a gradients function) so that it runs
with the watch paused.

Everything this module decides with is bound at import (see the package docstring).
"""
from builtins import (
    Exception, IndexError, NotImplementedError, RuntimeError, TypeError, ValueError, any, bool,
    callable, dict, enumerate, float, frozenset, getattr, int, isinstance, len, list, range,
    repr, str, tuple, type, zip,
)
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass
from inspect import Parameter, Signature
from inspect import signature as _signature
from io import StringIO
from itertools import islice
from re import compile as _compile
from warnings import catch_warnings, simplefilter

import torch

from ._trusted import np
from .arguments import arrays_in, change, check_no_alias, copied, one_level
from .failure import NOT_IMPLEMENTED, CheckFailure, DelegationFailure, fail, kind_of
from .watch import Watch, Watchlist, trusted

__all__ = ["AUTOGRAD", "Answer", "Exercise", "SHAPE_HINT", "exercise", "trusted"]
_OWN_GLOBALS = globals()

# What an exercise that derives a gradient by hand forbids: autograd, however it is reached
# (loss.backward(), torch.autograd.grad, torch.func.grad, which calls it).
AUTOGRAD = (torch.Tensor.backward, torch.autograd.backward, torch.autograd.grad)

SHAPE_HINT = ("the shapes of two arrays it combines don't fit together: compare the shape of "
              "each array on the failing line (x.shape) with the shapes the docstring gives.")
# words of numpy's and torch's messages about shapes that don't fit together
_SHAPE_ERROR_WORDS = ("broadcast", "matmul", "shape", "dimension", "size of tensor",
                      "size mismatch", "must match the size", "cannot be multiplied")
# an absolute file path (two or more parts), e.g. the grader's temporary kernel directory
_PATH = _compile(r"(?<![\w.])(?:[A-Za-z]:)?(?:[\\/][^\s\\/:'\"()<>,]+){2,}")


# ------------------------------------------------------------------------------ exercises

def _parameter_names(function):
    return tuple(_signature(function).parameters)


def _signature_words(name, function, skip_first=False):
    """'softmax(input, dim)': the signature as a student reads it, without annotations."""
    parameters = [parameter.replace(annotation=Parameter.empty)
                  for parameter in _signature(function).parameters.values()]
    return f"{name}{Signature(parameters[1:] if skip_first else parameters)}"


@dataclass(frozen=True)
class Exercise:
    """An exercise as the checks see it: build it with `exercise(...)`."""
    reference: object
    name: str
    parameters: tuple  # the answer's parameter names, in order
    signature: str  # 'softmax(input, dim)'
    watchlist: Watchlist
    mutates: frozenset
    fresh_result: bool


def exercise(reference, *, forbidden=(), mutates=(), fresh_result=False, parameters=None):
    """The exercise whose answer replaces `reference` (see the module docstring).
    `parameters`: the answer cell's parameter names, where its signature is not the
    reference's (cross_entropy(input, target) for one with a `reduction` too, one_hot(labels,
    num_classes) for torch's one_hot(tensor, num_classes=-1))."""
    name = reference.__name__
    if parameters is None:
        parameters, signature = _parameter_names(reference), _signature_words(name, reference)
    else:
        parameters, signature = tuple(parameters), f"{name}({', '.join(parameters)})"
    unknown = [parameter for parameter in mutates if parameter not in parameters]
    if unknown:
        raise ValueError(f"mutates names {unknown}, which are not parameters of {name}{parameters}")
    return Exercise(reference=reference, name=name, parameters=parameters, signature=signature,
                    watchlist=Watchlist((reference, *forbidden)), mutates=frozenset(mutates),
                    fresh_result=fresh_result)


# ------------------------------------------------------------------------------ answers

@dataclass(frozen=True)
class Answer:
    """The student's `function` for `exercise`, as a check runs it (see the module docstring).
    `shape_hint`: the advice after a shape error; `advice(error)`: a hint for a crash, or None
    to leave it to the shared advice."""
    exercise: Exercise
    function: object
    shape_hint: str = None
    advice: object = None

    def __post_init__(self):
        __tracebackhide__ = True
        if not callable(self.function):
            fail(f"{self.exercise.name} is {kind_of(self.function)}, not a function: run the "
                 f"answer cell that defines it (def {self.exercise.signature}: ...) before this "
                 f"one.")

    def words(self, *args, **kwargs):
        """The call as messages write it: plain values shown, anything else by the name of its
        parameter — 'iterations_per_epoch(100, 32, drop_last=True)', 'softmax(input, dim=0)'."""
        names = self.exercise.parameters
        shown = [_shown(value, names[position] if position < len(names) else "...")
                 for position, value in enumerate(args)]
        shown += [f"{key}={_shown(value, key)}" for key, value in kwargs.items()]
        return f"{self.exercise.name}({', '.join(shown)})"

    def __call__(self, *args, **kwargs):
        __tracebackhide__ = True
        return self.run(self.words(*args, **kwargs), *args, **kwargs)

    def run(self, call, /, *args, **kwargs):
        """The student's function called with `args` and `kwargs`; `call` names it in messages."""
        __tracebackhide__ = True
        exercise = self.exercise
        return self._runcopied(call, self.function, exercise.parameters, exercise.signature,
                                args, kwargs)

    def method(self, call, instance, name, /, *args, **kwargs):
        """`instance.name(*args, **kwargs)` for an instance of the student's class."""
        __tracebackhide__ = True
        reference_method = getattr(self.exercise.reference, name)

        def call_method(*given_args, **given_kwargs):
            return getattr(instance, name)(*given_args, **given_kwargs)

        return self._runcopied(
            call, call_method, _parameter_names(reference_method)[1:],
            _signature_words(f"{self.exercise.name}.{name}", reference_method, skip_first=True),
            args, kwargs)

    def collect(self, call, iterable, limit):
        """The first `limit` items of `iterable` — a generator the answer returned, whose body
        runs now — under the watch and the crash handling of a call."""
        __tracebackhide__ = True
        return self._guarded(call, lambda: list(islice(iterable, limit)), self.exercise.signature)

    # ------------------------------------------------------------------------ running

    def _runcopied(self, call, function, parameters, signature, args, kwargs):
        __tracebackhide__ = True
        mutates = self.exercise.mutates
        names = [parameters[position] if position < len(parameters) else f"argument {position + 1}"
                 for position in range(len(args))]
        arguments = list(zip(names, args)) + list(kwargs.items())
        memo = {}
        given = [value if name in mutates else copied(value, memo) for name, value in arguments]
        given_args, given_kwargs = given[:len(args)], dict(zip(kwargs, given[len(args):]))
        result = self._guarded(call, lambda: function(*given_args, **given_kwargs), signature)
        kept = [(name, original, copy) for (name, original), copy in zip(arguments, given)
                if name not in mutates]
        for name, original, copy in kept:
            problem = change(name, original, copy)
            if problem is not None:
                fail(f"{call} {problem}")
        sources = [found for name, _, copy in kept for found in arrays_in(name, copy)]
        holders = [found for (name, _), value in zip(arguments, given) if name in mutates
                   for found in one_level(name, value, containers_only=True)]
        if self.exercise.fresh_result:
            holders += one_level("the result", result, containers_only=False)
        check_no_alias(call, holders, sources)
        return result

    def _guarded(self, call, action, signature):
        """action() quietly under the watch; a crash or a delegation fails with the reason."""
        __tracebackhide__ = True
        error = None
        with _quietly(), Watch(self.exercise.watchlist) as watch:
            try:
                result = action()
            except Exception as raised:
                error = raised
        if watch.hit is not None:
            raise DelegationFailure(_delegation_message(call, watch.hit, self.exercise))
        if watch.tampered:
            raise DelegationFailure(
                f"{call} switched off or replaced the profiler (sys.setprofile) through which "
                f"this check notices an answer that calls the course's solution: an answer must "
                f"leave it alone.")
        if error is not None:
            if isinstance(error, CheckFailure):  # a verdict of the checker's own callback
                raise error
            raise CheckFailure(self._crash_message(call, error, signature)) from error
        return result

    def _crash_message(self, call, error, signature):
        if isinstance(error, NotImplementedError):
            return f"{call} raised NotImplementedError: {NOT_IMPLEMENTED}"
        text = _without_paths(str(error))
        message = f"{call} raised {type(error).__name__}: {text}"
        hint = self.advice(error) if self.advice is not None else None
        if hint is None and isinstance(error, TypeError) and _raised_at_the_call(error):
            hint = f"the signature is {signature}."
        if (hint is None and isinstance(error, (ValueError, RuntimeError, IndexError))
                and any(word in text for word in _SHAPE_ERROR_WORDS)):
            hint = self.shape_hint or SHAPE_HINT
        return message if hint is None else f"{message}\nHint: {hint}"


@contextmanager
def _quietly():
    with catch_warnings(), np.errstate(all="ignore"), redirect_stdout(StringIO()), \
            redirect_stderr(StringIO()):
        simplefilter("ignore")
        yield


def _delegation_message(call, name, exercise):
    if name == exercise.watchlist.names[0]:
        what = "the course's own solution of this exercise"
    else:
        what = "which does what this exercise asks you to write"
    return (f"{call} called {name}, {what}: the exercise asks for your own code, so write the "
            f"computation yourself. The building blocks the answer cell imports are fine to use.")


def _raised_at_the_call(error):
    """Whether a TypeError came from calling the answer itself (parameters that don't fit its
    signature), not from inside it."""
    traceback = error.__traceback__
    while traceback.tb_next is not None:
        traceback = traceback.tb_next
    return traceback.tb_frame.f_globals is _OWN_GLOBALS


def _without_paths(text):
    """`text` with each absolute file path cut to its last part: no path of the grading
    machine (a temporary kernel directory) in what a student reads."""
    return _PATH.sub(lambda match: match.group(0).replace("\\", "/").rsplit("/", 1)[-1], text)


def _shown(value, name):
    if value is None or isinstance(value, (bool, str, np.bool_)):
        return repr(value)
    if isinstance(value, (int, float, np.integer, np.floating)):
        return repr(value.item() if isinstance(value, (np.integer, np.floating)) else value)
    return name
