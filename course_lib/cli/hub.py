"""`course hub`: the course on a JupyterHub — set it up from a roster and start it (as
root), then the instructor's steps, run by the instructor inside their course folder
(~/<course id>/): release, collect, grade, feedback."""
import argparse
import os
import sys
from pathlib import Path

DEFAULT_STATE = "/srv/how-nets-train-hub"
DEFAULT_EXCHANGE = "/srv/nbgrader/exchange"
HUB_CONFIG = Path("deploy") / "hub" / "jupyterhub_config.py"


def register(subparsers):
    parser = subparsers.add_parser("hub", help="run the course on a JupyterHub with nbgrader's exchange",
                                   description=__doc__.split("\n\n")[0])
    steps = parser.add_subparsers(dest="step", required=True, metavar="STEP")

    setup = steps.add_parser("setup", help="(root) accounts from a roster, exchange, settings, proxy")
    setup.add_argument("roster", help="CSV with columns id,role (student or instructor)")
    setup.add_argument("--state", default=DEFAULT_STATE, help=f"the hub's folder (default: {DEFAULT_STATE})")
    setup.add_argument("--exchange", default=DEFAULT_EXCHANGE, help=f"nbgrader's exchange (default: {DEFAULT_EXCHANGE})")
    setup.set_defaults(run=run_setup)

    start = steps.add_parser("start", help="(root) start JupyterHub; further arguments go to jupyterhub")
    start.add_argument("--state", default=DEFAULT_STATE)
    start.add_argument("jupyterhub_arguments", nargs=argparse.REMAINDER, metavar="...",
                       help="after --, e.g. -- --JupyterHub.bind_url=http://:8000")
    start.set_defaults(run=run_start)

    remove = steps.add_parser("remove-accounts", help="(root) delete the roster's accounts and their homes")
    remove.add_argument("roster")
    remove.set_defaults(run=run_remove)

    for name, run, text in (("release", run_release, "release an assignment into the exchange"),
                            ("collect", run_collect, "collect its submissions into submitted/"),
                            ("grade", run_grade, "grade submitted/ with `course grade` into grades/"),
                            ("feedback", run_feedback, "release grades/feedback/ to the students")):
        step = steps.add_parser(name, help=f"(instructor, in the course folder) {text}")
        step.add_argument("assignment", metavar="ASSIGNMENT")
        if name == "grade":
            step.add_argument("--workers", type=int, default=os.cpu_count() or 1, metavar="N")
        step.set_defaults(run=run)


def run_setup(args):
    from ..grading.course import find_course_root
    from ..hub.roster import read_roster
    from ..hub.setup import PASSWORDS_FILE, set_up

    course_root = find_course_root(Path(__file__).parents[2])
    state = set_up(read_roster(args.roster), args.state, args.exchange, course_root,
                   data_dir=os.environ.get("COURSE_DATA_DIR"))
    print(f"hub for {state.course_id} set up in {args.state}: {len(state.students)} students, "
          f"instructors {', '.join(state.instructors)}; new accounts' passwords in "
          f"{Path(args.state) / PASSWORDS_FILE}. Start it with `course hub start --state {args.state}`.")
    return 0


def run_start(args):
    from ..hub.accounts import require_root
    from ..hub.config import HUB_FILES_DIRECTORY, STATE_VARIABLE
    from ..hub.setup import check_python_runs_for, read_state

    require_root("the hub")
    state_dir = Path(args.state).resolve()
    state = read_state(state_dir)
    check_python_runs_for(state.roster.everyone[-1], state.python)
    bin_dir = Path(state.python).parent
    os.chdir(state_dir / HUB_FILES_DIRECTORY if (state_dir / HUB_FILES_DIRECTORY).is_dir() else state_dir)
    environment = dict(os.environ, **{STATE_VARIABLE: str(state_dir)}, PYTHONPATH=state.course_root,
                       PATH=os.pathsep.join([str(bin_dir), os.environ.get("PATH", "")]))
    command = [state.python, "-m", "jupyterhub", "-f", str(Path(state.course_root) / HUB_CONFIG), *_after_separator(args.jupyterhub_arguments)]
    os.execve(command[0], command, environment)


def _after_separator(arguments):
    return arguments[1:] if arguments[:1] == ["--"] else arguments


def run_remove(args):
    from ..hub.accounts import remove_accounts
    from ..hub.roster import read_roster

    remove_accounts(read_roster(args.roster).everyone)
    return 0


def run_release(args):
    from ..grading.course import find_course_root
    from ..hub.exchange import release

    release(find_course_root(), args.assignment)
    print(f"released {args.assignment}: students fetch it from their Assignment List")
    return 0


def run_collect(args):
    from ..grading.course import find_course_root
    from ..hub.exchange import SUBMITTED_DIRECTORY, collect

    collected, forged = collect(find_course_root(), args.assignment)
    print(f"collected {len(collected)} submission(s) of {args.assignment} into {SUBMITTED_DIRECTORY}/: "
          f"{', '.join(collected) or 'none'}")
    for claimed, owner in forged:
        print(f"left out: a submission in the name of {claimed}, made by the account {owner}", file=sys.stderr)
    return 0


def run_grade(args):
    from . import main
    from ..grading.course import find_course_root
    from ..hub.exchange import GRADES_DIRECTORY, SUBMITTED_DIRECTORY

    course_root = find_course_root()
    # absolute: `course grade` reads a relative SUBMISSIONS path from its workers' folders
    return main(["grade", str(course_root / SUBMITTED_DIRECTORY), "--out", str(course_root / GRADES_DIRECTORY),
                 "--assignment", args.assignment, "--workers", str(args.workers), "--quiet"])


def run_feedback(args):
    from ..grading.course import find_course_root
    from ..hub.exchange import release_feedback

    released = release_feedback(find_course_root(), args.assignment)
    print(f"feedback on {args.assignment} released to {len(released)} student(s): {', '.join(released)}; "
          "they get it with Fetch Feedback in their Assignment List")
    return 0
