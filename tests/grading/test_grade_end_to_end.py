"""`course grade` end to end on a small crafted class of assignment 01, through nbgrader.

The first run is interrupted after its first finished submission, the second resumes it,
a third changes nothing and a fourth regrades only the one file that changed. Each crafted
student exercises several ways a submission can misbehave, one per exercise, so the
expected points say exactly which exercise each misbehaviour may cost.
"""
import html
import os
import re
import sys
import tempfile
import uuid
from dataclasses import replace
from pathlib import Path

import nbformat
import pytest

import course_lib.grading.grade as grade_module
from course_lib.data.locate import DATA_DIR_VARIABLE, cache_directory
from course_lib.grading.feedback import PRIVATE_COURSE_PREFIX, leaked_lines
from course_lib.grading.grade import Options, grade
from course_lib.grading.settings import Settings
from course_lib.grading.results import GRADED, UNGRADABLE
from course_lib.grading.sandbox import landlock_abi
from course_lib.grading.template import load_template
from tests.grading.harness import grade_id, is_answer_cell, solution_source

COURSE_ROOT = Path(__file__).resolve().parents[2]
ASSIGNMENT = "01_epochs_iterations"
NAME = "epochs_iterations"
OUTSIDE = Path("/tmp") / f"course-grade-test-{uuid.uuid4().hex}"
FULL = {"test_iterations_per_epoch": 2, "test_total_updates": 1, "test_minibatch_indices": 3,
        "test_linear_regression_gradients": 2, "test_logistic_regression_gradients": 2,
        "test_minibatch_gradient_descent": 3, "test_train_step": 2, "test_train_epoch": 3}

# Student "chaos": each answer cell misbehaves differently; only minibatch_gradient_descent
# (right, but printing 10 MB) keeps its points.
CHAOS = {
    # a wrong answer, and the test cell edited to pass: nbgrader restores the test
    "iterations_per_epoch": "def iterations_per_epoch(n_samples, batch_size, drop_last=False):\n"
                            "    return n_samples // batch_size\n",
    # an infinite loop: stopped by the kernel once it has used the cell's CPU time
    "total_updates": "while True:\n    pass\n",
    # a loop that ignores the kernel's CPU-time signal and interrupts: the kernel is killed
    # (at KILL_AFTER times the CPU time) and restarted
    "minibatch_indices": "import signal\nfor _signal in (signal.SIGINT, signal.SIGPROF):\n"
                         "    signal.signal(_signal, signal.SIG_IGN)\nwhile True:\n    pass\n",
    # the kernel exits
    "linear_regression_gradients": "import os\nos._exit(3)\n",
    # a memory bomb: a MemoryError at the kernel's address-space limit. np.empty reserves
    # without touching the memory, so the limit is reached within milliseconds however
    # busy the machine is (a bomb that writes its pages could meet the cell timeout first)
    "logistic_regression_gradients": "def _bomb():\n    hog = []\n    while True:\n"
                                     "        hog.append(np.empty(2**27))\n_bomb()\n",
    # a wrong answer that patches the comparisons and the checks the test uses
    "train_step": "def train_step(model, inputs, targets, loss_fn, optimizer):\n    return 0.0\n\n"
                  "np.allclose = lambda *args, **kwargs: True\n"
                  "torch.allclose = lambda *args, **kwargs: True\n"
                  "import course_lib.checking\n"
                  "course_lib.checking.check_train_step = lambda *args, **kwargs: None\n"
                  "checking.check_scalar = lambda *args, **kwargs: None\n",
    # a wrong answer that replaces the reference implementation and the check, reads the
    # instructor's files and writes outside its working directory
    "train_epoch": "def train_epoch(model, loader, loss_fn, optimizer, *, progress=False):\n"
                   "    from course_lib.training import EpochStats\n"
                   "    return EpochStats(mean_loss=0.0, steps=0, seconds=0.0)\n\n"
                   "import course_lib.training\n"
                   "course_lib.training.train_epoch = train_epoch\n"
                   "checking.check_train_epoch = lambda *args, **kwargs: None\n"
                   "import glob, os\n"
                   f"for _path in ['{COURSE_ROOT}/solutions/{ASSIGNMENT}/{NAME}.ipynb', "
                   "'../../../../gradebook.db', *glob.glob('../../../../*')]:\n"
                   "    try:\n        print('READ', _path, open(_path, 'rb').read()[:20])\n"
                   "    except OSError as error:\n        print('denied', _path, type(error).__name__)\n"
                   f"for _path in ['{OUTSIDE}', '{COURSE_ROOT}/solutions/pwned.txt', '../../../../pwned.txt']:\n"
                   "    try:\n        open(_path, 'w').write('pwned')\n"
                   "    except OSError as error:\n        print('denied', _path, type(error).__name__)\n",
}
CHAOS_POINTS = {**dict.fromkeys(FULL, 0), "test_minibatch_gradient_descent": 3}


def released():
    return nbformat.read(load_template(TEMPLATES / ASSIGNMENT).released(NAME), as_version=4)


def solved(answers=None):
    """The released notebook with every answer the solution's, except `answers`."""
    notebook = released()
    source = nbformat.read(COURSE_ROOT / "solutions" / ASSIGNMENT / f"{NAME}.ipynb", as_version=4)
    solutions = {grade_id(cell): cell for cell in source.cells}
    for cell in notebook.cells:
        if is_answer_cell(cell) and cell.cell_type == "code":
            cell.source = (answers or {}).get(grade_id(cell), solution_source(solutions[grade_id(cell)]))
    return notebook


def chaos():
    notebook = solved(CHAOS)
    for cell in notebook.cells:
        if grade_id(cell) == "test_iterations_per_epoch":
            cell.source = "print('all good')"
        if grade_id(cell) == "minibatch_gradient_descent":
            cell.source += "\nprint('x' * 10_000_000)\n"
    return notebook


# Student "structure" answers train_step by calling the course's own solution.
DELEGATING_TRAIN_STEP = ("def train_step(model, inputs, targets, loss_fn, optimizer):\n"
                         "    from course_lib.training import train_step as solution\n"
                         "    return solution(model, inputs, targets, loss_fn, optimizer)\n")
# ... and prints a RuntimeWarning, which names the file of the cell: in the kernel's TMPDIR
WARNING = "_ = np.log(np.zeros(1))  # RuntimeWarning: divide by zero encountered in log\n"


def structure():
    """Right answers except train_step, which delegates to the course's solution; an answer
    cell that prints a RuntimeWarning; test_total_updates deleted, test_minibatch_indices
    duplicated, test_linear_regression_gradients moved above its answer, cell ids changed."""
    notebook = solved({"train_step": DELEGATING_TRAIN_STEP})
    for cell in notebook.cells:
        if grade_id(cell) == "iterations_per_epoch":
            cell.source += "\n" + WARNING
    cells = notebook.cells
    index = {grade_id(cell): position for position, cell in enumerate(cells)}
    duplicate = nbformat.from_dict(cells[index["test_minibatch_indices"]])
    duplicate.id = "duplicate"
    moved = cells[index["test_linear_regression_gradients"]]
    answer = index["linear_regression_gradients"]
    for cell in cells:
        cell.id = f"x{uuid.uuid4().hex[:8]}"
    new_cells = []
    for position, cell in enumerate(cells):
        if grade_id(cell) in ("test_total_updates", "test_linear_regression_gradients"):
            continue
        if position == answer:
            new_cells.append(moved)
        new_cells.append(cell)
        if grade_id(cell) == "test_minibatch_indices":
            new_cells.append(duplicate)
    notebook.cells = new_cells
    return notebook


STRUCTURE_POINTS = {**FULL, "test_total_updates": 0, "test_linear_regression_gradients": 0, "test_train_step": 0}
TEMPLATES = None  # set by the fixture, once the run has prepared the template


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory, monkeypatch_module):
    global TEMPLATES
    root = tmp_path_factory.mktemp("grade")
    out, submissions = root / "out", root / "submissions"
    # the private courses go here, so that the test can see that none is left behind
    (root / "tmp").mkdir()
    monkeypatch_module.setattr(tempfile, "tempdir", str(root / "tmp"))
    options = Options(assignments=[ASSIGNMENT], workers=2, progress=False, job_timeout=400,
                      settings=Settings(cell_timeout=5, memory_bytes=3 * 2**30))
    from course_lib.grading.template import prepare_template

    TEMPLATES = out / ".state" / "templates"
    prepare_template(COURSE_ROOT, ASSIGNMENT, TEMPLATES / ASSIGNMENT)
    nbgrader_layout = submissions / "submitted"
    for student, notebook in (("perfect", solved()), ("blank", released())):
        folder = nbgrader_layout / student / ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(notebook, folder / f"{NAME}.ipynb")
    nbformat.write(chaos(), submissions / f"chaos_{NAME}.ipynb")
    nbformat.write(structure(), submissions / f"structure_{NAME}.ipynb")
    (submissions / f"malformed_{NAME}.ipynb").write_text('{"cells": [{"cell_type": "code",')
    (submissions / f"empty_{NAME}.ipynb").write_text("")

    # Run 1, interrupted as soon as one submission is finished.
    real_run_jobs = grade_module._run_jobs

    def interrupted(*args, **kwargs):
        jobs = real_run_jobs(*args, **kwargs)
        yield next(jobs)
        jobs.close()
        raise KeyboardInterrupt

    monkeypatch_module.setattr(grade_module, "_run_jobs", interrupted)
    with pytest.raises(KeyboardInterrupt):
        # one worker: a second one would be killed mid-submission, its grading thrown away
        grade(COURSE_ROOT, submissions, out, replace(options, workers=1))
    monkeypatch_module.setattr(grade_module, "_run_jobs", real_run_jobs)
    finished_first = {path.parent.name for path in (out / ".state" / "results").rglob("*.json")}
    resumed = grade(COURSE_ROOT, submissions, out, options)
    unchanged = grade(COURSE_ROOT, submissions, out, options)
    (submissions / f"malformed_{NAME}.ipynb").write_text("not json at all")
    changed = grade(COURSE_ROOT, submissions, out, options)
    return {"out": out, "tmp": root / "tmp", "first": finished_first, "resumed": resumed, "unchanged": unchanged,
            "changed": changed}


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def points(out):
    import csv

    with open(out / "grades.csv", newline="") as file:
        rows = list(csv.DictReader(file))
    by_student = {}
    for row in rows:
        if row["graded_by"] == "autograder":
            by_student.setdefault(row["student"], {})[row["cell"]] = float(row["points"])
    return by_student, rows


# one worker for the whole module, so the class is graded once and not once per xdist worker
pytestmark = [pytest.mark.notebook, pytest.mark.xdist_group("grade_end_to_end")]


def test_each_crafted_case_costs_exactly_its_own_points(graded_class):
    by_student, _ = points(graded_class["out"])
    assert by_student["perfect"] == FULL
    assert by_student["blank"] == dict.fromkeys(FULL, 0.0)
    assert by_student["chaos"] == CHAOS_POINTS
    assert by_student["structure"] == STRUCTURE_POINTS
    assert by_student["malformed"] == dict.fromkeys(FULL, 0.0)
    assert by_student["empty"] == dict.fromkeys(FULL, 0.0)


def test_statuses_and_reasons(graded_class):
    records = {record.student: record for record in graded_class["changed"].records}
    assert {name for name, record in records.items() if record.status == UNGRADABLE} == {"malformed", "empty"}
    assert "empty" in records["empty"].reason
    assert "not a valid notebook" in records["malformed"].reason
    assert records["perfect"].status == GRADED and not records["perfect"].suspicious
    assert records["chaos"].suspicious
    assert {name: record.delegated for name, record in records.items() if record.delegated} == {
        "structure": {"test_train_step": "course_lib.training.train_step"}}


def test_the_misbehaving_cells_say_what_happened(graded_class):
    notebook = nbformat.read(graded_class["out"] / "autograded" / "chaos" / ASSIGNMENT / f"{NAME}.ipynb",
                             as_version=4)
    errors = {grade_id(cell): {output.ename: output.evalue for output in cell.outputs if output.output_type == "error"}
              for cell in notebook.cells if cell.cell_type == "code" and grade_id(cell)}
    expected = {"total_updates": "CellTimeoutError", "minibatch_indices": "KernelRestarted",
                "linear_regression_gradients": "KernelRestarted", "logistic_regression_gradients": "MemoryError"}
    seen = {cell: errors[cell] for cell in expected}
    assert all(expected[cell] in seen[cell] for cell in expected), f"expected {expected}, saw {seen}"
    assert "CPU time" in seen["total_updates"]["CellTimeoutError"]
    assert "CPU time" in seen["minibatch_indices"]["KernelRestarted"]
    assert "kernel died" in seen["linear_regression_gradients"]["KernelRestarted"]
    outputs = {grade_id(cell): "".join(output.get("text", "") for output in cell.outputs)
               for cell in notebook.cells if cell.cell_type == "code" and grade_id(cell)}
    assert "truncated" in outputs["minibatch_gradient_descent"]
    assert len(outputs["minibatch_gradient_descent"]) < 200_000
    assert "READ" not in outputs["train_epoch"]
    assert outputs["train_epoch"].count("denied") >= 4


def test_no_private_course_is_left_behind_even_by_the_interrupted_run(graded_class):
    assert list(graded_class["tmp"].iterdir()) == []


@pytest.mark.skipif(landlock_abi() < 1, reason="writes are confined by Linux Landlock, not available here")
def test_nothing_was_written_outside_the_working_copy(graded_class):
    assert not OUTSIDE.exists()
    assert not (COURSE_ROOT / "solutions" / "pwned.txt").exists()


def test_feedback_shows_no_hidden_test_source(graded_class):
    out = graded_class["out"]
    secrets = load_template(out / ".state" / "templates" / ASSIGNMENT).secret_lines
    feedback = sorted((out / "feedback").rglob("*.html"))
    assert {path.parts[-3] for path in feedback} == {"perfect", "blank", "chaos", "structure"}
    for path in feedback:
        text = path.read_text()
        assert not leaked_lines(text, secrets), path
        assert "hidden tests: not shown" in text
    chaos_feedback = plain_text(out / "feedback" / "chaos" / ASSIGNMENT / f"{NAME}.html")
    assert "os._exit(3)" in chaos_feedback                        # the student's own code
    assert "course grade: output of this cell truncated" in chaos_feedback   # their output
    blank = plain_text(out / "feedback" / "blank" / ASSIGNMENT / f"{NAME}.html")
    assert "NotImplementedError" in blank                         # the visible tests' failure
    structure_feedback = plain_text(out / "feedback" / "structure" / ASSIGNMENT / f"{NAME}.html")
    assert "DelegationFailure: train_step(model, inputs, targets, loss_fn, optimizer) called " \
           "course_lib.training.train_step" in structure_feedback


def test_feedback_shows_no_path_of_the_grading_machine(graded_class):
    out = graded_class["out"]
    structure_feedback = plain_text(out / "feedback" / "structure" / ASSIGNMENT / f"{NAME}.html")
    assert re.search(r"(?<![/\w])\w+\.py:\d+: RuntimeWarning: divide by zero encountered in log", structure_feedback)
    data = os.environ.get(DATA_DIR_VARIABLE) or str(cache_directory())
    machine = [f"/{PRIVATE_COURSE_PREFIX}", f"{sys.prefix}/", data]
    for path in sorted((out / "feedback").rglob("*.html")):
        text = plain_text(path).replace(str(OUTSIDE), "")   # a path chaos typed into its own code
        assert not [folder for folder in machine if folder in text], path


def plain_text(path):
    """The text of an HTML file, as a reader sees it (syntax highlighting splits code)."""
    return html.unescape(re.sub(r"<[^>]*>", "", path.read_text()))


def test_report_names_the_ungradable_submissions(graded_class):
    report = (graded_class["out"] / "report.html").read_text()
    assert "data:image/png;base64," in report
    for student in ("malformed", "empty"):
        assert f"<td>{student}</td>" in report
    assert "Most frequent failure messages" in report


def test_report_lists_the_delegating_answer_to_read_by_hand(graded_class):
    report = (graded_class["out"] / "report.html").read_text()
    to_read = report[report.index("<h2>Code to read by hand</h2>"):]
    assert ("<tr><td>structure</td><td>01_epochs_iterations</td><td>test_train_step</td>"
            "<td>course_lib.training.train_step</td></tr>") in to_read


def test_resume_keeps_what_the_interrupted_run_finished(graded_class):
    first, resumed = graded_class["first"], graded_class["resumed"]
    assert len(first) >= 1
    assert resumed.reused == len(first)
    assert resumed.graded_now + resumed.reused == 6


def test_rerun_regrades_only_what_changed(graded_class):
    assert graded_class["unchanged"].graded_now == 0
    assert graded_class["changed"].graded_now == 1
    records = {record.student: record for record in graded_class["changed"].records}
    assert "not a valid notebook" in records["malformed"].reason


def test_totals_sheet(graded_class):
    import csv

    with open(graded_class["out"] / "totals.csv", newline="") as file:
        totals = {row["student"]: row for row in csv.DictReader(file)}
    assert float(totals["perfect"]["total"]) == sum(FULL.values()) == float(totals["perfect"]["max"])
    assert float(totals["chaos"]["total"]) == sum(CHAOS_POINTS.values())
    assert sorted(totals) == ["blank", "chaos", "empty", "malformed", "perfect", "structure"]
