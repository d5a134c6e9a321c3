"""A student's function and the arguments a check hands it: copies of them, what the
function changed in place, and references to them it kept (see `harness`).

The harness copies every array, tensor, dict, list and tuple argument the exercise doesn't
declare in `mutates` (`copied`), compares each copy with the check's original after the call
(`change`: nan counts as equal to nan, a replaced dict entry as a change), and looks for
arrays one level deep in the mutated dicts and lists (or in the result) that share memory
with one of those copies (`check_no_alias`). Everything is bound at import (see the package
docstring).
"""
from builtins import (
    RuntimeError, TypeError, all, any, bool, complex, dict, enumerate, float, hasattr, id, int,
    isinstance, len, list, repr, tuple, zip,
)
from copy import copy as _shallow_copy

from torch import Tensor as _Tensor
from torch import all as _torch_all
from torch import eq as _torch_eq
from torch import isnan as _torch_isnan
from torch import logical_and as _logical_and
from torch import logical_or as _logical_or

from ._trusted import np
from .failure import fail


def copied(value, memo):
    """`value` with every array and tensor in it copied, and the dicts, lists and tuples
    holding them; an object that appears twice is copied once (`memo`: id -> copy)."""
    if id(value) in memo:
        return memo[id(value)]
    if isinstance(value, np.ndarray):
        copy = value.copy()
    elif isinstance(value, _Tensor):
        copy = value.detach().clone()
        if value.requires_grad:
            copy.requires_grad_()
    elif isinstance(value, (dict, list)):
        copy = _shallow_copy(value)
        for key, item in (value.items() if isinstance(value, dict) else enumerate(value)):
            copy[key] = copied(item, memo)
    elif isinstance(value, tuple):
        items = [copied(item, memo) for item in value]
        if all(item is original for item, original in zip(items, value)):
            return value
        copy = value._make(items) if hasattr(value, "_make") else tuple(items)
    else:
        return value
    memo[id(value)] = copy
    return copy


def _same_values(original, given):
    """Whether `given` still holds `original`'s values (nan equal to nan)."""
    if isinstance(original, np.ndarray):
        if not isinstance(given, np.ndarray) or given.shape != original.shape:
            return False
        with np.errstate(invalid="ignore"):
            equal = given == original
        if original.dtype.kind in "fc":
            equal = equal | (np.isnan(given) & np.isnan(original))
        return bool(equal.all())
    if not isinstance(given, _Tensor) or given.shape != original.shape:
        return False
    original, given = original.detach(), given.detach()
    equal = _torch_eq(given, original)
    if original.is_floating_point() or original.is_complex():
        equal = _logical_or(equal, _logical_and(_torch_isnan(given), _torch_isnan(original)))
    return bool(_torch_all(equal))


def change(path, original, given):
    """What the answer did to the argument at `path` (the check's `original`, the answer's
    copy `given`), as the end of a message; None if nothing."""
    if isinstance(original, (np.ndarray, _Tensor)):
        if _same_values(original, given):
            return None
        kind, copy = ("array", "copy") if isinstance(original, np.ndarray) else ("tensor", "clone")
        return (f"changed its argument {path} in place: `{path} -= ...`, `{path} *= ...` or an "
                f"assignment such as `{path}[mask] = 0` writes into the caller's {kind}, which "
                f"it may still need. Compute a new {kind} instead ({path} - m, np.where(...), or "
                f"work on {path}.{copy}()).")
    if isinstance(original, dict):
        if len(given) != len(original) or any(key not in given for key in original):
            return (f"changed the dict {path} (its keys are now {_keys(given)}, they were "
                    f"{_keys(original)}): build a new dict for the result and leave {path} as "
                    f"it is — the caller still needs it.")
        items = [(f"{path}[{key!r}]", item, given[key]) for key, item in original.items()]
    elif isinstance(original, (list, tuple)):
        if len(given) != len(original):
            return (f"changed the list {path} (it now holds {len(given)} items, it held "
                    f"{len(original)}): build a new list and leave {path} as it is — the caller "
                    f"still needs it.")
        items = [(f"{path}[{index}]", item, given[index]) for index, item in enumerate(original)]
    elif given is original or _same_number(original, given):
        return None
    else:  # an entry of a dict or list replaced: `logs["loss"] = ...`
        root = path.split("[", 1)[0]
        return (f"changed {path} (it is now {_short(given)}, it was {_short(original)}): leave "
                f"{root} as it is — the caller still needs it — and build new objects for what "
                f"you return.")
    for item_path, item, given_item in items:
        problem = change(item_path, item, given_item)
        if problem is not None:
            return problem
    return None


def _same_number(original, given):
    numbers = (int, float, complex, np.number)
    if not (isinstance(original, numbers) and isinstance(given, numbers)):
        return False
    return given == original or (given != given and original != original)  # nan equals nan


def _short(value):
    words = repr(value)
    return words if len(words) <= 40 else f"{words[:37]}..."


def _keys(mapping):
    return ", ".join(repr(key) for key in mapping) or "none"


# ---------------------------------------------------------------------------- aliasing

def arrays_in(path, value):
    """(path, array or tensor) for every array and tensor in `value`, at any depth."""
    if isinstance(value, (np.ndarray, _Tensor)):
        return [(path, value)]
    if isinstance(value, dict):
        return [found for key, item in value.items()
                for found in arrays_in(f"{path}[{key!r}]", item)]
    if isinstance(value, (list, tuple)):
        return [found for index, item in enumerate(value)
                for found in arrays_in(f"{path}[{index}]", item)]
    return []


def one_level(path, value, containers_only):
    """(path, array or tensor) for the arrays and tensors directly in the dict, list or tuple
    `value` — and `value` itself if it is one, unless `containers_only`."""
    if isinstance(value, (np.ndarray, _Tensor)):
        return [] if containers_only else [(path, value)]
    if isinstance(value, dict):
        pairs = [(f"{path}[{key!r}]", item) for key, item in value.items()]
    elif isinstance(value, (list, tuple)):
        pairs = [(f"{path}[{index}]", item) for index, item in enumerate(value)]
    else:
        return []
    return [(item_path, item) for item_path, item in pairs
            if isinstance(item, (np.ndarray, _Tensor))]


def _memory(value):
    """A numpy view of the memory of an array or a CPU tensor; None for other tensors."""
    if isinstance(value, np.ndarray):
        return value
    try:
        return value.detach().numpy()
    except (TypeError, RuntimeError):  # a dtype numpy lacks, or memory not on the CPU
        return None


def check_no_alias(call, holders, sources):
    __tracebackhide__ = True
    for holder, value in holders:
        memory = _memory(value)
        if memory is None:
            continue
        for source, array in sources:
            other = _memory(array)
            if other is not None and np.shares_memory(memory, other):
                copy = "copy" if isinstance(array, np.ndarray) else "clone"
                if holder.startswith("the result"):
                    fail(f"{call} returned its argument {source} itself (or a view of it) as "
                         f"{holder}: the two share memory, so a later change to either changes "
                         f"the other. Return a new array, e.g. {source}.{copy}().")
                fail(f"{call} keeps its argument {source} itself (or a view of it) in {holder}: "
                     f"the two share memory, so when the caller updates {source} in place later — "
                     f"as a training loop does with each step's arrays — {holder} changes with "
                     f"it. Store a copy: {holder} = {source}.{copy}().")
