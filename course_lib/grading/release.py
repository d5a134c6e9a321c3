"""Generate the student notebooks (nbgrader's release) from the solution notebooks, and
find student notebooks that no longer match what nbgrader would generate."""
import filecmp
import tempfile
from pathlib import Path

from ..errors import CourseError
from .course import RELEASE_DIRECTORY, SOURCE_DIRECTORY, course_config


def generate_assignment(course_root, assignment, *, release_root=None, db_url=None):
    """Run nbgrader's generate_assignment; returns the folder the student version went to.

    By default it writes to the course's notebooks/ and gradebook; `release_root` and
    `db_url` redirect both, e.g. into a scratch folder.
    """
    from nbgrader.apps import NbGraderAPI  # slow import, only for commands that need it

    settings = {}
    if release_root is not None:
        settings["release_directory"] = str(release_root)
    if db_url is not None:
        settings["db_url"] = db_url
    api = NbGraderAPI(config=course_config(course_root, **settings))
    result = api.generate_assignment(assignment, force=True, create=True)
    if not result["success"]:
        reason = (result.get("error") or result.get("log") or "no details").strip().splitlines()[-1]
        raise CourseError(f"nbgrader could not generate {assignment}: {reason}")
    return Path(course_root) / (release_root or RELEASE_DIRECTORY) / assignment


def find_drift(course_root, assignments):
    """Paths under notebooks/ that differ from a fresh generation, each with the reason."""
    course_root = Path(course_root)
    drift = []
    with tempfile.TemporaryDirectory(prefix="course-release-check-") as scratch:
        scratch = Path(scratch)
        for assignment in assignments:
            expected = generate_assignment(
                course_root, assignment,
                release_root=scratch / "release", db_url=f"sqlite:///{scratch / 'gradebook.db'}",
            )
            drift += _compare_trees(expected, course_root / RELEASE_DIRECTORY / assignment,
                                    f"{RELEASE_DIRECTORY}/{assignment}")
    released = course_root / RELEASE_DIRECTORY
    for folder in sorted(released.iterdir()) if released.is_dir() else ():
        if folder.is_dir() and folder.name not in _source_folders(course_root):
            drift.append((f"{RELEASE_DIRECTORY}/{folder.name}", f"has no source in {SOURCE_DIRECTORY}/"))
    return drift


def _source_folders(course_root):
    source = Path(course_root) / SOURCE_DIRECTORY
    return {folder.name for folder in source.iterdir() if folder.is_dir()}


def _compare_trees(expected, actual, label):
    expected_files = _relative_files(expected)
    actual_files = _relative_files(actual)
    drift = [(f"{label}/{name}", "missing: run `course release`")
             for name in sorted(expected_files - actual_files)]
    drift += [(f"{label}/{name}", f"not generated from {SOURCE_DIRECTORY}/")
              for name in sorted(actual_files - expected_files)]
    drift += [(f"{label}/{name}", "differs from what nbgrader generates: run `course release`")
              for name in sorted(expected_files & actual_files)
              if not filecmp.cmp(expected / name, actual / name, shallow=False)]
    return drift


def _relative_files(folder):
    if not folder.is_dir():
        return set()
    return {str(path.relative_to(folder)) for path in folder.rglob("*")
            if path.is_file() and ".ipynb_checkpoints" not in path.parts}
