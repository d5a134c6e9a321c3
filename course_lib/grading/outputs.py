"""Stored outputs that another machine would print differently, and model answers that
quote figures the outputs do not show.

nbval compares the text a solution notebook's cells print with what they printed when the
notebook was stored, except in cells tagged `nbval-ignore-output`. A float's last digits
depend on summation order, hence on the thread count and the BLAS library: a cell that
prints 7.972420500157451e-08, or a difference of 5.6e-17, fails on the next machine
although nothing is wrong. `fragile_numbers` finds such prints in the compared cells:

- a number with more than MAX_SIGNIFICANT_DIGITS significant digits (a value printed to
  its last bits, e.g. a whole float32 or float64 repr);
- a nonzero number below NOISE_LEVEL in magnitude that the cell's source does not spell
  out itself (rounding noise such as 2.8e-17; a tolerance the source prints, "1e-12", is fine).

Print what the sentence needs instead: a rounded figure, or `course_lib.comparison.agreement`
("agree to within 1e-12").

A written answer's model answer (the solution region of a Markdown answer cell) that quotes
"97.3 %" or "0.45 s" must quote the notebook's own run: `unsupported_figures` lists each
number in a model answer — outside $maths$ and `code` — that no code cell prints or spells
out, at the precision quoted (97.3 stands for any printed value that rounds to it: 97.31 or
97.27). A figure the answer derives (a difference, a ratio) is printed by the notebook too,
so that a re-run that changes it cannot leave the answer behind. `placeholders` finds
bracketed notes such as "[Numbers from the table.]" left in any Markdown cell.
"""
import re
from dataclasses import dataclass

from nbgrader.utils import is_solution

IGNORE_OUTPUT_TAG = "nbval-ignore-output"
MAX_SIGNIFICANT_DIGITS = 6
NOISE_LEVEL = 1e-9
# a decimal number with a point or an exponent (integers are counts, ids, sizes: exact)
_FLOAT = re.compile(r"(?<![\w.])[-+]?(?:\d+\.\d*|\.\d+|\d+(?=[eE]))(?:[eE][-+]?\d+)?(?![\w.])")


@dataclass(frozen=True)
class FragileNumber:
    cell: int       # index of the cell in the notebook
    text: str       # the number as printed
    reason: str


def significant_digits(text):
    mantissa = re.split(r"[eE]", text)[0].lstrip("+-").replace(".", "")
    return len(mantissa.lstrip("0")) or 1


def compared_texts(cell):
    """The texts nbval compares for a code cell: printed stdout and text/* results."""
    if cell.cell_type != "code" or IGNORE_OUTPUT_TAG in cell.metadata.get("tags", []):
        return
    for output in cell.get("outputs", []):
        if output.output_type == "stream" and output.name == "stdout":
            yield output.text
        for mime, value in output.get("data", {}).items():
            if mime.startswith("text/") and isinstance(value, str):
                yield value


def fragile_numbers(notebook):
    """Every number in the compared outputs of `notebook` that depends on the machine."""
    found = []
    for index, cell in enumerate(notebook.cells):
        for text in compared_texts(cell):
            for match in _FLOAT.finditer(text):
                number = match.group(0)
                if significant_digits(number) > MAX_SIGNIFICANT_DIGITS:
                    reason = f"printed to {significant_digits(number)} significant digits"
                elif 0 < abs(float(number)) < NOISE_LEVEL and number not in cell.source:
                    reason = f"below {NOISE_LEVEL:g}: rounding noise"
                else:
                    continue
                found.append(FragileNumber(index, number, reason))
    return found


SOLUTION_REGION = re.compile(r"### BEGIN SOLUTION(.*?)### END SOLUTION", re.S)
_MATH_OR_CODE = re.compile(r"\$\$.*?\$\$|\$[^$]*\$|`[^`]*`", re.S)
# 97.3, 0.45, 1563, 60 000 or 60,000; not part of a word, a range (784-128-10) or a ratio (2/26)
_QUOTED = re.compile(r"(?<![\w.\-/×])(\d{1,3}(?:[ ,]\d{3})+|\d+(?:\.\d+)?)(?![\w.]\d)")
_PLACEHOLDER = re.compile(r"\[(?:[^\]]*\b(?:numbers?|figures?|fill in|todo|tbd|xx+)\b[^\]]*)\]", re.I)


@dataclass(frozen=True)
class UnsupportedFigure:
    cell: int       # index of the Markdown answer cell
    text: str       # the figure as quoted


def _quoted(text):
    return [match.group(1).replace(",", "").replace(" ", "") for match in _QUOTED.finditer(text)]


def _printed_values(notebook):
    """Every number a code cell spells out in its source or prints, as floats."""
    values = set()
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        texts = [cell.source]
        for output in cell.get("outputs", []):
            if isinstance(output.get("text"), str):
                texts.append(output.text)
            texts += [value for mime, value in output.get("data", {}).items()
                      if mime.startswith("text/") and isinstance(value, str)]
        values.update(float(number) for text in texts for number in _quoted(text))
    return values


def _shown(figure, values):
    decimals = len(figure.split(".")[1]) if "." in figure else 0
    quoted = float(figure)
    return any(abs(round(value, decimals) - quoted) < 0.5 * 10 ** -decimals + 1e-9 for value in values)


def unsupported_figures(notebook):
    """The figures model answers quote that the notebook's code cells neither print nor spell out."""
    values = _printed_values(notebook)
    found = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "markdown" or not is_solution(cell):
            continue
        for region in SOLUTION_REGION.findall(cell.source):
            found += [UnsupportedFigure(index, figure) for figure in _quoted(_MATH_OR_CODE.sub(" ", region))
                      if not _shown(figure, values)]
    return found


def placeholders(notebook):
    """(cell index, text) of each bracketed placeholder left in a Markdown cell."""
    return [(index, match.group(0)) for index, cell in enumerate(notebook.cells) if cell.cell_type == "markdown"
            for match in _PLACEHOLDER.finditer(cell.source)]
