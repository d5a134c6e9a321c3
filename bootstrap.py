#!/usr/bin/env python3
"""Set up the course on a machine that has nothing but Python, then run one thing.

    python3 bootstrap.py lab          # student: open the course notebooks in JupyterLab
    python3 bootstrap.py instructor   # instructor: JupyterLab with formgrader, on solutions/
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

# Students keep nbgrader's assignment list and Validate button; these are the
# instructor's tools, hidden in the student setup.
INSTRUCTOR_LAB_PLUGINS = (
    "@jupyter/nbgrader:formgrader",
    "@jupyter/nbgrader:create-assignment",
    "@jupyter/nbgrader:course-list",
)
INSTRUCTOR_SERVER_EXTENSIONS = (
    "nbgrader.server_extensions.formgrader",
    "nbgrader.server_extensions.course_list",
)


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


def set_instructor_extensions(enabled):
    """Show or hide nbgrader's instructor tools. Locked either way, so a student cannot
    switch them back on from JupyterLab's plugin manager."""
    verb = "enable" if enabled else "disable"
    for plugin in INSTRUCTOR_LAB_PLUGINS:
        run_quietly(BIN / "jupyter", "labextension", verb, "--level=sys_prefix", plugin)
        run_quietly(BIN / "jupyter", "labextension", "lock", "--level=sys_prefix", plugin)
    for extension in INSTRUCTOR_SERVER_EXTENSIONS:
        run_quietly(BIN / "jupyter", "server", "extension", verb, "--sys-prefix", extension)


def run_quietly(*command):
    result = subprocess.run([str(part) for part in command], capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"{' '.join(map(str, command))} failed:\n{result.stdout}{result.stderr}")


def exec_in_environment(*command):
    """Replace this process, as if run in the activated environment: Ctrl-C and the exit
    code behave as if run directly, and scripts nbgrader runs by name (alembic) are found."""
    environment = dict(os.environ, VIRTUAL_ENV=str(VENV),
                       PATH=os.pathsep.join([str(BIN), os.environ.get("PATH", "")]))
    executable = str(BIN / command[0])
    os.execve(executable, [executable, *map(str, command[1:])], environment)


def main(argv):
    usage = "usage: python3 bootstrap.py {lab|instructor|test} [pytest args...]"
    if not argv or argv[0] not in {"lab", "instructor", "test"}:
        print(usage, file=sys.stderr)
        return 2
    command, rest = argv[0], argv[1:]
    # Notebook kernels run in their notebook's folder, so a relative data path (as in
    # `COURSE_DATA_DIR=../shared/data`) must be fixed before leaving the caller's folder.
    if os.environ.get("COURSE_DATA_DIR"):
        os.environ["COURSE_DATA_DIR"] = os.path.abspath(os.environ["COURSE_DATA_DIR"])
    os.chdir(ROOT)
    ensure_environment()
    if command == "test":
        exec_in_environment("python", "-m", "pytest", *rest)
    set_instructor_extensions(enabled=command == "instructor")
    # The instructor works on solutions/ (nbgrader's source); students on notebooks/.
    # Both servers start in the course root so nbgrader_config.py applies.
    start_page = "solutions" if command == "instructor" else "notebooks"
    exec_in_environment("jupyter", "lab", f"--ServerApp.default_url=/lab/tree/{start_page}", *rest)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
