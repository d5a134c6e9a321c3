import csv
import json
import os
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_notebook, new_output

from course_lib.checking.failure import CheckFailure, DelegationFailure
from course_lib.grading.results import (
    CHECK_FAILURE, DELEGATION_FAILURE, GRADED, NOT_SUBMITTED, UNGRADABLE, CellGrade, Record, delegations,
    failure_messages, gradebook_cells, load_record, record_path, save_record, write_atomically, write_sheets,
)
from course_lib.grading.template import GradeCell, Template

GRADE_CELLS = (GradeCell("nb", "test_a", 2.0, auto=True), GradeCell("nb", "test_b", 1.0, auto=True),
               GradeCell("nb", "written", 3.0, auto=False))
TEMPLATE = Template(None, "01_x", "hash", ("nb",), GRADE_CELLS, {}, ())
DELEGATED = ("train_step(model, inputs, targets, loss_fn, optimizer) called course_lib.training.train_step, "
             "the course's own solution of this exercise: the exercise asks for your own code, so write "
             "the computation yourself.")


def record(student, status, points):
    cells = [CellGrade("nb", "test_a", 2.0, True, points[0], "" if points[0] == 2 else "AssertionError: no"),
             CellGrade("nb", "test_b", 1.0, True, points[1]),
             CellGrade("nb", "written", 3.0, False, None)]
    if status == GRADED:
        return Record.graded(student, "01_x", "k", cells)
    return Record(student, "01_x", status, cells, "k", status)


def read_csv(path):
    with open(path, newline="") as file:
        return list(csv.DictReader(file))


def cell_with(grade_id, *outputs, grade=True):
    cell = new_code_cell("check(answer)", outputs=list(outputs))
    cell.metadata["nbgrader"] = {"grade": grade, "grade_id": grade_id, "locked": grade, "solution": not grade,
                                 "points": 1 if grade else 0, "schema_version": 3, "task": False}
    return cell


def error(ename, evalue):
    return new_output("error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


def test_write_atomically_replaces_whole_files(tmp_path):
    write_atomically(tmp_path / "a" / "f.txt", "one")
    write_atomically(tmp_path / "a" / "f.txt", "two")
    assert (tmp_path / "a" / "f.txt").read_text() == "two"
    assert [path.name for path in (tmp_path / "a").iterdir()] == ["f.txt"]


def test_records_round_trip_and_a_broken_one_counts_as_missing(tmp_path):
    saved = Record.graded("ada", "01_x", "k", record("ada", GRADED, (0.0, 1.0)).cells, reason="nb.ipynb: odd",
                          notebooks={"nb": ""}, suspicious=["ctypes"], delegated={"test_a": "course_lib.x.f"},
                          feedback_withheld=["nb"], seconds=12.5)
    save_record(tmp_path, saved)
    assert load_record(tmp_path, "ada", "01_x") == saved
    record_path(tmp_path, "bob", "01_x").parent.mkdir(parents=True)
    record_path(tmp_path, "bob", "01_x").write_text("{trunc")
    assert load_record(tmp_path, "bob", "01_x") is None
    record_path(tmp_path, "bob", "01_x").write_text(json.dumps({"student": "bob", "cells": [{"points": 1}]}))
    assert load_record(tmp_path, "bob", "01_x") is None


def test_the_file_format_is_the_one_records_were_written_in(tmp_path):
    """A record written before `delegated` existed still loads, and a record is written with
    the same keys as then, plus `delegated`."""
    earlier = {"student": "ada", "assignment": "01_x", "key": "k", "status": "graded", "reason": "",
               "notebooks": {"nb": ""}, "suspicious": [], "feedback_withheld": [], "seconds": 3.0,
               "cells": [{"notebook": "nb", "cell": "test_a", "points": 2.0, "max_points": 2.0, "auto": True,
                          "failure": ""}]}
    record_path(tmp_path, "ada", "01_x").parent.mkdir(parents=True)
    record_path(tmp_path, "ada", "01_x").write_text(json.dumps(earlier))
    loaded = load_record(tmp_path, "ada", "01_x")
    assert loaded.cells == [CellGrade("nb", "test_a", 2.0, True, 2.0, "")]
    assert (loaded.status, loaded.key, loaded.seconds, loaded.delegated) == (GRADED, "k", 3.0, {})
    save_record(tmp_path, loaded)
    assert json.loads(record_path(tmp_path, "ada", "01_x").read_text()) == {**earlier, "delegated": {}}


def test_ungradable_and_not_submitted_records_zero_every_test_and_leave_written_answers_pending():
    ungradable = Record.ungradable(TEMPLATE, "ada", "the kernel died", notebooks={"nb": ""}, seconds=4.0)
    assert (ungradable.status, ungradable.reason, ungradable.key, ungradable.seconds) == (
        UNGRADABLE, "the kernel died", "", 4.0)
    assert [(cell.cell, cell.points, cell.failure) for cell in ungradable.cells] == [
        ("test_a", 0.0, "ungradable: the kernel died"), ("test_b", 0.0, "ungradable: the kernel died"),
        ("written", None, "")]
    assert Record.ungradable(TEMPLATE, "ada", "x", key="k1").key == "k1"
    missing = Record.not_submitted(TEMPLATE, "bob")
    assert (missing.student, missing.assignment, missing.status, missing.key) == ("bob", "01_x", NOT_SUBMITTED, "")
    assert [(cell.points, cell.failure) for cell in missing.cells] == [(0.0, "not submitted"), (0.0, "not submitted"),
                                                                       (None, "")]
    assert (missing.suspicious, missing.delegated, missing.feedback_withheld) == ([], {}, [])


def test_the_failure_names_are_those_of_course_lib_checking():
    assert (CHECK_FAILURE, DELEGATION_FAILURE) == (CheckFailure.__name__, DelegationFailure.__name__)


def test_failure_messages_take_each_cells_first_error_and_its_first_line():
    notebook = new_notebook(cells=[cell_with("test_a", error("CheckFailure", "f(2) returned 5\nHint: double it"),
                                             error("NameError", "later")),
                                   cell_with("test_b"), new_code_cell("1/0", outputs=[error("ZeroDivisionError", "")])])
    assert failure_messages(notebook) == {"test_a": "CheckFailure: f(2) returned 5"}
    assert failure_messages(None) == {}


def test_delegations_name_the_function_each_delegating_test_ran():
    tampered = ("train_step(...) switched off or replaced the profiler (sys.setprofile) through which this "
                "check notices an answer that calls the course's solution\nsecond line")
    notebook = new_notebook(cells=[
        cell_with("test_a", error(DELEGATION_FAILURE, DELEGATED)),
        cell_with("test_b", error(DELEGATION_FAILURE, tampered)),
        cell_with("written", error(CHECK_FAILURE, "f(2) returned 5")),
        # not a test cell of the assignment: an answer cell, and an unknown grade id
        cell_with("a", error(DELEGATION_FAILURE, DELEGATED), grade=False),
        cell_with("test_unknown", error(DELEGATION_FAILURE, DELEGATED))])
    assert delegations(TEMPLATE, {"nb": notebook}) == {
        "test_a": "course_lib.training.train_step", "test_b": tampered.splitlines()[0]}
    assert delegations(TEMPLATE, {"other": notebook}) == {}
    nbformat.validate(notebook)


def test_cells_from_the_gradebook(tmp_path, monkeypatch):
    """Scores as nbgrader's gradebook holds them, failures from the autograded notebook, and
    a test cell that has no grade (deleted from the submission) at zero with a reason."""
    from nbgrader.api import Gradebook

    # nbgrader creates the database with the `alembic` script, found on the PATH
    monkeypatch.setenv("PATH", os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]))
    db_url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    with Gradebook(db_url) as gradebook:
        gradebook.add_assignment("01_x")
        gradebook.add_notebook("nb", "01_x")
        for cell in GRADE_CELLS:
            gradebook.add_grade_cell(cell.cell, "nb", "01_x", max_score=cell.max_points,
                                     cell_type="code" if cell.auto else "markdown")
        gradebook.add_student("ada")
        gradebook.add_submission("01_x", "ada")
        gradebook.find_grade("test_a", "nb", "01_x", "ada").auto_score = 0.0
        gradebook.find_grade("test_b", "nb", "01_x", "ada").auto_score = None
        gradebook.db.commit()
    autograded = new_notebook(cells=[cell_with("test_a", error(DELEGATION_FAILURE, DELEGATED))])
    cells = gradebook_cells(db_url, TEMPLATE, "ada", {"nb": autograded})
    assert cells == [
        CellGrade("nb", "test_a", 2.0, True, 0.0, f"{DELEGATION_FAILURE}: {DELEGATED}"),
        CellGrade("nb", "test_b", 1.0, True, 0.0, "no result: the test cell is missing from the submission"),
        CellGrade("nb", "written", 3.0, False, None, "")]


def test_sheets(tmp_path):
    write_sheets(tmp_path, [record("ada", GRADED, (2.0, 1.0)), record("bob", UNGRADABLE, (0.0, 0.0))], ["01_x"])
    rows = read_csv(tmp_path / "grades.csv")
    assert len(rows) == 6
    assert rows[0]["points"] == "2.0" and rows[2]["points"] == "" and rows[2]["graded_by"] == "instructor (pending)"
    assert rows[3]["status"] == UNGRADABLE and rows[3]["failure"] == "AssertionError: no"
    totals = {row["student"]: row for row in read_csv(tmp_path / "totals.csv")}
    assert totals["ada"]["01_x"] == "3.0" and totals["ada"]["max"] == "3.0"
    assert totals["ada"]["to_grade_by_hand"] == "3.0"
    assert totals["bob"]["01_x"] == "0.0 (ungradable)"
    assert json.dumps(totals)
