"""Time `course grade` on a generated class: every released assignment, >= 20 students.

Each student's notebook mixes right answers (the solution's), blanks (the released
stub) and the realistic wrong answers of tests/grading/wrong_answers.py, drawn with a
fixed seed. The class is graded twice from scratch, with 1 worker and with 2, and the
result is printed as JSON: seconds per student (for the whole course) and the speedup.

    COURSE_DATA_DIR=../shared/data .venv/bin/python benchmarks/grade_class.py [--students 20]
"""
import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import nbformat

COURSE_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(COURSE_ROOT))

from course_lib.grading.course import SOURCE_DIRECTORY, source_assignments  # noqa: E402
from course_lib.grading.grade import Options, grade  # noqa: E402
from course_lib.grading.results import UNGRADABLE  # noqa: E402
from course_lib.grading.settings import Settings  # noqa: E402
from course_lib.grading.template import prepare_template  # noqa: E402
from tests.grading.harness import grade_id, is_answer_cell, solution_source  # noqa: E402
from tests.grading.wrong_answers import WRONG_ANSWERS  # noqa: E402


def generate_class(folder, templates, students, seed):
    """Write `students` flat-export submissions of every assignment into `folder`."""
    rng = random.Random(seed)
    for number in range(students):
        student = f"student{number:03d}"
        for assignment, template in templates.items():
            for name in template.notebooks:
                notebook = nbformat.read(template.released(name), as_version=4)
                source = nbformat.read(COURSE_ROOT / SOURCE_DIRECTORY / assignment / f"{name}.ipynb", as_version=4)
                solutions = {grade_id(cell): cell for cell in source.cells}
                for cell in notebook.cells:
                    if not (is_answer_cell(cell) and cell.cell_type == "code"):
                        continue
                    choice = rng.choices(("right", "blank", "wrong"), weights=(6, 2, 2))[0]
                    wrong = WRONG_ANSWERS.get(assignment, {}).get(grade_id(cell))
                    if choice == "right" or (choice == "wrong" and wrong is None):
                        cell.source = solution_source(solutions[grade_id(cell)])
                    elif choice == "wrong":
                        cell.source = wrong
                nbformat.write(notebook, folder / f"{student}_{name}.ipynb")


def timed_grade(submissions, out, workers, cell_timeout):
    cpus = os.cpu_count() or 1
    options = Options(workers=workers, progress=False,
                      settings=Settings(cell_timeout=cell_timeout, threads=max(1, cpus // workers)))
    started = time.monotonic()
    outcome = grade(COURSE_ROOT, submissions, out, options)
    seconds = time.monotonic() - started
    assert outcome.reused == 0 and outcome.graded_now == len(outcome.records)
    return seconds, outcome


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cell-timeout", type=int, default=120)
    args = parser.parse_args(argv)
    assignments = source_assignments(COURSE_ROOT)
    with tempfile.TemporaryDirectory(prefix="grade-class-") as scratch:
        scratch = Path(scratch)
        submissions = scratch / "submissions"
        submissions.mkdir()
        templates = {name: prepare_template(COURSE_ROOT, name, scratch / "templates" / name) for name in assignments}
        generate_class(submissions, templates, args.students, args.seed)
        load_before = os.getloadavg()
        runs = {}
        for workers in (1, 2):
            out = scratch / f"out-{workers}"
            # The templates are shared, so both runs time grading, not nbgrader's release.
            (out / ".state").mkdir(parents=True)
            os.symlink(scratch / "templates", out / ".state" / "templates")
            seconds, outcome = timed_grade(submissions, out, workers, args.cell_timeout)
            runs[workers] = {"seconds": round(seconds, 1),
                             "seconds_per_student": round(seconds / args.students, 2),
                             "ungradable": sum(r.status == UNGRADABLE for r in outcome.records)}
        result = {
            "students": args.students, "assignments": assignments, "cpus": os.cpu_count(),
            "workers_1": runs[1], "workers_2": runs[2],
            "speedup": round(runs[1]["seconds"] / runs[2]["seconds"], 2),
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
        }
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
