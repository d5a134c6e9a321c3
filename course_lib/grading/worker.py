"""One grading job in its own process: `python -m course_lib.grading.worker JOB.json`.

A job is one student's submission of one assignment. The worker grades it in a private
course (`isolation`), puts the feedback and the autograded notebooks into DIR, and writes
the result record last (`results.save_record`). The parent (`grade.py`) runs several
workers at once and kills one that runs past its time limit, with its kernel.
"""
import json
import shutil
import sys
from pathlib import Path

import nbformat

from .feedback import leaked_lines
from .isolation import autograde_and_feedback, create_private_course
from .results import Record, delegations, gradebook_cells, save_record, write_atomically
from .settings import Settings
from .tampering import suspicious_code
from .template import load_template

WITHHELD = ("<!DOCTYPE html><html><body><p>Feedback for this notebook is withheld: it would "
            "have shown hidden-test source. Your instructor has been told.</p></body></html>")


def output_folder(out, kind, student, assignment):
    """DIR/feedback/<student>/<assignment> or DIR/autograded/<student>/<assignment>."""
    return Path(out) / kind / student / assignment


def run_job(job):
    """Grade the job's submission and save its record; returns the record."""
    template = load_template(job["template"])
    settings = Settings(**job["settings"])
    student, assignment, out, key = job["student"], template.assignment, Path(job["out"]), job["key"]
    notebooks = {name: Path(path) for name, path in job["notebooks"].items()}
    private, unreadable = create_private_course(job["course_root"], template, student, notebooks,
                                                job["scratch"])
    left_out = {name: unreadable.get(name, "") for name in notebooks}
    try:
        for kind in ("feedback", "autograded"):
            shutil.rmtree(output_folder(out, kind, student, assignment), ignore_errors=True)
        if len(unreadable) == len(notebooks):
            problems = "; ".join(f"{name}.ipynb: {why}" for name, why in unreadable.items())
            return _finish(out, Record.ungradable(template, student, problems, key=key, notebooks=left_out))
        succeeded, problem, seconds = autograde_and_feedback(private, template, settings)
        if not succeeded:
            return _finish(out, Record.ungradable(template, student, f"nbgrader could not autograde it: {problem}",
                                                  key=key, notebooks=left_out, seconds=seconds))
        autograded = {path.stem: nbformat.read(path, as_version=4)
                      for path in sorted(private.folder("autograded").glob("*.ipynb"))}
        cells = gradebook_cells(private.db_url, template, student, autograded)
        for cell in cells:
            if cell.notebook in unreadable and cell.auto:
                cell.failure = f"ungradable: {unreadable[cell.notebook]}"
        withheld = _publish(out, student, template, private, autograded)
        suspicious = []
        for name in autograded:
            released = nbformat.read(template.released(name), as_version=4)
            submitted = nbformat.read(private.folder("submitted") / f"{name}.ipynb", as_version=4)
            suspicious += [label for label in suspicious_code(submitted, released) if label not in suspicious]
        reasons = [f"{name}.ipynb: {why}" for name, why in unreadable.items()] + ([problem] if problem else [])
        return _finish(out, Record.graded(
            student, assignment, key, cells, reason="; ".join(reasons), notebooks=left_out,
            suspicious=suspicious, delegated=delegations(template, autograded), feedback_withheld=withheld,
            seconds=seconds))
    finally:
        shutil.rmtree(private.root, ignore_errors=True)


def _publish(out, student, template, private, autograded):
    """Copy the feedback (checked for hidden-test source) and the autograded notebooks
    (for the instructor: they hold the hidden tests) into DIR. Returns the notebooks whose
    feedback was withheld."""
    withheld = []
    for path in sorted(private.folder("feedback").glob("*.html")):
        html = path.read_text(encoding="utf-8")
        if leaked_lines(html, template.secret_lines):
            withheld.append(path.stem)
            html = WITHHELD
        write_atomically(output_folder(out, "feedback", student, template.assignment) / path.name, html)
    for name, notebook in autograded.items():
        write_atomically(output_folder(out, "autograded", student, template.assignment) / f"{name}.ipynb",
                         nbformat.writes(notebook))
    return withheld


def _finish(out, record):
    save_record(out, record)
    return record


def main(argv):
    run_job(json.loads(Path(argv[0]).read_text()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
