"""Every assignment through nbgrader, as an instructor would grade it: each exercise's
solution gets full marks, its blank answer and a realistic wrong answer get zero without
breaking the run, and so does an answer that only calls the reference (or torch's own
operation) instead of doing the work.

Each assignment is graded as len(STATES) submissions. In submission k, exercise i is
answered in state STATES[(i + k) % len(STATES)]: every exercise appears once in every
state, and every answer sits next to answers in the other states, so it must cost exactly
its own points and leave its neighbours' alone. Four submissions per assignment, graded in
one nbgrader autograde run, cover what one autograde per exercise and state would."""
from pathlib import Path

import nbformat
import pytest

from course_lib.grading.course import SOURCE_DIRECTORY, source_assignments
from tests.grading.delegating_answers import DELEGATING_ANSWERS
from tests.grading.harness import GradingCourse, grade_id, is_answer_cell
from tests.grading.wrong_answers import WRONG_ANSWERS

COURSE_ROOT = Path(__file__).resolve().parents[2]
ASSIGNMENTS = source_assignments(COURSE_ROOT)
STATES = ("solution", "blank", "wrong", "delegating")
ANSWERS = {"wrong": WRONG_ANSWERS, "delegating": DELEGATING_ANSWERS}


def source_notebook(assignment):
    (path,) = (COURSE_ROOT / SOURCE_DIRECTORY / assignment).glob("*.ipynb")
    return path.stem, nbformat.read(path, as_version=4)


def answer_ids(assignment):
    _, notebook = source_notebook(assignment)
    return [grade_id(cell) for cell in notebook.cells
            if is_answer_cell(cell) and cell.cell_type == "code"]


def states(assignment, submission):
    """{grade_id: state} of every exercise in submission number `submission`."""
    return {answer: STATES[(position + submission) % len(STATES)]
            for position, answer in enumerate(answer_ids(assignment))}


def answers(assignment, submission):
    """What the submission's answer cells hold: {grade_id: source}, None for the released
    (blank) cell; exercises not listed keep the solution."""
    chosen = {}
    for answer, state in states(assignment, submission).items():
        if state == "blank":
            chosen[answer] = None
        elif state in ANSWERS:
            chosen[answer] = ANSWERS[state][assignment][answer]
    return chosen


def student(submission):
    return f"submission{submission}"


@pytest.fixture(scope="session")
def autograded(tmp_path_factory):
    """Scores of an assignment's submissions, {student: {grade_id: (score, max_score)}}: all
    of them autograded in one nbgrader run (one app, one gradebook), the first time asked."""
    graded = {}

    def scores(assignment):
        if assignment not in graded:
            course = GradingCourse.create(COURSE_ROOT, assignment, tmp_path_factory.mktemp(assignment))
            name, _ = source_notebook(assignment)
            for submission in range(len(STATES)):
                course.submit(student(submission),
                              {name: course.submission(name, answers=answers(assignment, submission))})
            graded[assignment] = {who: notebooks[name] for who, notebooks in course.autograde().items()}
        return graded[assignment]
    return scores


@pytest.mark.parametrize("state", sorted(ANSWERS))
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_exercise_has_an_answer_in_each_state(assignment, state):
    missing = set(answer_ids(assignment)) - set(ANSWERS[state].get(assignment, {}))
    assert not missing, f"no {state} answer for {sorted(missing)} of {assignment}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_each_answer_has_one_test_cell_named_after_it(assignment):
    _, notebook = source_notebook(assignment)
    test_ids = {grade_id(cell) for cell in notebook.cells
                if cell.metadata.get("nbgrader", {}).get("grade") and cell.cell_type == "code"}
    assert {f"test_{answer}" for answer in answer_ids(assignment)} == test_ids


# An assignment's submissions share one autograde run: its tests stay on one xdist worker.
@pytest.mark.notebook
@pytest.mark.parametrize("submission", range(len(STATES)), ids=student)
@pytest.mark.parametrize("assignment", [
    pytest.param(assignment, marks=pytest.mark.xdist_group(f"roundtrip-{assignment}")) for assignment in ASSIGNMENTS])
def test_autograde(autograded, assignment, submission):
    scores = autograded(assignment)[student(submission)]

    assert scores, "nbgrader recorded no autograded cells"
    state_of = {f"test_{answer}": state for answer, state in states(assignment, submission).items()}
    expected = {cell: (maximum if state_of[cell] == "solution" else 0.0, maximum)
                for cell, (_, maximum) in scores.items()}
    wrong = {f"{cell} ({state_of[cell]})": scores[cell][0] for cell in scores if scores[cell] != expected[cell]}
    assert not wrong, f"points that do not match the answer's state: {wrong}"
