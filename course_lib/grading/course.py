"""The course directory as nbgrader sees it: its root, its configuration, its assignments."""
import os
import sys
from pathlib import Path

from traitlets.config.loader import PyFileConfigLoader

from ..assignments import ASSIGNMENTS
from ..errors import CourseError

CONFIG_FILE = "nbgrader_config.py"
SOURCE_DIRECTORY = "solutions"
RELEASE_DIRECTORY = "notebooks"


def find_course_root(start=None):
    """The nearest folder at or above `start` (default: cwd) holding nbgrader_config.py."""
    start = Path(start or Path.cwd()).resolve()
    for folder in (start, *start.parents):
        if (folder / CONFIG_FILE).is_file() and (folder / SOURCE_DIRECTORY).is_dir():
            return folder
    raise CourseError(
        f"no course found at or above {start}: run this inside the course folder "
        f"(the one with {CONFIG_FILE} and {SOURCE_DIRECTORY}/)"
    )


def course_config(course_root, **coursedir_settings):
    """The course's nbgrader configuration, with CourseDirectory settings overridden."""
    _put_environment_scripts_on_path()
    config = PyFileConfigLoader(CONFIG_FILE, path=str(course_root)).load_config()
    config.CourseDirectory.root = str(course_root)
    for name, value in coursedir_settings.items():
        setattr(config.CourseDirectory, name, value)
    return config


def source_assignments(course_root):
    """Assignments that have solution notebooks, in course order."""
    source = Path(course_root) / SOURCE_DIRECTORY
    return [name for name in ASSIGNMENTS if any((source / name).glob("*.ipynb"))]


def resolve_assignments(course_root, requested):
    """Check the assignment ids a user typed; none means every assignment with a source."""
    available = source_assignments(course_root)
    if not requested:
        return available
    for name in requested:
        if name not in ASSIGNMENTS:
            raise CourseError(f"unknown assignment '{name}': choose from {', '.join(ASSIGNMENTS)}")
        if name not in available:
            raise CourseError(f"{SOURCE_DIRECTORY}/{name}/ holds no notebook yet")
    return list(dict.fromkeys(requested))


def _put_environment_scripts_on_path():
    """nbgrader creates gradebooks by running the `alembic` script by name, which fails
    when the course's virtual environment is used without being activated."""
    scripts = str(Path(sys.executable).parent)
    if scripts not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = os.pathsep.join([scripts, os.environ.get("PATH", "")])
