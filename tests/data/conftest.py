"""Fixtures for the data tests: small IDX and tar.gz datasets built on the fly, with their
own checksums swapped into `course_lib.data.sources`, and isolation from the real
data directories and the internet."""
import gzip
import hashlib
import io
import os
import struct
import tarfile
import urllib.parse
import urllib.request
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pytest

from course_lib.data import sources
from course_lib.data.sources import DataFile, Dataset

# Read before the isolation fixture below removes it from the environment.
REAL_DATA_DIR = os.environ.get("COURSE_DATA_DIR")

IDX_TYPE_CODES = {np.dtype(np.uint8): 0x08, np.dtype(np.int8): 0x09, np.dtype(np.int16): 0x0B,
                  np.dtype(np.int32): 0x0C, np.dtype(np.float32): 0x0D,
                  np.dtype(np.float64): 0x0E}


@pytest.fixture
def isolated(monkeypatch, tmp_path):
    """No $COURSE_DATA_DIR, a cache under tmp_path, and no network beyond this machine.

    The loader tests' modules use it throughout (`pytestmark`); other tests here need not.
    """
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    real_urlopen = urllib.request.urlopen

    def local_urlopen(url, *args, **kwargs):
        parsed = urllib.parse.urlsplit(url)
        assert parsed.scheme == "file" or parsed.hostname == "127.0.0.1", \
            f"a test tried to reach {url}"
        return real_urlopen(url, *args, **kwargs)

    monkeypatch.setattr(urllib.request, "urlopen", local_urlopen)


@pytest.fixture
def real_data_dir():
    if not REAL_DATA_DIR:
        pytest.skip("set COURSE_DATA_DIR to test on the real datasets")
    return Path(REAL_DATA_DIR)


@pytest.fixture
def cache_dir(tmp_path):
    return tmp_path / "xdg-cache" / "how-nets-train"


def idx_bytes(array):
    """`array` in the IDX format."""
    array = np.asarray(array)
    header = struct.pack(f">HBB{array.ndim}I", 0, IDX_TYPE_CODES[array.dtype], array.ndim,
                         *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def datafile_for(name, content, algorithm="md5", urls=(), digest_of_gunzipped=False):
    return DataFile(name, algorithm, hashlib.new(algorithm, content).hexdigest(), tuple(urls),
                    digest_of_gunzipped)


@dataclass
class FakeMnist:
    data_dir: Path       # holds mnist/
    remote_dir: Path     # the same files, "published" at file:// URLs
    arrays: dict         # file name -> the array it holds

    def path(self, name):
        return self.data_dir / "mnist" / name


@pytest.fixture
def fake_mnist(tmp_path, monkeypatch):
    """A tiny MNIST in tmp_path/data/mnist, also published at file:// URLs; sources.MNIST
    has its checksums."""
    rng = np.random.default_rng(0)
    arrays = {
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, (6, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte.gz": np.array([5, 0, 4, 1, 9, 2], dtype=np.uint8),
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (3, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte.gz": np.array([7, 2, 1], dtype=np.uint8),
    }
    data_dir, remote_dir = tmp_path / "data", tmp_path / "remote"
    (data_dir / "mnist").mkdir(parents=True)
    remote_dir.mkdir()
    files = []
    for name, array in arrays.items():
        content = idx_bytes(array)
        for folder in (data_dir / "mnist", remote_dir):
            (folder / name).write_bytes(gzip.compress(content))
        files.append(datafile_for(name, content, urls=[(remote_dir / name).as_uri()],
                                  digest_of_gunzipped=True))
    monkeypatch.setattr(sources, "MNIST", Dataset("mnist", tuple(files)))
    return FakeMnist(data_dir, remote_dir, arrays)


# Two reviews per label and split, as in aclImdb/{split}/{label}/<id>_<rating>.txt.
FAKE_REVIEWS = {
    "train/neg/1_2.txt": "Dull.",
    "train/neg/0_3.txt": "A café scene, naïvely shot — dull.",
    "train/pos/3_9.txt": "Loved it.<br /><br />Twice.",
    "train/pos/2_10.txt": "Great.",
    "test/neg/0_1.txt": "Awful.",
    "test/neg/1_4.txt": "Meh.",
    "test/pos/0_8.txt": "Fine film.",
    "test/pos/1_7.txt": "Good.",
}


def tar_gz_bytes(files):
    """A tar.gz holding `files` ({path in the archive: bytes}), directories first."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        folders = sorted({str(parent) for path in files for parent in Path(path).parents
                          if str(parent) != "."})
        for folder in folders:
            info = tarfile.TarInfo(folder)
            info.type = tarfile.DIRTYPE
            archive.addfile(info)
        for path, content in files.items():
            info = tarfile.TarInfo(path)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


@dataclass
class FakeImdb:
    """Builds tiny IMDB copies under `data_dir`/imdb and registers their checksums."""
    data_dir: Path
    monkeypatch: pytest.MonkeyPatch
    reviews = FAKE_REVIEWS

    @property
    def folder(self):
        return self.data_dir / "imdb"

    def archive_bytes(self, reviews=FAKE_REVIEWS, extras=None):
        files = {**reviews, **(extras or {})}
        return tar_gz_bytes({f"aclImdb/{path}": text.encode("utf-8")
                             for path, text in files.items()})

    def add_archive(self, name="aclImdb_v1_labeled.tar.gz", content=None, algorithm="sha256",
                    publish_in=None):
        """Write an archive into the imdb folder, or only to `publish_in` (then it is
        published at a file:// URL); either way sources.IMDB knows its checksum."""
        content = self.archive_bytes() if content is None else content
        folder = publish_in or self.folder
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(content)
        urls = [(folder / name).as_uri()] if publish_in else []
        datafile = datafile_for(name, content, algorithm, urls)
        self.monkeypatch.setattr(sources, "IMDB", replace(
            sources.IMDB, files=sources.IMDB.files + (datafile,)))
        return folder / name

    def unpack(self, reviews=FAKE_REVIEWS):
        for path, text in reviews.items():
            file = self.folder / "aclImdb" / path
            file.parent.mkdir(parents=True, exist_ok=True)
            file.write_text(text, encoding="utf-8")

    def expected(self, split):
        """(texts, labels) a loader should return for `split`: sorted by path."""
        paths = sorted(path for path in self.reviews if path.startswith(f"{split}/"))
        return ([self.reviews[path] for path in paths],
                [int(path.split("/")[1] == "pos") for path in paths])


@pytest.fixture
def fake_imdb(tmp_path, monkeypatch):
    """sources.IMDB with no archives yet (add_archive registers them), two reviews per label."""
    monkeypatch.setattr(sources, "IMDB_REVIEWS_PER_LABEL", 2)
    monkeypatch.setattr(sources, "IMDB", Dataset("imdb", ()))
    return FakeImdb(tmp_path / "data", monkeypatch)


@pytest.fixture
def make_idx():
    """The function that writes an array in the IDX format."""
    return idx_bytes


@pytest.fixture
def make_datafile():
    """The function that makes a DataFile whose checksum is that of given content."""
    return datafile_for
