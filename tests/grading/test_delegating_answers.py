"""Each delegating answer fails its visible tests with a DelegationFailure naming what it
called, and each solution passes all its tests with the building blocks its cell imports,
run from the assignment's source notebook. An assignment whose answers are written before its
notebook (solutions/<assignment>/ still empty) has its tests skipped, saying so, until the
notebook is there; from then on they run like every other assignment's."""
from pathlib import Path

import pytest

from course_lib.checking import DelegationFailure
from course_lib.grading.course import SOURCE_DIRECTORY, source_assignments
from tests.grading.answer_cells import cells, defined_by, run_test_cell, solution
from tests.grading.delegating_answers import CALLED, DELEGATING_ANSWERS
from tests.grading.harness import is_answer_cell

COURSE_ROOT = Path(__file__).resolve().parents[2]
WITH_NOTEBOOK = source_assignments(COURSE_ROOT)


def needs_notebook(assignment):
    return pytest.mark.skipif(assignment not in WITH_NOTEBOOK,
                              reason=f"{SOURCE_DIRECTORY}/{assignment}/ holds no notebook yet")


ASSIGNMENTS = [pytest.param(assignment, marks=needs_notebook(assignment)) for assignment in DELEGATING_ANSWERS]
EXERCISES = [pytest.param(assignment, answer, marks=needs_notebook(assignment), id=f"{assignment}-{answer}")
             for assignment, answers in DELEGATING_ANSWERS.items() for answer in answers]


def answer_ids(assignment):
    return {answer for answer, cell in cells(assignment).items() if is_answer_cell(cell) and cell.cell_type == "code"}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_exercise_has_a_delegating_answer(assignment):
    assert set(DELEGATING_ANSWERS[assignment]) == answer_ids(assignment) == set(CALLED[assignment])


@pytest.mark.parametrize("assignment, answer", EXERCISES)
def test_a_delegating_answer_fails_its_visible_tests_with_a_delegation_failure(assignment, answer, capsys):
    delegating = defined_by(assignment, answer, DELEGATING_ANSWERS[assignment][answer])
    with pytest.raises(DelegationFailure) as caught:
        run_test_cell(assignment, answer, delegating)
    assert f" called {CALLED[assignment][answer]}," in str(caught.value)
    assert "the exercise asks for your own code" in str(caught.value)
    assert capsys.readouterr() == ("", "")  # nothing on stdout or stderr: nbgrader would count it


@pytest.mark.parametrize("assignment, answer", EXERCISES)
def test_the_solution_passes_all_its_tests_with_the_building_blocks_it_is_handed(assignment, answer, capsys):
    run_test_cell(assignment, answer, solution(assignment, answer), hidden=True)
