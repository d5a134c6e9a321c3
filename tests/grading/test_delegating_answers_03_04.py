"""Each delegating answer of 03 and 04 fails its exercise's visible check with a
DelegationFailure naming what it ran, when run as the notebook runs it: after the setup
cell's imports."""
import pytest

from course_lib import checking
from course_lib.checking.failure import DelegationFailure
from tests.grading.delegating_answers_03_04 import DELEGATING_03_04

# what the setup cells of 03 and 04 put in the notebook's namespace, that the answers use
SETUP = {
    "03_optimizers": "import numpy as np\nimport torch\nfrom course_lib import checking, optim\n",
    "04_schedules": ("import math\nimport numpy as np\nfrom course_lib import checking\n"
                     "from course_lib.optim import SGD, CosineAnnealingLR, CyclicLR\n"
                     "from course_lib.optim import ReduceLROnPlateau as reference_ReduceLROnPlateau\n"),
}
CHECKS = {"ReduceLROnPlateau": checking.check_reduce_lr_on_plateau}
ANSWERS = [pytest.param(assignment, grade_id, source, id=f"{assignment}-{grade_id}")
           for assignment, answers in DELEGATING_03_04.items() for grade_id, source in answers.items()]


@pytest.mark.parametrize("assignment, grade_id, source", ANSWERS)
def test_a_delegating_answer_fails_its_visible_check(assignment, grade_id, source):
    namespace = {}
    exec(SETUP[assignment], namespace)
    exec(source, namespace)
    check = CHECKS.get(grade_id) or getattr(checking, f"check_{grade_id}")
    with pytest.raises(DelegationFailure) as caught:
        check(namespace[grade_id])
    message = str(caught.value)
    assert " called " in message and "the exercise asks for your own code" in message


def test_every_exercise_of_03_and_04_has_a_delegating_answer():
    from tests.grading.test_roundtrip import answer_ids
    for assignment, answers in DELEGATING_03_04.items():
        assert set(answers) == set(answer_ids(assignment))
