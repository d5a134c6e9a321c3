"""What a grading run grades one assignment against, prepared once per run in DIR/.state.

`prepare_template` copies the assignment's source notebooks and the course's nbgrader
configuration into a scratch course and runs nbgrader's generate_assignment there, which
writes the released notebooks and a gradebook holding the assignment's cells (with the
hidden tests nbgrader restores when it autogrades). Every submission's private course
starts from a copy of that gradebook. The template is rebuilt only when the source changes.
"""
import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import nbformat

from .course import CONFIG_FILE, SOURCE_DIRECTORY
from .execution import trusted_imports
from .feedback import secret_lines
from .release import generate_assignment

GRADEBOOK = "gradebook.db"
RELEASE = "release"
MANIFEST = "template.json"


@dataclass(frozen=True)
class GradeCell:
    notebook: str
    cell: str
    max_points: float
    auto: bool  # autograded (a test cell) rather than graded by hand (a written answer)


@dataclass(frozen=True)
class Template:
    folder: Path
    assignment: str
    source_hash: str
    notebooks: tuple          # notebook names
    grade_cells: tuple        # GradeCell, in notebook order
    trusted_imports: dict     # notebook name -> import statements of its locked cells
    secret_lines: tuple       # hidden-test source lines that must not reach a student

    @property
    def gradebook(self):
        return self.folder / GRADEBOOK

    def released(self, name):
        return self.folder / RELEASE / self.assignment / f"{name}.ipynb"


def source_hash(course_root, assignment):
    """Hash of the assignment's source notebooks and the course configuration."""
    digest = hashlib.sha256()
    course_root = Path(course_root)
    for path in [course_root / CONFIG_FILE, *sorted((course_root / SOURCE_DIRECTORY / assignment).glob("*.ipynb"))]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def prepare_template(course_root, assignment, folder):
    """The template for `assignment` in `folder`, reused if it is up to date."""
    folder = Path(folder)
    wanted = source_hash(course_root, assignment)
    manifest = folder / MANIFEST
    if manifest.is_file():
        template = _load(folder, json.loads(manifest.read_text()))
        if template.source_hash == wanted and template.gradebook.is_file():
            return template
    if folder.exists():
        shutil.rmtree(folder)
    scratch = folder / "course"
    (scratch / SOURCE_DIRECTORY).mkdir(parents=True)
    shutil.copy(Path(course_root) / CONFIG_FILE, scratch / CONFIG_FILE)
    shutil.copytree(Path(course_root) / SOURCE_DIRECTORY / assignment, scratch / SOURCE_DIRECTORY / assignment)
    generate_assignment(scratch, assignment, release_root=folder / RELEASE,
                        db_url=f"sqlite:///{folder / GRADEBOOK}")
    template = _describe(folder, assignment, wanted, scratch / SOURCE_DIRECTORY / assignment)
    manifest.write_text(json.dumps(_dump(template), indent=1))
    return template


def _describe(folder, assignment, wanted_hash, source_folder):
    notebooks, grade_cells, imports, secrets = [], [], {}, set()
    for path in sorted(source_folder.glob("*.ipynb")):
        name = path.stem
        source = nbformat.read(path, as_version=4)
        released = nbformat.read(folder / RELEASE / assignment / path.name, as_version=4)
        notebooks.append(name)
        for cell in source.cells:
            nbgrader = cell.metadata.get("nbgrader", {})
            if nbgrader.get("grade"):
                grade_cells.append(GradeCell(name, nbgrader["grade_id"], float(nbgrader.get("points", 0)),
                                             auto=cell.cell_type == "code"))
        imports[name] = trusted_imports(source)
        secrets.update(secret_lines(source, released))
    return Template(folder, assignment, wanted_hash, tuple(notebooks), tuple(grade_cells), imports,
                    tuple(sorted(secrets)))


def _dump(template):
    return {"assignment": template.assignment, "source_hash": template.source_hash,
            "notebooks": list(template.notebooks),
            "grade_cells": [vars(cell) for cell in template.grade_cells],
            "trusted_imports": template.trusted_imports, "secret_lines": list(template.secret_lines)}


def _load(folder, data):
    return Template(folder, data["assignment"], data["source_hash"], tuple(data["notebooks"]),
                    tuple(GradeCell(**cell) for cell in data["grade_cells"]), data["trusted_imports"],
                    tuple(data["secret_lines"]))


def load_template(folder):
    """The template prepared earlier in `folder` (by `prepare_template`)."""
    folder = Path(folder)
    return _load(folder, json.loads((folder / MANIFEST).read_text()))
