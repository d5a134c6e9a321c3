"""nbgrader's Execute preprocessor, hardened for submissions that misbehave.

`GradingExecute` takes the place of `Execute` in nbgrader's autograde (see `isolation`).
On top of nbgrader's behaviour (every cell runs, errors are recorded, a cell that runs too
long is interrupted) it
- moves the notebooks out of the kernel's working directory while the kernel runs: the
  notebook nbgrader executes has the hidden tests restored in it;
- before each graded test cell, restores what the submission may have monkeypatched and
  re-imports the notebook's trusted imports (`guard.restore`); after it, voids the test
  if the submission patched something while the test ran (`guard.changes`);
- survives a kernel that dies (os._exit, a crash, the OOM killer) or that does not stop
  when interrupted (a loop that ignores signals): the cell gets an error, the kernel is
  restarted, the cells that ran before are run again to rebuild the state, and grading
  goes on with the next cell. A test cell that cannot be run gets an error, so it never
  scores by having no output;
- kills the kernel once a cell has used KILL_AFTER × its CPU-time limit (`cpu_limit`): the
  kernel stops a cell at the limit itself (`kernel.CellTimeoutError`), so only a cell that
  ignores that signal gets this far. Like the limit, this counts CPU time, which a busy
  grading machine does not inflate. `timeout` (wall time) stays the backstop for a cell
  that waits without computing;
- truncates what a cell stored: long texts, many outputs.
"""
import ast
import json
import os
import shutil
import signal
import threading
from contextlib import contextmanager
from pathlib import Path

from nbformat import NotebookNode
from nbgrader.preprocessors import Execute
from nbgrader.utils import is_grade
from traitlets import Dict, Float, Integer, Unicode

MAX_RECOVERIES = 3
KILL_AFTER = 1.5          # × cpu_limit of CPU time in one cell: the kernel ignored its own limit
WATCH_INTERVAL = 0.25     # seconds between two looks at the kernel's CPU time


def process_cpu_seconds(pid):
    """User + system CPU time of process `pid`, all threads, from Linux's /proc; None where
    it cannot be read (another OS, or the process is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def trusted_imports(notebook):
    """The import statements of a (source) notebook's locked, ungraded cells, as one block
    of Python: what the guard re-runs so `np`, `checking`, ... name the genuine modules."""
    from IPython.core.inputtransformer2 import TransformerManager

    transformer = TransformerManager()
    statements = []
    for cell in notebook.cells:
        nbgrader = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code" or not nbgrader.get("locked") or nbgrader.get("grade"):
            continue
        try:
            tree = ast.parse(transformer.transform_cell(cell.source))
        except SyntaxError:
            continue
        statements += [ast.unparse(node) for node in tree.body
                       if isinstance(node, (ast.Import, ast.ImportFrom))]
    return "\n".join(dict.fromkeys(statements))


def error_output(ename, evalue):
    return NotebookNode(output_type="error", ename=ename, evalue=evalue,
                        traceback=[f"{ename}: {evalue}"])


def truncate_outputs(cell, max_chars, max_outputs):
    """Keep at most `max_outputs` outputs of at most `max_chars` characters of text each."""
    if len(cell.outputs) > max_outputs:
        dropped = len(cell.outputs) - max_outputs
        cell.outputs = cell.outputs[:max_outputs]
        cell.outputs.append(NotebookNode(output_type="stream", name="stderr",
                                         text=f"[course grade: {dropped} more outputs not kept]\n"))
    note = f"\n[course grade: truncated to {max_chars:,} characters]\n"
    for output in cell.outputs:
        if output.output_type == "stream" and len(output.text) > max_chars:
            output.text = output.text[:max_chars] + note
        for mime, value in output.get("data", {}).items():
            if isinstance(value, str) and len(value) > max_chars:
                output.data[mime] = value[:max_chars] + (note if mime.startswith("text/") else "")
                if not mime.startswith("text/"):  # a cut image is no image: drop it
                    output.data[mime] = ""
        if output.output_type == "error":
            output.evalue = output.evalue[:max_chars]
            output.traceback = [line[:max_chars] for line in output.traceback[-100:]]


class GradingExecute(Execute):
    """See the module docstring. Configure it where nbgrader's Execute is configured."""

    stash_directory = Unicode(
        "", help="Where the notebooks of the kernel's working directory wait while it runs."
    ).tag(config=True)
    trusted_imports = Dict(
        {}, help="Notebook name -> import statements of its locked cells (`trusted_imports`)."
    ).tag(config=True)
    max_output_chars = Integer(100_000, help="Characters kept per output.").tag(config=True)
    cpu_limit = Float(0.0, help="Seconds of CPU time the kernel allows a cell (0: no limit); the "
                                "kernel is killed at KILL_AFTER times that.").tag(config=True)
    max_outputs = Integer(50, help="Outputs kept per cell.").tag(config=True)

    def preprocess(self, nb, resources=None, km=None):
        self._executed = []      # indices of cells that ran without killing the kernel
        self._recoveries = 0
        self._killed_for_cpu = False
        self._imports = self.trusted_imports.get(resources.get("unique_key", ""), "")
        working_dir = Path(resources.get("metadata", {}).get("path") or ".")
        stashed = self._stash(working_dir)
        try:
            return super().preprocess(nb, resources, km=km)
        finally:
            for path in stashed:
                shutil.move(str(Path(self.stash_directory) / path.name), str(path))

    def _stash(self, working_dir):
        if not self.stash_directory:
            raise ValueError("GradingExecute.stash_directory must be set")
        Path(self.stash_directory).mkdir(parents=True, exist_ok=True)
        notebooks = sorted(working_dir.glob("*.ipynb"))
        for path in notebooks:
            shutil.move(str(path), str(Path(self.stash_directory) / path.name))
        return notebooks

    def preprocess_cell(self, cell, resources, index):
        graded = cell.cell_type == "code" and is_grade(cell)
        if self._recoveries > MAX_RECOVERIES:
            if graded:
                cell.outputs = [error_output("NotRun", "not run: the kernel died too often "
                                             "earlier in this notebook")]
            return cell, resources
        if graded:
            self._guard("restore")
        try:
            with self._cpu_watchdog():
                cell, resources = super().preprocess_cell(cell, resources, index)
        except Exception as failure:  # noqa: BLE001 - a dead or stuck kernel, whatever nbclient raised
            self._recover(cell, failure)
            return cell, resources
        self._executed.append(index)
        if any(output.get("ename") == "MemoryError" for output in cell.get("outputs", ())):
            self._release_memory()
        if graded:
            changed = self._guard("changes")
            if changed:
                cell.outputs.append(error_output(
                    "TamperingDetected",
                    "while this test ran, the submitted code replaced "
                    f"{', '.join(changed[:5])}{' and more' if len(changed) > 5 else ''}: "
                    "the test does not count"))
        if cell.cell_type == "code":
            truncate_outputs(cell, self.max_output_chars, self.max_outputs)
        return cell, resources

    @contextmanager
    def _cpu_watchdog(self):
        """While the block runs, kill the kernel if it uses more than KILL_AFTER × cpu_limit
        seconds of CPU time (nbclient then finds it dead, and `_recover` takes over)."""
        pid = getattr(getattr(self.km, "provisioner", None), "pid", None)
        started = process_cpu_seconds(pid) if pid and self.cpu_limit else None
        if started is None:
            yield
            return
        finished = threading.Event()

        def watch():
            while not finished.wait(WATCH_INTERVAL):
                used = process_cpu_seconds(pid)
                if used is None:
                    return
                if used - started > KILL_AFTER * self.cpu_limit:
                    self._killed_for_cpu = True
                    os.kill(pid, signal.SIGKILL)
                    return

        watcher = threading.Thread(target=watch, name="cpu-watchdog", daemon=True)
        watcher.start()
        try:
            yield
        finally:
            finished.set()
            watcher.join()

    def _release_memory(self):
        """After a MemoryError, IPython keeps the traceback, whose frames keep what the cell
        allocated: drop it, so later cells get their memory back."""
        code = ("import gc as _gc, sys as _sys\n_sys.last_traceback = _sys.last_value = None\n"
                "_sys.last_exc = None\n_gc.collect()")
        try:
            self.wait_for_reply(self.kc.execute(code, silent=True, store_history=False, allow_stdin=False))
        except Exception:  # noqa: BLE001 - only a courtesy to the cells that follow
            pass

    def _guard(self, action):
        """Run the guard in the kernel; for "changes", the list of changes (a failure to
        ask counts as a change: the test cannot be trusted)."""
        code = ("__import__('course_lib.grading.guard', fromlist=['restore']).restore("
                f"get_ipython().user_ns, {self._imports!r})")
        expressions = {}
        if action == "changes":
            code = ""
            expressions = {"changes": "__import__('json').dumps("
                                      "__import__('course_lib.grading.guard', fromlist=['changes']).changes())"}
        try:
            msg_id = self.kc.execute(code, silent=True, store_history=False,
                                     user_expressions=expressions, allow_stdin=False)
            reply = self.wait_for_reply(msg_id)
        except Exception as failure:  # noqa: BLE001
            return [f"the grader's check ({type(failure).__name__})"]
        if action != "changes":
            return []
        result = (reply or {}).get("content", {}).get("user_expressions", {}).get("changes", {})
        try:
            return json.loads(ast.literal_eval(result["data"]["text/plain"]))
        except (KeyError, ValueError, SyntaxError, TypeError):
            return ["the grader's check (it gave no answer)"]

    def _recover(self, cell, failure):
        """Record why the cell stopped, restart the kernel and re-run the cells before it."""
        self._recoveries += 1
        if self._killed_for_cpu:
            reason = (f"this cell used more than {KILL_AFTER * self.cpu_limit:g} s of CPU time and did "
                      f"not stop at the limit of {self.cpu_limit:g} s")
        elif "died" in str(failure).lower():
            reason = "the kernel died while running this cell (os._exit, a crash, or too much memory)"
        else:
            reason = f"this cell did not finish within {self.timeout} s and did not stop when interrupted"
        self._killed_for_cpu = False
        cell.outputs.append(error_output("KernelRestarted", f"{reason}; the grader restarted the "
                                         "kernel and re-ran the cells before this one"))
        truncate_outputs(cell, self.max_output_chars, self.max_outputs)
        self.log.warning("Restarting the kernel: %s", reason)
        try:
            self.kc.stop_channels()
            self._run(self.km.restart_kernel, now=True)
            self._run(self.async_start_new_kernel_client)
        except Exception:  # noqa: BLE001 - no kernel any more: every later test cell will say so
            self._recoveries = MAX_RECOVERIES + 1
            return
        for index in self._executed:
            if not self._replay(self.nb.cells[index]):
                self.log.warning("Could not re-run cell %s after the restart", index)
                break

    def _replay(self, cell):
        """Run an earlier cell again for its effect on the kernel's state, keeping its
        recorded outputs. Skipped: test cells (they only check) and cells that timed out.
        False if the kernel died again."""
        if cell.cell_type != "code" or is_grade(cell) or not cell.source.strip():
            return True
        if any(output.get("ename") == "CellTimeoutError" for output in cell.outputs):
            return True
        try:
            msg_id = self.kc.execute(cell.source, store_history=False, allow_stdin=False)
            self.wait_for_reply(msg_id, cell)
        except Exception:  # noqa: BLE001 - dead again: the state cannot be rebuilt
            return False
        return True

    @staticmethod
    def _run(coroutine_function, **kwargs):
        from jupyter_core.utils import run_sync

        return run_sync(coroutine_function)(**kwargs)
