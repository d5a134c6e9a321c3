"""The delegation watch: notice an answer that runs what it was meant to write itself.

`Watchlist(objects)` lists what an exercise's answer must not run: its course_lib reference
and, for an exercise written from scratch, torch's implementation of the same operation.
`Watch(watchlist)` is a context manager: while its block runs (the student's answer), a
profiler hook (`sys.setprofile`, and `threading.setprofile` for threads started meanwhile)
records the first of them that executes, in `watch.hit`, as its public name.

How each kind of object is recognised:

- a Python function by its code object, compared by value with its name left out — an
  alias, a wrapper, `functools.partial`, `importlib`, a reference captured before the check,
  `types.FunctionType(f.__code__, ...)` and `f.__code__.replace(co_name=...)` all run
  that code (a decorated function by the code of the function it wraps, `__wrapped__`);
- a class by the code of the functions in its own `__dict__` (methods, static and class
  methods, properties);
- a C function (`torch.softmax`, `F.one_hot`) by the function object the `c_call` event
  carries, and a C method (`torch.Tensor.softmax`, called as `t.softmax(1)` or
  `torch.Tensor.softmax(t, 1)`) by its name and the type of the object it is bound to.

A call of `sys.setprofile` from the answer would switch the watch off: it is recorded in
`watch.tampered`, and so is a profiler replaced by the time the block ends. Whatever runs
in the student's kernel can undo what runs there: a code object rewritten line by line, or
work done in another process, is the kind of grader-aware code that `course grade`'s report
lists for reading by hand. `trusted(callback)` wraps a checker-supplied callback (a loss_fn
the check passes in) so that it runs unwatched: a check's own torch code never counts as the
student's.

The hook is on the hot path of every call the answer makes, so it is small: a Python call
costs a set lookup of the code's first line number, and only a match compares the code.
Everything it uses is bound here at import (see the package docstring).
"""
import sys
import threading
from builtins import (
    TypeError, ValueError, any, callable, classmethod, frozenset, getattr, isinstance, len,
    property, range, staticmethod, tuple, type, vars,
)
from types import BuiltinFunctionType, FunctionType, MethodDescriptorType

_getprofile, _setprofile = sys.getprofile, sys.setprofile
_thread_getprofile, _thread_setprofile = threading.getprofile, threading.setprofile
_modules = sys.modules
_OWN_GLOBALS = globals()

# The name every watched code object is compared under, so that a copy renamed with
# code.replace(co_name=...) still matches; code objects compare equal regardless of their
# file name and qualified name.
_ANONYMOUS = "<watched>"

# Namespaces searched for a public name when the module an object says it comes from
# doesn't lead to it (torch's C functions live in torch._C._nn and the like).
_PUBLIC_NAMESPACES = ("torch", "torch.nn.functional", "torch.special", "torch.Tensor",
                      "torch.nn.init", "torch.autograd", "torch.utils.data", "torch.optim")


def _resolve(dotted):
    """The object a dotted name such as 'torch.nn.functional' or 'torch.Tensor' names, or None."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        owner = _modules.get(".".join(parts[:cut]))
        if owner is not None:
            for part in parts[cut:]:
                owner = getattr(owner, part, None)
            return owner
    return None


def public_name(thing):
    """The shortest dotted name a student would import `thing` by: 'course_lib.scratch.softmax'
    for course_lib.scratch.functional.softmax, 'torch.Tensor.softmax' for the C method."""
    name = thing.__name__
    qualified = getattr(thing, "__qualname__", name)
    parts = (getattr(thing, "__module__", None) or "").split(".")
    modules = [".".join(parts[:cut]) for cut in range(1, len(parts) + 1)]
    public = [module for module in modules
              if not any(part.startswith("_") for part in module.split("."))]
    for module in public:
        if _resolve(f"{module}.{qualified}") is thing:
            return f"{module}.{qualified}"
    for namespace in _PUBLIC_NAMESPACES:
        owner = _resolve(namespace)
        if getattr(owner, name, None) is thing:
            return f"{namespace}.{name}"
        for attribute, value in vars(owner).items():  # torch.special.softmax is special_softmax
            if value is thing and not attribute.startswith("_"):
                return f"{namespace}.{attribute}"
    for module in modules:  # a private module, as in torch._C._nn.cross_entropy_loss
        if _resolve(f"{module}.{qualified}") is thing:
            return f"{module}.{qualified}"
    raise ValueError(f"no public name found for {thing!r}: pass it as a (name, object) pair")


def _innermost(function):
    while getattr(function, "__wrapped__", None) is not None:
        function = function.__wrapped__
    return function


def _functions_of(thing):
    """The Python functions whose code running means `thing` runs: a function itself, or
    the methods a class defines (not those it inherits)."""
    if isinstance(thing, FunctionType):
        return [_innermost(thing)]
    functions = []
    for member in vars(thing).values():
        if isinstance(member, (staticmethod, classmethod)):
            member = member.__func__
        if isinstance(member, property):
            functions += [part for part in (member.fget, member.fset, member.fdel)
                          if part is not None]
        elif isinstance(member, FunctionType):
            functions.append(_innermost(member))
    return functions


def _anonymous(code):
    return code.replace(co_name=_ANONYMOUS)


class Watchlist:
    """What an answer must not run, ready for the hook: `forbidden` is a sequence of
    functions, classes, C functions and C methods, or (public name, object) pairs."""

    def __init__(self, forbidden):
        self.names = []
        codes, c_functions, c_methods = {}, {}, {}
        for entry in forbidden:
            name, thing = entry if isinstance(entry, tuple) else (public_name(entry), entry)
            self.names.append(name)
            if isinstance(thing, BuiltinFunctionType):
                c_functions[thing] = name
            elif isinstance(thing, MethodDescriptorType):
                c_methods.setdefault(thing.__name__, []).append((thing.__objclass__, name))
            elif isinstance(thing, (FunctionType, type)):
                for function in _functions_of(thing):
                    codes[_anonymous(function.__code__)] = name
            else:
                raise TypeError(f"cannot watch {thing!r}: not a function, class, C function or "
                                f"C method")
        self.names = tuple(self.names)
        self.codes = codes
        self.first_lines = frozenset(code.co_firstlineno for code in codes)
        self.c_functions = c_functions
        self.c_methods = {name: tuple(owners) for name, owners in c_methods.items()}


class Watch:
    """`with Watch(watchlist) as watch:` — afterwards `watch.hit` is the public name of the
    first forbidden function that ran in the block (None if none did), and `watch.tampered`
    whether the block switched the profiler off or replaced it."""

    def __init__(self, watchlist):
        self.hit = None
        self.tampered = False
        self.hook = self._make_hook(watchlist)
        self._previous = None

    def _make_hook(self, watchlist):
        first_lines, codes = watchlist.first_lines, watchlist.codes
        c_functions, c_methods = watchlist.c_functions, watchlist.c_methods
        watch = self

        def hook(frame, event, arg):
            if event == "call":
                code = frame.f_code
                if code.co_firstlineno in first_lines:
                    name = codes.get(_anonymous(code))
                    if name is not None and watch.hit is None:
                        watch.hit = name
            elif event == "c_call":
                name = c_functions.get(arg)
                if name is None:
                    for owner, method_name in c_methods.get(arg.__name__, ()):
                        if isinstance(getattr(arg, "__self__", None), owner):
                            name = method_name
                if name is not None and watch.hit is None:
                    watch.hit = name
                elif arg == _setprofile and frame.f_globals is not _OWN_GLOBALS:
                    watch.tampered = True
        return hook

    def __enter__(self):
        self._previous = _getprofile(), _thread_getprofile()
        _thread_setprofile(self.hook)
        _setprofile(self.hook)
        return self

    def __exit__(self, *exception):
        if _getprofile() is not self.hook:
            self.tampered = True
        previous, previous_in_threads = self._previous
        _restore(previous)
        _thread_setprofile(previous_in_threads)
        return False


def _restore(profiler):
    """Put back the profiler that was there before: a Python function, or a C profiler such as
    cProfile's (%prun), which sys.getprofile() returns as an object to re-enable."""
    if profiler is None or callable(profiler):
        _setprofile(profiler)
    else:
        _setprofile(None)
        profiler.enable()


def trusted(callback):
    """`callback` wrapped so that it runs unwatched: for the checker's own functions that an
    answer calls (a loss_fn, a gradients function), whose torch code is not the student's."""
    def unwatched(*args, **kwargs):
        profiler = _getprofile()
        _setprofile(None)
        try:
            return callback(*args, **kwargs)
        finally:
            _restore(profiler)
    unwatched.__name__ = getattr(callback, "__name__", "callback")
    return unwatched

