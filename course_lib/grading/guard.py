"""Undo a submission's monkeypatching before each test cell, and notice patching during one.

The grading kernel (`kernel.py`) calls `take_snapshot()` before any submitted code runs:
it records, for every loaded module of the packages the tests rely on (numpy, torch,
course_lib, builtins and a few standard modules), the module's namespace, the namespaces
of the classes and plain namespaces defined there, and the code, defaults and closure
contents of every Python function among them, plus their `sys.modules` entries.

Before each graded test cell the grader runs `restore()` in the kernel, which undoes every
change that counts as tampering: any change to the names of the modules the checks decide
with (course_lib, numpy, numpy.testing, torch, torch.testing, torch.nn.functional,
builtins), and anywhere else a binding replaced by, or a method added as, something the
submission made (code from a notebook cell or from a file it wrote) — a replaced
`np.allclose`, `torch.allclose`, `builtins.abs`, `course_lib.checking.check_array`, a
swapped `__code__`, a lambda put on `torch.Tensor`. Libraries that patch themselves lazily
(torch wraps an optimizer class's `step` the first time one is made) are left alone. Then
the names the notebook's locked cells imported (`np`, `checking`, ...) are imported again
into the notebook's namespace. After the test cell, `changes()` lists the tampering done
*while the test ran* (a function that patches the checks when called); the grader then
voids that test cell.

What this cannot do: it runs inside the kernel with the submitted code, so code written
against this module (replacing the guard or IPython's own machinery) is out of its reach;
the grader's report flags submissions that use such machinery. Patching the C-level types
(numpy.ndarray, torch's tensor base) is impossible from Python without ctypes tricks.
"""
import os
import sys
import warnings
from functools import partial
# Bound at import, before any submitted code runs, like everything else this module uses:
# restoring must not depend on a builtin that the submission replaced.
from builtins import (  # noqa: A004
    RuntimeError, ValueError, all, callable, classmethod, compile, delattr, dict, exec, getattr, id, isinstance, len,
    list, object, property, set, setattr, staticmethod, tuple, type, vars, zip,
)
from types import CodeType, FunctionType, ModuleType, SimpleNamespace

GUARDED_PACKAGES = ("numpy", "torch", "course_lib", "builtins", "math", "copy", "functools",
                    "operator", "itertools", "collections", "random", "time")
# Any change to these modules' own names counts: the checks decide with them.
CRITICAL_MODULES = ("course_lib", "numpy", "numpy.testing", "torch", "torch.testing",
                    "torch.nn.functional", "builtins")
# Grader tooling: not used by the notebooks, and these modules hold the guard itself.
UNGUARDED_MODULES = ("course_lib.grading", "course_lib.cli")

_IMMUTABLE_TYPE = 1 << 8  # Py_TPFLAGS_IMMUTABLETYPE: built-in types, which cannot be patched

_snapshot = None


_COURSE_LIB = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_realpath, _sep = os.path.realpath, os.sep


def _critical(name):
    return name in CRITICAL_MODULES or name.startswith(("course_lib.", "numpy.testing.", "torch.testing."))


def _guarded(name):
    if name.startswith(UNGUARDED_MODULES):
        return False
    return name.split(".")[0] in GUARDED_PACKAGES


def _function_state(function):
    closure = function.__closure__
    contents = []
    for cell in closure or ():
        try:
            contents.append(cell.cell_contents)
        except ValueError:  # an empty cell
            contents.append(_EMPTY)
    return function.__code__, function.__defaults__, function.__kwdefaults__, tuple(contents)


_EMPTY = object()


def _same_state(state, recorded):
    """By identity: comparing with == could run submitted code or fail on arrays."""
    (code, defaults, kwdefaults, contents), (code0, defaults0, kwdefaults0, contents0) = state, recorded
    return (code is code0 and defaults is defaults0 and kwdefaults is kwdefaults0
            and len(contents) == len(contents0)
            and all(a is b for a, b in zip(contents, contents0)))


class _Snapshot:
    def __init__(self):
        self.modules = {}      # name -> module object, as in sys.modules
        self.namespaces = []   # (namespace whose __dict__ was recorded, copy of it, is_class, critical)
        self.functions = []    # (function, state)
        self.library_roots = tuple(_realpath(root) + _sep for root in
                                   {sys.prefix, sys.base_prefix, sys.exec_prefix, _COURSE_LIB})
        seen = set()
        with warnings.catch_warnings():  # some modules warn when their attributes are touched
            warnings.simplefilter("ignore")
            self._record_modules(seen)

    def _record_modules(self, seen):
        for name, module in list(sys.modules.items()):
            if module is None or not _guarded(name):
                continue
            self.modules[name] = module
            self._record(module, seen, critical=_critical(name))

    def _record(self, namespace, seen, critical):
        if id(namespace) in seen:
            return
        seen.add(id(namespace))
        is_class = isinstance(namespace, type)
        contents = dict(vars(namespace))
        self.namespaces.append((namespace, contents, is_class, critical and not is_class))
        for value in contents.values():
            if isinstance(value, (classmethod, staticmethod)):
                value = value.__func__
            accessors = (value.fget, value.fset, value.fdel) if isinstance(value, property) else (value,)
            for function in accessors:
                if isinstance(function, FunctionType) and id(function) not in seen:
                    seen.add(id(function))
                    self.functions.append((function, _function_state(function)))
            if (isinstance(value, type) and not value.__flags__ & _IMMUTABLE_TYPE
                    and _guarded(getattr(value, "__module__", None) or "")):
                self._record(value, seen, critical)
            elif isinstance(value, SimpleNamespace):
                self._record(value, seen, critical)

    def _from_library_file(self, path):
        return path is not None and _realpath(path).startswith(self.library_roots)

    def _library_code(self, value):
        """Whether `value` is a Python function or class defined in a library file."""
        code = getattr(getattr(value, "__func__", value), "__code__", None)
        if isinstance(code, CodeType):
            return self._from_library_file(code.co_filename)
        if isinstance(value, type):
            return self._from_library_file(_module_file(value))
        return False

    def _submitted(self, value):
        """Whether `value` is code the submission made (in a notebook cell or a file it
        wrote): a Python function or class, or an object of such a class, defined outside
        the libraries. Functions written in C (builtins, torch's own) are nobody's here."""
        code = getattr(getattr(value, "__func__", value), "__code__", None)
        if isinstance(code, CodeType):
            return not self._from_library_file(code.co_filename)
        cls = value if isinstance(value, type) else type(value)
        if cls.__flags__ & _IMMUTABLE_TYPE or not callable(value):
            return False
        return not self._from_library_file(_module_file(cls))

    def _changes(self):
        """(description, undo, counts) for each change since the snapshot worth undoing:
        every change to the modules the checks decide with (`CRITICAL_MODULES`), and
        anywhere else a binding replaced by (or a class attribute added as) code the
        submission made. `counts` says whether it is tampering: libraries also patch
        themselves lazily (torch wraps `torch.manual_seed` and an optimizer's `step` when the
        first optimizer is made) and undoing that is harmless, but it voids no test; in the
        critical modules a change counts unless it is to library code."""
        for name, module in self.modules.items():
            if sys.modules.get(name) is not module:
                yield f"sys.modules[{name!r}]", partial(sys.modules.__setitem__, name, module), True
        for namespace, contents, is_class, critical in self.namespaces:
            current = vars(namespace)
            assign = partial(setattr, namespace) if is_class else current.__setitem__
            for key, value in contents.items():
                now = current.get(key, _EMPTY)
                if now is value:
                    continue
                submitted = now is _EMPTY or self._submitted(now)
                if critical or submitted:
                    counts = submitted or (critical and not self._library_code(now) and callable(value))
                    yield f"{_label(namespace)}.{key}", partial(assign, key, value), counts
            if is_class:
                for key in list(current.keys() - contents.keys()):
                    if self._submitted(current[key]):
                        yield f"{_label(namespace)}.{key} (added)", partial(delattr, namespace, key), True
        for function, state in self.functions:
            now = _function_state(function)
            if _same_state(now, state):
                continue
            closure_changes = [value for value, old in zip(now[3], state[3]) if value is not old]
            if (now[0] is not state[0] or now[1] is not state[1] or now[2] is not state[2]
                    or any(self._submitted(value) for value in closure_changes)):
                yield (f"{_label(function)} (its code, defaults or closure)",
                       partial(_set_state, function, state), True)

    def differences(self):
        return [description for description, _, counts in self._changes() if counts]

    def restore(self):
        for _, undo, _ in list(self._changes()):
            undo()


def _module_file(cls):
    """The file a class was defined in; None for a notebook cell's (`__main__`)."""
    return getattr(sys.modules.get(getattr(cls, "__module__", None) or "__main__"), "__file__", None)


def _set_state(function, state):
    code, defaults, kwdefaults, contents = state
    function.__code__ = code
    function.__defaults__ = defaults
    function.__kwdefaults__ = kwdefaults
    for cell, value in zip(function.__closure__ or (), contents):
        if value is _EMPTY:
            del cell.cell_contents
        else:
            cell.cell_contents = value


def _label(thing):
    name = getattr(thing, "__qualname__", None) or getattr(thing, "__name__", None)
    module = getattr(thing, "__module__", None)
    if isinstance(thing, ModuleType):
        return thing.__name__
    if name and module:
        return f"{module}.{name}"
    return name or type(thing).__name__


def take_snapshot():
    """Record the guarded modules as they are now (before any submitted code runs)."""
    global _snapshot
    _snapshot = _Snapshot()
    return len(_snapshot.namespaces)


def restore(namespace, trusted_imports=""):
    """Put every recorded binding back, then run `trusted_imports` (the import statements
    of the notebook's locked cells) in `namespace` so its module names are genuine again."""
    if _snapshot is None:
        raise RuntimeError("course_lib.grading.guard: no snapshot was taken when the kernel started")
    _snapshot.restore()
    if trusted_imports:
        exec(compile(trusted_imports, "<course grade: trusted imports>", "exec"),  # noqa: S102
             namespace)


def changes():
    """What differs from the snapshot now, as short descriptions (empty: nothing)."""
    return _snapshot.differences() if _snapshot is not None else ["no snapshot was taken"]
