import sys
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter
from nbformat.v4 import new_code_cell, new_notebook, new_output

import course_lib
from course_lib.grading.feedback import (
    HIDDEN_FAILURE, PRIVATE_COURSE_PREFIX, REDACTED, RedactHiddenTests, hidden_regions, leaked_lines,
    machine_paths, secret_lines, without_machine_paths,
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


def error(line, message="wrong", ename="AssertionError"):
    return new_output("error", ename=ename, evalue=message,
                      traceback=["\x1b[0;31m---------\x1b[0m", f"Cell \x1b[0;32mIn[5], line {line}\x1b[0m",
                                 f"----> {line} something", f"\x1b[0;31m{ename}\x1b[0m: {message}"])


def redact(*cells, secrets=(SECRET,), paths=None):
    notebook = new_notebook(cells=list(cells))
    options = {} if paths is None else {"machine_paths": list(paths)}
    redacted, _ = RedactHiddenTests(secret_lines=list(secrets), **options).preprocess(notebook, {})
    return redacted


# the private course of one submission, and where its kernel's home and TMPDIR were
PRIVATE = f"/tmp/{PRIVATE_COURSE_PREFIX}k2j4x8/"
KERNEL_TMP = f"{PRIVATE}home/tmp"
WARNING = (f"{KERNEL_TMP}/ipykernel_123/456.py:3: RuntimeWarning: divide by zero encountered in log\n"
           "  loss = -np.log(p)\n")
DATA = "/srv/course-data"


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


def test_a_hidden_failure_that_is_not_a_check_says_only_that():
    (cell,) = redact(graded_cell([error(4, message="double(-3) returned 6, expected -6")])).cells
    (output,) = cell.outputs
    assert output.evalue == HIDDEN_FAILURE
    assert "double(-3)" not in "".join(output.traceback)


def test_a_visible_failure_keeps_its_message_but_not_the_source_context():
    (cell,) = redact(graded_cell([error(1, message="double(2) returned 5, expected 4")])).cells
    (output,) = cell.outputs
    assert output.evalue == "double(2) returned 5, expected 4"
    assert output.traceback == ["AssertionError: double(2) returned 5, expected 4"]


def test_a_hidden_name_error_says_only_that():
    (cell,) = redact(graded_cell([error(4, "name 'double' is not defined", ename="NameError")])).cells
    assert cell.outputs[0].traceback == [f"NameError: {HIDDEN_FAILURE}"]


def test_a_hidden_checks_diagnosis_reaches_the_student():
    diagnosis = ("adam_update(param, grad, state, lr=0.001) with a 0-d parameter: step 3 differs from "
                 "torch.optim.Adam's by 2e-05.\nHint: keep the bias correction in float64.")
    for ename in ("CheckFailure", "DelegationFailure"):
        (cell,) = redact(graded_cell([error(4, diagnosis, ename=ename)])).cells
        (output,) = cell.outputs
        assert output.evalue == f"A hidden test failed: {diagnosis}"
        assert output.traceback == [f"{ename}: A hidden test failed: {diagnosis}"]   # no frames, no source


def test_a_hidden_checks_message_repeating_hidden_source_is_blanked():
    """An answer can put whatever it likes into a message (harness passes a CheckFailure it
    raises through unchanged): a line of hidden-test source in it is blanked all the same."""
    stolen = f"double(-3) returned 6\n{SECRET}"
    (cell,) = redact(graded_cell([error(4, stolen, ename="CheckFailure")])).cells
    (output,) = cell.outputs
    assert output.evalue == f"A hidden test failed: double(-3) returned 6\n{REDACTED}"
    assert not leaked_lines("".join(output.traceback), [SECRET])


def test_rendered_feedback_shows_the_diagnosis_and_no_hidden_source():
    diagnosis = "double(-3) returned 6, but -6 is expected: is the sign lost (abs)?"
    notebook = new_notebook(cells=[graded_cell([error(4, diagnosis, ename="CheckFailure")])])
    exporter = HTMLExporter(preprocessors=[RedactHiddenTests(secret_lines=[SECRET])])
    html, _ = exporter.from_notebook_node(notebook)
    assert "A hidden test failed: double(-3) returned 6, but -6 is expected" in html
    assert leaked_lines(html, [SECRET]) == []
    assert leaked_lines(HTMLExporter().from_notebook_node(notebook)[0], [SECRET]) == [SECRET]   # without it


def test_the_graders_paths_are_cut_to_the_files_name_in_every_output():
    site_packages = f"{sys.prefix}/lib/python3.11/site-packages"
    answer = new_code_cell("loss = -np.log(p)", execution_count=3, outputs=[
        new_output("stream", name="stderr", text=WARNING),
        new_output("execute_result", execution_count=3, data={
            "text/plain": f"PosixPath('{DATA}/mnist/train-images-idx3-ubyte.gz')",
            "text/html": f"<b>{course_lib.__path__[0]}/data/mnist.py</b>"})])
    test = graded_cell([error(1, f"f(x) raised OSError: cannot read {PRIVATE}course/autograded/ada/01/x.npy "
                                 f"(see {site_packages}/numpy/lib/npyio.py:405)", ename="CheckFailure")])
    hidden = graded_cell([error(4, f"f(x) raised ValueError: in {site_packages}/torch/nn/functional.py",
                                ename="CheckFailure")])
    answer_cell, test_cell, hidden_cell = redact(answer, test, hidden, paths=[KERNEL_TMP, sys.prefix,
                                                                              course_lib.__path__[0], DATA]).cells
    assert answer_cell.outputs[0].text == ("456.py:3: RuntimeWarning: divide by zero encountered in log\n"
                                           "  loss = -np.log(p)\n")
    assert answer_cell.outputs[1].data == {"text/plain": "PosixPath('train-images-idx3-ubyte.gz')",
                                           "text/html": "<b>mnist.py</b>"}
    assert test_cell.outputs[0].evalue == "f(x) raised OSError: cannot read x.npy (see npyio.py:405)"
    assert test_cell.outputs[0].traceback == ["CheckFailure: f(x) raised OSError: cannot read x.npy (see npyio.py:405)"]
    assert hidden_cell.outputs[0].evalue == "A hidden test failed: f(x) raised ValueError: in functional.py"


def test_a_path_through_a_private_course_is_cut_also_when_its_folders_are_unknown():
    """As when formgrader renders feedback after the run, in a process of its own."""
    assert without_machine_paths(WARNING, []).startswith("456.py:3: RuntimeWarning")
    assert without_machine_paths(f"'{PRIVATE}course'", []) == "'course'"


def test_what_is_not_a_path_of_the_grader_stays():
    text = ("ratio 1/2/3, loss/accuracy, ./data/x.npy, see https://pytorch.org/docs/stable/optim.html, "
            f"/usrlocal/x.py, {DATA}2/y.npy, x/tmp/{PRIVATE_COURSE_PREFIX}a/b.py")
    assert without_machine_paths(text, ["/usr", DATA, "/tmp"]) == text
    assert without_machine_paths(f"{DATA}", [DATA]) == "course-data"


def test_machine_paths_are_this_processes_home_temporary_python_course_lib_and_data_folders(monkeypatch):
    monkeypatch.setenv("HOME", "/home/grader")
    monkeypatch.setenv("TMPDIR", KERNEL_TMP + "/")
    monkeypatch.setenv("COURSE_DATA_DIR", DATA)
    found = machine_paths()
    expected = {"/home/grader", KERNEL_TMP, sys.prefix, sys.base_prefix, str(Path(course_lib.__file__).parent), DATA}
    assert expected <= set(found)
    monkeypatch.setenv("HOME", "/")   # the root would take every path
    assert "/" not in machine_paths() and "" not in machine_paths()
    assert RedactHiddenTests().machine_paths == machine_paths()


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
