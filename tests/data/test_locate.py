import pytest

from course_lib.data import locate
from course_lib.data.sources import Dataset
from course_lib.errors import CourseError

pytestmark = pytest.mark.usefixtures("isolated")

FILES = ("a.gz", "b.gz")


def make_files(directory, names=FILES):
    (directory / "toy").mkdir(parents=True, exist_ok=True)
    for name in names:
        (directory / "toy" / name).write_bytes(b"x")


@pytest.fixture
def toy(tmp_path, make_datafile):
    """A dataset 'toy' of two files, published as file:// URLs under tmp_path/remote."""
    remote = tmp_path / "remote"
    remote.mkdir()
    files = []
    for name in FILES:
        (remote / name).write_bytes(name.encode())
        files.append(make_datafile(name, name.encode(), urls=[(remote / name).as_uri()]))
    return Dataset("toy", tuple(files))


def find(dataset, root=None, download=False):
    return locate.find(dataset, [FILES], "Toy", root, download)


def test_cache_directory_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert locate.cache_directory() == tmp_path / "how-nets-train"


@pytest.mark.parametrize("xdg", ["", "relative/cache"])
def test_cache_directory_defaults_to_home(monkeypatch, tmp_path, xdg):
    monkeypatch.setenv("XDG_CACHE_HOME", xdg)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert locate.cache_directory() == tmp_path / ".cache" / "how-nets-train"


def test_places_in_order(monkeypatch, tmp_path, cache_dir):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "env"))
    assert locate.places(root=tmp_path / "root") == [
        locate.Place("the root= argument", tmp_path / "root"),
        locate.Place("$COURSE_DATA_DIR", tmp_path / "env"),
        locate.Place("the per-user cache", cache_dir),
    ]


def test_unset_places_are_left_out(cache_dir):
    assert locate.places() == [locate.Place("the per-user cache", cache_dir)]


def test_relative_paths_are_made_absolute(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COURSE_DATA_DIR", "shared/data")
    assert locate.places(root="mine")[:2] == [
        locate.Place("the root= argument", tmp_path / "mine"),
        locate.Place("$COURSE_DATA_DIR", tmp_path / "shared" / "data"),
    ]


def test_root_comes_first(monkeypatch, tmp_path, toy):
    make_files(tmp_path / "root")
    make_files(tmp_path / "env")
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "env"))
    found = find(toy, root=tmp_path / "root")
    assert found.place.label == "the root= argument"
    assert found.paths == tuple(tmp_path / "root" / "toy" / name for name in FILES)


def test_an_incomplete_place_is_skipped(monkeypatch, tmp_path, toy, cache_dir):
    make_files(tmp_path / "root", names=["a.gz"])
    make_files(tmp_path / "env", names=["b.gz"])
    make_files(cache_dir)
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "env"))
    assert find(toy, root=tmp_path / "root").place.label == "the per-user cache"


def test_alternatives_in_order_of_preference(tmp_path, toy):
    make_files(tmp_path, names=["unpacked", "b.gz"])
    found = locate.find(toy, [("a.gz",), ("b.gz",), ("unpacked",)], "Toy", tmp_path)
    assert found.paths == (tmp_path / "toy" / "b.gz",)


def test_nothing_found_names_every_place_and_the_fixes(monkeypatch, tmp_path, toy, cache_dir):
    make_files(tmp_path / "env", names=["a.gz"])
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "env"))
    with pytest.raises(CourseError) as raised:
        find(toy, root=tmp_path / "root")
    assert str(raised.value) == (
        f"Toy not found: looked for a.gz and b.gz in "
        f"the root= argument {tmp_path}/root/toy (no such folder); "
        f"$COURSE_DATA_DIR {tmp_path}/env/toy (missing b.gz); "
        f"the per-user cache {cache_dir}/toy (no such folder). "
        f"To fix: set COURSE_DATA_DIR to a directory holding toy/, pass root=, "
        f"or run `course data download toy`.")


def test_nothing_found_says_when_course_data_dir_is_unset(toy):
    with pytest.raises(CourseError, match=r"\. \$COURSE_DATA_DIR is not set\. To fix"):
        find(toy)


def test_downloads_into_the_cache_when_nothing_is_found(toy, cache_dir):
    found = find(toy, download=True)
    assert found.place == locate.Place("the per-user cache", cache_dir)
    assert found.paths == tuple(cache_dir / "toy" / name for name in FILES)
    assert [path.read_bytes() for path in found.paths] == [b"a.gz", b"b.gz"]


def test_download_keeps_files_already_in_the_cache(toy, cache_dir):
    make_files(cache_dir, names=["a.gz"])
    find(toy, download=True)
    assert (cache_dir / "toy" / "a.gz").read_bytes() == b"x"
    assert (cache_dir / "toy" / "b.gz").read_bytes() == b"b.gz"


def test_a_failed_download_is_part_of_the_one_error(tmp_path, toy):
    for name in FILES:
        (tmp_path / "remote" / name).unlink()
    with pytest.raises(CourseError) as raised:
        find(toy, download=True)
    message = str(raised.value)
    assert message.startswith("Toy not found: looked for a.gz and b.gz in the per-user cache ")
    assert "Downloading failed: could not download a.gz (file://" in message
    assert message.endswith("or run `course data download toy`.")


def test_download_needs_a_published_alternative(tmp_path, toy):
    with pytest.raises(CourseError, match="Downloading failed: no download URL is known for toy"):
        locate.find(toy, [("unpacked",)], "Toy", download=True)


def test_fill_cache(toy, cache_dir):
    make_files(cache_dir, names=["a.gz"])
    downloaded, present = locate.fill_cache(toy)
    assert downloaded == [cache_dir / "toy" / "b.gz"]
    assert present == [cache_dir / "toy" / "a.gz"]
    assert locate.fill_cache(toy) == ([], [cache_dir / "toy" / name for name in FILES])
