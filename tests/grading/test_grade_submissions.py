import zipfile

import pytest

from course_lib.errors import CourseError
from course_lib.grading.submissions import discover, opened

RELEASED = {"01_epochs_iterations": ["epochs_iterations"], "02_backprop": ["backprop", "mlp_backprop"]}


def touch(path, text="{}"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_nbgrader_and_flat_layouts_side_by_side(tmp_path):
    touch(tmp_path / "submitted" / "ada" / "01_epochs_iterations" / "epochs_iterations.ipynb")
    touch(tmp_path / "bob_epochs_iterations.ipynb")
    touch(tmp_path / "bob_2_mlp_backprop.ipynb")   # the longest notebook name wins
    found = discover(tmp_path, RELEASED)
    assert [(s.student, s.assignment, sorted(s.notebooks)) for s in found.submissions] == [
        ("ada", "01_epochs_iterations", ["epochs_iterations"]),
        ("bob", "01_epochs_iterations", ["epochs_iterations"]),
        ("bob_2", "02_backprop", ["mlp_backprop"]),
    ]
    assert found.problems == []


def test_problems_are_reported_not_guessed(tmp_path):
    touch(tmp_path / "ada" / "01_epochs_iterations" / "other.ipynb")
    touch(tmp_path / "notes_unknown.ipynb")
    touch(tmp_path / "bad id!_epochs_iterations.ipynb")
    touch(tmp_path / "cy_epochs_iterations.ipynb")
    touch(tmp_path / "submitted" / "cy" / "01_epochs_iterations" / "epochs_iterations.ipynb")
    touch(tmp_path / ".ipynb_checkpoints" / "dee_epochs_iterations.ipynb")
    touch(tmp_path / "readme.txt")
    found = discover(tmp_path, RELEASED)
    reasons = {problem.path: problem.reason for problem in found.problems}
    assert "has no notebook named 'other'" in reasons["ada/01_epochs_iterations/other.ipynb"]
    assert "not a submission" in reasons["notes_unknown.ipynb"]
    assert "cannot be used" in reasons["bad id!_epochs_iterations.ipynb"]
    assert any("given twice" in reason for reason in reasons.values())
    assert [s.student for s in found.submissions] == ["cy"]


def test_zip_is_unpacked(tmp_path):
    archive = tmp_path / "class.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("export/ada_epochs_iterations.ipynb", "{}")
    with opened(archive) as folder:
        assert [s.student for s in discover(folder, RELEASED).submissions] == ["ada"]


@pytest.mark.parametrize("kind", ["folder", "zip"])
def test_a_relative_path_is_opened_as_an_absolute_one(tmp_path, monkeypatch, kind):
    # the grading workers run in folders of their own, where a relative path finds nothing
    touch(tmp_path / "class" / "ada_epochs_iterations.ipynb")
    if kind == "zip":
        with zipfile.ZipFile(tmp_path / "class.zip", "w") as zipped:
            zipped.write(tmp_path / "class" / "ada_epochs_iterations.ipynb", "ada_epochs_iterations.ipynb")
    monkeypatch.chdir(tmp_path)
    with opened("class" if kind == "folder" else "class.zip") as folder:
        [submission] = discover(folder, RELEASED).submissions
        monkeypatch.chdir("/")
        assert submission.notebooks["epochs_iterations"].is_file()


def test_zip_members_cannot_escape(tmp_path):
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("../escaped_epochs_iterations.ipynb", "{}")
    with pytest.raises(CourseError, match="outside the archive"):
        with opened(archive):
            pass


def test_neither_folder_nor_zip(tmp_path):
    touch(tmp_path / "file.txt", "hello")
    with pytest.raises(CourseError, match="neither a folder nor a .zip"):
        with opened(tmp_path / "file.txt"):
            pass
