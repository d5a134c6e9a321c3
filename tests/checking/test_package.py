"""The rule every checking module follows (see the package docstring): a builtin it uses is
bound at import, so a student's patched builtin can't change a check's verdict."""
import builtins
import symtable
from pathlib import Path

import pytest

import course_lib.checking

MODULES = sorted(Path(course_lib.checking.__file__).parent.glob("*.py"))
BUILTIN_NAMES = frozenset(name for name in dir(builtins) if not name.startswith("__"))


def builtins_looked_up_at_call_time(path):
    """The builtins the module's functions and methods use without its binding them at import.
    (Its top-level code runs at import, before any student code.)"""
    table = symtable.symtable(path.read_text(), str(path), "exec")
    bound = {symbol.get_name() for symbol in table.get_symbols()
             if symbol.is_imported() or symbol.is_assigned() or symbol.is_namespace()}
    used = set()
    scopes = list(table.get_children())
    while scopes:
        scope = scopes.pop()
        scopes += scope.get_children()
        if scope.get_type() != "function":  # a class body runs at import
            continue
        used |= {symbol.get_name() for symbol in scope.get_symbols()
                 if symbol.is_referenced() and symbol.is_global() and symbol.get_name() in BUILTIN_NAMES}
    return sorted(used - bound)


@pytest.mark.parametrize("path", MODULES, ids=[path.stem for path in MODULES])
def test_every_builtin_a_checking_module_uses_is_bound_at_import(path):
    unbound = builtins_looked_up_at_call_time(path)
    assert not unbound, (f"{path.name} looks up {', '.join(unbound)} when it runs: bind them at import, "
                         f"`from builtins import {', '.join(unbound)}`")


def test_the_rule_recognises_a_builtin_looked_up_at_call_time(tmp_path):
    module = tmp_path / "module.py"
    module.write_text("from builtins import len\n"
                      "SIZE = round(2.5)\n"
                      "def f(x, default=abs):\n"
                      "    return len(x), min(x), [max(v) for v in x]\n"
                      "class C:\n"
                      "    size = int(3)\n"
                      "    def method(self):\n"
                      "        return float(self.size)\n"
                      "def g(sum):\n"
                      "    return sum\n")
    assert builtins_looked_up_at_call_time(module) == ["float", "max", "min"]
