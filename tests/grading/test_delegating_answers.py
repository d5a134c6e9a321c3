import pytest

from course_lib.checking import DelegationFailure
from tests.grading.answer_cells import cells, defined_by, run_test_cell, solution
from tests.grading.delegating_answers import DELEGATING_ANSWERS
from tests.grading.harness import is_answer_cell

EXERCISES = [(assignment, answer) for assignment, answers in DELEGATING_ANSWERS.items() for answer in answers]


def answer_ids(assignment):
    return {answer for answer, cell in cells(assignment).items() if is_answer_cell(cell) and cell.cell_type == "code"}


@pytest.mark.parametrize("assignment", DELEGATING_ANSWERS)
def test_every_exercise_has_a_delegating_answer(assignment):
    assert set(DELEGATING_ANSWERS[assignment]) == answer_ids(assignment)


@pytest.mark.parametrize("assignment, answer", EXERCISES)
def test_a_delegating_answer_fails_its_visible_tests_with_a_delegation_failure(assignment, answer, capsys):
    delegating = defined_by(assignment, answer, DELEGATING_ANSWERS[assignment][answer])
    with pytest.raises(DelegationFailure) as caught:
        run_test_cell(assignment, answer, delegating)
    assert "the exercise asks for your own code" in str(caught.value)


@pytest.mark.parametrize("assignment, answer", EXERCISES)
def test_the_solution_passes_all_its_tests_with_the_building_blocks_it_is_handed(assignment, answer, capsys):
    run_test_cell(assignment, answer, solution(assignment, answer), hidden=True)
