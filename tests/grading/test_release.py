import json
import shutil
from pathlib import Path

import nbformat
import pytest

from course_lib.errors import CourseError
from course_lib.grading.course import (
    RELEASE_DIRECTORY, find_course_root, resolve_assignments, source_assignments,
)
from course_lib.grading.release import find_drift, generate_assignment

COURSE_ROOT = Path(__file__).resolve().parents[2]


def nbgrader_cell(cell, **metadata):
    cell.metadata["nbgrader"] = {"schema_version": 3, "task": False, "locked": False,
                                 "grade": False, "solution": False, **metadata}
    return cell


@pytest.fixture
def tiny_course(tmp_path):
    """A course with one assignment of one exercise, built from scratch."""
    shutil.copy(COURSE_ROOT / "nbgrader_config.py", tmp_path)
    notebook = nbformat.v4.new_notebook(cells=[
        nbgrader_cell(nbformat.v4.new_code_cell(
            "def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION"),
            grade_id="double", solution=True),
        nbgrader_cell(nbformat.v4.new_code_cell(
            "assert double(2) == 4\n### BEGIN HIDDEN TESTS\nassert double(-3) == -6\n### END HIDDEN TESTS"),
            grade_id="test_double", grade=True, locked=True, points=1),
    ])
    notebook.cells[0].outputs = []
    source = tmp_path / "solutions" / "01_epochs_iterations"
    source.mkdir(parents=True)
    nbformat.write(notebook, source / "tiny.ipynb")
    return tmp_path


def test_generate_assignment_removes_solutions_and_hidden_tests(tiny_course):
    released = generate_assignment(tiny_course, "01_epochs_iterations")
    text = (released / "tiny.ipynb").read_text()
    assert "return 2 * x" not in text
    assert "double(-3)" not in text
    assert "raise NotImplementedError()" in text
    assert "double(2) == 4" in text


def test_find_drift_is_empty_right_after_release(tiny_course):
    generate_assignment(tiny_course, "01_epochs_iterations")
    assert find_drift(tiny_course, ["01_epochs_iterations"]) == []


def test_find_drift_names_edited_missing_and_orphaned_notebooks(tiny_course):
    released = generate_assignment(tiny_course, "01_epochs_iterations")
    notebook = json.loads((released / "tiny.ipynb").read_text())
    notebook["cells"][0]["source"] = "hand edit"
    (released / "tiny.ipynb").write_text(json.dumps(notebook))
    (released / "stray.ipynb").write_text("{}")
    orphan = tiny_course / "notebooks" / "02_backprop"
    orphan.mkdir()

    drift = dict(find_drift(tiny_course, ["01_epochs_iterations"]))

    assert "differs" in drift["notebooks/01_epochs_iterations/tiny.ipynb"]
    assert "not generated" in drift["notebooks/01_epochs_iterations/stray.ipynb"]
    assert "no source" in drift["notebooks/02_backprop"]
    (released / "tiny.ipynb").unlink()
    assert "missing" in dict(find_drift(tiny_course, ["01_epochs_iterations"]))[
        "notebooks/01_epochs_iterations/tiny.ipynb"]


def test_find_drift_leaves_no_gradebook_behind(tiny_course):
    generate_assignment(tiny_course, "01_epochs_iterations")
    (tiny_course / "gradebook.db").unlink()
    find_drift(tiny_course, ["01_epochs_iterations"])
    assert not (tiny_course / "gradebook.db").exists()


def test_resolve_assignments(tiny_course):
    assert resolve_assignments(tiny_course, []) == ["01_epochs_iterations"]
    with pytest.raises(CourseError, match="unknown assignment '99_x': choose from 01_epochs"):
        resolve_assignments(tiny_course, ["99_x"])
    with pytest.raises(CourseError, match="solutions/02_backprop/ holds no notebook"):
        resolve_assignments(tiny_course, ["02_backprop"])


def test_find_course_root_walks_up_and_explains_failure(tiny_course, tmp_path_factory):
    nested = tiny_course / "solutions" / "01_epochs_iterations"
    assert find_course_root(nested) == tiny_course
    with pytest.raises(CourseError, match="no course found"):
        find_course_root(tmp_path_factory.mktemp("elsewhere"))


@pytest.mark.parametrize("assignment", source_assignments(COURSE_ROOT))
def test_solution_notebooks_store_no_widget_state(assignment):
    """Stored widget state (mostly progress bars) would travel into the student notebook."""
    for path in (COURSE_ROOT / "solutions" / assignment).glob("*.ipynb"):
        notebook = nbformat.read(path, as_version=4)
        assert "widgets" not in notebook.metadata, (
            f"{path.name} stores widget state: re-execute it with `course execute` (see the README)")


@pytest.mark.parametrize("assignment", source_assignments(COURSE_ROOT))
def test_student_notebooks_carry_no_execution_timestamps(assignment):
    for path in (COURSE_ROOT / RELEASE_DIRECTORY / assignment).glob("*.ipynb"):
        notebook = nbformat.read(path, as_version=4)
        stamped = [cell.id for cell in notebook.cells if "execution" in cell.metadata]
        assert not stamped, f"{path.name}: cells {stamped} carry the solution run's timestamps"
