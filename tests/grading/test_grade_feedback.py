import nbformat
from nbformat.v4 import new_code_cell, new_notebook, new_output

from course_lib.grading.feedback import (
    HIDDEN_FAILURE, REDACTED, RedactHiddenTests, hidden_regions, leaked_lines, secret_lines,
)

TEST_SOURCE = ("assert double(2) == 4\nprint('Visible tests passed.')\n"
               "### BEGIN HIDDEN TESTS\nassert double(-3) == -6, 'negative numbers'\n"
               "### END HIDDEN TESTS")
SECRET = "assert double(-3) == -6, 'negative numbers'"


def graded_cell(outputs=(), execution_count=5):
    cell = new_code_cell(TEST_SOURCE, execution_count=execution_count, outputs=list(outputs))
    cell.metadata["nbgrader"] = {"grade": True, "grade_id": "test_double", "locked": True, "points": 1,
                                 "solution": False, "schema_version": 3, "task": False}
    return cell


def error(line, message="wrong"):
    return new_output("error", ename="AssertionError", evalue=message,
                      traceback=["\x1b[0;31m---------\x1b[0m", f"Cell \x1b[0;32mIn[5], line {line}\x1b[0m",
                                 f"----> {line} something", f"AssertionError: {message}"])


def redact(*cells, secrets=(SECRET,)):
    notebook = new_notebook(cells=list(cells))
    redacted, _ = RedactHiddenTests(secret_lines=list(secrets)).preprocess(notebook, {})
    return redacted


def test_regions_and_secret_lines():
    assert hidden_regions(TEST_SOURCE) == [(3, 5)]
    source = new_notebook(cells=[graded_cell()])
    released = new_notebook(cells=[new_code_cell("assert double(2) == 4")])
    assert secret_lines(source, released) == [SECRET]


def test_hidden_region_is_removed_and_marked():
    (cell,) = redact(graded_cell()).cells
    assert "double(-3)" not in cell.source
    assert "double(2) == 4" in cell.source
    assert "hidden tests: not shown" in cell.source


def test_a_hidden_failure_says_only_that():
    (cell,) = redact(graded_cell([error(4, message="double(-3) returned 6, expected -6")])).cells
    (output,) = cell.outputs
    assert output.evalue == HIDDEN_FAILURE
    assert "double(-3)" not in "".join(output.traceback)


def test_a_visible_failure_keeps_its_message_but_not_the_source_context():
    (cell,) = redact(graded_cell([error(1, message="double(2) returned 5, expected 4")])).cells
    (output,) = cell.outputs
    assert output.evalue == "double(2) returned 5, expected 4"
    assert output.traceback == ["AssertionError: double(2) returned 5, expected 4"]


def test_printed_hidden_source_is_blanked_anywhere():
    leaky = new_code_cell("print(stolen)", outputs=[new_output("stream", name="stdout",
                                                               text=f"ok\n{SECRET}\nbye\n")])
    (cell,) = redact(leaky).cells
    assert cell.outputs[0].text == f"ok\n{REDACTED}\nbye\n"


def test_markers_typed_by_a_student_hide_the_cell():
    (cell,) = redact(new_code_cell("### BEGIN HIDDEN TESTS\nmy code")).cells
    assert cell.source == REDACTED


def test_leaked_lines_sees_through_html_markup():
    html = "<span class='k'>assert</span> double(-3) <span>==</span> -6, &#39;negative numbers&#39;"
    assert leaked_lines(html, [SECRET]) == [SECRET]
    assert leaked_lines("<p>nothing here</p>", [SECRET]) == []


def test_notebook_round_trips_through_nbformat():
    nbformat.validate(redact(graded_cell([error(4)])))
