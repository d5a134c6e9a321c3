"""The instructor's side in a real browser: a class graded with `course grade`, opened
the way the README says (`bootstrap.py instructor --grades DIR`), in formgrader."""
import csv
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

import bootstrap
from course_lib.grading.course import source_assignments
from tests.browser.lab import LabServer, NotebookPage
from tests.browser.test_student import INSTRUCTOR_PLUGINS
from tests.grading.harness import is_answer_cell, solution_source

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser-instructor")]

ASSIGNMENT, NOTEBOOK = "01_epochs_iterations", "epochs_iterations"
SUBMISSIONS_COLUMN = 8  # of formgrader's Manage Assignments table: Name, Due Date, Status, Edit, …, # Submissions
COURSE = Path(sys.executable).parent / "course"


def submission(answers):
    """The released notebook with every answer cell solved (answers=True) or left blank."""
    released = nbformat.read(bootstrap.ROOT / "notebooks" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", as_version=4)
    if answers:
        solutions = nbformat.read(bootstrap.ROOT / "solutions" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", as_version=4)
        by_id = {cell.metadata.get("nbgrader", {}).get("grade_id"): cell for cell in solutions.cells}
        for cell in released.cells:
            if is_answer_cell(cell) and cell.cell_type == "code":
                cell.source = solution_source(by_id[cell.metadata["nbgrader"]["grade_id"]])
    return released


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    """DIR of `course grade` over two students of assignment 01: ada solved everything,
    bob handed in the blank notebook. Returns DIR and totals.csv as {student: row}."""
    scratch = tmp_path_factory.mktemp("class")
    for student, answers in (("ada", True), ("bob", False)):
        folder = scratch / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(submission(answers), folder / f"{NOTEBOOK}.ipynb")
    out = scratch / "grades"
    # As many workers as CPUs, which gives each kernel one thread: a kernel with two OpenMP
    # threads, on cores the other xdist worker keeps busy, spends 3× the CPU spin-waiting.
    subprocess.run([COURSE, "grade", scratch / "submitted", "--out", out, "--assignment", ASSIGNMENT,
                    "--workers", str(os.cpu_count()), "--quiet"], cwd=bootstrap.ROOT, check=True,
                   env=dict(os.environ, OMP_NUM_THREADS="1"))
    with open(out / "totals.csv", newline="") as file:
        return out, {row["student"]: row for row in csv.DictReader(file)}


@pytest.fixture(scope="module")
def instructor_server(graded_class, tmp_path_factory):
    out, _ = graded_class
    folder, arguments = bootstrap.lab_launch("instructor", out)
    server = LabServer("instructor", folder, arguments, tmp_path_factory.mktemp("instructor-server"))
    yield server
    server.stop()


def open_formgrader(server, page):
    """Formgrader's first page, Manage Assignments; the token in its address logs the
    browser in, so that formgrader's own requests, which carry no token, are let through."""
    page.goto(server.url("formgrader"))
    page.locator("table td", has_text=ASSIGNMENT).first.wait_for(timeout=60_000)


def test_formgrader_lists_the_assignments(instructor_server, page):
    open_formgrader(instructor_server, page)
    rows = {name: page.locator("tr", has=page.locator("td", has_text=name)) for name in source_assignments(bootstrap.ROOT)}
    missing = [name for name, row in rows.items() if row.count() == 0]
    assert not missing, f"formgrader's assignment list lacks {missing}; it shows:\n{page.locator('body').inner_text()[:2000]}"
    assert rows[ASSIGNMENT].first.locator("td").nth(SUBMISSIONS_COLUMN).inner_text().strip() == "2", (
        f"formgrader counts the submissions of {ASSIGNMENT} as: {rows[ASSIGNMENT].first.inner_text()!r}")


def formgrader_score(sheet, assignment):
    """How formgrader's Manage Submissions shows a score, from a row of totals.csv: the
    autograded points over all points, the written answers still to grade among them."""
    return f"{float(sheet[assignment]):g} / {float(sheet['max']) + float(sheet['to_grade_by_hand']):g}"


def test_a_submission_graded_with_course_grade_shows_its_scores(graded_class, instructor_server, page):
    _, totals = graded_class
    open_formgrader(instructor_server, page)
    page.goto(instructor_server.url(f"formgrader/manage_submissions/{ASSIGNMENT}"))
    for student in ("ada", "bob"):
        row = page.locator("tr", has=page.locator("td", has_text=student)).first
        row.wait_for(timeout=60_000)
        expected = formgrader_score(totals[student], ASSIGNMENT)
        shown = row.inner_text()
        assert expected in shown, (
            f"formgrader shows {student}'s submission as {shown!r}; from totals.csv it should read {expected} "
            f"(autograded points / all points, the written answers still to grade)")
        assert "needs manual grading" in shown, f"{student}'s written answers are not waiting for grading: {shown!r}"


def test_instructor_setup_shows_the_instructor_tools(instructor_server, page):
    NotebookPage(page, instructor_server, f"autograded/ada/{ASSIGNMENT}/{NOTEBOOK}.ipynb")
    registered = {plugin: page.evaluate(f"() => jupyterapp.hasPlugin('{plugin}')") for plugin in INSTRUCTOR_PLUGINS}
    assert all(registered.values()), f"instructor tools missing from the instructor's lab: {registered}"
    page.locator("#jp-menu-panel").get_by_text("Nbgrader", exact=True).click()
    menu = page.locator(".lm-Menu").last.inner_text()
    page.keyboard.press("Escape")
    assert "Formgrader" in menu, f"the Nbgrader menu of an instructor shows: {menu!r}"
