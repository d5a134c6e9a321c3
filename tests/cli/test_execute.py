from pathlib import Path

import pytest

from course_lib.cli import main

COURSE_ROOT = Path(__file__).resolve().parents[2]


def test_execute_help_says_it_releases_too(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["execute", "--help"])
    assert exit_info.value.code == 0
    assert "regenerate the student version" in " ".join(capsys.readouterr().out.split())


def test_an_unknown_assignment_is_refused_before_anything_runs(capsys, monkeypatch):
    monkeypatch.chdir(COURSE_ROOT)
    assert main(["execute", "99_nope"]) == 1
    assert "unknown assignment '99_nope'" in capsys.readouterr().err
