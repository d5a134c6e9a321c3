"""A student's session in JupyterLab, in a real browser, on the released notebooks.

Each released notebook: Run All runs every cell before the first exercise cleanly and
stops at the first exercise's test, which fails because the answer is blank; typing the
solution into that answer makes its visible test pass; Validate then reports the
exercises still blank, and not the one just solved. Beside it: the instructor's tools
are not there, a widget's control changes its output, a tqdm bar renders."""
import re

import nbformat
import pytest

import bootstrap
from tests.browser.lab import NotebookPage
from tests.grading.harness import solution_source

# one worker runs them one after another against one student server; the instructor's
# tests have a group (and server) of their own, so the two run side by side
pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser-student")]

RELEASED = sorted((bootstrap.ROOT / "notebooks").glob("*/*.ipynb"))
INSTRUCTOR_PLUGINS = ("@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment",
                      "@jupyter/nbgrader:course-list")
STUDENT_PLUGINS = ("@jupyter/nbgrader:assignment-list", "@jupyter/nbgrader:validate-assignment")
ANNOUNCEMENTS_PLUGIN = "@jupyterlab/apputils-extension:announcements"  # "get notified about Jupyter news?"


def relative(path):
    return path.relative_to(bootstrap.ROOT).as_posix()


def nbgrader(cell):
    return cell.metadata.get("nbgrader", {})


def first_exercise(notebook):
    """(answer cell index, test cell index, grade id) of the notebook's first exercise."""
    answer = next(index for index, cell in enumerate(notebook.cells)
                  if cell.cell_type == "code" and nbgrader(cell).get("solution"))
    test = next(index for index in range(answer + 1, len(notebook.cells))
                if nbgrader(notebook.cells[index]).get("grade"))
    return answer, test, nbgrader(notebook.cells[answer])["grade_id"]


def find_cell(notebook, what, predicate):
    """The index of the first cell for which predicate(cell) holds; `what` names it if none does."""
    found = [index for index, cell in enumerate(notebook.cells) if predicate(cell)]
    assert found, f"the notebook has no {what} any more: update this test"
    return found[0]


def solution_of(released_path, grade_id):
    """The answer a student who got it right would type: the solution notebook's cell."""
    source = nbformat.read(bootstrap.ROOT / "solutions" / released_path.relative_to(bootstrap.ROOT / "notebooks"),
                           as_version=4)
    return solution_source(next(cell for cell in source.cells if nbgrader(cell).get("grade_id") == grade_id))


def error_text(error):
    return "\n".join([f"{error['ename']}: {error['evalue']}", *error.get("traceback", ())])


def first_line(source):
    return source.strip().splitlines()[0] if source.strip() else "(empty)"


def test_student_setup_hides_the_instructor_tools(student_lab, page):
    NotebookPage(page, student_lab, relative(RELEASED[0]))
    registered = {plugin: page.evaluate(f"() => jupyterapp.hasPlugin('{plugin}')")
                  for plugin in INSTRUCTOR_PLUGINS + STUDENT_PLUGINS + (ANNOUNCEMENTS_PLUGIN,)}
    assert not [plugin for plugin in INSTRUCTOR_PLUGINS if registered[plugin]], (
        f"instructor-only lab plugins loaded in the student setup: {registered}")
    assert not registered[ANNOUNCEMENTS_PLUGIN] and "Jupyter news" not in page.locator("body").inner_text(), (
        "the student setup asks about JupyterLab's news")
    assert all(registered[plugin] for plugin in STUDENT_PLUGINS), f"student plugins missing: {registered}"
    page.locator("#jp-menu-panel").get_by_text("Nbgrader", exact=True).click()
    menu = page.locator(".lm-Menu").last.inner_text()
    page.keyboard.press("Escape")
    assert "Assignment List" in menu and "Formgrader" not in menu and "Course List" not in menu, (
        f"the Nbgrader menu of a student shows: {menu!r}")
    status, _ = student_lab.get("formgrader")
    assert status == 404, f"the student's server answers /formgrader with HTTP {status}, not 404"


@pytest.mark.parametrize("released", RELEASED, ids=lambda path: path.parent.name)
def test_student_runs_the_notebook_solves_its_first_exercise_and_validates(student_lab, page, artifacts,
                                                                          released):
    notebook = nbformat.read(released, as_version=4)
    answer, test, grade_id = first_exercise(notebook)
    lab = NotebookPage(page, student_lab, relative(released))
    lab.run_all()
    cells = lab.cells()

    for index, cell in enumerate(cells[:test]):
        if cell["type"] != "code":
            continue
        assert cell["count"] is not None, f"Run All did not run cell {index} ({first_line(cell['source'])})"
        assert not lab.errors(index), (
            f"cell {index} ({first_line(cell['source'])}), before the first exercise's test, failed: "
            f"{error_text(lab.errors(index)[0])}")
    blank_errors = lab.errors(test)
    assert blank_errors, f"the test of the blank {grade_id} (cell {test}) did not fail"
    assert "NotImplementedError" in error_text(blank_errors[0]), (
        f"the test of the blank {grade_id} failed, but not on the blank answer's NotImplementedError:\n"
        f"{error_text(blank_errors[0])}")
    ran_after = [index for index, cell in enumerate(cells[test + 1:], test + 1) if cell["count"] is not None]
    assert not ran_after, f"Run All went on past the failed test, into cells {ran_after}"

    lab.type_into(answer, solution_of(released, grade_id))
    lab.run_cell(answer)
    lab.run_cell(test)
    assert not lab.errors(test), f"the visible test of the solved {grade_id} failed: {error_text(lab.errors(test)[0])}"
    assert "Visible tests passed." in lab.output_text(test), (
        f"the test cell of {grade_id} shows {lab.output_text(test)!r}")

    lab.save()
    report = lab.validate(screenshot=artifacts / f"validate-{released.parent.name}.png")
    tests_in_report = [cell for cell in notebook.cells if nbgrader(cell).get("grade") and cell.cell_type == "code"
                       and first_line(cell.source) in report]
    assert "failed" in report.lower(), f"Validate passed a notebook with blank exercises:\n{report[:2000]}"
    assert notebook.cells[test] not in tests_in_report, (
        f"Validate still lists the test of the solved {grade_id}:\n{report[:2000]}")
    assert tests_in_report, f"Validate's report names none of the blank exercises' tests:\n{report[:2000]}"


def test_a_notebook_with_every_exercise_solved_validates(student_lab, page, artifacts):
    released = next(path for path in RELEASED if path.parent.name == "01_epochs_iterations")
    notebook = nbformat.read(released, as_version=4)
    lab = NotebookPage(page, student_lab, relative(released))
    answers = [(index, nbgrader(cell)["grade_id"]) for index, cell in enumerate(notebook.cells)
               if nbgrader(cell).get("solution")]  # the written answers too: Validate wants a response
    for index, grade_id in answers:
        lab.type_into(index, solution_of(released, grade_id))
    lab.save()
    report = lab.validate(screenshot=artifacts / "validate-01_epochs_iterations-solved.png")
    assert "Success" in report and "failed" not in report.lower(), (
        f"Validate did not pass the notebook with all {len(answers)} answers typed in:\n{report[:2000]}")
    assert all(cell["count"] is None for cell in lab.cells()), "typing the answers ran cells: Validate should do that"


WIDGETS = [("03_optimizers", "widgets.optimizer_explorer()"),
           ("05_regularization", "widgets.AugmentationExplorer(")]


@pytest.mark.parametrize(("assignment", "call"), WIDGETS, ids=[assignment for assignment, _ in WIDGETS])
def test_moving_a_widget_control_changes_its_output(student_lab, page, assignment, call):
    released = next(path for path in RELEASED if path.parent.name == assignment)
    notebook = nbformat.read(released, as_version=4)
    widget_cell = find_cell(notebook, f"cell calling {call}", lambda cell: cell.source.startswith(call))
    lab = NotebookPage(page, student_lab, relative(released))
    lab.run_all()  # the widget needs only what the cells before the first exercise define
    lab.run_cell(widget_cell)
    output = lab.cell(widget_cell).locator(".jp-OutputArea")
    handle = output.locator(".noUi-handle").first
    handle.wait_for(timeout=30_000)
    before = _widget_view(output)
    handle.focus()
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    page.wait_for_function(
        "([element, before]) => element.innerText + [...element.querySelectorAll('img')].map(i => i.src).join() !== before",
        arg=[output.element_handle(), before], timeout=60_000, polling=250)
    assert _widget_view(output) != before


def _widget_view(output):
    return output.evaluate("element => element.innerText + [...element.querySelectorAll('img')].map(i => i.src).join()")


def test_a_training_cell_shows_a_tqdm_progress_bar(student_lab, page):
    """Assignment 01: the student's iterations_per_epoch and train_epoch, then the demo
    that trains one epoch on MNIST with progress=True."""
    released = next(path for path in RELEASED if path.parent.name == "01_epochs_iterations")
    notebook = nbformat.read(released, as_version=4)
    lab = NotebookPage(page, student_lab, relative(released))
    lab.run_all()
    for grade_id in ("iterations_per_epoch", "train_epoch"):
        index = find_cell(notebook, f"answer cell {grade_id}", lambda cell: nbgrader(cell).get("grade_id") == grade_id)
        lab.type_into(index, solution_of(released, grade_id))
        lab.run_cell(index)
    data = find_cell(notebook, "cell preparing MNIST for section 5", lambda cell: "def make_mlp(" in cell.source)
    demo = find_cell(notebook, "train_epoch demo with a progress bar",
                     lambda cell: "train_epoch(model, loader, loss_fn, optimizer, progress=True)" in cell.source)
    lab.run_cell(data)

    # the bars close when their epoch ends (leave=False): note what they showed while there
    lab.record_output(demo, ".widget-hprogress")
    lab.run_cell(demo)
    shown = lab.recorded_output()
    assert shown, "no progress bar appeared while the demo trained"
    assert any(re.search(r"batches", text) for text in shown), f"the progress bar read {shown[-3:]!r}"
    assert not lab.errors(demo), f"the demo failed: {lab.errors(demo)[0]['evalue']}"
    printed = lab.output_text(demo)
    # the student's kernels run at the quick sizes: as many steps as iterations_per_epoch says
    assert re.search(r"drop_last=False: (\d+) steps \(iterations_per_epoch says \1\)", printed), printed
