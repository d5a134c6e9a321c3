"""Stored outputs that another machine would print differently.

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
"""
import re
from dataclasses import dataclass

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
