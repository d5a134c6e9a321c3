"""`course release`: regenerate the student notebooks from the solution notebooks."""
from ..grading.course import RELEASE_DIRECTORY, SOURCE_DIRECTORY, find_course_root, resolve_assignments
from ..grading.release import find_drift, generate_assignment


def register(subparsers):
    parser = subparsers.add_parser(
        "release",
        help=f"regenerate {RELEASE_DIRECTORY}/ from {SOURCE_DIRECTORY}/ with nbgrader",
        description=(
            f"Regenerate the student notebooks in {RELEASE_DIRECTORY}/ from the solution "
            f"notebooks in {SOURCE_DIRECTORY}/ with nbgrader's generate_assignment "
            "(solutions and hidden tests removed, outputs cleared)."
        ),
    )
    parser.add_argument("assignments", nargs="*", metavar="ASSIGNMENT",
                        help="assignment ids (default: every assignment with a solution notebook)")
    parser.add_argument("--check", action="store_true",
                        help="change nothing; list every student notebook that drifted and exit 1 if any did")
    parser.set_defaults(run=run)


def run(args):
    course_root = find_course_root()
    assignments = resolve_assignments(course_root, args.assignments)
    if args.check:
        drift = find_drift(course_root, assignments)
        for path, reason in drift:
            print(f"{path}: {reason}")
        if drift:
            print(f"{len(drift)} file(s) drifted from {SOURCE_DIRECTORY}/")
            return 1
        print(f"{RELEASE_DIRECTORY}/ matches {SOURCE_DIRECTORY}/ ({len(assignments)} assignment(s))")
        return 0
    for assignment in assignments:
        released = generate_assignment(course_root, assignment)
        print(f"released {assignment} -> {released.relative_to(course_root)}/")
    return 0
