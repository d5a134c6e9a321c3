"""How long grading takes: each solution notebook run as the autograder runs it (with the
kernel arguments of `course_lib.runmode.grading_kernel_arguments`: quick sizes, no figures
drawn), with the time of every cell.

Graded cells should run in seconds: a check that takes long makes Validate slow for the
student and `course grade` slow for the instructor. Prints one JSON line per notebook:
`notebook`, `seconds` (all its cells, without starting the kernel), `graded_cells`
({grade id: seconds} of the test cells), `slowest_graded_cell`, and `slowest_cells` (the
five slowest of any kind, by index, with their first line), and `failed_cells` (indices of
cells that raised: a solution notebook should have none).

    COURSE_DATA_DIR=../shared/data .venv/bin/python benchmarks/graded_cells.py [NOTEBOOK ...]
"""
import argparse
import json
import time
from pathlib import Path

import nbformat

from course_lib.grading.course import SOURCE_DIRECTORY, source_assignments
from course_lib.runmode import grading_kernel_arguments

COURSE_ROOT = Path(__file__).resolve().parents[1]


def solution_notebooks():
    return [path for assignment in source_assignments(COURSE_ROOT)
            for path in sorted((COURSE_ROOT / SOURCE_DIRECTORY / assignment).glob("*.ipynb"))]


def timed_run(path):
    """{cell index: seconds} of every code cell of the notebook at `path`, run as graded."""
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=600, allow_errors=True, extra_arguments=grading_kernel_arguments(),
                            resources={"metadata": {"path": str(Path(path).parent)}})
    seconds = {}
    with client.setup_kernel():
        for index, cell in enumerate(notebook.cells):
            if cell.cell_type == "code":
                started = time.perf_counter()
                client.execute_cell(cell, index)
                seconds[index] = time.perf_counter() - started
    return notebook, seconds


def summary(path, notebook, seconds):
    graded = {cell.metadata["nbgrader"]["grade_id"]: round(seconds[index], 3)
              for index, cell in enumerate(notebook.cells)
              if index in seconds and cell.metadata.get("nbgrader", {}).get("grade")}
    slowest = sorted(seconds, key=seconds.get, reverse=True)[:5]
    return {
        "notebook": str(Path(path).relative_to(COURSE_ROOT) if Path(path).is_relative_to(COURSE_ROOT) else path),
        "seconds": round(sum(seconds.values()), 2),
        "graded_cells": graded,
        "slowest_graded_cell": max(graded, key=graded.get, default=None),
        "slowest_cells": [{"cell": index, "seconds": round(seconds[index], 3),
                           "first_line": notebook.cells[index].source.strip().split("\n")[0][:80]}
                          for index in slowest],
        "failed_cells": [index for index, cell in enumerate(notebook.cells) if cell.cell_type == "code"
                         and any(output.output_type == "error" for output in cell.outputs)],
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, metavar="NOTEBOOK",
                        help="notebooks to run (default: every solution notebook)")
    args = parser.parse_args(argv)
    results = []
    for path in args.notebooks or solution_notebooks():
        result = summary(path, *timed_run(path))
        print(json.dumps(result), flush=True)
        results.append(result)
    return results


if __name__ == "__main__":
    main()
