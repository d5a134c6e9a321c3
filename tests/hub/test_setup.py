"""What `course hub start` checks before it starts: that the users' accounts can run the
course's Python, and run it as the same Python root does."""
import os
import sys
import tempfile
from pathlib import Path

import pytest

from course_lib.errors import CourseError
from course_lib.hub.setup import check_python_runs_for, unreachable_folder

OTHER_ACCOUNT = "nobody"  # an account every Debian system has
SYSTEM_PYTHON = "/usr/bin/python3"  # Debian's, which every account can run


@pytest.fixture
def open_folder():
    """A folder under /tmp (pytest's own are private to their owner) every account can enter."""
    if os.geteuid() != 0:
        pytest.fail("this test runs a program as another account: run it as root (CI does)")
    if not Path(SYSTEM_PYTHON).is_file():
        pytest.fail(f"this test runs the system's Python as another account: install it ({SYSTEM_PYTHON}; "
                    "Debian: `apt-get install python3`)")
    with tempfile.TemporaryDirectory(dir="/tmp") as folder:
        Path(folder).chmod(0o755)
        yield Path(folder)


def python_in(folder, mode, for_root=SYSTEM_PYTHON):
    """A stand-in for the course's Python in `folder`, of `mode`: it runs `for_root` when
    root starts it and the system's Python when another account does."""
    (folder / "bin").mkdir(parents=True)
    program = folder / "bin" / "python"
    program.write_text(f'#!/bin/sh\n[ "$(id -u)" = 0 ] && exec {for_root} "$@"\nexec {SYSTEM_PYTHON} "$@"\n')
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


def test_a_python_other_accounts_run_as_another_python_is_refused(open_folder):
    """As the course's Python when its libpython lies in a folder only root enters (pyenv
    in /root): other accounts start it, and silently get the system's Python."""
    python = python_in(open_folder / "shared", 0o755, for_root=sys.executable)
    with pytest.raises(CourseError, match=f"{OTHER_ACCOUNT} cannot run the course's Python .*: it runs Python "
                                          r"\S+ from /usr instead of"):
        check_python_runs_for(OTHER_ACCOUNT, python)
