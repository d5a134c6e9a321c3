import nbformat
from nbformat.v4 import new_code_cell, new_notebook

from course_lib.grading.execute import EXECUTION_THREADS, execute_notebook


def test_a_notebook_runs_at_full_size_with_its_threads_and_keeps_its_outputs(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_GRADING", "1")  # as if called from a grading shell: not for stored outputs
    path = tmp_path / "lesson.ipynb"
    nbformat.write(new_notebook(cells=[new_code_cell(
        "import os\nfrom course_lib.runmode import budget\n"
        "print(budget(full='full', quick='quick'), os.environ['OMP_NUM_THREADS'], os.getcwd())")]), path)

    execute_notebook(path)

    (cell,) = nbformat.read(path, as_version=4).cells
    assert cell.outputs[0].text.split() == ["full", str(EXECUTION_THREADS), str(tmp_path)]
    assert "execution" not in cell.metadata  # no timestamps to churn the stored notebook
