"""report.html: how the class did, for the instructor.

Per assignment: the distribution of points in each autograded exercise (plots embedded as
PNG), and each exercise's most frequent failure messages. Then every submission that could
not be graded and why, the files that were not taken as submissions, feedback withheld
because it would have shown hidden tests, and submissions whose code should be read by
hand: answers that ran the exercise's own reference (or torch's implementation of it)
instead of the student's code (`Record.delegated`), and code using machinery aimed at the
grader (`tampering`).
"""
import base64
import html
import io
from collections import Counter

from matplotlib.figure import Figure

from .results import GRADED, NOT_SUBMITTED, write_atomically

REPORT = "report.html"
TOP_FAILURES = 5
_NOT_A_FAILURE_OF_THE_CODE = ("ungradable:", "not submitted")

_STYLE = """body{font-family:sans-serif;max-width:70em;margin:2em auto;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:.25em .6em;
text-align:left;vertical-align:top}th{background:#f3f3f3}.count{text-align:right}"""


def write_report(out, records, problems, templates):
    """Write DIR/report.html from the records, discovery problems and templates."""
    parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>Grading report</title>"
             f"<style>{_STYLE}</style></head><body><h1>Grading report</h1>", _summary(records)]
    for assignment, template in templates.items():
        mine = [record for record in records if record.assignment == assignment]
        parts.append(f"<h2>{_e(assignment)}</h2>")
        graded = [record for record in mine if record.status == GRADED]
        exercises = [cell for cell in template.grade_cells if cell.auto]
        if graded and exercises:
            parts.append(_image(_distribution_figure(graded, exercises)))
        parts.append(_failures(mine, exercises))
    parts.append(_ungradable(records, problems))
    parts.append(_withheld(records))
    parts.append(_to_read_by_hand(records))
    parts.append("</body></html>")
    write_atomically(out / REPORT, "\n".join(parts))


def _e(text):
    return html.escape(str(text))


def _table(header, rows):
    head = "".join(f"<th>{_e(name)}</th>" for name in header)
    body = "".join("<tr>" + "".join(f"<td>{_e(value)}</td>" for value in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _summary(records):
    students = {record.student for record in records}
    statuses = Counter(record.status for record in records)
    counts = ", ".join(f"{count} {status}" for status, count in sorted(statuses.items()))
    return (f"<p>{len(students)} students, {len(records)} student × assignment records: {_e(counts)}. "
            "Points per cell are in <a href='grades.csv'>grades.csv</a>, totals per student in "
            "<a href='totals.csv'>totals.csv</a>, feedback in <code>feedback/</code>.</p>")


def _distribution_figure(graded, exercises):
    columns = min(4, len(exercises))
    rows = -(-len(exercises) // columns)
    figure = Figure(figsize=(3.2 * columns, 2.4 * rows), layout="constrained")
    for position, exercise in enumerate(exercises, start=1):
        axes = figure.add_subplot(rows, columns, position)
        points = Counter(cell.points for record in graded for cell in record.cells
                         if cell.notebook == exercise.notebook and cell.cell == exercise.cell)
        values = sorted(points)
        axes.bar([str(_number(value)) for value in values], [points[value] for value in values], color="#4878a8")
        axes.set_title(exercise.cell, fontsize=9)
        axes.set_xlabel(f"points (of {_number(exercise.max_points)})", fontsize=8)
        axes.set_ylabel("students", fontsize=8)
        axes.tick_params(labelsize=8)
    return figure


def _number(value):
    return int(value) if float(value).is_integer() else value


def _image(figure):
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90)
    encoded = base64.b64encode(buffer.getvalue()).decode()
    return f"<p><img alt='score distribution per exercise' src='data:image/png;base64,{encoded}'></p>"


def _failures(records, exercises):
    rows = []
    for exercise in exercises:
        messages = Counter(cell.failure for record in records for cell in record.cells
                           if cell.notebook == exercise.notebook and cell.cell == exercise.cell
                           and cell.failure and not cell.failure.startswith(_NOT_A_FAILURE_OF_THE_CODE))
        rows += [(exercise.cell, count, message) for message, count in messages.most_common(TOP_FAILURES)]
    if not rows:
        return "<p>No failed tests.</p>"
    return "<h3>Most frequent failure messages</h3>" + _table(("exercise", "students", "message"), rows)


def _ungradable(records, problems):
    rows = [(record.student, record.assignment, record.reason) for record in records
            if record.status not in (GRADED, NOT_SUBMITTED)]
    rows += [(record.student, record.assignment, f"graded, but {record.reason}")
             for record in records if record.status == GRADED and record.reason]
    text = "<h2>Submissions that could not be graded</h2>"
    text += _table(("student", "assignment", "why"), rows) if rows else "<p>None.</p>"
    if problems:
        text += "<h3>Files not taken as submissions</h3>" + _table(
            ("file", "why"), [(problem.path, problem.reason) for problem in problems])
    missing = [(record.student, record.assignment) for record in records if record.status == NOT_SUBMITTED]
    if missing:
        text += "<h3>Not submitted</h3>" + _table(("student", "assignment"), missing)
    return text


def _withheld(records):
    rows = [(record.student, record.assignment, ", ".join(record.feedback_withheld))
            for record in records if record.feedback_withheld]
    if not rows:
        return ""
    return ("<h2>Feedback withheld</h2><p>Rendering would have shown hidden-test source, so "
            "these students got a placeholder instead.</p>" + _table(("student", "assignment", "notebooks"), rows))


def _to_read_by_hand(records):
    delegating = [(record.student, record.assignment, exercise, called) for record in records
                  for exercise, called in sorted(record.delegated.items())]
    machinery = [(record.student, record.assignment, "; ".join(record.suspicious))
                 for record in records if record.suspicious]
    if not delegating and not machinery:
        return ""
    text = "<h2>Code to read by hand</h2>"
    if delegating:
        text += ("<h3>Answers that call the solution</h3><p>These answers ran the exercise's own "
                 "reference in <code>course_lib</code>, or torch's implementation of what the exercise "
                 "asks to write, instead of the student's code; the exercise lost its points.</p>"
                 + _table(("student", "assignment", "exercise", "called"), delegating))
    if machinery:
        text += ("<h3>Machinery aimed at the grader</h3><p>These submissions use machinery that "
                 "ordinary answers never need and that could be aimed at the grader itself.</p>"
                 + _table(("student", "assignment", "uses"), machinery))
    return text
