"""Grade one student's assignment in a private, throwaway nbgrader course.

The private course (a temporary folder) holds the course's nbgrader_config.py, a copy of
the template's gradebook, and the student's notebooks, nothing else: no solutions, no other
student. nbgrader's own autograde runs there, with `GradingExecute` in place of its
Execute and the grading kernel (`kernel.py`), which confines itself so that it can read
only the Python installation, course_lib and the datasets, and write only its working
directory (`autograded/<student>/<assignment>/`) and a home folder of its own. The
gradebook, the notebooks with the hidden tests and everything else stay out of its reach.
Then nbgrader's generate_feedback renders the feedback with `RedactHiddenTests` first.
"""
import os
import re
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat

from ..data.locate import DATA_DIR_VARIABLE, cache_directory
from ..runmode import GRADING_ENV_VAR
from .course import CONFIG_FILE, course_config
from .kernel import KERNEL_NAME, confinement_settings, write_kernel_spec
from .sandbox import Limits
from .settings import Settings

_EXCEPTION_LINE = re.compile(r"^[\w.]*(Error|Exception|Exit)\b.*")
AUTOGRADE_PREPROCESSORS = ("GradingExecute", "IgnorePattern", "ClearMetadataPreprocessor",
                           "LimitOutput", "SaveAutoGrades", "AssignLatePenalties", "CheckCellMetadata")


@dataclass
class PrivateCourse:
    root: Path          # the temporary folder; the nbgrader course is root / "course"
    student: str
    assignment: str

    @property
    def course(self):
        return self.root / "course"

    @property
    def db_url(self):
        return f"sqlite:///{self.root / 'gradebook.db'}"

    def folder(self, kind):
        """submitted/, autograded/ or feedback/ of this student's assignment."""
        return self.course / kind / self.student / self.assignment


def read_notebook(path):
    """The notebook at `path`, or None and why it cannot be graded."""
    try:
        if Path(path).stat().st_size == 0:
            return None, "the file is empty"
        notebook = nbformat.read(path, as_version=4)
        nbformat.validate(notebook)
    except (OSError, UnicodeDecodeError) as error:
        return None, f"the file cannot be read: {error}"
    except Exception as error:  # noqa: BLE001 - JSON and nbformat's many ways to fail
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return None, f"not a valid notebook: {first_line[:200]}"
    return notebook, ""


def create_private_course(course_root, template, student, notebooks, root):
    """A private course in the empty folder `root`, with this student's readable notebooks
    submitted. Returns it and {notebook name: why it was left out} for the unreadable ones."""
    root = Path(root)
    private = PrivateCourse(root, student, template.assignment)
    private.course.mkdir()
    shutil.copy(Path(course_root) / CONFIG_FILE, private.course / CONFIG_FILE)
    shutil.copy(template.gradebook, root / "gradebook.db")
    submitted = private.folder("submitted")
    submitted.mkdir(parents=True)
    unreadable = {}
    for name, path in notebooks.items():
        notebook, problem = read_notebook(path)
        if notebook is None:
            unreadable[name] = problem
        else:
            nbformat.write(repair_nbgrader_metadata(notebook), submitted / f"{name}.ipynb")
    return private, unreadable


def repair_nbgrader_metadata(notebook):
    """Make plain cells of those whose nbgrader metadata would make nbgrader give up on the
    whole notebook: metadata that does not validate, and all but the last cell with the
    same grade id (nbgrader's DeduplicateIds means to keep the last, but leaves the others
    with empty metadata that its schema check then rejects). Each such cell costs at most
    its own points, as a deleted cell would."""
    from nbgrader.nbgraderformat import MetadataValidator

    validator = MetadataValidator()
    seen = set()
    for cell in reversed(notebook.cells):
        if "nbgrader" not in cell.metadata:
            continue
        try:
            validator.validate_cell(validator.upgrade_cell_metadata(cell))
        except Exception:  # noqa: BLE001 - any way the metadata is broken
            del cell.metadata["nbgrader"]
            continue
        grade_id = cell.metadata["nbgrader"].get("grade_id")
        if grade_id in seen:
            del cell.metadata["nbgrader"]
        elif grade_id:
            seen.add(grade_id)
    return notebook


def kernel_environment(private, settings):
    """Environment for the kernels nbgrader starts, and the kernel spec they use."""
    home = private.root / "home"
    for folder in ("tmp", "ipython", "matplotlib", "cache", "config"):
        (home / folder).mkdir(parents=True, exist_ok=True)
    fonts = _matplotlib_font_cache()
    if fonts is not None:  # spares each kernel rebuilding matplotlib's font list
        shutil.copy(fonts, home / "matplotlib" / fonts.name)
    data_dir = os.environ.get(DATA_DIR_VARIABLE) or str(cache_directory())
    import course_lib

    read_only = ["/usr", "/lib", "/lib32", "/lib64", "/bin", "/sbin", "/etc", "/proc", "/sys",
                 sys.prefix, sys.base_prefix, sys.exec_prefix, Path(sys.executable).resolve().parent,
                 *(path for path in sys.path if path and Path(path).is_dir() and "site-packages" in path),
                 Path(course_lib.__file__).parent, data_dir]
    # Not all of /dev: a raw disk device would bypass the sandbox.
    read_write = [home, "/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/shm"]
    limits = Limits(memory_bytes=settings.memory_bytes)
    write_kernel_spec(private.root / "jupyter",
                      confinement_settings(limits, read_only, read_write, settings.output_chars,
                                           settings.cell_timeout))
    threads = str(settings.threads)
    return {
        "JUPYTER_PATH": str(private.root / "jupyter"),
        "JUPYTER_RUNTIME_DIR": str(private.root / "runtime"),
        "HOME": str(home), "TMPDIR": str(home / "tmp"), "IPYTHONDIR": str(home / "ipython"),
        "MPLCONFIGDIR": str(home / "matplotlib"), "XDG_CACHE_HOME": str(home / "cache"),
        "XDG_CONFIG_HOME": str(home / "config"), "PYTHONNOUSERSITE": "1",
        DATA_DIR_VARIABLE: data_dir, GRADING_ENV_VAR: "1",
        "OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads, "OPENBLAS_NUM_THREADS": threads,
        # OpenMP threads that spin while they wait burn CPU time the per-cell limit counts: on a
        # busy machine, several times the work, and a student could lose points to the load
        "OMP_WAIT_POLICY": "PASSIVE",
    }


def _matplotlib_font_cache():
    try:
        import matplotlib

        return max(Path(matplotlib.get_cachedir()).glob("fontlist-*.json"), default=None)
    except Exception:  # noqa: BLE001 - only a speed-up
        return None


def grading_config(private, template, settings):
    """The course's nbgrader configuration, pointed at the private course and hardened."""
    from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
    from nbgrader import preprocessors as nbgrader_preprocessors

    from .execution import GradingExecute
    from .feedback import RedactHiddenTests

    config = course_config(private.course, db_url=private.db_url)
    mine = {"GradingExecute": GradingExecute}
    config.Autograde.autograde_preprocessors = [
        mine.get(name) or getattr(nbgrader_preprocessors, name, None) or _nbconvert(name)
        for name in AUTOGRADE_PREPROCESSORS]
    config.GradingExecute.kernel_name = KERNEL_NAME
    config.GradingExecute.timeout = settings.wall_timeout
    config.GradingExecute.cpu_limit = settings.cell_timeout
    config.GradingExecute.stash_directory = str(private.root / "stash")
    config.GradingExecute.trusted_imports = dict(template.trusted_imports)
    # A backstop behind the kernel's own cap (which also catches what is printed, not only
    # what is stored): above it, so that the kernel's note on what it cut stays visible.
    config.GradingExecute.max_output_chars = 2 * settings.output_chars
    config.GenerateFeedback.preprocessors = [RedactHiddenTests, nbgrader_preprocessors.GetGrades,
                                             CSSHTMLHeaderPreprocessor]
    config.RedactHiddenTests.secret_lines = list(template.secret_lines)
    return config


def _nbconvert(name):
    from nbconvert import preprocessors

    return getattr(preprocessors, name)


def autograde_and_feedback(private, template, settings):
    """Run nbgrader's autograde, then generate_feedback, in the private course. Returns
    (autograde succeeded, why not, seconds)."""
    from nbgrader.apps import NbGraderAPI

    started = time.monotonic()
    saved = dict(os.environ)
    os.environ.update(kernel_environment(private, settings))
    try:
        api = NbGraderAPI(config=grading_config(private, template, settings))
        result = api.autograde(template.assignment, private.student, force=True, create=True)
        if not result["success"]:
            return False, _last_line(result), time.monotonic() - started
        feedback = api.generate_feedback(template.assignment, private.student, force=True)
        if not feedback["success"]:
            return True, "feedback: " + _last_line(feedback), time.monotonic() - started
        return True, "", time.monotonic() - started
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _last_line(result):
    """The most telling line of nbgrader's log: the last exception message in it."""
    lines = [line.strip() for line in f"{result.get('log') or ''}\n{result.get('error') or ''}".splitlines()
             if line.strip() and "NbGraderException" not in line]
    errors = [line for line in lines if _EXCEPTION_LINE.match(line)]
    chosen = errors or [line for line in lines if line.startswith("[ERROR]")] or lines or ["no details"]
    return chosen[-1][:300]
