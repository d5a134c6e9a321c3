"""course_lib.grading.course: nbgrader runs of the course stamp new gradebooks with nbgrader's
schema revision read in process, not by running the `alembic heads` script each time."""
import sqlite3
import subprocess
import sys
from pathlib import Path

import nbgrader.api
from nbgrader.api import Gradebook
from nbgrader.dbutil import _temp_alembic_ini

from course_lib.grading.course import course_config, gradebook_schema_revision

COURSE_ROOT = Path(__file__).resolve().parents[2]


def test_the_revision_is_the_head_alembic_reports():
    with _temp_alembic_ini("sqlite:////nonexistent/gradebook.db") as alembic_ini:
        heads = subprocess.run([Path(sys.executable).parent / "alembic", "-c", alembic_ini, "heads"],
                               capture_output=True, text=True, check=True).stdout
    assert heads.split() == [gradebook_schema_revision(), "(head)"]


def test_a_gradebook_created_after_course_config_starts_no_process(tmp_path, monkeypatch):
    def started(command, **_):
        raise AssertionError(f"creating a gradebook ran {command}")

    monkeypatch.setattr(nbgrader.api.sp, "check_output", started)
    course_config(COURSE_ROOT)

    with Gradebook(f"sqlite:///{tmp_path / 'gradebook.db'}"):
        pass

    with sqlite3.connect(tmp_path / "gradebook.db") as database:
        stamped = database.execute("SELECT version_num FROM alembic_version").fetchall()
    assert stamped == [(gradebook_schema_revision(),)]
