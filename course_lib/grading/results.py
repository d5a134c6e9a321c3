"""Grading results: one record per student and assignment, and the sheets built from them.

A `Record` holds how one student's submission of one assignment was graded, with a
`CellGrade` per grade cell of the assignment (in the template's order). Grading builds
them with `Record.graded`, `Record.ungradable` and `Record.not_submitted`, and keeps them
as JSON (`save_record`, `load_record`): a worker writes its record to
DIR/.state/results/<student>/<assignment>.json atomically (a temporary file renamed into
place) only once everything else it produces is in DIR, so a record on disk always means
a finished grade; an interrupted run resumes from them.
"""
import csv
import io
import json
import os
import re
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

STATE = ".state"
GRADES_CSV = "grades.csv"
TOTALS_CSV = "totals.csv"
GRADED, UNGRADABLE, NOT_SUBMITTED = "graded", "ungradable", "not submitted"
# The names of course_lib.checking's failures, whose messages are written for students
# (checking.failure; importing it here would import torch): DelegationFailure is an answer
# that ran the reference it was to write, naming it: "<call> called <function>, ...".
CHECK_FAILURE, DELEGATION_FAILURE = "CheckFailure", "DelegationFailure"
CHECK_FAILURES = (CHECK_FAILURE, DELEGATION_FAILURE)
_CALLED = re.compile(r" called ([\w.]+), ")


@dataclass
class CellGrade:
    """The grade of one grade cell: a test cell (`auto`) or a written answer, graded by hand."""
    notebook: str
    cell: str             # the grade id
    max_points: float
    auto: bool
    points: float | None  # None: a written answer not graded yet
    failure: str = ""     # why a test cell lost its points: "Ename: first line of the message"

    @classmethod
    def zero(cls, grade_cell, failure):
        """`grade_cell` (a template.GradeCell) at zero points, failed with `failure`; a
        written answer stays pending, for the instructor."""
        return cls(grade_cell.notebook, grade_cell.cell, grade_cell.max_points, grade_cell.auto,
                   0.0 if grade_cell.auto else None, failure if grade_cell.auto else "")


@dataclass
class Record:
    """One student's submission of one assignment, as graded."""
    student: str
    assignment: str
    status: str        # GRADED, UNGRADABLE (why: `reason`) or NOT_SUBMITTED
    cells: list        # CellGrade, one per grade cell of the assignment
    key: str = ""      # what was graded (grade._key); "" has the next run grade it again
    reason: str = ""   # why it is ungradable, or what went wrong in a graded one
    notebooks: dict = field(default_factory=dict)          # {name: why it was left out, or ""}
    suspicious: list = field(default_factory=list)         # tampering labels, to read by hand
    delegated: dict = field(default_factory=dict)          # {test grade id: function its answer ran}
    feedback_withheld: list = field(default_factory=list)  # notebooks whose feedback showed hidden tests
    seconds: float = 0.0                                   # nbgrader's autograde and feedback

    @classmethod
    def graded(cls, student, assignment, key, cells, *, reason="", notebooks=None, suspicious=(),
               delegated=None, feedback_withheld=(), seconds=0.0):
        return cls(student, assignment, GRADED, list(cells), key, reason, dict(notebooks or {}),
                   list(suspicious), dict(delegated or {}), list(feedback_withheld), seconds)

    @classmethod
    def ungradable(cls, template, student, reason, *, key="", notebooks=None, seconds=0.0):
        """Every grade cell of `template`'s assignment at zero (written answers pending),
        failed with "ungradable: `reason`". Without a key, the next run tries again."""
        return cls(student, template.assignment, UNGRADABLE,
                   zero_cells(template, f"ungradable: {reason}"), key, reason, dict(notebooks or {}),
                   seconds=seconds)

    @classmethod
    def not_submitted(cls, template, student):
        return cls(student, template.assignment, NOT_SUBMITTED, zero_cells(template, NOT_SUBMITTED),
                   reason="no notebook of this assignment was submitted")

    def to_json(self):
        return json.dumps(asdict(self), indent=1, sort_keys=True)

    @classmethod
    def from_json(cls, text):
        """The record `to_json` wrote, also one written before a field was added (it gets
        the field's default). TypeError or KeyError if `text` is no record."""
        data = json.loads(text)
        cells = [CellGrade(**cell) for cell in data.pop("cells")]
        return cls(cells=cells, **data)


def write_atomically(path, data):
    """Write `data` (str or bytes) to `path` so readers see the old file or the new, whole."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = "wb" if isinstance(data, bytes) else "w"
    with tempfile.NamedTemporaryFile(mode, dir=path.parent, prefix=f".{path.name}.", delete=False,
                                     **({} if isinstance(data, bytes) else {"encoding": "utf-8"})) as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())
    os.replace(file.name, path)


def record_path(out, student, assignment):
    return Path(out) / STATE / "results" / student / f"{assignment}.json"


def save_record(out, record):
    write_atomically(record_path(out, record.student, record.assignment), record.to_json())


def load_record(out, student, assignment):
    """The finished Record, or None (none yet, or unreadable: it will be regraded)."""
    try:
        return Record.from_json(record_path(out, student, assignment).read_text(encoding="utf-8"))
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None


def zero_cells(template, failure):
    """Every grade cell of the assignment at zero points (autograded) or pending (manual)."""
    return [CellGrade.zero(cell, failure) for cell in template.grade_cells]


def gradebook_cells(db_url, template, student, autograded_notebooks):
    """The CellGrade of each grade cell as nbgrader's gradebook has it, with the failure
    message of failed test cells from the autograded notebooks ({name: notebook})."""
    from nbgrader.api import Gradebook, MissingEntry

    cells = []
    with Gradebook(db_url) as gradebook:
        for name in template.notebooks:
            try:
                grades = {grade.name: grade for grade in
                          gradebook.find_submission_notebook(name, template.assignment, student).grades}
            except MissingEntry:
                grades = {}
            failures = failure_messages(autograded_notebooks.get(name))
            for cell in (c for c in template.grade_cells if c.notebook == name):
                grade = grades.get(cell.cell)
                points = None
                if grade is not None and (cell.auto or grade.manual_score is not None):
                    points = float(grade.score)
                elif cell.auto:
                    points = 0.0
                failure = failures.get(cell.cell, "") if cell.auto else ""
                if cell.auto and points == 0 and not failure:
                    failure = "no result: the test cell is missing from the submission"
                cells.append(CellGrade(name, cell.cell, cell.max_points, cell.auto, points, failure))
    return cells


def delegations(template, autograded_notebooks):
    """{test grade id: the function its answer ran} of the test cells that failed with a
    DelegationFailure: the answer ran the exercise's reference or torch's implementation
    of it. The function is as the failure names it (its first line, if it names none)."""
    found = {}
    for name, notebook in autograded_notebooks.items():
        tests = {cell.cell for cell in template.grade_cells if cell.notebook == name and cell.auto}
        for grade_id, (ename, evalue) in _first_errors(notebook).items():
            if grade_id in tests and ename == DELEGATION_FAILURE:
                called = _CALLED.search(evalue)
                found[grade_id] = called.group(1) if called else _first_line(evalue)
    return found


def failure_messages(notebook):
    """{grade_id: "Ename: first line of the message"} of the test cells that failed."""
    return {grade_id: f"{ename}: {_first_line(evalue)}".strip()[:300]
            for grade_id, (ename, evalue) in _first_errors(notebook).items()}


def _first_errors(notebook):
    """{grade_id: (ename, evalue)} of the first error output of each cell with a grade id."""
    errors = {}
    for cell in notebook.cells if notebook is not None else ():
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.cell_type != "code" or not grade_id:
            continue
        for output in cell.get("outputs", ()):
            if output.output_type == "error":
                errors.setdefault(grade_id, (output.ename, output.evalue or ""))
    return errors


def _first_line(text):
    lines = text.strip().splitlines()
    return lines[0] if lines else ""


def write_sheets(out, records, assignments):
    """grades.csv (one row per student, assignment and grade cell) and totals.csv (one
    row per student: points per assignment, total, maximum, points still to grade by hand)."""
    out = Path(out)
    rows = []
    for record in records:
        for cell in record.cells:
            rows.append({"student": record.student, "assignment": record.assignment,
                         "notebook": cell.notebook, "cell": cell.cell,
                         "points": "" if cell.points is None else cell.points, "max_points": cell.max_points,
                         "graded_by": "autograder" if cell.auto else "instructor (pending)",
                         "status": record.status, "failure": cell.failure})
    write_atomically(out / GRADES_CSV, _csv(rows, ["student", "assignment", "notebook", "cell", "points",
                                                   "max_points", "graded_by", "status", "failure"]))
    totals = {}
    for record in records:
        row = totals.setdefault(record.student, {"student": record.student, "total": 0.0,
                                                 "max": 0.0, "to_grade_by_hand": 0.0})
        auto = [cell for cell in record.cells if cell.auto]
        points = sum(cell.points or 0.0 for cell in auto)
        row[record.assignment] = points if record.status == GRADED else f"{points} ({record.status})"
        row["total"] += points
        row["max"] += sum(cell.max_points for cell in auto)
        row["to_grade_by_hand"] += sum(cell.max_points for cell in record.cells if not cell.auto)
    write_atomically(out / TOTALS_CSV, _csv([totals[name] for name in sorted(totals)],
                                            ["student", *assignments, "total", "max", "to_grade_by_hand"]))


def _csv(rows, columns):
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=columns, restval="")
    writer.writeheader()
    writer.writerows(rows)
    return text.getvalue()
