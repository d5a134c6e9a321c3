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

from .isolation import autograde_and_feedback, create_private_course
from .settings import Settings
from .feedback import leaked_lines
from .results import GRADED, UNGRADABLE, gradebook_cells, save_record, write_atomically, zero_cells
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
    student, assignment, out = job["student"], template.assignment, Path(job["out"])
    notebooks = {name: Path(path) for name, path in job["notebooks"].items()}
    record = {"student": student, "assignment": assignment, "key": job["key"], "status": GRADED,
              "reason": "", "notebooks": {name: "" for name in notebooks}, "cells": [],
              "suspicious": [], "feedback_withheld": [], "seconds": 0.0}
    private, unreadable = create_private_course(job["course_root"], template, student, notebooks,
                                                job["scratch"])
    try:
        record["notebooks"].update(unreadable)
        for kind in ("feedback", "autograded"):
            shutil.rmtree(output_folder(out, kind, student, assignment), ignore_errors=True)
        if len(unreadable) == len(notebooks):
            problems = "; ".join(f"{name}.ipynb: {why}" for name, why in unreadable.items())
            return _finish(out, record, UNGRADABLE, problems, zero_cells(template, "ungradable: " + problems))
        succeeded, problem, record["seconds"] = autograde_and_feedback(private, template, settings)
        if not succeeded:
            reason = f"nbgrader could not autograde it: {problem}"
            return _finish(out, record, UNGRADABLE, reason, zero_cells(template, "ungradable: " + reason))
        autograded = {path.stem: nbformat.read(path, as_version=4)
                      for path in sorted(private.folder("autograded").glob("*.ipynb"))}
        cells = gradebook_cells(private.db_url, template, student, autograded)
        for cell in cells:
            if cell["notebook"] in unreadable and cell["auto"]:
                cell["failure"] = f"ungradable: {unreadable[cell['notebook']]}"
        _publish(out, record, template, private, autograded)
        for name in autograded:
            released = nbformat.read(template.released(name), as_version=4)
            submitted = nbformat.read(private.folder("submitted") / f"{name}.ipynb", as_version=4)
            record["suspicious"] += [label for label in suspicious_code(submitted, released)
                                     if label not in record["suspicious"]]
        reasons = [f"{name}.ipynb: {why}" for name, why in unreadable.items()] + ([problem] if problem else [])
        return _finish(out, record, GRADED, "; ".join(reasons), cells)
    finally:
        shutil.rmtree(private.root, ignore_errors=True)


def _publish(out, record, template, private, autograded):
    """Copy the feedback (checked for hidden-test source) and the autograded notebooks
    (for the instructor: they hold the hidden tests) into DIR."""
    student, assignment = record["student"], record["assignment"]
    for path in sorted(private.folder("feedback").glob("*.html")):
        html = path.read_text(encoding="utf-8")
        if leaked_lines(html, template.secret_lines):
            record["feedback_withheld"].append(path.stem)
            html = WITHHELD
        write_atomically(output_folder(out, "feedback", student, assignment) / path.name, html)
    for name, notebook in autograded.items():
        write_atomically(output_folder(out, "autograded", student, assignment) / f"{name}.ipynb",
                         nbformat.writes(notebook))


def _finish(out, record, status, reason, cells):
    record.update(status=status, reason=reason, cells=cells)
    save_record(out, record)
    return record


def main(argv):
    run_job(json.loads(Path(argv[0]).read_text()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
