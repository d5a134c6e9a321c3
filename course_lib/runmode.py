"""How long-running notebook cells know whether to run in full or shrink to seconds.

Convention for every assignment: a cell that trains or sweeps takes its sizes from
`budget(full=..., quick=...)`. Students get `full`; autograding, the test suite's nbval and
nbgrader's Validate button get `quick`, so grading a notebook takes seconds. Grading runs
also draw no figures: `%matplotlib inline` shows a figure as its text, `<Figure size ...>`,
instead of rendering it — grading needs no picture, and drawing them took a third of a
graded run.

nbgrader itself tells the kernel nothing, so `nbgrader_config.py` starts every kernel
nbgrader runs with `GRADING_ENV_VAR` set (see `grading_kernel_arguments`), and
`course grade` sets it for the kernels it starts. Setting it by hand previews a
notebook as the grader will run it.
"""
import os

GRADING_ENV_VAR = "COURSE_GRADING"


def is_grading():
    return os.environ.get(GRADING_ENV_VAR, "") not in ("", "0")


def budget(full, quick):
    """`full` for a student's or CI's run, `quick` while nbgrader executes the notebook."""
    return quick if is_grading() else full


def grading_kernel_arguments():
    """ipykernel arguments that mark a kernel as a grading run before any cell runs, and
    keep its inline figures from being drawn (no figure formats for the inline backend)."""
    return [
        "--HistoryManager.hist_file=:memory:",
        f"--IPKernelApp.exec_lines=import os; os.environ['{GRADING_ENV_VAR}'] = '1'",
        "--IPKernelApp.exec_lines=from matplotlib_inline.config import InlineBackend; "
        "InlineBackend.instance(parent=get_ipython()).figure_formats = set()",
    ]
