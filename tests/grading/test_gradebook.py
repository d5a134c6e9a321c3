"""DIR as formgrader sees it, checked with nbgrader's own API (the one formgrader's handlers
call), on the templates of two real assignments and result records made by hand."""
import os
import shutil
from pathlib import Path

import pytest
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.apps import NbGraderAPI
from traitlets.config.loader import PyFileConfigLoader

from course_lib.grading import gradebook as gradebook_module
from course_lib.grading.feedback import RedactHiddenTests
from course_lib.grading.gradebook import CONFIG_FILE, GRADEBOOK_FILE, write_class_gradebook
from course_lib.grading.results import GRADED, NOT_SUBMITTED, STATE, UNGRADABLE, CellGrade, Record
from course_lib.grading.template import Template, prepare_template

COURSE_ROOT = Path(__file__).resolve().parents[2]
FIRST, SECOND = "01_epochs_iterations", "02_backprop"


@pytest.fixture(scope="module")
def templates(tmp_path_factory):
    folder = tmp_path_factory.mktemp("templates")
    return {name: prepare_template(COURSE_ROOT, name, folder / name) for name in (FIRST, SECOND)}


@pytest.fixture
def out(tmp_path, templates):
    """An empty DIR holding the templates where `course grade` keeps them."""
    for name, template in templates.items():
        shutil.copytree(template.folder, tmp_path / STATE / "templates" / name)
    return tmp_path


def record(template, student, status=GRADED, lost=(), key="k1"):
    """Full points on every autograded cell except those in `lost`; written answers pending."""
    if status == UNGRADABLE:
        return Record.ungradable(template, student, status, key=key, notebooks=dict.fromkeys(template.notebooks, ""))
    if status == NOT_SUBMITTED:
        return Record.not_submitted(template, student)
    cells = [CellGrade(cell.notebook, cell.cell, cell.max_points, cell.auto,
                       (0.0 if cell.cell in lost else cell.max_points) if cell.auto else None,
                       "AssertionError: no" if cell.cell in lost else "") for cell in template.grade_cells]
    return Record.graded(student, template.assignment, key, cells, notebooks=dict.fromkeys(template.notebooks, ""))


def auto_total(template, lost=()):
    return sum(cell.max_points for cell in template.grade_cells if cell.auto and cell.cell not in lost)


def api(out):
    config = PyFileConfigLoader(CONFIG_FILE, path=str(out)).load_config()
    return NbGraderAPI(config=config)


def submissions(out, assignment):
    return {submission["student"]: submission for submission in api(out).get_submissions(assignment)}


def grade_by_hand(out, assignment, student, cell, score, comment=None):
    """What formgrader's handlers do when the instructor types a score (and a comment)."""
    with Gradebook(f"sqlite:///{out / GRADEBOOK_FILE}") as gradebook:
        notebook = gradebook.find_assignment(assignment).notebooks[0].name
        grade = gradebook.find_grade(cell, notebook, assignment, student)
        grade.manual_score, grade.extra_credit, grade.needs_manual_grade = score, 0.5, False
        if comment is not None:
            gradebook.find_comment(cell, notebook, assignment, student).manual_comment = comment
        gradebook.db.commit()


def grade_of(out, assignment, student, cell):
    with Gradebook(f"sqlite:///{out / GRADEBOOK_FILE}") as gradebook:
        notebook = gradebook.find_assignment(assignment).notebooks[0].name
        grade = gradebook.find_grade(cell, notebook, assignment, student).to_dict()
        try:
            grade["comment"] = gradebook.find_comment(cell, notebook, assignment, student).manual_comment
        except MissingEntry:  # a test cell: no comment
            grade["comment"] = None
        return grade


def test_formgrader_lists_every_submission_with_its_score(out, templates):
    first = templates[FIRST]
    written = sum(cell.max_points for cell in first.grade_cells if not cell.auto)
    records = [record(first, "ada"), record(first, "bob", lost=("test_total_updates",)),
               record(first, "carl", UNGRADABLE), record(first, "dora", NOT_SUBMITTED)]
    write_class_gradebook(out, records, {FIRST: first}, COURSE_ROOT)

    assignment = next(a for a in api(out).get_assignments() if a["name"] == FIRST)
    assert assignment["num_submissions"] == 3
    assert assignment["max_score"] == auto_total(first) + written
    found = submissions(out, FIRST)
    assert sorted(found) == ["ada", "bob", "carl"]   # dora submitted nothing: no submission
    assert found["ada"]["score"] == auto_total(first)
    assert found["bob"]["score"] == auto_total(first, lost=("test_total_updates",))
    assert found["ada"]["needs_manual_grade"] and found["bob"]["needs_manual_grade"]   # the written answers
    # nothing to grade by hand in an ungradable submission: nbgrader's rule for a missing notebook
    carl = found["carl"]
    assert carl["score"] == 0 and carl["autograded"] and not carl["needs_manual_grade"]
    assert grade_of(out, FIRST, "ada", "written_loss_curves")["auto_score"] is None
    with Gradebook(f"sqlite:///{out / GRADEBOOK_FILE}") as gradebook:
        with pytest.raises(MissingEntry):
            gradebook.find_submission(FIRST, "dora")


def test_formgrader_finds_the_autograded_notebooks_to_grade_by_hand(out, templates):
    first = templates[FIRST]
    write_class_gradebook(out, [record(first, "ada"), record(first, "bob")], {FIRST: first}, COURSE_ROOT)
    (notebook,) = first.notebooks
    shutil.copy(first.released(notebook), out / "autograded" / "ada" / FIRST / f"{notebook}.ipynb")
    indices = api(out).get_notebook_submission_indices(FIRST, notebook)
    with Gradebook(f"sqlite:///{out / GRADEBOOK_FILE}") as gradebook:
        ada = gradebook.find_submission_notebook(notebook, FIRST, "ada").id
    assert indices == {ada: 0}   # bob's notebook is not on disk, so formgrader skips it


def test_a_rerun_updates_autograded_scores_and_keeps_hand_grading(out, templates):
    first = templates[FIRST]
    everyone = {FIRST: first}
    write_class_gradebook(out, [record(first, "ada"), record(first, "bob")], everyone, COURSE_ROOT)
    for student in ("ada", "bob"):
        grade_by_hand(out, FIRST, student, "written_loss_curves", 1.0, comment="too short")
        grade_by_hand(out, FIRST, student, "test_train_step", 1.5)   # overriding the autograder

    lost = ("test_total_updates", "test_train_epoch")
    write_class_gradebook(out, [record(first, "ada", lost=lost, key="k2"), record(first, "bob")], everyone,
                          COURSE_ROOT)
    ada = {cell: grade_of(out, FIRST, "ada", cell) for cell in ("test_train_epoch", "written_loss_curves",
                                                                 "test_train_step")}
    assert ada["test_train_epoch"]["auto_score"] == 0.0
    written = ada["written_loss_curves"]
    assert (written["manual_score"], written["extra_credit"], written["comment"]) == (1.0, 0.5, "too short")
    assert ada["test_train_step"]["manual_score"] == 1.5
    # ada's submission was regraded: as nbgrader's autograde does, her hand grades are to be reviewed
    assert ada["written_loss_curves"]["needs_manual_grade"] and ada["test_train_step"]["needs_manual_grade"]
    # bob's was not: what the instructor settled stays settled
    assert not grade_of(out, FIRST, "bob", "written_loss_curves")["needs_manual_grade"]
    # the hand-given scores count, each with its extra credit
    hand_given = 1.5 + 0.5 + 1.0 + 0.5
    autograded = auto_total(first, lost=(*lost, "test_train_step"))
    assert submissions(out, FIRST)["ada"]["score"] == autograded + hand_given


def test_two_assignments_in_one_gradebook_also_from_separate_runs(out, templates):
    first, second = templates[FIRST], templates[SECOND]
    write_class_gradebook(out, [record(first, "ada")], {FIRST: first}, COURSE_ROOT)
    write_class_gradebook(out, [record(second, "ada"), record(second, "bob")], {SECOND: second}, COURSE_ROOT)
    listed = {a["name"]: a for a in api(out).get_assignments()}
    assert listed[FIRST]["num_submissions"] == 1 and listed[SECOND]["num_submissions"] == 2
    assert submissions(out, FIRST)["ada"]["score"] == auto_total(first)
    assert submissions(out, SECOND)["bob"]["score"] == auto_total(second)
    assert {student["id"] for student in api(out).get_students()} == {"ada", "bob"}


def test_the_configuration_points_formgrader_at_dir_and_back_into_the_course(out, templates):
    write_class_gradebook(out, [record(templates[FIRST], "ada")], {FIRST: templates[FIRST]}, COURSE_ROOT)
    text = (out / CONFIG_FILE).read_text()
    assert "written by `course grade`" in text and f"python3 bootstrap.py instructor --grades {out}" in text
    config = PyFileConfigLoader(CONFIG_FILE, path=str(out)).load_config()
    coursedir = config.CourseDirectory
    assert coursedir.root == str(out)
    assert coursedir.db_url == f"sqlite:///{out / GRADEBOOK_FILE}"
    assert coursedir.source_directory == str(COURSE_ROOT / "solutions")
    assert coursedir.release_directory == str(COURSE_ROOT / "notebooks")
    assert coursedir.course_id == "how-nets-train" and config.Execute.timeout == 120   # the course's own
    # formgrader's "generate feedback" leaves out the hidden tests of both assignments graded into DIR
    assert config.GenerateFeedback.preprocessors[0] is RedactHiddenTests
    secrets = set(config.RedactHiddenTests.secret_lines)
    assert set(templates[FIRST].secret_lines) <= secrets and set(templates[SECOND].secret_lines) <= secrets


def test_a_corrupt_gradebook_is_replaced_and_kept_aside_with_a_warning(out, templates):
    garbage = os.urandom(4096)
    (out / GRADEBOOK_FILE).write_bytes(garbage)
    with pytest.warns(UserWarning, match="not a readable gradebook"):
        write_class_gradebook(out, [record(templates[FIRST], "ada")], {FIRST: templates[FIRST]}, COURSE_ROOT)
    assert submissions(out, FIRST)["ada"]["score"] == auto_total(templates[FIRST])
    (kept,) = out.glob(f"{GRADEBOOK_FILE}.*")
    assert kept.read_bytes() == garbage


def test_an_interrupted_run_leaves_the_previous_gradebook_whole(out, templates, monkeypatch):
    first = templates[FIRST]
    write_class_gradebook(out, [record(first, "ada")], {FIRST: first}, COURSE_ROOT)
    before = (out / GRADEBOOK_FILE).read_bytes()

    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(gradebook_module, "_save_submission", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_class_gradebook(out, [record(first, "ada", lost=("test_train_step",), key="k2")],
                              {FIRST: first}, COURSE_ROOT)
    assert (out / GRADEBOOK_FILE).read_bytes() == before
    assert sorted(path.name for path in out.iterdir() if path.name.startswith(".")) == [STATE]


def test_a_running_formgrader_sees_the_rerun_and_keeps_writing_to_the_same_file(out, templates):
    first = templates[FIRST]
    write_class_gradebook(out, [record(first, "ada")], {FIRST: first}, COURSE_ROOT)
    with Gradebook(f"sqlite:///{out / GRADEBOOK_FILE}") as formgrader:   # open all along, like formgrader's
        formgrader.find_grade("test_train_step", "epochs_iterations", FIRST, "ada")
        write_class_gradebook(out, [record(first, "ada", lost=("test_train_step",), key="k2")],
                              {FIRST: first}, COURSE_ROOT)
        formgrader.db.expire_all()
        grade = formgrader.find_grade("test_train_step", "epochs_iterations", FIRST, "ada")
        assert grade.auto_score == 0.0
        grade.manual_score = 1.0
        formgrader.db.commit()
    assert grade_of(out, FIRST, "ada", "test_train_step")["manual_score"] == 1.0


def test_changed_cells_rebuild_the_assignment_and_keep_the_old_gradebook(out, templates, tmp_path_factory):
    first = templates[FIRST]
    write_class_gradebook(out, [record(first, "ada")], {FIRST: first}, COURSE_ROOT)
    grade_by_hand(out, FIRST, "ada", "written_loss_curves", 1.0)
    # the same assignment with one test cell fewer, as after the instructor deleted it
    folder = tmp_path_factory.mktemp("changed") / FIRST
    shutil.copytree(first.folder, folder)
    with Gradebook(f"sqlite:///{folder / 'gradebook.db'}") as gradebook:
        gradebook.db.delete(gradebook.find_grade_cell("test_train_epoch", "epochs_iterations", FIRST))
        gradebook.db.commit()
    changed = Template(folder, FIRST, "changed", first.notebooks,
                       tuple(cell for cell in first.grade_cells if cell.cell != "test_train_epoch"),
                       first.trusted_imports, first.secret_lines)
    with pytest.warns(UserWarning, match="graded cells of 01_epochs_iterations changed"):
        write_class_gradebook(out, [record(changed, "ada", key="k2")], {FIRST: changed}, COURSE_ROOT)
    assert submissions(out, FIRST)["ada"]["score"] == auto_total(changed)
    assert grade_of(out, FIRST, "ada", "written_loss_curves")["manual_score"] is None
    (kept,) = out.glob(f"{GRADEBOOK_FILE}.*")
    with Gradebook(f"sqlite:///{kept}") as gradebook:
        kept_grade = gradebook.find_grade("written_loss_curves", "epochs_iterations", FIRST, "ada")
        assert kept_grade.manual_score == 1.0
