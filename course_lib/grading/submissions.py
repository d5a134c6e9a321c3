"""Find the submissions in what an instructor collected: a folder or a .zip, laid out

- as nbgrader's exchange leaves them: `.../<student>/<assignment>/<name>.ipynb` (for
  instance `submitted/<student>/<assignment>/<name>.ipynb`), or
- as a flat export from a learning-management system: `<student>_<name>.ipynb`, where
  `<name>` is the notebook's name in the course (`epochs_iterations`), which tells the
  assignment; `<student>` is everything before it.

Files that fit neither, students whose id cannot be used as a folder name, and a notebook
given twice are reported as problems, never guessed at.
"""
import re
import shutil
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from tempfile import TemporaryDirectory

from ..errors import CourseError

STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,99}$")
MAX_UNPACKED_BYTES = 2 * 2**30  # a zip bomb is not a class's submissions
IGNORED_PARTS = ("__MACOSX", ".ipynb_checkpoints")


@dataclass
class Submission:
    """One student's notebooks for one assignment: {notebook name: path}."""
    student: str
    assignment: str
    notebooks: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Problem:
    """A file that was not taken as a submission, and why."""
    path: str
    reason: str
    student: str = ""
    assignment: str = ""


@dataclass
class Discovery:
    submissions: list
    problems: list


@contextmanager
def opened(path):
    """The folder of submissions at `path`: the folder itself, or a .zip unpacked into a
    temporary folder (refusing members that would land outside it). Absolute either way:
    the grading workers run in folders of their own, where a relative path finds nothing."""
    path = Path(path).resolve()
    if path.is_dir():
        yield path
        return
    if not path.is_file():
        raise CourseError(f"no submissions at {path}: give a folder or a .zip file")
    if not zipfile.is_zipfile(path):
        raise CourseError(f"{path} is neither a folder nor a .zip file")
    with TemporaryDirectory(prefix="course-grade-zip-") as scratch:
        _unzip(path, Path(scratch))
        yield Path(scratch)


def _unzip(archive, target):
    with zipfile.ZipFile(archive) as zipped:
        members = [member for member in zipped.infolist() if not member.is_dir()]
        if sum(member.file_size for member in members) > MAX_UNPACKED_BYTES:
            raise CourseError(f"{archive} unpacks to more than {MAX_UNPACKED_BYTES // 2**30} GiB")
        for member in members:
            destination = (target / member.filename).resolve()
            if not destination.is_relative_to(target.resolve()):
                raise CourseError(f"{archive}: member {member.filename!r} points outside the archive")
            destination.parent.mkdir(parents=True, exist_ok=True)
            with zipped.open(member) as source, open(destination, "wb") as copy:
                shutil.copyfileobj(source, copy)


def discover(root, released):
    """Submissions under `root` for the assignments in `released` ({assignment: [notebook
    names]}), and problems with the files that are not submissions."""
    root = Path(root)
    assignment_of = {name: assignment for assignment, names in released.items() for name in names}
    found, problems = {}, []
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if not path.is_file() or any(part in IGNORED_PARTS or part.startswith(".") for part in relative.parts):
            continue
        if path.suffix != ".ipynb":
            continue
        parts = relative.parts
        if len(parts) >= 3 and parts[-2] in released:
            student, assignment, name = parts[-3], parts[-2], path.stem
            if name not in released[assignment]:
                problems.append(Problem(str(relative), f"{assignment} has no notebook named {name!r}",
                                        student, assignment))
                continue
        else:
            match = _flat_name(path.name, assignment_of)
            if match is None:
                problems.append(Problem(str(relative), "not a submission: expected <student>/<assignment>/"
                                        "<notebook>.ipynb or <student>_<notebook>.ipynb with one of "
                                        f"the notebooks {', '.join(sorted(assignment_of))}"))
                continue
            student, name = match
            assignment = assignment_of[name]
        if not STUDENT_ID.match(student):
            problems.append(Problem(str(relative), f"student id {student!r} cannot be used: letters, "
                                    "digits and . _ @ + - only", "", assignment))
            continue
        submission = found.setdefault((student, assignment), Submission(student, assignment))
        if name in submission.notebooks:
            problems.append(Problem(str(relative), f"{name}.ipynb given twice for {student}; graded "
                                    f"{submission.notebooks[name].relative_to(root)}", student, assignment))
            continue
        submission.notebooks[name] = path
    return Discovery([found[key] for key in sorted(found)], problems)


def _flat_name(filename, assignment_of):
    """(student, notebook name) of `<student>_<name>.ipynb`, the longest matching name winning."""
    stem = filename[:-len(".ipynb")]
    for name in sorted(assignment_of, key=len, reverse=True):
        if stem.endswith("_" + name) and len(stem) > len(name) + 1:
            return stem[:-len(name) - 1], name
    return None
