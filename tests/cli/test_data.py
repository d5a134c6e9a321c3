"""`course data`: the command's own logic with the dataset modules stubbed, plus a run on
the real data when $COURSE_DATA_DIR is set."""
import os
from types import SimpleNamespace

import pytest

from course_lib.cli import data as data_command
from course_lib.cli import main
from course_lib.data.download import DownloadError
from course_lib.errors import CourseError

REAL_DATA_DIR = os.environ.get("COURSE_DATA_DIR")


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))


def stub_dataset(check=None, fill_cache=None):
    def failing_check(split, root):
        raise CourseError(f"{split} is missing")

    return SimpleNamespace(SPLITS=("train", "test"), check=check or failing_check,
                           fill_cache=fill_cache)


@pytest.fixture
def datasets(monkeypatch):
    """Replace the command's datasets: assign stubs to the returned dict."""
    stubs = {}
    monkeypatch.setattr(data_command, "DATASETS", stubs)
    return stubs


@pytest.mark.parametrize("argv", [["data"], ["data", "check"], ["data", "download"]])
def test_every_subcommand_has_help(argv, capsys):
    with pytest.raises(SystemExit) as exited:
        main([*argv, "--help"])
    assert exited.value.code == 0
    assert "usage: course " + " ".join(argv) in capsys.readouterr().out


def test_check_reports_each_split_and_succeeds(datasets, capsys):
    datasets["toy"] = stub_dataset(check=lambda split, root: f"{split} found in {root}")
    assert main(["data", "check", "--root", "/r"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "toy train: ok: train found in /r", "toy test: ok: test found in /r"]


def test_check_fails_if_anything_is_missing(datasets, capsys):
    datasets["good"] = stub_dataset(check=lambda split, root: "fine")
    datasets["bad"] = stub_dataset()
    assert main(["data", "check"]) == 1
    assert capsys.readouterr().out.splitlines() == [
        "good train: ok: fine", "good test: ok: fine",
        "bad train: PROBLEM: train is missing", "bad test: PROBLEM: test is missing"]


def test_check_only_the_datasets_named(datasets):
    datasets["good"] = stub_dataset(check=lambda split, root: "fine")
    datasets["bad"] = stub_dataset()
    assert main(["data", "check", "good"]) == 0


def test_unknown_dataset_is_one_line_and_fails(datasets, capsys):
    datasets["toy"] = stub_dataset()
    assert main(["data", "check", "cifar"]) == 1
    assert capsys.readouterr().err == "course: error: unknown dataset cifar; choose from toy\n"


def test_download_reports_what_it_did(datasets, capsys, tmp_path):
    datasets["toy"] = stub_dataset(fill_cache=lambda: ([tmp_path / "new"], [tmp_path / "old"]))
    assert main(["data", "download"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"toy: downloaded and verified {tmp_path / 'new'}",
        f"toy: already in the cache: {tmp_path / 'old'}"]


def test_a_failed_download_is_one_line_and_fails(datasets, capsys):
    def offline():
        raise DownloadError("could not download toy.gz (http://x/toy.gz: timed out)")

    datasets["toy"] = stub_dataset(fill_cache=offline)
    assert main(["data", "download", "toy"]) == 1
    assert capsys.readouterr().err == (
        "course: error: could not download toy.gz (http://x/toy.gz: timed out)\n")


def test_check_with_no_data_anywhere_says_how_to_get_it(capsys):
    assert main(["data", "check"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "mnist train", "mnist test", "imdb train", "imdb test"]
    assert all("PROBLEM" in line and "`course data download" in line for line in lines)


@pytest.mark.skipif(not REAL_DATA_DIR, reason="set COURSE_DATA_DIR to check the real data")
def test_check_the_real_data(monkeypatch, capsys):
    monkeypatch.setenv("COURSE_DATA_DIR", REAL_DATA_DIR)
    assert main(["data", "check"]) == 0
    out = capsys.readouterr().out
    assert "mnist train: ok: 60000 images, md5 verified, in $COURSE_DATA_DIR" in out
    assert "imdb test: ok: 25000 reviews, sha256 verified, in $COURSE_DATA_DIR" in out
