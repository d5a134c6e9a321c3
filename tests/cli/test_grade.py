"""`course grade` from the command line: arguments, errors, and a class whose submissions
cannot be graded at all (no kernel is started, so this is quick)."""
import csv
import subprocess
import sys
from pathlib import Path

import pytest

from course_lib.cli import main

COURSE_ROOT = Path(__file__).resolve().parents[2]


def test_help_names_the_layouts(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["grade", "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    assert "<student>_<notebook>.ipynb" in text and "--workers" in text


def test_missing_submissions_is_one_line(capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(COURSE_ROOT)
    code = main(["grade", str(tmp_path / "nowhere"), "--out", str(tmp_path / "out"),
                 "--assignment", "01_epochs_iterations", "--quiet"])
    assert code == 1
    assert capsys.readouterr().err.startswith("course: error: no submissions at")


def test_out_may_not_hold_the_course(capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(COURSE_ROOT)
    assert main(["grade", str(tmp_path), "--out", str(COURSE_ROOT.parent), "--quiet"]) == 1
    assert "would hold the course" in capsys.readouterr().err


def test_ungradable_class_through_the_console_script(tmp_path):
    submissions = tmp_path / "export"
    submissions.mkdir()
    (submissions / "ada_epochs_iterations.ipynb").write_text("")
    (submissions / "bob_epochs_iterations.ipynb").write_text("{not json")
    (submissions / "stray.txt").write_text("hello")
    out = tmp_path / "out"
    course = Path(sys.executable).parent / "course"
    result = subprocess.run([course, "grade", str(submissions), "--out", str(out), "--assignment",
                             "01_epochs_iterations", "--workers", "2", "--quiet"],
                            cwd=COURSE_ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 ungradable" in result.stdout
    with open(out / "totals.csv", newline="") as file:
        totals = list(csv.DictReader(file))
    assert [row["student"] for row in totals] == ["ada", "bob"]
    assert all(float(row["total"]) == 0 for row in totals)
    report = (out / "report.html").read_text()
    assert "the file is empty" in report and "not a valid notebook" in report
