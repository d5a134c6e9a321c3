import csv
import json

from course_lib.grading.results import (
    GRADED, UNGRADABLE, load_record, record_path, save_record, write_atomically, write_sheets,
)


def record(student, status, points):
    cells = [{"notebook": "nb", "cell": "test_a", "points": points[0], "max_points": 2.0, "auto": True,
              "failure": "" if points[0] == 2 else "AssertionError: no"},
             {"notebook": "nb", "cell": "test_b", "points": points[1], "max_points": 1.0, "auto": True,
              "failure": ""},
             {"notebook": "nb", "cell": "written", "points": None, "max_points": 3.0, "auto": False,
              "failure": ""}]
    return {"student": student, "assignment": "01_x", "key": "k", "status": status, "reason": "",
            "cells": cells}


def read_csv(path):
    with open(path, newline="") as file:
        return list(csv.DictReader(file))


def test_write_atomically_replaces_whole_files(tmp_path):
    write_atomically(tmp_path / "a" / "f.txt", "one")
    write_atomically(tmp_path / "a" / "f.txt", "two")
    assert (tmp_path / "a" / "f.txt").read_text() == "two"
    assert [path.name for path in (tmp_path / "a").iterdir()] == ["f.txt"]


def test_records_round_trip_and_a_broken_one_counts_as_missing(tmp_path):
    save_record(tmp_path, record("ada", GRADED, (2.0, 1.0)))
    assert load_record(tmp_path, "ada", "01_x")["status"] == GRADED
    record_path(tmp_path, "bob", "01_x").parent.mkdir(parents=True)
    record_path(tmp_path, "bob", "01_x").write_text("{trunc")
    assert load_record(tmp_path, "bob", "01_x") is None


def test_sheets(tmp_path):
    write_sheets(tmp_path, [record("ada", GRADED, (2.0, 1.0)), record("bob", UNGRADABLE, (0.0, 0.0))], ["01_x"])
    rows = read_csv(tmp_path / "grades.csv")
    assert len(rows) == 6
    assert rows[0]["points"] == "2.0" and rows[2]["points"] == "" and rows[2]["graded_by"] == "instructor (pending)"
    totals = {row["student"]: row for row in read_csv(tmp_path / "totals.csv")}
    assert totals["ada"]["01_x"] == "3.0" and totals["ada"]["max"] == "3.0"
    assert totals["ada"]["to_grade_by_hand"] == "3.0"
    assert totals["bob"]["01_x"] == "0.0 (ungradable)"
    assert json.dumps(totals)
