"""Instructor tooling on top of nbgrader: releasing student notebooks, grading."""
import sys

# jsonschema (under nbformat and nbgrader) imports rfc3987_syntax where it is installed,
# and that compiles about forty Lark grammars at import: 1.3 s of every `course` command
# and of every grading job (python-jsonschema/jsonschema#1428). It adds only the "iri"
# format check, which no notebook or nbgrader schema uses.
sys.modules.setdefault("rfc3987_syntax", None)
