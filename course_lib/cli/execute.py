"""`course execute`: re-execute solution notebooks so their stored outputs are current, then
release them (what an instructor does after editing a solution)."""
import time

from ..grading.course import RELEASE_DIRECTORY, SOURCE_DIRECTORY, find_course_root, resolve_assignments
from ..grading.execute import EXECUTION_THREADS, execute_notebook, solution_notebooks
from ..grading.release import generate_assignment


def register(subparsers):
    parser = subparsers.add_parser(
        "execute",
        help=f"re-execute {SOURCE_DIRECTORY}/ notebooks in place, then release them to {RELEASE_DIRECTORY}/",
        description=(
            f"Run every cell of each solution notebook in {SOURCE_DIRECTORY}/ at full size, with the "
            f"datasets of COURSE_DATA_DIR and {EXECUTION_THREADS} threads, store the outputs (nbval "
            "compares them with a one-thread run), then regenerate the student version as "
            "`course release` does. Stops at the first cell that raises."
        ),
    )
    parser.add_argument("assignments", nargs="*", metavar="ASSIGNMENT",
                        help="assignment ids (default: every assignment with a solution notebook)")
    parser.set_defaults(run=run)


def run(args):
    course_root = find_course_root()
    for assignment in resolve_assignments(course_root, args.assignments):
        for path in solution_notebooks(course_root, assignment):
            started = time.monotonic()
            execute_notebook(path)
            print(f"executed {path.relative_to(course_root)} in {time.monotonic() - started:.0f} s", flush=True)
        released = generate_assignment(course_root, assignment)
        print(f"released {assignment} -> {released.relative_to(course_root)}/", flush=True)
    return 0
