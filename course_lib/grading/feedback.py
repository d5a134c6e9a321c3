"""Feedback without the hidden tests (nbgrader issue #917) and without the grader's paths.

nbgrader's generate_feedback renders the autograded notebook, in which autograde restored
the hidden tests, so the students would see them. `RedactHiddenTests` runs first among
generate_feedback's preprocessors (see `isolation`):

- it removes the hidden-test regions from the test cells with nbgrader's own
  ClearHiddenTests;
- a failure raised inside a hidden region shows "A hidden test failed: <message>" when it
  is one of course_lib.checking's (`CheckFailure`, `DelegationFailure`): their messages are
  written for students and say what kind of input failed and how, never the test's source.
  Any other failure there (a bare assert, a NameError) shows only "a hidden test failed";
- every traceback is reduced to its last line (the frames' source context could show lines
  next to a hidden region), and any line of any cell's source or output that repeats a
  line of hidden-test source is blanked (a submission that printed the tests' source
  through introspection, or put it into an exception's message);
- the grading machine's paths in outputs — the private course and the kernel's home and
  temporary folder, the Python installation, course_lib, the data folder — are cut to the
  file's name: a RuntimeWarning shows as `456.py:3: RuntimeWarning: ...`.

The student still sees their code, their outputs and the tests' failure messages.
`leaked_lines` then checks the rendered HTML itself: feedback is only handed out when it
finds nothing.
"""
import html
import os
import re
import sys
from functools import lru_cache
from pathlib import Path

from nbgrader.preprocessors import ClearHiddenTests
from nbgrader.utils import is_grade
from traitlets import List, Unicode, default

from .results import CHECK_FAILURES

BEGIN, END = "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"
# Shorter lines (`else:`, `)`) say nothing about a test; longer ones must not be shown.
MIN_SECRET_CHARS = 12
HIDDEN_NOTE = "# (hidden tests: not shown)"
REDACTED = "[course grade: removed, it repeats hidden-test source]"
HIDDEN_FAILURE = "a hidden test failed (what it checked is not shown)"
HIDDEN_DIAGNOSIS = "A hidden test failed: {message}"
# `course grade` grades each submission in a temporary folder named so (grade._start): a
# path through one is the grader's, also when formgrader renders feedback after the run.
PRIVATE_COURSE_PREFIX = "course-grade-"

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_CELL_FRAME = re.compile(r"Cell In\s*\[(\d*)\],\s*line (\d+)")
_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")
# a character of a path's part: what ends a path in a message does not (`file.py:3:`, `'path'`, `(path)`)
_PATH_CHARS = r"[^\s\\/:'\"()<>,;]"
_SEPARATOR = r"[\\/]"


def _normal(text):
    return _SPACE.sub(" ", text).strip()


def hidden_regions(source):
    """(first, last) 1-based line numbers of each hidden-test region, markers included."""
    regions, start = [], None
    for number, line in enumerate(source.split("\n"), start=1):
        if BEGIN in line and start is None:
            start = number
        elif END in line and start is not None:
            regions.append((start, number))
            start = None
    if start is not None:
        regions.append((start, number))
    return regions


def secret_lines(source_notebook, released_notebook):
    """The lines of hidden-test source worth keeping secret: inside a hidden region, long
    enough to mean something, and not also in the student's version of the notebook."""
    public = {_normal(line) for cell in released_notebook.cells for line in cell.source.split("\n")}
    secret = set()
    for cell in source_notebook.cells:
        lines = cell.source.split("\n")
        for first, last in hidden_regions(cell.source):
            for line in lines[first:last - 1]:
                line = _normal(line)
                if len(line) >= MIN_SECRET_CHARS and line not in public:
                    secret.add(line)
    return sorted(secret)


def leaked_lines(text, secrets):
    """The secret lines that appear in `text` (HTML or plain), whitespace-insensitively."""
    plain = _normal(html.unescape(_TAG.sub("", text)))
    return [line for line in secrets if line in plain]


def machine_paths():
    """The grading machine's folders, as this process sees them, whose paths must not reach
    a student: the home and temporary folders (in the worker, generate_feedback runs with
    the kernel's environment, `isolation.kernel_environment`, so these are the kernel's),
    the Python installation, course_lib's folder and the data folder."""
    import course_lib
    from ..data.locate import DATA_DIR_VARIABLE, cache_directory

    folders = {os.environ.get("HOME"), os.environ.get("TMPDIR"), sys.prefix, sys.base_prefix,
               sys.exec_prefix, str(Path(course_lib.__file__).parent),
               os.environ.get(DATA_DIR_VARIABLE) or str(cache_directory())}
    found = set()
    for folder in filter(None, folders):
        for variant in (folder, os.path.realpath(folder)):
            # never the file system's root, which would take every path
            if os.path.isabs(variant) and Path(variant).parent != Path(variant):
                found.add(variant.rstrip("/\\"))
    return sorted(found)


@lru_cache(maxsize=8)
def _machine_path_pattern(folders):
    """A path in one of `folders` (a tuple) or in a private course of `course grade`: from
    its start (not the middle of a word or a relative path) to its last part."""
    part = rf"{_PATH_CHARS}+"
    starts = [re.escape(folder) + rf"(?={_SEPARATOR}|[^\w.-]|$)"
              for folder in sorted(folders, key=len, reverse=True)]
    starts.append(rf"(?:{_SEPARATOR}{part})*?{_SEPARATOR}{re.escape(PRIVATE_COURSE_PREFIX)}{_PATH_CHARS}*")
    return re.compile(rf"(?<![\w.~$-])(?:{'|'.join(starts)})(?:{_SEPARATOR}{part})*")


def without_machine_paths(text, folders):
    """`text` with every path in `folders` or in a private course cut to its file's name:
    '/tmp/course-grade-x/home/tmp/ipykernel_1/456.py:3: RuntimeWarning' -> '456.py:3: RuntimeWarning'."""
    return _machine_path_pattern(tuple(folders)).sub(lambda match: re.split(_SEPARATOR, match.group(0))[-1], text)


class RedactHiddenTests(ClearHiddenTests):
    """See the module docstring; `secret_lines` comes from `secret_lines()`, `machine_paths`
    by default from `machine_paths()`."""

    secret_lines = List([], help="Lines of hidden-test source (see feedback.secret_lines).").tag(config=True)
    machine_paths = List(Unicode(), help="Folders of the grading machine whose paths are cut from "
                                         "outputs, down to the file's name.").tag(config=True)

    @default("machine_paths")
    def _machine_paths_of_this_process(self):
        return machine_paths()

    def preprocess_cell(self, cell, resources, cell_index):
        regions = hidden_regions(cell.source)
        if cell.cell_type == "code":
            test_regions = regions if is_grade(cell) else []
            cell.outputs = [self._redact_output(output, test_regions, cell.get("execution_count"))
                            for output in cell.outputs]
        try:
            cell, resources = super().preprocess_cell(cell, resources, cell_index)
        except RuntimeError:  # unbalanced markers, typed by a student: show nothing of it
            cell.source = REDACTED
            return cell, resources
        if regions:
            cell.source = cell.source.rstrip("\n") + "\n\n" + HIDDEN_NOTE
        cell.source = self._redact_text(cell.source)
        return cell, resources

    def _redact_text(self, text):
        if not any(secret in _normal(text) for secret in self.secret_lines):
            return text
        return "\n".join(REDACTED if any(secret in _normal(line) for secret in self.secret_lines) else line
                         for line in text.split("\n"))

    def _shown(self, text):
        """An output's text as a student may see it: no grader path, no hidden-test source."""
        return self._redact_text(without_machine_paths(text, self.machine_paths))

    def _redact_output(self, output, regions, execution_count):
        if output.output_type == "error":
            traceback = [_ANSI.sub("", line) for line in output.traceback]
            if not (regions and _failed_in(traceback, regions, execution_count)):
                output.evalue = self._shown(output.evalue)
            elif output.ename in CHECK_FAILURES:  # a diagnosis written for students
                output.evalue = HIDDEN_DIAGNOSIS.format(message=self._shown(output.evalue))
            else:
                output.evalue = HIDDEN_FAILURE
            # The frames' source context could show lines next to a hidden region.
            output.traceback = [f"{output.ename}: {output.evalue}"]
        elif output.output_type == "stream":
            output.text = self._shown(output.text)
        for mime, value in output.get("data", {}).items():
            if isinstance(value, str) and mime.startswith(("text/", "application/json")):
                output.data[mime] = self._shown(value)
        return output


def _failed_in(traceback, regions, execution_count):
    """Whether the failure was raised by a line of the cell inside a hidden region: the
    first frame of an IPython traceback is the cell itself, `Cell In[n], line k`."""
    for line in traceback:
        match = _CELL_FRAME.search(line)
        if match and (not match.group(1) or execution_count is None
                      or int(match.group(1)) == execution_count):
            number = int(match.group(2))
            return any(first <= number <= last for first, last in regions)
    return False
