"""Test-session setup shared by tests/ and the solution notebooks collected by nbval."""
import os

import pytest

from course_lib.runmode import GRADING_ENV_VAR

# Two xdist workers on two cores: one thread each, also for the notebook kernels they
# start (kernels inherit this environment), or BLAS/OpenMP oversubscribe the machine.
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ["OMP_NUM_THREADS"] = "1"
    os.environ["MKL_NUM_THREADS"] = "1"


def pytest_addoption(parser):
    parser.addoption(
        "--full-size", action="store_true",
        help="run the solution notebooks under nbval at the students' sizes (minutes per "
             "notebook) instead of the quick sizes of a graded run")


def is_notebook_cell(item):
    return ".ipynb::" in item.nodeid


# Before xdist's own hook, which turns xdist_group marks into scheduling groups.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    for item in items:
        if is_notebook_cell(item):
            # nbval runs a notebook's cells in order in one kernel: one worker per notebook.
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::")[0]))
            item.add_marker(pytest.mark.notebook)


# nbval starts a notebook's kernel while its first cell is set up, and the kernel keeps
# the environment it started with. At the quick sizes the five notebooks of 01–05 run in
# about a minute instead of nine: the suite checks that every cell runs and that the
# outputs which do not depend on the sizes match the stored full-size run, which
# `course execute` (or --full-size) reproduces.
@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item):
    quick = is_notebook_cell(item) and not item.config.getoption("full_size")
    before = os.environ.get(GRADING_ENV_VAR)
    if quick:
        os.environ[GRADING_ENV_VAR] = "1"
    try:
        yield
    finally:
        if quick:
            if before is None:
                os.environ.pop(GRADING_ENV_VAR, None)
            else:
                os.environ[GRADING_ENV_VAR] = before
