"""The kernel `course grade` runs submissions in: an IPython kernel that confines itself first.

Started by jupyter_client from the kernel spec `write_kernel_spec` writes, as
`python -m course_lib.grading.kernel --confinement FILE -f CONNECTION_FILE [ipykernel args]`.
Before it runs any submitted code it
1. applies the rlimits and the filesystem sandbox described in FILE (`sandbox.confine`):
   it can then read only the Python installation, the course's library and data and its
   connection file, and write only its working directory and its own home folder;
2. starts ipykernel, imports the modules the tests rely on and snapshots them (`guard.take_snapshot`), so
   the grader can undo monkeypatching before each test cell;
3. caps how much a cell may print, so megabytes of output cannot flood the grader;
4. limits the CPU time of each cell: past the limit, the cell is stopped by
   `CellTimeoutError`. CPU time rather than wall time, so that a grading machine busy with
   other work makes no correct cell run out of time; the grader's own wall-clock timeout
   (`execution`) is the backstop for a cell that waits without computing.
Then it runs as an ordinary ipykernel.
"""
import importlib
import json
import os
import pkgutil
import signal
import sys
from dataclasses import asdict
from pathlib import Path

KERNEL_NAME = "course-grading"
OUTPUT_NOTE = "\n[course grade: output of this cell truncated after {limit:,} characters]\n"
# Imported and snapshotted before submitted code runs; course_lib's own modules too.
TRUSTED_MODULES = ("numpy", "torch", "torch.nn", "torch.nn.functional", "torch.optim",
                   "torch.utils.data", "math", "copy", "functools", "operator", "itertools",
                   "collections", "random", "time")


class CellTimeoutError(BaseException):
    """A cell used more CPU time than the grader allows. A BaseException, like
    KeyboardInterrupt, so that `except Exception` in a submission does not swallow it."""


def write_kernel_spec(jupyter_dir, confinement):
    """Write the kernel spec (under `jupyter_dir`/kernels, for JUPYTER_PATH) and the
    confinement file it names. `confinement`: Limits fields plus read_only, read_write
    (lists of paths), output_limit (characters per cell) and cell_cpu_seconds."""
    spec_dir = Path(jupyter_dir) / "kernels" / KERNEL_NAME
    spec_dir.mkdir(parents=True, exist_ok=True)
    confinement_file = Path(jupyter_dir) / "confinement.json"
    confinement_file.write_text(json.dumps(confinement))
    spec = {
        "argv": [sys.executable, "-m", "course_lib.grading.kernel", "--confinement",
                 str(confinement_file), "-f", "{connection_file}"],
        "display_name": "Python 3 (course grading)",
        "language": "python",
        "metadata": {"debugger": False},
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec, indent=1))
    return spec_dir


def confinement_settings(limits, read_only, read_write, output_limit, cell_cpu_seconds):
    return {**asdict(limits), "read_only": [str(p) for p in read_only],
            "read_write": [str(p) for p in read_write], "output_limit": output_limit,
            "cell_cpu_seconds": cell_cpu_seconds}


def _confine(settings, connection_file):
    from .sandbox import Limits, confine

    limits = Limits(**{field: settings[field] for field in ("memory_bytes", "file_bytes", "processes")})
    read_only = [*settings["read_only"], connection_file]
    read_write = [*settings["read_write"], os.getcwd()]
    return confine(limits, read_only, read_write)


def _import_trusted_modules():
    """numpy, torch and every course_lib module the notebooks may use, imported now."""
    for name in TRUSTED_MODULES:
        importlib.import_module(name)
    import course_lib

    for module in pkgutil.walk_packages(course_lib.__path__, "course_lib."):
        if module.name.startswith(("course_lib.grading", "course_lib.cli")):
            continue
        try:
            importlib.import_module(module.name)
        except Exception:  # noqa: BLE001 - a broken module fails the cells that use it, not the kernel
            pass


def _cap_output(shell, limit):
    """Each cell may print `limit` characters to stdout and stderr together. The streams'
    `write` is wrapped where IPython looks it up: on the stream objects, which IPython
    itself wraps around each cell to record output, restoring what it found afterwards."""
    printed = [0]

    def reset(*_):
        printed[0] = 0

    def capped(write):
        def write_capped(text, *args, **kwargs):
            if printed[0] >= limit:
                return len(text)
            room = limit - printed[0]
            printed[0] += len(text)
            if len(text) > room:
                write(text[:room])
                write(OUTPUT_NOTE.format(limit=limit))
                return len(text)
            return write(text, *args, **kwargs)
        return write_capped

    shell.events.register("pre_run_cell", reset)
    for stream in (sys.stdout, sys.stderr):
        stream.write = capped(stream.write)


def _limit_cpu_time(shell, seconds):
    """Stop each cell that has used `seconds` of the process's CPU time (all threads) with a
    CellTimeoutError, and again every further second should the cell catch it. The grader's
    own silent requests (`silent=True`) fire no cell events and run unlimited."""
    def expired(signum, frame):
        raise CellTimeoutError(f"this cell used more than {seconds:g} s of CPU time, the grader's "
                               f"limit for one cell: does a loop never end?")

    signal.signal(signal.SIGPROF, expired)
    shell.events.register("pre_run_cell", lambda info: signal.setitimer(signal.ITIMER_PROF, seconds, 1.0))
    shell.events.register("post_run_cell", lambda result: signal.setitimer(signal.ITIMER_PROF, 0))


def main(argv):
    position = argv.index("--confinement")
    settings = json.loads(Path(argv[position + 1]).read_text())
    kernel_argv = argv[:position] + argv[position + 2:]
    connection_file = kernel_argv[kernel_argv.index("-f") + 1]
    sandboxed = _confine(settings, connection_file)
    os.environ["COURSE_GRADING_SANDBOX"] = "landlock" if sandboxed else "none"

    from ipykernel.kernelapp import IPKernelApp

    from . import guard

    app = IPKernelApp.instance()
    app.initialize(kernel_argv)
    # Inside the kernel (tqdm.auto, for one, decides at import whether it runs in one), after
    # IPython has put its own names into builtins, before any cell runs.
    _import_trusted_modules()
    guard.take_snapshot()
    _cap_output(app.shell, settings["output_limit"])
    _limit_cpu_time(app.shell, settings["cell_cpu_seconds"])
    app.start()


if __name__ == "__main__":
    main(sys.argv[1:])
