#!/usr/bin/env python3
"""Set up the course on a machine that has nothing but Python, then run one thing.

    python3 bootstrap.py lab          # student: open the course notebooks in JupyterLab
    python3 bootstrap.py instructor   # instructor: JupyterLab with formgrader, on solutions/
    python3 bootstrap.py instructor --grades DIR   # formgrader on a `course grade` run's DIR
    python3 bootstrap.py test [ARGS]  # run the whole test suite (ARGS go to pytest)

Everything goes into ./.venv, installed through constraints.txt (torch is pinned there).
Re-running is cheap: the install step is skipped while pyproject.toml and
constraints.txt are unchanged.  Uses only the standard library on purpose.
"""
import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".bootstrap-stamp"
INSTALL_INPUTS = ("pyproject.toml", "constraints.txt")

# Each role's Jupyter settings (which of nbgrader's extensions are on) live in
# jupyter_roles/<role>/, put first on JUPYTER_CONFIG_PATH: the environment itself is never
# changed, so one .venv serves both roles, and the browser tests start the same setups.
ROLES_CONFIG = ROOT / "jupyter_roles"
ROLE_START_FOLDER = {"student": "notebooks", "instructor": "solutions"}


def run(*command, **kwargs):
    print("+", " ".join(str(part) for part in command), flush=True)
    subprocess.run([str(part) for part in command], check=True, **kwargs)


def install_fingerprint():
    digest = hashlib.sha256()
    for name in INSTALL_INPUTS:
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()


def ensure_environment():
    if not (BIN / "python").exists():
        print(f"Creating a virtual environment in {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    fingerprint = install_fingerprint()
    if STAMP.exists() and STAMP.read_text() == fingerprint:
        return
    run(BIN / "python", "-m", "pip", "install", "--quiet",
        "-c", ROOT / "constraints.txt", "-e", f"{ROOT}[test]")
    STAMP.write_text(fingerprint)


def role_environment(role):
    """Environment variables that give JupyterLab the setup of `role` (student or instructor)."""
    paths = [str(ROLES_CONFIG / role), *filter(None, os.environ.get("JUPYTER_CONFIG_PATH", "").split(os.pathsep))]
    return {"JUPYTER_CONFIG_PATH": os.pathsep.join(paths)}


def lab_launch(role, grades=None):
    """(working folder, arguments for `jupyter lab`) of the course's JupyterLab for `role`.

    Both roles start in the course root, so that nbgrader_config.py applies (Validate runs
    with the grading settings). With `grades` (instructor only), a folder written by
    `course grade`, the server starts there instead, where its nbgrader_config.py points
    formgrader at that class's gradebook, and serves the course root if the folder lies
    inside it."""
    if grades is None:
        return ROOT, [f"--ServerApp.default_url=/lab/tree/{ROLE_START_FOLDER[role]}"]
    grades = Path(grades).resolve()
    if not (grades / "gradebook.db").is_file():
        sys.exit(f"{grades} holds no gradebook.db: give the --out folder of a `course grade` run")
    served = ROOT if grades.is_relative_to(ROOT) else grades
    return grades, [f"--ServerApp.root_dir={served}", "--ServerApp.default_url=/formgrader"]


def exec_in_environment(*command, **variables):
    """Replace this process, as if run in the activated environment: Ctrl-C and the exit
    code behave as if run directly, and scripts nbgrader runs by name (alembic) are found."""
    environment = dict(os.environ, VIRTUAL_ENV=str(VENV),
                       PATH=os.pathsep.join([str(BIN), os.environ.get("PATH", "")]), **variables)
    executable = str(BIN / command[0])
    os.execve(executable, [executable, *map(str, command[1:])], environment)


def main(argv):
    usage = "usage: python3 bootstrap.py {lab|instructor [--grades DIR]|test} [args for jupyter lab or pytest...]"
    if not argv or argv[0] not in {"lab", "instructor", "test"}:
        print(usage, file=sys.stderr)
        return 2
    command, rest = argv[0], argv[1:]
    grades = None
    if command == "instructor" and rest[:1] == ["--grades"]:
        if len(rest) < 2:
            print(usage, file=sys.stderr)
            return 2
        grades, rest = os.path.abspath(rest[1]), rest[2:]
    # Notebook kernels run in their notebook's folder, so a relative data path (as in
    # `COURSE_DATA_DIR=../shared/data`) must be fixed before leaving the caller's folder.
    if os.environ.get("COURSE_DATA_DIR"):
        os.environ["COURSE_DATA_DIR"] = os.path.abspath(os.environ["COURSE_DATA_DIR"])
    os.chdir(ROOT)
    ensure_environment()
    if command == "test":
        # The suite starts a hundred Python processes (kernels, graders) that import the same
        # course_lib: with bytecode caching off (PYTHONDONTWRITEBYTECODE, which containers
        # often set), each compiles it again (0.5 s a kernel) and each pytest worker
        # re-rewrites every test module.
        exec_in_environment("python", "-m", "pytest", *rest, PYTHONDONTWRITEBYTECODE="")
    role = "instructor" if command == "instructor" else "student"
    folder, arguments = lab_launch(role, grades)
    os.chdir(folder)
    exec_in_environment("jupyter", "lab", *arguments, *rest, **role_environment(role))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
