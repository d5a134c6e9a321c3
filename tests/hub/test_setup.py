"""What `course hub start` checks before it starts: that the users' accounts can run the
course's Python."""
import os
import tempfile
from pathlib import Path

import pytest

from course_lib.errors import CourseError
from course_lib.hub.setup import check_python_runs_for, unreachable_folder

OTHER_ACCOUNT = "nobody"  # an account every Debian system has


@pytest.fixture
def open_folder():
    """A folder under /tmp (pytest's own are private to their owner) every account can enter."""
    if os.geteuid() != 0:
        pytest.fail("this test runs a program as another account: run it as root (CI does)")
    with tempfile.TemporaryDirectory(dir="/tmp") as folder:
        Path(folder).chmod(0o755)
        yield Path(folder)


def python_in(folder, mode):
    """A stand-in for the course's Python (it only has to start) in `folder`, of `mode`."""
    (folder / "bin").mkdir(parents=True)
    program = folder / "bin" / "python"
    program.write_text("#!/bin/sh\nexit 0\n")
    program.chmod(0o755)
    (folder / "bin").chmod(0o755)
    folder.chmod(mode)
    return program


def test_a_python_inside_a_private_folder_is_refused_naming_the_folder(open_folder):
    python = python_in(open_folder / "private", 0o700)
    assert unreachable_folder(python) == open_folder / "private"
    with pytest.raises(CourseError, match="lies inside .*/private, which other accounts cannot enter"):
        check_python_runs_for(OTHER_ACCOUNT, python)


def test_a_python_every_account_can_enter_is_accepted(open_folder):
    python = python_in(open_folder / "shared", 0o755)
    assert unreachable_folder(python) is None
    check_python_runs_for(OTHER_ACCOUNT, python)
