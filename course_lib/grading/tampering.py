"""Code in a submission that an instructor should look at: the grader defends against
monkeypatching and reading instructor files, but code written against the grader itself
(its guard, IPython's machinery) is beyond what an in-kernel defence can stop. Such code
needs tools ordinary answers never use; the report lists the submissions that use them."""
import re

PATTERNS = {
    "IPython's machinery (get_ipython)": r"\bget_ipython\b",
    "the module table (sys.modules)": r"\bsys\.modules\b",
    "builtins": r"\b__builtins__\b|\bimport builtins\b|\bbuiltins\.",
    "function internals (__code__, __globals__, __closure__)": r"__code__|__globals__|__closure__",
    "introspection (inspect, linecache, gc, sys._getframe)":
        r"\bimport (inspect|linecache|gc)\b|\bfrom (inspect|linecache|gc) import\b|\b_getframe\b",
    "ctypes": r"\bctypes\b",
    "process control (os._exit, signal, resource, subprocess)":
        r"\bos\._exit\b|\bimport (signal|resource|subprocess)\b|\bfrom (signal|resource|subprocess) import\b",
    "the grader (course_lib.grading)": r"course_lib\.grading|course_lib\s+import\s+grading",
    "assigning to a library's attribute (np.x = ..., torch.x = ..., checking.x = ...)":
        r"^\s*(np|numpy|torch|nn|checking|course_lib|scratch|plots|training)(\.\w+)+\s*=[^=]",
    "setattr on a library": r"\bsetattr\(\s*(np|numpy|torch|nn|checking|course_lib|scratch|training)\b",
}
_COMPILED = {label: re.compile(pattern, re.MULTILINE) for label, pattern in PATTERNS.items()}


def suspicious_code(notebook, released):
    """Labels of the PATTERNS found in the code cells of `notebook` that are not word for
    word a cell of the `released` notebook (metadata can be edited, so it is not trusted)."""
    given = {cell.source for cell in released.cells}
    found = []
    for cell in notebook.cells:
        if cell.cell_type != "code" or cell.source in given:
            continue
        found += [label for label, pattern in _COMPILED.items()
                  if label not in found and pattern.search(cell.source)]
    return found
