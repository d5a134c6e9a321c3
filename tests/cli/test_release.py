import subprocess
import sys
from pathlib import Path

import pytest

from course_lib.cli import main

COURSE_ROOT = Path(__file__).resolve().parents[2]


def test_release_help_describes_check(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["release", "--help"])
    assert exit_info.value.code == 0
    assert "--check" in capsys.readouterr().out


def test_unknown_assignment_is_one_line_and_nonzero(capsys, monkeypatch):
    monkeypatch.chdir(COURSE_ROOT)
    assert main(["release", "--check", "99_nope"]) == 1
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert error.startswith("course: error: unknown assignment '99_nope'")


def test_outside_a_course_says_where_to_run(capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    assert main(["release"]) == 1
    assert "no course found" in capsys.readouterr().err


def test_check_passes_on_the_committed_tree():
    """The committed student notebooks are what nbgrader generates from the solutions:
    checked through the installed console script, as an instructor runs it."""
    course = Path(sys.executable).parent / "course"
    result = subprocess.run([course, "release", "--check"], cwd=COURSE_ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "matches solutions/" in result.stdout
