"""Answer cells run as their notebook runs them, without a kernel: the solution of an
exercise, or any source for its answer cell (a wrong or a delegating answer), executed with
the names the notebook's setup cell imports; and a test cell's visible tests."""
import ast
from functools import cache
from pathlib import Path

import nbformat

from course_lib.grading.course import SOURCE_DIRECTORY
from tests.grading.harness import grade_id, solution_source

COURSE_ROOT = Path(__file__).resolve().parents[2]
HIDDEN_TESTS = "### BEGIN HIDDEN TESTS"


@cache
def cells(assignment):
    """{grade_id: cell} of the assignment's source notebook."""
    (path,) = (COURSE_ROOT / SOURCE_DIRECTORY / assignment).glob("*.ipynb")
    return {grade_id(cell): cell for cell in nbformat.read(path, as_version=4).cells if grade_id(cell)}


@cache
def _setup_imports(assignment):
    """The setup cell's import statements, compiled (its magics and prints left out)."""
    tree = ast.parse("\n".join(line for line in cells(assignment)["setup"].source.splitlines()
                               if not line.startswith("%")))
    imports = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
    return compile(ast.Module(imports, type_ignores=[]), f"<{assignment} setup>", "exec")


def notebook_namespace(assignment):
    """A fresh namespace holding what the notebook's setup cell imports."""
    namespace = {}
    exec(_setup_imports(assignment), namespace)
    return namespace


def defined_by(assignment, answer, source, namespace=None):
    """What the answer cell `answer` (its grade_id, the name it defines) defines when it holds
    `source`, run in `namespace` (by default the notebook's setup imports)."""
    namespace = notebook_namespace(assignment) if namespace is None else namespace
    exec(compile(source, f"<answer cell {answer}>", "exec"), namespace)
    return namespace[answer]


def solution(assignment, answer):
    """The function (or class) the solution of the answer cell `answer` defines."""
    return defined_by(assignment, answer, solution_source(cells(assignment)[answer]))


def run_test_cell(assignment, answer, defined, *, hidden=False):
    """Run the test cell of `answer` — its visible tests, and with `hidden` the hidden ones
    too — with `defined` as the answer."""
    namespace = notebook_namespace(assignment)
    namespace[answer] = defined
    source = cells(assignment)[f"test_{answer}"].source
    if not hidden:
        source = source.split(HIDDEN_TESTS)[0]
    exec(compile(source, f"<test cell test_{answer}>", "exec"), namespace)
