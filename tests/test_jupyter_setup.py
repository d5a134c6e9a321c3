"""The JupyterLab the course installs carries nbgrader's extensions (bootstrap.py decides
which of them a student or an instructor sees)."""
import subprocess
import sys
from pathlib import Path

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


def test_bootstrap_hides_only_instructor_tools():
    student_tools = {"@jupyter/nbgrader:assignment-list", "@jupyter/nbgrader:validate-assignment"}
    assert not student_tools & set(bootstrap.INSTRUCTOR_LAB_PLUGINS)
    assert all(plugin.startswith("@jupyter/nbgrader:") for plugin in bootstrap.INSTRUCTOR_LAB_PLUGINS)
