"""Test-session setup shared by tests/ and the solution notebooks collected by nbval."""
import os

import pytest

# Two xdist workers on two cores: one thread each, also for the notebook kernels they
# start (kernels inherit this environment), or BLAS/OpenMP oversubscribe the machine.
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ["OMP_NUM_THREADS"] = "1"
    os.environ["MKL_NUM_THREADS"] = "1"


# Before xdist's own hook, which turns xdist_group marks into scheduling groups.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    for item in items:
        if ".ipynb::" in item.nodeid:
            # nbval runs a notebook's cells in order in one kernel: one worker per notebook.
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::")[0]))
            item.add_marker(pytest.mark.notebook)

