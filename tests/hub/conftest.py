"""A real JupyterHub on 127.0.0.1 for the hub tests, set up the way the README says
(`course hub setup`, `course hub start`): a copy of the course installed in a temporary
folder, two students and an instructor with fresh accounts, removed afterwards even when
a test fails. One hub serves every test of a module."""
import csv
import os
import secrets
import shutil
import subprocess
import struct
import sys
import tempfile
import time
from contextlib import ExitStack, contextmanager
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

import bootstrap
from course_lib.hub import accounts
from course_lib.hub.roster import Roster, write_roster
from course_lib.hub.setup import PASSWORDS_FILE, interpreter_paths, set_up, unreachable_folder
from tests.browser.lab import LAB_TEST_ARGUMENTS, _free_port

# What a course installation holds: the code the kernels import, the role setups, the
# hub's configuration, the course's settings and notebooks.
INSTALLED = ("course_lib", "jupyter_roles", "deploy", "solutions", "notebooks", "nbgrader_config.py")
HUB_START_SECONDS = 60
# Linux's POSIX ACL as an extended attribute (acl/include/acl_ea.h): a version, then
# (tag, permissions, id) entries sorted by tag and id.
ACL_XATTR, ACL_VERSION, ACL_UNDEFINED_ID = "system.posix_acl_access", 2, 0xFFFFFFFF
ACL_USER_OBJ, ACL_USER, ACL_GROUP_OBJ, ACL_MASK, ACL_OTHER = 0x01, 0x02, 0x04, 0x10, 0x20


def missing_prerequisite():
    """Why this machine cannot run a hub, with what to do about it; None if it can."""
    if not sys.platform.startswith("linux"):
        return "the hub tests need Linux (local accounts, PAM): run them on a Linux machine or leave them out with -m 'not hub'"
    if os.geteuid() != 0:
        return "the hub tests create accounts and spawn servers as them: run them as root (CI does), or -m 'not hub'"
    for tool, package in (("node", "nodejs"), ("npm", "npm"), ("useradd", "passwd"), ("chpasswd", "passwd")):
        if shutil.which(tool) is None:
            return f"the hub tests need `{tool}`: install it (Debian: `apt-get install {package}`, as .ci/run does)"
    return None


@dataclass
class Hub:
    url: str
    installation: Path  # the course as installed on the server
    python: str  # its environment's interpreter
    exchange: Path
    state: Path  # `course hub setup`'s folder
    course_id: str
    students: tuple
    instructor: str
    passwords: dict
    log_path: Path

    def instructor_course(self):
        return Path(accounts.home_of(self.instructor)) / self.course_id

    def course(self, login, *arguments, cwd=None):
        """`course ARGUMENTS` run by `login`."""
        return self.as_user(login, self.python, "-m", "course_lib.cli", *arguments, cwd=cwd)

    def as_user(self, login, *command, cwd=None, environment=None, input=None):
        """Run `command` as `login`, in their home (or `cwd`), as their terminal would."""
        home = accounts.home_of(login)
        variables = {"HOME": home, "USER": login, "LOGNAME": login, "PYTHONPATH": str(self.installation),
                       "PATH": os.pathsep.join([str(Path(self.python).parent), "/usr/bin", "/bin"]), "OMP_NUM_THREADS": "1"}
        if os.environ.get("COURSE_DATA_DIR"):
            variables["COURSE_DATA_DIR"] = os.path.abspath(os.environ["COURSE_DATA_DIR"])
        return subprocess.run([str(part) for part in command], cwd=cwd or home, env={**variables, **(environment or {})},
                              user=login, group=login, extra_groups=[], capture_output=True, text=True, input=input)

    def log_tail(self, lines=40):
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def _install_course(folder):
    for name in INSTALLED:
        source = bootstrap.ROOT / name
        if source.is_dir():
            shutil.copytree(source, folder / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, folder / name)


@contextmanager
def _enterable_by(logins, paths):
    """Let `logins` pass through (search, not list) each private folder on the way to
    each of `paths`, for as long as the block runs: a POSIX ACL entry per account, the
    folder's ACL and mode restored afterwards. The course's Python may live in root's home
    (pyenv); a real hub installs it where every account can run it (`course hub start`
    says so)."""
    private = []
    for path in paths:
        while (folder := unreachable_folder(path)) is not None and folder not in private:
            private.append(folder)
            path = folder  # the folders above it next (its own mode does not change)
    folders = []
    for folder in private:
        before = (folder.stat().st_mode, _read_acl(folder))
        entries = [(ACL_USER_OBJ, (before[0] >> 6) & 7, ACL_UNDEFINED_ID), *((ACL_USER, 1, accounts.uid_of(login)) for login in logins),
                   (ACL_GROUP_OBJ, (before[0] >> 3) & 7, ACL_UNDEFINED_ID), (ACL_MASK, 1 | (before[0] >> 3) & 7, ACL_UNDEFINED_ID),
                   (ACL_OTHER, before[0] & 7, ACL_UNDEFINED_ID)]
        os.setxattr(folder, ACL_XATTR, struct.pack("<I", ACL_VERSION) + b"".join(
            struct.pack("<HHI", *entry) for entry in sorted(entries, key=lambda entry: (entry[0], entry[2]))))
        folders.append((folder, before))
    try:
        yield
    finally:
        for folder, (mode, acl) in reversed(folders):
            if acl is None:
                os.removexattr(folder, ACL_XATTR)
            else:
                os.setxattr(folder, ACL_XATTR, acl)
            folder.chmod(mode & 0o7777)


def _read_acl(folder):
    try:
        return os.getxattr(folder, ACL_XATTR)
    except OSError:
        return None


def _wait_for_hub(url, process, log_path):
    deadline = time.monotonic() + HUB_START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"jupyterhub exited with {process.returncode}:\n{log_path.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(f"{url}/hub/api", timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"jupyterhub did not answer within {HUB_START_SECONDS} s:\n{log_path.read_text()[-4000:]}")


def _end_processes_of(logins):
    """Kill what still runs as the test's accounts (a server the hub failed to stop), so
    that their accounts can be removed."""
    uids = {accounts.uid_of(login) for login in logins if accounts.exists(login)}
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            real_uid = int(next(line for line in status.read_text().splitlines() if line.startswith("Uid:")).split()[1])
            if real_uid in uids:
                os.kill(int(status.parent.name), 9)
        except (OSError, StopIteration, ValueError):
            pass  # the process ended meanwhile


def _stop(process):
    if process.poll() is None:
        os.killpg(process.pid, 15)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait()


@pytest.fixture(scope="module")
def hub():
    problem = missing_prerequisite()
    if problem:
        pytest.fail(problem)
    # Under /tmp rather than pytest's private temporary folder: every user's server must
    # enter the installation and the exchange.
    top = Path(tempfile.mkdtemp(prefix="course-hub-"))
    top.chmod(0o755)
    suffix = secrets.token_hex(3)  # fresh names: never an existing account
    roster = Roster(students=(f"hs{suffix}a", f"hs{suffix}b"), instructors=(f"hs{suffix}i",))
    process = None
    cleanup = ExitStack()
    try:
        installation = top / "course"
        installation.mkdir()
        _install_course(installation)
        write_roster(top / "roster.csv", roster)
        state = set_up(roster, top / "state", top / "exchange", installation,
                       data_dir=os.environ.get("COURSE_DATA_DIR"))
        # the interpreter's own libraries too: without them, the accounts' Python
        # silently becomes the system's (course_lib.hub.setup.INTERPRETER_PROBE)
        cleanup.enter_context(_enterable_by(roster.everyone, interpreter_paths(sys.executable)))
        with open(top / "state" / PASSWORDS_FILE, newline="") as file:
            passwords = {row["id"]: row["password"] for row in csv.DictReader(file)}
        port = _free_port()
        log_path = top / "jupyterhub.log"
        with open(log_path, "w") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "course_lib.cli", "hub", "start", "--state", top / "state", "--", f"--JupyterHub.bind_url=http://127.0.0.1:{port}",
                 f"--JupyterHub.hub_bind_url=http://127.0.0.1:{_free_port()}",
                 f"--ConfigurableHTTPProxy.api_url=http://127.0.0.1:{_free_port()}",
                 # as tests.browser.lab.LabServer starts JupyterLab: the page's app reachable
                 # from the test, no update check
                 *(f"--Spawner.args={argument}" for argument in LAB_TEST_ARGUMENTS)],
                env=dict(os.environ, PYTHONPATH=str(installation), OMP_NUM_THREADS="1"),
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        url = f"http://127.0.0.1:{port}"
        _wait_for_hub(url, process, log_path)
        yield Hub(url=url, installation=installation, python=sys.executable, exchange=top / "exchange", state=top / "state", course_id=state.course_id,
                  students=roster.students, instructor=roster.instructors[0], passwords=passwords,
                  log_path=log_path)
    finally:
        if process is not None:
            _stop(process)
        cleanup.close()
        _end_processes_of(roster.everyone)
        accounts.remove_accounts(roster.everyone)
        shutil.rmtree(top, ignore_errors=True)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    hub = getattr(item, "funcargs", {}).get("hub") or getattr(item, "funcargs", {}).get("released")
    if report.failed and isinstance(hub, Hub):
        report.sections.append(("jupyterhub log, last lines", hub.log_tail()))
