"""report.html from records made by hand: the sections an instructor reads."""
import html
import re

from course_lib.grading.report import REPORT, write_report
from course_lib.grading.results import GRADED, CellGrade, Record
from course_lib.grading.submissions import Problem
from course_lib.grading.template import GradeCell, Template

CELLS = (GradeCell("nb", "test_softmax", 2.0, auto=True), GradeCell("nb", "test_adam_update", 3.0, auto=True),
         GradeCell("nb", "written", 1.0, auto=False))
TEMPLATE = Template(None, "03_x", "hash", ("nb",), CELLS, {}, ())


def graded(student, failures=None, **details):
    """Full points except in the test cells of `failures` ({grade id: message})."""
    failures = failures or {}
    cells = [CellGrade(cell.notebook, cell.cell, cell.max_points, cell.auto,
                       (0.0 if cell.cell in failures else cell.max_points) if cell.auto else None,
                       failures.get(cell.cell, "")) for cell in CELLS]
    return Record.graded(student, "03_x", "k", cells, **details)


def report(tmp_path, records, problems=()):
    write_report(tmp_path, records, list(problems), {"03_x": TEMPLATE})
    return (tmp_path / REPORT).read_text()


def section(text, title):
    """The plain text of the report's <h2> section `title`, up to the next <h2>."""
    match = re.search(rf"<h2>{re.escape(title)}</h2>(.*?)(?=<h2>|</body>)", text, re.S)
    assert match, f"no section {title!r}"
    return html.unescape(re.sub(r"<[^>]*>", " ", match.group(1)))


def words(text):
    return " ".join(text.split())


def test_delegating_answers_are_listed_to_read_by_hand_with_what_they_called(tmp_path):
    delegated = {"test_softmax": "torch.nn.functional.softmax", "test_adam_update": "course_lib.optim.adam_update"}
    records = [graded("zoe"),
               graded("bob", {"test_softmax": "DelegationFailure: softmax(input, dim) called ...",
                              "test_adam_update": "DelegationFailure: adam_update(...) called ..."},
                      delegated=delegated),
               graded("carl", suspicious=["ctypes"])]
    text = words(section(report(tmp_path, records), "Code to read by hand"))
    assert "bob 03_x test_adam_update course_lib.optim.adam_update" in text
    assert "bob 03_x test_softmax torch.nn.functional.softmax" in text
    assert "carl 03_x ctypes" in text
    assert "zoe" not in text
    assert text.index("Answers that call the solution") < text.index("Machinery aimed at the grader")


def test_each_list_to_read_by_hand_appears_only_when_it_has_someone(tmp_path):
    assert "Code to read by hand" not in report(tmp_path, [graded("ada")])
    only_delegating = section(report(tmp_path, [graded("bob", delegated={"test_softmax": "torch.softmax"})]),
                              "Code to read by hand")
    assert "Answers that call the solution" in only_delegating and "Machinery" not in only_delegating
    only_machinery = section(report(tmp_path, [graded("carl", suspicious=["ctypes"])]), "Code to read by hand")
    assert "Machinery aimed at the grader" in only_machinery and "call the solution" not in only_machinery


def test_failures_ungradable_withheld_and_files_not_taken(tmp_path):
    records = [graded("ada", {"test_softmax": "CheckFailure: softmax(input, dim) returned nan"}),
               graded("bob", {"test_softmax": "CheckFailure: softmax(input, dim) returned nan"},
                      reason="feedback: nbgrader failed", feedback_withheld=["nb"]),
               Record.ungradable(TEMPLATE, "carl", "nb.ipynb: the file is empty"),
               Record.not_submitted(TEMPLATE, "dora")]
    text = report(tmp_path, records, [Problem("stray.txt", "not a notebook")])
    assert "data:image/png;base64," in text
    assert words(section(text, "03_x")).count("test_softmax 2 CheckFailure: softmax(input, dim) returned nan") == 1
    assert "ungradable:" not in section(text, "03_x") and "not submitted" not in section(text, "03_x")
    not_graded = words(section(text, "Submissions that could not be graded"))
    assert "carl 03_x nb.ipynb: the file is empty" in not_graded
    assert "bob 03_x graded, but feedback: nbgrader failed" in not_graded
    assert "stray.txt not a notebook" in not_graded and "Not submitted student assignment dora 03_x" in not_graded
    assert "bob 03_x nb" in words(section(text, "Feedback withheld"))
    summary = words(html.unescape(re.sub(r"<[^>]*>", " ", text.split("<h2>")[0])))
    assert f"4 students, 4 student × assignment records: 2 {GRADED}, 1 not submitted, 1 ungradable" in summary
