"""The roster a hub is set up from: what it accepts and how it says what is wrong."""
import pytest

from course_lib.errors import CourseError
from course_lib.hub.roster import Roster, read_roster, write_roster


def roster_file(tmp_path, text):
    path = tmp_path / "roster.csv"
    path.write_text(text)
    return path


def test_a_roster_round_trips(tmp_path):
    roster = Roster(students=("ada", "bob"), instructors=("prof-ng",))
    write_roster(tmp_path / "roster.csv", roster)
    assert read_roster(tmp_path / "roster.csv") == roster
    assert roster.role_of("prof-ng") == "instructor" and roster.role_of("ada") == "student"


@pytest.mark.parametrize(("text", "message"), [
    ("name,kind\nada,student\n", "header `id,role`"),
    ("id,role\nAda Lovelace,student\nprof,instructor\n", "'Ada Lovelace' is not a login name"),
    ("id,role\nada,teacher\n", "role 'teacher' should be one of student, instructor"),
    ("id,role\nada,student\nada,instructor\n", "ada is listed twice"),
    ("id,role\nada,student\n", "no instructor"),
])
def test_a_wrong_roster_is_refused_with_the_reason(tmp_path, text, message):
    with pytest.raises(CourseError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_roster(roster_file(tmp_path, text))
