"""The instructor's steps on nbgrader's exchange, where they need no hub: what
`course hub feedback` says when there is no feedback to release."""
import re

import pytest

from course_lib.errors import CourseError
from course_lib.hub.exchange import release_feedback

ASSIGNMENT = "01_epochs_iterations"


def test_feedback_before_grading_asks_to_grade_first(tmp_path):
    with pytest.raises(CourseError, match=re.escape(f"grade it first (`course hub grade {ASSIGNMENT}`)")):
        release_feedback(tmp_path, ASSIGNMENT)


def test_graded_without_feedback_points_at_the_report(tmp_path):
    """As when every submission's feedback failed: the grades are there, feedback/ is not."""
    (tmp_path / "grades" / "autograded" / "ada" / ASSIGNMENT).mkdir(parents=True)
    with pytest.raises(CourseError, match=f"{ASSIGNMENT} was graded, but no feedback came of it: grades/report.html"):
        release_feedback(tmp_path, ASSIGNMENT)
