"""Grading results: one JSON record per student and assignment, and the sheets built from them.

A worker writes its record to DIR/.state/results/<student>/<assignment>.json atomically
(a temporary file renamed into place) only once everything else it produces is in DIR,
so a record on disk always means a finished grade; an interrupted run resumes from them.

Record: {student, assignment, key, status, reason, notebooks: {name: problem or ""},
cells: [{notebook, cell, points, max_points, auto, failure}], suspicious: [...],
sandbox, seconds}. status is "graded", "ungradable" (why: `reason`) or "not submitted".
"""
import csv
import io
import json
import os
import tempfile
from pathlib import Path

STATE = ".state"
GRADES_CSV = "grades.csv"
TOTALS_CSV = "totals.csv"
GRADED, UNGRADABLE, NOT_SUBMITTED = "graded", "ungradable", "not submitted"


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
    write_atomically(record_path(out, record["student"], record["assignment"]),
                     json.dumps(record, indent=1, sort_keys=True))


def load_record(out, student, assignment):
    """The finished record, or None (none yet, or unreadable: it will be regraded)."""
    try:
        return json.loads(record_path(out, student, assignment).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def zero_cells(template, failure):
    """Every grade cell of the assignment at zero points (autograded) or pending (manual)."""
    return [{"notebook": cell.notebook, "cell": cell.cell, "max_points": cell.max_points,
             "points": 0.0 if cell.auto else None, "auto": cell.auto,
             "failure": failure if cell.auto else ""} for cell in template.grade_cells]


def gradebook_cells(db_url, template, student, autograded_notebooks):
    """The grade of each grade cell as nbgrader's gradebook has it, with the failure
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
                cells.append({"notebook": name, "cell": cell.cell, "points": points,
                              "max_points": cell.max_points, "auto": cell.auto, "failure": failure})
    return cells


def failure_messages(notebook):
    """{grade_id: "Ename: first line of the message"} of the test cells that failed."""
    messages = {}
    for cell in notebook.cells if notebook is not None else ():
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.cell_type != "code" or not grade_id:
            continue
        for output in cell.get("outputs", ()):
            if output.output_type == "error":
                first = (output.evalue or "").strip().splitlines()
                messages.setdefault(grade_id, f"{output.ename}: {first[0] if first else ''}".strip()[:300])
    return messages


def write_sheets(out, records, assignments):
    """grades.csv (one row per student, assignment and grade cell) and totals.csv (one
    row per student: points per assignment, total, maximum, points still to grade by hand)."""
    out = Path(out)
    rows = []
    for record in records:
        for cell in record["cells"]:
            rows.append({"student": record["student"], "assignment": record["assignment"],
                         "notebook": cell["notebook"], "cell": cell["cell"],
                         "points": "" if cell["points"] is None else cell["points"],
                         "max_points": cell["max_points"],
                         "graded_by": "autograder" if cell["auto"] else "instructor (pending)",
                         "status": record["status"], "failure": cell["failure"]})
    write_atomically(out / GRADES_CSV, _csv(rows, ["student", "assignment", "notebook", "cell", "points",
                                                   "max_points", "graded_by", "status", "failure"]))
    totals = {}
    for record in records:
        row = totals.setdefault(record["student"], {"student": record["student"], "total": 0.0,
                                                    "max": 0.0, "to_grade_by_hand": 0.0})
        auto = [cell for cell in record["cells"] if cell["auto"]]
        points = sum(cell["points"] or 0.0 for cell in auto)
        row[record["assignment"]] = points if record["status"] == GRADED else f"{points} ({record['status']})"
        row["total"] += points
        row["max"] += sum(cell["max_points"] for cell in auto)
        row["to_grade_by_hand"] += sum(cell["max_points"] for cell in record["cells"] if not cell["auto"])
    write_atomically(out / TOTALS_CSV, _csv([totals[name] for name in sorted(totals)],
                                            ["student", *assignments, "total", "max", "to_grade_by_hand"]))


def _csv(rows, columns):
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=columns, restval="")
    writer.writeheader()
    writer.writerows(rows)
    return text.getvalue()
