"""Setting up a hub for the course: the state folder `course hub start` runs from.

    STATE/hub.json            the course installation, the Python environment, the exchange,
                              the course id and the roster
    STATE/passwords.csv       the new accounts' passwords (root only), to hand out
    STATE/roles/<role>/       nbgrader settings put first on each user's JUPYTER_CONFIG_PATH
    STATE/node/               configurable-http-proxy, JupyterHub's proxy, from npm

The instructor gets a private course folder, ~/<course id>/ (solutions, released notebooks,
the course's nbgrader settings with the exchange), where the instructor's steps run. The
installation's solutions/ (and a .git folder, whose history holds them) are closed to
everyone but root: students' kernels import course_lib from the installation."""
import csv
import json
import os
import pwd
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from ..errors import CourseError
from ..grading.course import CONFIG_FILE, RELEASE_DIRECTORY, SOURCE_DIRECTORY, course_config
from . import accounts
from .exchange import GRADES_DIRECTORY, create_exchange
from .roster import Roster

STATE_FILE = "hub.json"
PASSWORDS_FILE = "passwords.csv"
ROLES_DIRECTORY = "roles"
PROXY_PACKAGE = "configurable-http-proxy@4.6.3"  # supports the Node of Debian 12 (18) and later
PROXY_DIRECTORY = "node"
PRIVATE = 0o700
# Settings a user's nbgrader reads: the course's own (course id, Validate's grading
# kernel), the exchange, and for the instructor the course folder in their home — or,
# once graded, `course grade`'s folder, so that formgrader opens on the graded class.
ROLE_CONFIG = {
    "student": '''"""nbgrader settings of a student on the hub, written by `course hub setup`."""
c = get_config()  # noqa: F821 - injected by traitlets
load_subconfig({course_config!r})  # noqa: F821
c.Exchange.root = {exchange!r}
''',
    "instructor": '''"""nbgrader settings of the instructor on the hub, written by `course hub setup`."""
import os

c = get_config()  # noqa: F821 - injected by traitlets
course = os.path.join(os.path.expanduser("~"), {course_id!r})
graded = os.path.join(course, {grades!r}, "nbgrader_config.py")
c.CourseDirectory.root = course
load_subconfig(graded if os.path.exists(graded) else os.path.join(course, "nbgrader_config.py"))  # noqa: F821
''',
}
INSTRUCTOR_COURSE_CONFIG = '''"""The course's nbgrader settings and the hub's exchange, written by `course hub setup`."""
c = get_config()  # noqa: F821 - injected by traitlets
load_subconfig({course_config!r})  # noqa: F821
c.Exchange.root = {exchange!r}
'''


@dataclass(frozen=True)
class HubState:
    course_root: str  # the course installation: course_lib, jupyter_roles, nbgrader_config.py
    python: str  # the course's environment's interpreter
    exchange: str
    course_id: str
    students: tuple
    instructors: tuple
    data_dir: str | None = None  # COURSE_DATA_DIR for every user's kernels

    @property
    def roster(self):
        return Roster(students=tuple(self.students), instructors=tuple(self.instructors))

    def role_config(self, state_dir, role):
        return Path(state_dir) / ROLES_DIRECTORY / role


def read_state(state_dir):
    path = Path(state_dir) / STATE_FILE
    if not path.is_file():
        raise CourseError(f"{path} is missing: set the hub up first (`course hub setup ROSTER --state {state_dir}`)")
    values = json.loads(path.read_text())
    return HubState(**{**values, "students": tuple(values["students"]), "instructors": tuple(values["instructors"])})


# What a Python is, as the account that runs it sees it. Another account may start the
# course's interpreter and still run a different Python: the executable loads its shared
# libpython through a folder that account cannot enter, the dynamic loader silently takes
# the system's libpython3.x instead, and with it the system's standard library (another
# patch release, e.g. one whose `re` mismatches possessive quantifiers, which broke
# nbconvert's HTML export and so `course grade`'s feedback).
INTERPRETER_PROBE = """import json, sys, sysconfig
shared = sysconfig.get_config_var("Py_ENABLE_SHARED")
print(json.dumps({"version": sys.version, "prefix": sys.prefix, "base_prefix": sys.base_prefix,
                  "stdlib": sysconfig.get_path("stdlib"),
                  "libdir": sysconfig.get_config_var("LIBDIR") if shared else None}))"""


def unreachable_folder(path):
    """The first folder on the way to `path` (also through symbolic links) that accounts
    other than its owner cannot enter, or None."""
    path = Path(path).absolute()
    for candidate in (path, Path(os.path.realpath(path))):
        for folder in reversed(candidate.parents):
            if not folder.stat().st_mode & 0o001:
                return folder
    return None


def interpreter(python, login=None):
    """What `python` is when the account `login` (default: this one) runs it: version,
    prefixes, standard library and shared library folders. Raises OSError or CourseError
    when it does not run."""
    done = subprocess.run([str(python), "-c", INTERPRETER_PROBE], user=login, capture_output=True, text=True)
    if done.returncode != 0:
        raise CourseError(done.stderr.strip() or f"it exited with {done.returncode}")
    try:
        return json.loads(done.stdout)
    except ValueError:
        raise CourseError(f"it is not a Python: it printed {done.stdout.strip()[:200]!r}") from None


def interpreter_paths(python, found=None):
    """What every account must reach to run `python` as this account does: the executable,
    its standard library and its shared libpython's folder (`found`: its `interpreter`)."""
    found = found or interpreter(python)
    return [Path(python), *(Path(found[name]) for name in ("stdlib", "libdir") if found[name])]


def check_python_runs_for(login, python):
    """Fail unless the account `login` runs the course's Python as this account does: in
    it every user's JupyterLab and kernels run."""
    expected = interpreter(python)
    try:
        seen = interpreter(python, login)
        if seen == expected:
            return
        problem = (f"it runs Python {seen['version'].split()[0]} from {seen['base_prefix']} instead of "
                   f"{expected['version'].split()[0]} from {expected['base_prefix']}")
    except (OSError, CourseError) as error:
        problem = str(error)
    folder = next(filter(None, map(unreachable_folder, interpreter_paths(python, expected))), None)
    if folder is not None:
        problem = f"{problem}; the interpreter lies inside {folder}, which other accounts cannot enter"
    raise CourseError(f"the account {login} cannot run the course's Python ({python}): {problem}. Install the "
                      "course with a Python every account can run (e.g. Debian's python3, not one in root's home)")


def proxy_command(state_dir):
    return Path(state_dir) / PROXY_DIRECTORY / "node_modules" / ".bin" / "configurable-http-proxy"


def install_proxy(state_dir):
    """configurable-http-proxy from npm into STATE/node (skipped once there)."""
    if proxy_command(state_dir).exists():
        return
    if not (shutil.which("node") and shutil.which("npm")):
        raise CourseError("JupyterHub's proxy needs Node.js and npm: install them "
                          "(Debian: `apt-get install nodejs npm`) and run this again")
    done = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--prefix",
                           str(Path(state_dir) / PROXY_DIRECTORY), PROXY_PACKAGE], capture_output=True, text=True)
    if done.returncode != 0:
        raise CourseError(f"npm could not install {PROXY_PACKAGE}:\n{done.stderr.strip()[-2000:]}")


def lock_instructor_files(course_root):
    """Close the installation's solutions (hidden tests) and git history to other users."""
    for name in (SOURCE_DIRECTORY, ".git"):
        path = Path(course_root) / name
        if path.is_dir():
            path.chmod(PRIVATE)


def create_instructor_course(instructor, course_root, exchange, course_id):
    """~instructor/<course id>/: the solutions, the released notebooks and the course's
    settings with the exchange, owned by the instructor and private."""
    account = pwd.getpwnam(instructor)
    folder = Path(account.pw_dir) / course_id
    folder.mkdir(mode=PRIVATE, exist_ok=True)
    for name in (SOURCE_DIRECTORY, RELEASE_DIRECTORY):
        shutil.copytree(Path(course_root) / name, folder / name, dirs_exist_ok=True)
    (folder / CONFIG_FILE).write_text(INSTRUCTOR_COURSE_CONFIG.format(
        course_config=str(Path(course_root) / CONFIG_FILE), exchange=str(exchange)))
    for path in (folder, *folder.rglob("*")):
        os.chown(path, account.pw_uid, account.pw_gid)
    folder.chmod(PRIVATE)
    return folder


def set_up(roster, state_dir, exchange, course_root, data_dir=None, python=sys.executable):
    """Accounts, exchange, the instructor's course folders, role settings and proxy;
    returns the HubState written to STATE/hub.json."""
    accounts.require_root("setting up the hub")
    state_dir, course_root = Path(state_dir).resolve(), Path(course_root).resolve()
    course_id = course_config(course_root).CourseDirectory.course_id
    state = HubState(course_root=str(course_root), python=str(python), exchange=str(Path(exchange).resolve()),
                     course_id=course_id, students=roster.students, instructors=roster.instructors,
                     data_dir=str(Path(data_dir).resolve()) if data_dir else None)
    state_dir.mkdir(parents=True, exist_ok=True)
    state_dir.chmod(PRIVATE)
    install_proxy(state_dir)
    passwords = accounts.create_accounts(roster.everyone)
    _append_passwords(state_dir / PASSWORDS_FILE, passwords)
    create_exchange(state.exchange, course_id, roster.instructors[0])
    lock_instructor_files(course_root)
    for instructor in roster.instructors:
        create_instructor_course(instructor, course_root, state.exchange, course_id)
    settings = {"course_config": str(course_root / CONFIG_FILE), "exchange": state.exchange,
                "course_id": course_id, "grades": GRADES_DIRECTORY}
    for role, template in ROLE_CONFIG.items():
        folder = state.role_config(state_dir, role)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / CONFIG_FILE).write_text(template.format(**settings))
    # the users' servers read their role's settings: the folders above are theirs to enter
    for folder in (state_dir, state_dir / ROLES_DIRECTORY):
        folder.chmod(0o711)
    (state_dir / STATE_FILE).write_text(json.dumps(asdict(state), indent=2))
    return state


def _append_passwords(path, passwords):
    new = not path.exists()
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(descriptor, "a", newline="") as file:
        writer = csv.writer(file)
        if new:
            writer.writerow(["id", "password"])
        writer.writerows(sorted(passwords.items()))
