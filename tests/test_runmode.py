import nbformat
from nbgrader.preprocessors import Execute

from course_lib import runmode


def test_budget_follows_the_grading_variable(monkeypatch):
    monkeypatch.delenv(runmode.GRADING_ENV_VAR, raising=False)
    assert runmode.budget(full=100, quick=2) == 100
    monkeypatch.setenv(runmode.GRADING_ENV_VAR, "1")
    assert runmode.budget(full=100, quick=2) == 2
    monkeypatch.setenv(runmode.GRADING_ENV_VAR, "0")
    assert runmode.budget(full=100, quick=2) == 100


def test_kernels_started_by_nbgrader_run_in_grading_mode(monkeypatch):
    monkeypatch.delenv(runmode.GRADING_ENV_VAR, raising=False)
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "from course_lib.runmode import budget\nprint(budget(full='full', quick='quick'))"),
        nbformat.v4.new_code_cell("%matplotlib inline\nimport matplotlib.pyplot as plt\nplt.plot([1, 2])\nplt.show()")])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}

    executed, _ = Execute(extra_arguments=runmode.grading_kernel_arguments()).preprocess(
        notebook, {"metadata": {"path": "."}})

    assert executed.cells[0].outputs[0]["text"] == "quick\n"
    (figure,) = [output for output in executed.cells[1].outputs if output["output_type"] == "display_data"]
    assert list(figure["data"]) == ["text/plain"] and figure["data"]["text/plain"].startswith("<Figure size")
