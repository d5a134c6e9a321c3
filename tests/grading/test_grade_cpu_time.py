"""Cells are limited by the CPU time they use, not by the wall time a busy machine stretches."""
import ast
import os
import subprocess
import sys
import textwrap

from course_lib.grading.execution import process_cpu_seconds
from course_lib.grading.settings import WALL_TIME_FACTOR, Settings


def test_the_kernel_stops_a_cell_that_uses_its_cpu_time_and_only_such_a_cell():
    # in a fresh process: the limit installs a signal handler for good
    code = textwrap.dedent("""
        from IPython.core.interactiveshell import InteractiveShell
        from course_lib.grading.kernel import CellTimeoutError, _limit_cpu_time
        shell = InteractiveShell.instance()
        _limit_cpu_time(shell, 0.5)
        def outcome(source):
            error = shell.run_cell(source).error_in_exec
            return type(error).__name__ if error else "finished"
        results = [outcome("while True:\\n    pass"),
                   outcome("while True:\\n    try:\\n        sum(range(1000))\\n    except Exception:\\n        pass"),
                   outcome("import time\\ntime.sleep(1.0)"),
                   outcome("total = sum(range(10_000))"),
                   str(shell.run_cell("while True:\\n    pass").error_in_exec)]
        print("RESULTS", results)  # the shell prints each traceback before this
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    results = ast.literal_eval(result.stdout.split("RESULTS ")[-1])
    assert results[:4] == ["CellTimeoutError", "CellTimeoutError", "finished", "finished"]
    assert "more than 0.5 s of CPU time" in results[4]


def test_cpu_time_of_a_process_grows_with_its_work_and_is_none_once_it_is_gone():
    before = process_cpu_seconds(os.getpid())
    total = sum(i * i for i in range(3_000_000))
    assert total > 0 and process_cpu_seconds(os.getpid()) > before
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()
    assert process_cpu_seconds(finished.pid) is None


def test_the_wall_time_backstop_defaults_to_a_multiple_of_the_cpu_time_limit():
    assert Settings(cell_timeout=5).wall_timeout == WALL_TIME_FACTOR * 5
    assert Settings(cell_timeout=5, cell_wall_timeout=7.5).wall_timeout == 8
