"""The JupyterLab the course installs carries nbgrader's extensions; the settings in
jupyter_roles/ (which bootstrap.py puts on JUPYTER_CONFIG_PATH) decide which of them a
student or an instructor sees. tests/browser checks what each then sees in the browser."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import bootstrap

JUPYTER = Path(sys.executable).parent / "jupyter"


def jupyter(*arguments):
    result = subprocess.run([JUPYTER, *arguments], capture_output=True, text=True, check=True)
    return result.stdout + result.stderr


def test_nbgrader_lab_extension_is_installed():
    assert "@jupyter/nbgrader" in jupyter("labextension", "list")


def test_student_server_extensions_are_enabled():
    listing = jupyter("server", "extension", "list")
    for extension in ("validate_assignment", "assignment_list"):
        line = next(line for line in listing.splitlines() if f"nbgrader.server_extensions.{extension} " in line)
        assert "enabled" in line


INSTRUCTOR_TOOLS = {"@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment",
                    "@jupyter/nbgrader:course-list"}
INSTRUCTOR_SERVER_EXTENSIONS = {"nbgrader.server_extensions.formgrader", "nbgrader.server_extensions.course_list"}
# JupyterLab's "Would you like to get notified about official Jupyter news?" popup and its
# update checks: neither a student nor an instructor of the course needs to be asked
ANNOUNCEMENTS = "@jupyterlab/apputils-extension:announcements"


def role_settings(role):
    folder = bootstrap.ROLES_CONFIG / role
    return (json.loads((folder / "labconfig" / "page_config.json").read_text()),
            json.loads((folder / "jupyter_server_config.json").read_text())["ServerApp"]["jpserver_extensions"])


def test_the_student_setup_hides_and_locks_only_the_instructor_tools_and_asks_about_no_news():
    page_config, server_extensions = role_settings("student")
    assert {name for name, off in page_config["disabledExtensions"].items() if off} == INSTRUCTOR_TOOLS | {ANNOUNCEMENTS}
    assert {name for name, locked in page_config["lockedExtensions"].items() if locked} == INSTRUCTOR_TOOLS
    assert {name for name, on in server_extensions.items() if not on} == INSTRUCTOR_SERVER_EXTENSIONS
    assert server_extensions["nbgrader.server_extensions.validate_assignment"]


def test_the_instructor_setup_turns_the_instructor_tools_on_and_asks_about_no_news():
    page_config, server_extensions = role_settings("instructor")
    assert {name for name, off in page_config["disabledExtensions"].items() if off} == {ANNOUNCEMENTS}
    for setting in ("disabledExtensions", "lockedExtensions"):
        assert INSTRUCTOR_TOOLS <= set(page_config[setting])
        assert not any(page_config[setting][name] for name in INSTRUCTOR_TOOLS)
    assert all(server_extensions[name] for name in INSTRUCTOR_SERVER_EXTENSIONS)


def test_jupyterlab_reads_the_role_settings_before_any_other(tmp_path, monkeypatch):
    # e.g. what an older bootstrap.py wrote into the environment for students
    (tmp_path / "labconfig").mkdir()
    (tmp_path / "labconfig" / "page_config.json").write_text(
        (bootstrap.ROLES_CONFIG / "student" / "labconfig" / "page_config.json").read_text())
    monkeypatch.setenv("JUPYTER_CONFIG_PATH", str(tmp_path))

    def listing(role):
        environment = dict(os.environ, **bootstrap.role_environment(role))
        return subprocess.run([JUPYTER, "labextension", "list"], capture_output=True, text=True, check=True,
                              env=environment).stderr

    assert "@jupyter/nbgrader:formgrader" in listing("student").split("Disabled extensions:")[-1]
    instructor = listing("instructor")
    assert "@jupyter/nbgrader" not in instructor.split("Disabled extensions:")[-1] and "locked" not in instructor


def test_a_grades_folder_opens_in_formgrader_and_must_hold_a_gradebook(tmp_path):
    with pytest.raises(SystemExit, match="no gradebook.db"):
        bootstrap.lab_launch("instructor", tmp_path)
    (tmp_path / "gradebook.db").touch()
    folder, arguments = bootstrap.lab_launch("instructor", tmp_path)
    assert folder == tmp_path.resolve()
    assert f"--ServerApp.root_dir={tmp_path.resolve()}" in arguments
    assert "--ServerApp.default_url=/formgrader" in arguments
    folder, arguments = bootstrap.lab_launch("student")
    assert folder == bootstrap.ROOT and arguments == ["--ServerApp.default_url=/lab/tree/notebooks"]
