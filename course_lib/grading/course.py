"""The course directory as nbgrader sees it: its root, its configuration, its assignments."""
from functools import cache
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
    _stamp_new_gradebooks_in_process()
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


@cache
def gradebook_schema_revision():
    """The alembic revision nbgrader stamps a new gradebook with: the head of its
    migration scripts, read in this process."""
    from alembic.script import ScriptDirectory
    from nbgrader.dbutil import ALEMBIC_DIR

    return ScriptDirectory(ALEMBIC_DIR).get_current_head()


def _stamp_new_gradebooks_in_process():
    """nbgrader reads that revision by running the `alembic heads` script for every gradebook
    it creates: a Python process that imports nbgrader again, 4–6 s of CPU (where
    course_lib.grading cannot keep jsonschema from compiling rfc3987_syntax's grammars),
    and one that fails where the environment's scripts are not on the PATH. Every nbgrader
    run of the course's starts from `course_config`, so the revision is read here instead,
    once per process, in a tenth of a second."""
    import nbgrader.api

    nbgrader.api.get_alembic_version = gradebook_schema_revision
