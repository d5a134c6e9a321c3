"""course_lib.grading: importing it first spares every grading process jsonschema's IRI grammars."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_nbformat_imported_after_the_grading_package_leaves_rfc3987_syntax_out():
    probe = "import course_lib.grading, nbformat, sys; print(repr(sys.modules.get('rfc3987_syntax')))"
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                            cwd=ROOT).stdout.strip()
    assert loaded == "None", f"jsonschema loaded rfc3987_syntax ({loaded}): each grading job pays its grammars"
