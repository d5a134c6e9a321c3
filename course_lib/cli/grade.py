"""`course grade`: autograde a class's submissions into a folder of grades, feedback and a report."""
import os

from ..grading.course import find_course_root
from ..grading.settings import WALL_TIME_FACTOR

DEFAULT_CELL_TIMEOUT = 120
DEFAULT_MEMORY_GIB = 4.0
DEFAULT_JOB_TIMEOUT = 1800


def register(subparsers):
    parser = subparsers.add_parser(
        "grade",
        help="autograde submissions with nbgrader: grades.csv, feedback, report",
        description=(
            "Autograde every submission in SUBMISSIONS (a folder or a .zip, laid out as "
            "submitted/<student>/<assignment>/<notebook>.ipynb or as a flat export "
            "<student>_<notebook>.ipynb) with nbgrader, each in a private, sandboxed copy of "
            "the course, and write grades.csv, totals.csv, feedback/ (without hidden tests), "
            "autograded/ (for you: with hidden tests), report.html and a gradebook for nbgrader's "
            "formgrader (bootstrap.py instructor --grades DIR) into DIR. Re-running "
            "regrades only what changed; an interrupted run resumes."),
    )
    parser.add_argument("submissions", metavar="SUBMISSIONS", help="folder or .zip of submissions")
    parser.add_argument("--out", required=True, metavar="DIR", help="where results go (created if missing)")
    parser.add_argument("--assignment", action="append", default=[], metavar="ID", dest="assignments",
                        help="grade only this assignment (repeatable; default: every assignment with a source)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, metavar="N",
                        help="submissions graded at once (default: the number of CPUs)")
    parser.add_argument("--cell-timeout", type=float, default=DEFAULT_CELL_TIMEOUT, metavar="SECONDS",
                        help="seconds of CPU time a cell may use before it is stopped: CPU time, so that a "
                             f"busy machine costs no student points (default: {DEFAULT_CELL_TIMEOUT})")
    parser.add_argument("--cell-wall-timeout", type=float, default=None, metavar="SECONDS",
                        help="seconds of wall time after which a cell that waits rather than computes is "
                             f"interrupted (default: {WALL_TIME_FACTOR} × --cell-timeout)")
    parser.add_argument("--job-timeout", type=int, default=DEFAULT_JOB_TIMEOUT, metavar="SECONDS",
                        help="one student's assignment taking longer is stopped and counted "
                             f"ungradable (default: {DEFAULT_JOB_TIMEOUT})")
    parser.add_argument("--memory", type=float, default=DEFAULT_MEMORY_GIB, metavar="GIB",
                        help=f"address space of each notebook's kernel (default: {DEFAULT_MEMORY_GIB})")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(run=run)


def run(args):
    from ..errors import CourseError
    from ..grading.grade import Options, grade
    from ..grading.results import GRADED
    from ..grading.settings import Settings

    if args.workers < 1:
        raise CourseError("--workers must be at least 1")
    cpus = os.cpu_count() or 1
    settings = Settings(cell_timeout=args.cell_timeout, cell_wall_timeout=args.cell_wall_timeout,
                        memory_bytes=int(args.memory * 2**30), threads=max(1, cpus // args.workers))
    options = Options(assignments=args.assignments, workers=args.workers, job_timeout=args.job_timeout,
                      settings=settings, progress=not args.quiet)
    outcome = grade(find_course_root(), args.submissions, args.out, options)
    statuses = {}
    for record in outcome.records:
        statuses[record.status] = statuses.get(record.status, 0) + 1
    summary = ", ".join(f"{count} {status}" for status, count in sorted(statuses.items()))
    print(f"graded {outcome.graded_now} submission(s), reused {outcome.reused} unchanged; {summary}")
    troubled = [record for record in outcome.records if record.status == GRADED and record.reason]
    if troubled:  # e.g. its feedback failed: the grade alone would look as if all went well
        print(f"{len(troubled)} graded with a problem, such as {troubled[0].student}'s {troubled[0].assignment}: "
              f"{troubled[0].reason}; see report.html")
    if outcome.problems:
        print(f"{len(outcome.problems)} file(s) not taken as submissions: see report.html")
    print(f"results in {args.out}: grades.csv, totals.csv, report.html, feedback/; "
          f"to grade the written answers in formgrader: python3 bootstrap.py instructor --grades {args.out}")
    return 0
