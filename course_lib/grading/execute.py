"""Re-execute a solution notebook so that its stored outputs are current.

nbval compares a solution notebook's stored outputs with a fresh run, and the release
(`course release`) copies nothing but sources, so after editing a solution the instructor
re-executes it here. Settings that make the stored outputs comparable:
- full sizes (no COURSE_GRADING), the datasets of `COURSE_DATA_DIR`;
- widget state is not stored: it would travel into the student version;
- EXECUTION_THREADS threads, while the test suite runs notebooks with one: a printed digit
  that depends on the thread count (summation order) then fails nbval at once, instead of
  on the next instructor's machine.
"""
import os
from pathlib import Path

import nbformat

from ..runmode import GRADING_ENV_VAR
from .course import SOURCE_DIRECTORY

EXECUTION_THREADS = 2
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
CELL_TIMEOUT = 1800  # seconds; the longest cells train for a few minutes


def solution_notebooks(course_root, assignment):
    return sorted((Path(course_root) / SOURCE_DIRECTORY / assignment).glob("*.ipynb"))


def execution_environment(threads=EXECUTION_THREADS):
    """os.environ for the kernel: full sizes, `threads` threads."""
    environment = {name: value for name, value in os.environ.items() if name != GRADING_ENV_VAR}
    environment.update(dict.fromkeys(THREAD_VARIABLES, str(threads)))
    return environment


def execute_notebook(path, threads=EXECUTION_THREADS):
    """Run every cell of the notebook at `path` in a fresh kernel in its folder and write
    the outputs back in place; a cell that raises stops the run (CellExecutionError)."""
    from nbclient import NotebookClient  # slow import, only for this command

    path = Path(path)
    notebook = nbformat.read(path, as_version=4)
    # no per-cell timestamps: they would change every stored notebook on every run
    # killed once the last cell has run: a clean exit with torch loaded takes 1-2 s more
    client = NotebookClient(notebook, timeout=CELL_TIMEOUT, store_widget_state=False, record_timing=False,
                            shutdown_kernel="immediate", resources={"metadata": {"path": str(path.parent)}})
    client.execute(env=execution_environment(threads))
    nbformat.write(notebook, path)
