"""Every assignment through nbgrader, as an instructor would grade it: the solution gets
full marks, the untouched student notebook gets zero without breaking the run, and each
exercise's realistic wrong answer loses exactly that exercise's points.

The wrong answers go in two submissions, every other exercise wrong in each, so that every
wrong answer sits next to right ones: it must lose its own points and leave its neighbours'
alone. Two autogrades per assignment instead of one per exercise keep the suite fast."""
from pathlib import Path

import nbformat
import pytest

from course_lib.grading.course import SOURCE_DIRECTORY, source_assignments
from tests.grading.harness import GradingCourse, grade_id, is_answer_cell
from tests.grading.wrong_answers import WRONG_ANSWERS

COURSE_ROOT = Path(__file__).resolve().parents[2]
ASSIGNMENTS = source_assignments(COURSE_ROOT)


def source_notebook(assignment):
    (path,) = (COURSE_ROOT / SOURCE_DIRECTORY / assignment).glob("*.ipynb")
    return path.stem, nbformat.read(path, as_version=4)


def answer_ids(assignment):
    _, notebook = source_notebook(assignment)
    return [grade_id(cell) for cell in notebook.cells
            if is_answer_cell(cell) and cell.cell_type == "code"]


WRONG_HALVES = {"wrong_even": slice(0, None, 2), "wrong_odd": slice(1, None, 2)}
VARIANTS = [(assignment, variant) for assignment in ASSIGNMENTS
            for variant in ("solution", "blank", *WRONG_HALVES)]


def wrong_answers(assignment, variant):
    """{grade_id: wrong source} for the exercises answered wrongly in this variant."""
    chosen = answer_ids(assignment)[WRONG_HALVES[variant]] if variant in WRONG_HALVES else []
    return {answer: WRONG_ANSWERS[assignment][answer] for answer in chosen}


@pytest.fixture(scope="session")
def released_course(tmp_path_factory):
    courses = {}

    def release(assignment):
        if assignment not in courses:
            courses[assignment] = GradingCourse.create(
                COURSE_ROOT, assignment, tmp_path_factory.mktemp(assignment))
        return courses[assignment]
    return release


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_exercise_has_a_realistic_wrong_answer(assignment):
    missing = set(answer_ids(assignment)) - set(WRONG_ANSWERS.get(assignment, {}))
    assert not missing, f"tests/grading/wrong_answers.py has no wrong answer for {sorted(missing)}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_each_answer_has_one_test_cell_named_after_it(assignment):
    _, notebook = source_notebook(assignment)
    test_ids = {grade_id(cell) for cell in notebook.cells
                if cell.metadata.get("nbgrader", {}).get("grade") and cell.cell_type == "code"}
    assert {f"test_{answer}" for answer in answer_ids(assignment)} == test_ids


@pytest.mark.notebook
@pytest.mark.parametrize(("assignment", "variant"), VARIANTS)
def test_autograde(released_course, assignment, variant):
    course = released_course(assignment)
    name, _ = source_notebook(assignment)
    wrong = wrong_answers(assignment, variant)
    answers = None if variant == "blank" else wrong
    course.submit(variant, {name: course.submission(name, answers=answers)})

    scores = course.autograde(variant)[name]

    assert scores, "nbgrader recorded no autograded cells"
    expected = {
        cell: (0.0 if variant == "blank" or cell.removeprefix("test_") in wrong else maximum, maximum)
        for cell, (_, maximum) in scores.items()
    }
    assert scores == expected
