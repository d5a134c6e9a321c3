"""Stored outputs that nbval compares must print nothing that depends on the machine."""
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from course_lib.grading.course import SOURCE_DIRECTORY, source_assignments
from course_lib.grading.outputs import fragile_numbers, placeholders, unsupported_figures

COURSE_ROOT = Path(__file__).resolve().parents[2]


def printing(text, source="print(...)", tags=()):
    cell = new_code_cell(source, outputs=[new_output("stream", name="stdout", text=text)])
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def numbers(*cells):
    return [(found.cell, found.text) for found in fragile_numbers(new_notebook(cells=list(cells)))]


@pytest.mark.parametrize("text", ["largest difference 7.972420500157451e-08",
                                  "w: [ 0.7015863 -1.7006234]", "norm 1.000000"])
def test_a_number_printed_to_its_last_digits_is_fragile(text):
    assert numbers(printing(text))


@pytest.mark.parametrize("text", ["largest difference 2.8e-17", "db 3.6e-17", "-5e-12"])
def test_rounding_noise_is_fragile(text):
    assert numbers(printing(text))


@pytest.mark.parametrize("text", ["validation accuracy 97.24%", "loss 0.4321", "lr 1e-03",
                                  "std of the logits 3.8e-10 ~ 0", "0.0e+00", "60000 images, seed 1234567",
                                  "norm 455.5", "shape (10, 784)"])
def test_rounded_figures_counts_and_zero_are_fine(text):
    expected = [(0, "3.8e-10")] if "3.8e-10" in text else []
    assert numbers(printing(text)) == expected


def test_a_tolerance_the_source_spells_out_is_fine():
    assert numbers(printing("agree to within 1e-12", source='agreement(a, b, within=1e-12)')) == []


def test_cells_whose_output_nbval_ignores_are_not_read():
    assert numbers(printing("5.6e-17", tags=["nbval-ignore-output"])) == []


def test_results_and_displays_are_read_like_prints():
    cell = new_code_cell("x", outputs=[new_output("execute_result", data={"text/plain": "0.123456789"},
                                                  execution_count=1)])
    assert numbers(cell) == [(0, "0.123456789")]


@pytest.mark.parametrize("assignment", source_assignments(COURSE_ROOT))
def test_solution_notebooks_print_nothing_that_depends_on_the_machine(assignment):
    (path,) = (COURSE_ROOT / SOURCE_DIRECTORY / assignment).glob("*.ipynb")
    fragile = fragile_numbers(nbformat.read(path, as_version=4))
    assert not fragile, "\n".join(
        f"cell {found.cell} prints {found.text} ({found.reason}): print a rounded figure or "
        f"course_lib.comparison.agreement(...), or tag the cell nbval-ignore-output" for found in fragile)


def model_answer(text):
    cell = new_markdown_cell(f"**Written answer.** Explain.\n\n### BEGIN SOLUTION\n{text}\n### END SOLUTION")
    cell.metadata["nbgrader"] = {"solution": True, "grade": True, "grade_id": "written", "points": 2,
                                 "schema_version": 3, "locked": False, "task": False}
    return cell


def figures(answer, printed="validation accuracy 97.31%, 0.452 s per epoch\n", source="print(...)"):
    notebook = new_notebook(cells=[printing(printed, source=source), model_answer(answer)])
    return [found.text for found in unsupported_figures(notebook)]


def test_a_model_answer_may_quote_printed_figures_at_any_coarser_precision():
    assert figures("Adam reached 97.3 % (97.31 % exactly) in 0.45 s per epoch, about 97 %.") == []


def test_a_figure_the_outputs_do_not_show_is_named():
    assert figures("Adam reached 97.4 %, 1.3 s per epoch.") == ["97.4", "1.3"]


def test_figures_the_code_spells_out_and_formulas_are_not_outputs_but_fine():
    assert figures("With `lr=0.05` and $\\eta = 0.92$ for 20 epochs.", source="epochs = 20") == []


def test_the_question_itself_is_not_a_model_answer():
    notebook = new_notebook(cells=[printing("1.0\n"), model_answer("1.0")])
    notebook.cells[1].source = "Compare epochs 3 and 17.\n\n" + notebook.cells[1].source
    assert unsupported_figures(notebook) == []


def test_a_placeholder_left_in_prose_or_an_answer_is_found():
    notebook = new_notebook(cells=[new_markdown_cell("The gap shrank. [Numbers from the table.]"),
                                   new_markdown_cell("See [the table](#results) and [1].")])
    assert placeholders(notebook) == [(0, "[Numbers from the table.]")]


@pytest.mark.parametrize("assignment", source_assignments(COURSE_ROOT))
def test_model_answers_quote_only_figures_their_notebook_prints(assignment):
    (path,) = (COURSE_ROOT / SOURCE_DIRECTORY / assignment).glob("*.ipynb")
    notebook = nbformat.read(path, as_version=4)
    problems = [f"cell {found.cell}: the model answer quotes {found.text}, which no code cell prints or spells "
                f"out; print the figure, or quote the printed one" for found in unsupported_figures(notebook)]
    problems += [f"cell {cell}: placeholder {text} left in the prose" for cell, text in placeholders(notebook)]
    assert not problems, "\n".join(problems)
