"""Feedback without the hidden tests (nbgrader issue #917).

nbgrader's generate_feedback renders the autograded notebook, in which autograde restored
the hidden tests, so the students would see them. `RedactHiddenTests` runs first among
generate_feedback's preprocessors (see `isolation`): it removes the hidden-test regions
from the test cells with nbgrader's own ClearHiddenTests, replaces the message of a
failure raised inside the hidden part by "a hidden test failed", drops the traceback
frames' source context, and blanks any line of any cell's source or output that repeats a
line of hidden-test source (a submission that printed the tests' source through
introspection). The student still sees their code, their outputs and the visible tests'
failure messages. `leaked_lines` then checks the rendered HTML itself: feedback is only
handed out when it finds nothing.
"""
import html
import re

from nbgrader.preprocessors import ClearHiddenTests
from nbgrader.utils import is_grade
from traitlets import List

BEGIN, END = "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"
# Shorter lines (`else:`, `)`) say nothing about a test; longer ones must not be shown.
MIN_SECRET_CHARS = 12
HIDDEN_NOTE = "# (hidden tests: not shown)"
REDACTED = "[course grade: removed, it repeats hidden-test source]"
HIDDEN_FAILURE = "a hidden test failed (what it checked is not shown)"

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_CELL_FRAME = re.compile(r"Cell In\s*\[(\d*)\],\s*line (\d+)")
_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")


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


class RedactHiddenTests(ClearHiddenTests):
    """See the module docstring; `secret_lines` comes from `secret_lines()`."""

    secret_lines = List([], help="Lines of hidden-test source (see feedback.secret_lines).").tag(config=True)

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

    def _redact_output(self, output, regions, execution_count):
        if output.output_type == "error":
            traceback = [_ANSI.sub("", line) for line in output.traceback]
            if regions and _failed_in(traceback, regions, execution_count):
                output.evalue = HIDDEN_FAILURE
                output.traceback = [f"{output.ename}: {HIDDEN_FAILURE}"]
            else:
                output.evalue = self._redact_text(output.evalue)
                # The frames' source context could show lines next to a hidden region.
                output.traceback = [f"{output.ename}: {output.evalue}"]
        elif output.output_type == "stream":
            output.text = self._redact_text(output.text)
        for mime, value in output.get("data", {}).items():
            if isinstance(value, str) and mime.startswith(("text/", "application/json")):
                output.data[mime] = self._redact_text(value)
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
