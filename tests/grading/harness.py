"""A throwaway nbgrader course for tests: release an assignment, build submissions from
the solution notebook, autograde them all in one run through nbgrader's API and read the
scores back."""
import shutil
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook
from nbgrader.apps import NbGraderAPI

from course_lib.grading.course import CONFIG_FILE, RELEASE_DIRECTORY, SOURCE_DIRECTORY, course_config
from course_lib.grading.release import generate_assignment

SOLUTION_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")


def grade_id(cell):
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def is_answer_cell(cell):
    return cell.metadata.get("nbgrader", {}).get("solution", False)


def solution_source(cell):
    """The answer a student who got everything right would have typed."""
    return "\n".join(line for line in cell.source.splitlines()
                     if line.strip() not in SOLUTION_MARKERS)


@dataclass
class GradingCourse:
    root: Path
    assignment: str

    @classmethod
    def create(cls, course_root, assignment, scratch):
        """Copy one assignment's source into `scratch` and release it there."""
        scratch = Path(scratch)
        shutil.copy(Path(course_root) / CONFIG_FILE, scratch / CONFIG_FILE)
        shutil.copytree(Path(course_root) / SOURCE_DIRECTORY / assignment,
                        scratch / SOURCE_DIRECTORY / assignment)
        generate_assignment(scratch, assignment)
        return cls(scratch, assignment)

    @property
    def db_url(self):
        return f"sqlite:///{self.root / 'gradebook.db'}"

    def notebook_names(self):
        return sorted(path.stem for path in (self.root / SOURCE_DIRECTORY / self.assignment).glob("*.ipynb"))

    def read(self, directory, name):
        return nbformat.read(self.root / directory / self.assignment / f"{name}.ipynb", as_version=4)

    def submission(self, name, answers=None):
        """The released notebook with answer cells filled: the solution by default,
        `answers[grade_id]` where given, the released (blank) cell where that is None;
        `answers=None` for the blank notebook."""
        released = self.read(RELEASE_DIRECTORY, name)
        if answers is None:
            return released
        solutions = {grade_id(cell): cell for cell in self.read(SOURCE_DIRECTORY, name).cells}
        for cell in released.cells:
            if is_answer_cell(cell):
                answer = answers.get(grade_id(cell), solution_source(solutions[grade_id(cell)]))
                if answer is not None:
                    cell.source = answer
        return released

    def submit(self, student, notebooks):
        folder = self.root / "submitted" / student / self.assignment
        folder.mkdir(parents=True, exist_ok=True)
        for name, notebook in notebooks.items():
            nbformat.write(notebook, folder / f"{name}.ipynb")

    def autograde(self):
        """Autograde every submission in one nbgrader run; {student: {notebook: {grade_id:
        (score, max_score)}}} of their automatically graded cells."""
        api = NbGraderAPI(config=course_config(self.root))
        result = api.autograde(self.assignment, "*", force=True, create=True)
        assert result["success"], result.get("error") or result.get("log")
        students = sorted(path.name for path in (self.root / "submitted").iterdir())
        with Gradebook(self.db_url) as gradebook:
            return {student: {name: self._scores(gradebook, name, student) for name in self.notebook_names()}
                    for student in students}

    def _scores(self, gradebook, name, student):
        notebook = gradebook.find_submission_notebook(name, self.assignment, student)
        return {grade.name: (grade.score, grade.max_score)
                for grade in notebook.grades if grade.auto_score is not None}
