"""A smoke test of the grading-time benchmark on a two-cell notebook: fields, not timings."""
import json

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

from benchmarks import graded_cells as benchmark


def test_main_times_every_cell_and_names_the_graded_ones(tmp_path, capsys):
    test = new_code_cell("from course_lib.runmode import is_grading\nassert is_grading()")
    test.metadata["nbgrader"] = {"grade": True, "grade_id": "test_answer", "points": 1}
    path = tmp_path / "lesson.ipynb"
    nbformat.write(new_notebook(cells=[new_code_cell("answer = 42"), test]), path)

    returned = benchmark.main([str(path)])

    (printed,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert printed == returned[0]
    assert list(printed["graded_cells"]) == ["test_answer"] and printed["slowest_graded_cell"] == "test_answer"
    assert [cell["cell"] for cell in printed["slowest_cells"]] in ([0, 1], [1, 0])
    assert printed["seconds"] >= 0 and printed["failed_cells"] == []
