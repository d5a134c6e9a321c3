"""DIR as an nbgrader course of its own, so that nbgrader's formgrader shows the class.

`write_class_gradebook` writes DIR/gradebook.db, nbgrader's gradebook of every graded
assignment (cells copied from the templates' gradebooks), student and submission (scores
from the result records), and DIR/nbgrader_config.py, which loads the course's
configuration and points nbgrader at DIR, with source and release back in the course.
Formgrader then lists each submission with its score and the written answers to grade.

What the instructor enters in formgrader survives a re-run. A submission regraded since
the gradebook last saw it (DIR/.state/gradebook_keys.json holds the record key it saw) is
treated as nbgrader's autograde treats a re-autograded one (SaveAutoGrades): the
autograder's scores are replaced, scores given by hand are kept but flagged for review
again. Submissions left as they were keep their flags.
"""
import json
import os
import shutil
import sqlite3
import tempfile
import time
import warnings
from contextlib import closing
from pathlib import Path

from sqlalchemy.exc import SAWarning

from .course import CONFIG_FILE, RELEASE_DIRECTORY, SOURCE_DIRECTORY, course_config
from .results import NOT_SUBMITTED, STATE, UNGRADABLE, write_atomically
from .template import MANIFEST, load_template
from .worker import output_folder

GRADEBOOK_FILE = "gradebook.db"
# the record key each submission had when last written to the gradebook (see _save_submission)
KEYS_FILE = "gradebook_keys.json"
CELL_KINDS = ("grade_cells", "solution_cells", "task_cells")  # the cells submissions hold rows for

CONFIG = '''r"""nbgrader configuration of this folder, written by `course grade`: gradebook.db holds the
graded class for nbgrader's formgrader. Open it from the course folder ({course_root}) with

    python3 bootstrap.py instructor --grades {out}

Re-running `course grade` rewrites this file and keeps what you graded in formgrader.
"""
from course_lib.grading.gradebook import redact_formgrader_feedback

c = get_config()  # noqa: F821 - injected by traitlets
load_subconfig({course_config!r})  # noqa: F821 - the course's own settings first
c.CourseDirectory.root = {out!r}
c.CourseDirectory.db_url = {db_url!r}
# nbgrader joins these to the root: absolute paths lead back into the course
c.CourseDirectory.source_directory = {source!r}
c.CourseDirectory.release_directory = {release!r}
redact_formgrader_feedback(c, {out!r})
'''


def write_class_gradebook(out, records, templates, course_root):
    """DIR/gradebook.db and DIR/nbgrader_config.py from the records and {assignment: Template}."""
    from nbgrader.api import Gradebook

    out, course_root = Path(out).resolve(), Path(course_root).resolve()
    target, keys_path = out / GRADEBOOK_FILE, out / STATE / KEYS_FILE
    # Built in a copy, so that an interrupted run leaves the old gradebook whole.
    handle, name = tempfile.mkstemp(prefix=f".{GRADEBOOK_FILE}.", dir=out)
    os.close(handle)
    building = Path(name)
    try:
        readable = _copy_existing(target, building)
        keys = json.loads(keys_path.read_text()) if readable and keys_path.is_file() else {}
        course_id = course_config(course_root).CourseDirectory.course_id
        with Gradebook(f"sqlite:///{building}", course_id) as gradebook:
            for template in templates.values():
                _save_assignment(gradebook, template, target)
            # Submissions and students not in `records` (and earlier submissions of those
            # now "not submitted") are left alone: deleting them would delete their hand grading.
            for record in records:
                if record.status != NOT_SUBMITTED:
                    _save_submission(gradebook, record, keys)
        if readable:  # into the same file: a running formgrader keeps it open and sees the change
            _copy_database(building, target)
        else:
            os.replace(building, target)
    finally:
        building.unlink(missing_ok=True)
    write_atomically(keys_path, json.dumps(keys, indent=1, sort_keys=True))
    for record in records:
        if record.status != NOT_SUBMITTED:
            # formgrader counts the submissions by their folders in submitted/ and lists one as
            # graded when autograded/ has its folder too (an ungradable one has none of its own)
            for kind in ("submitted", "autograded"):
                folder = output_folder(out, kind, record.student, record.assignment)
                folder.mkdir(parents=True, exist_ok=True)
    write_atomically(out / CONFIG_FILE, CONFIG.format(
        course_root=course_root, out=str(out), course_config=str(course_root / CONFIG_FILE),
        db_url=f"sqlite:///{target}", source=str(course_root / SOURCE_DIRECTORY),
        release=str(course_root / RELEASE_DIRECTORY)))


def redact_formgrader_feedback(config, out):
    """Make generate_feedback, when formgrader runs it in DIR, leave the hidden tests out as
    `course grade` does (nbgrader #917): nbgrader's own feedback shows them."""
    from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
    from nbgrader.preprocessors import GetGrades

    from .feedback import RedactHiddenTests

    secrets = set()  # of every assignment graded into DIR, not only in the last run
    for manifest in sorted((Path(out) / STATE / "templates").glob(f"*/{MANIFEST}")):
        secrets.update(load_template(manifest.parent).secret_lines)
    config.GenerateFeedback.preprocessors = [RedactHiddenTests, GetGrades, CSSHTMLHeaderPreprocessor]
    config.RedactHiddenTests.secret_lines = sorted(secrets)


def _copy_database(source, destination):
    """SQLite's online backup: a consistent copy even while formgrader writes to `source`,
    written into `destination` in one transaction."""
    with closing(sqlite3.connect(source)) as reading, closing(sqlite3.connect(destination)) as writing:
        reading.backup(writing)


def _copy_existing(target, building):
    """Start `building` from the gradebook at `target`; False if there is none or it is unreadable."""
    if not target.exists():
        return False
    try:
        _copy_database(target, building)
        with closing(sqlite3.connect(building)) as database:
            if database.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                raise sqlite3.DatabaseError("integrity check failed")
    except sqlite3.DatabaseError as error:
        building.write_bytes(b"")  # an empty file is an empty SQLite database
        kept = _keep_aside(target)
        warnings.warn(f"{target} is not a readable gradebook ({error}): it is replaced by a new one; "
                      f"the old file is kept as {kept}")
        return False
    return True


def _keep_aside(target):
    kept = target.with_name(f"{target.name}.{time.strftime('%Y%m%d-%H%M%S')}")
    shutil.copyfile(target, kept)
    return kept


def _cells(assignment):
    """What the submissions of `assignment` hold rows for: its notebooks and their cells."""
    notebooks = {(notebook.name,) for notebook in assignment.notebooks}
    return notebooks | {(notebook.name, kind, cell.name) for notebook in assignment.notebooks
                        for kind in CELL_KINDS for cell in getattr(notebook, kind)}


def _save_assignment(gradebook, template, target):
    """The assignment with its notebooks and cells as in the template's gradebook."""
    from nbgrader.api import Gradebook, MissingEntry

    name = template.assignment
    with Gradebook(f"sqlite:///{template.gradebook}", gradebook.course_id) as source:
        wanted = source.find_assignment(name)
        try:
            existing = gradebook.find_assignment(name)
        except MissingEntry:
            existing = None
        # nbgrader refuses to add or remove the cells of an assignment with submissions; here
        # every submission was just regraded against the new cells, so the assignment restarts
        if existing is not None and _cells(existing) != _cells(wanted):
            if existing.submissions:
                warnings.warn(f"the graded cells of {name} changed: its submissions in the gradebook are "
                              f"rebuilt; what was graded by hand is kept in {_keep_aside(target)}")
            gradebook.remove_assignment(name)
        gradebook.update_or_create_assignment(name)
        for notebook in wanted.notebooks:
            where = (notebook.name, name)
            gradebook.update_or_create_notebook(*where, kernelspec=notebook.kernelspec)
            for cell in notebook.grade_cells:
                gradebook.update_or_create_grade_cell(cell.name, *where, max_score=cell.max_score,
                                                      cell_type=cell.cell_type)
            for cell in notebook.solution_cells:
                gradebook.update_or_create_solution_cell(cell.name, *where)
            for cell in notebook.task_cells:
                gradebook.update_or_create_task_cell(cell.name, *where, max_score=cell.max_score,
                                                     cell_type=cell.cell_type)
            for cell in notebook.source_cells:
                gradebook.update_or_create_source_cell(cell.name, *where, cell_type=cell.cell_type,
                                                       locked=cell.locked, source=cell.source, checksum=cell.checksum)


def _save_submission(gradebook, record, keys):
    """The record's scores in the student's submission, an existing one keeping its hand grading."""
    from nbgrader.api import MissingEntry

    student, assignment = record.student, record.assignment
    key = f"{student}/{assignment}"
    gradebook.update_or_create_student(student)
    try:
        submission = gradebook.find_submission(assignment, student)
        regraded = keys.get(key) != record.key
    except MissingEntry:
        with warnings.catch_warnings():  # nbgrader's add_submission makes SQLAlchemy warn, harmlessly
            warnings.simplefilter("ignore", SAWarning)
            submission, regraded = gradebook.add_submission(assignment, student), True
    grades = {(notebook.name, grade.name): grade
              for notebook in submission.notebooks for grade in notebook.grades}
    for cell in record.cells:
        grade = grades[cell.notebook, cell.cell]
        grade.auto_score = _auto_score(record, cell)
        if regraded:  # nbgrader's rule on (re-)autograding, SaveAutoGrades._add_score
            grade.needs_manual_grade = grade.manual_score is not None or grade.auto_score is None
    gradebook.db.commit()
    keys[key] = record.key


def _auto_score(record, cell):
    if cell.auto:
        return cell.points
    # nbgrader gives every cell of a notebook it cannot find zero, leaving nothing to grade
    # by hand (Autograde.init_assignment); an unreadable notebook is one it could not find
    if record.status == UNGRADABLE or record.notebooks.get(cell.notebook):
        return 0.0
    return None  # a written answer: graded by hand in formgrader
