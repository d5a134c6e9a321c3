import gzip
import hashlib
import re

import numpy as np
import pytest

from course_lib.data import load_mnist, mnist, sources
from course_lib.errors import CourseError

pytestmark = pytest.mark.usefixtures("isolated")

REAL_MD5S = {
    "train-images-idx3-ubyte.gz": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte.gz": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte.gz": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte.gz": "27ae3e4e09519cfbb04c329615203637",
}


@pytest.mark.parametrize("split, images_file, labels_file", [
    ("train", "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    ("test", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
])
def test_loads_a_split(fake_mnist, split, images_file, labels_file):
    images, labels = load_mnist(split, root=fake_mnist.data_dir)
    assert images.dtype == np.uint8 and labels.dtype == np.int64
    np.testing.assert_array_equal(images, fake_mnist.arrays[images_file])
    np.testing.assert_array_equal(labels, fake_mnist.arrays[labels_file])


def test_found_through_course_data_dir(fake_mnist, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(fake_mnist.data_dir))
    assert len(load_mnist("test")[0]) == 3


def test_unknown_split():
    with pytest.raises(ValueError, match="MNIST has no split 'valid'; the splits are train, test"):
        load_mnist("valid")


def test_checksum_mismatch_names_the_file_and_both_checksums(fake_mnist):
    path = fake_mnist.path("t10k-labels-idx1-ubyte.gz")
    content = bytearray(gzip.decompress(path.read_bytes()))
    content[-1] ^= 1  # a wrong label in a well-formed file
    path.write_bytes(gzip.compress(bytes(content)))
    expected = hashlib.md5(gzip.decompress(
        (fake_mnist.remote_dir / path.name).read_bytes())).hexdigest()
    with pytest.raises(CourseError, match=re.escape(
            f"{path}: not the published {path.name}: md5 of the uncompressed content is "
            f"{hashlib.md5(content).hexdigest()}, expected {expected}")):
        load_mnist("test", root=fake_mnist.data_dir)


def test_truncated_idx_says_how_many_entries_it_holds(fake_mnist):
    path = fake_mnist.path("train-images-idx3-ubyte.gz")
    path.write_bytes(gzip.compress(gzip.decompress(path.read_bytes())[:-28 * 28]))
    with pytest.raises(CourseError, match=re.escape(
            f"{path}: the IDX header says 6 entries (28 × 28 uint8 each) but the file holds 5")):
        load_mnist("train", root=fake_mnist.data_dir)


def test_corrupted_gzip(fake_mnist):
    path = fake_mnist.path("train-labels-idx1-ubyte.gz")
    path.write_bytes(path.read_bytes()[:-5])
    with pytest.raises(CourseError, match=re.escape(f"{path}: truncated or not a valid gzip")):
        load_mnist("train", root=fake_mnist.data_dir)


def test_wrong_magic(fake_mnist):
    path = fake_mnist.path("train-labels-idx1-ubyte.gz")
    path.write_bytes(gzip.compress(b"<html>Not Found</html>"))
    with pytest.raises(CourseError, match=re.escape(f"{path}: not an IDX file (magic number")):
        load_mnist("train", root=fake_mnist.data_dir)


def test_downloads_into_the_cache_when_missing(fake_mnist, tmp_path, cache_dir):
    images, labels = load_mnist("test", root=tmp_path / "empty")
    np.testing.assert_array_equal(labels, [7, 2, 1])
    assert sorted(path.name for path in (cache_dir / "mnist").iterdir()) == [
        "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]


def test_no_download_when_told_not_to(fake_mnist, cache_dir):
    with pytest.raises(CourseError, match="MNIST \\(test split\\) not found"):
        load_mnist("test", download=False)
    assert not cache_dir.exists()


def test_missing_everywhere_is_one_error_naming_places_and_download(fake_mnist, cache_dir):
    for path in fake_mnist.remote_dir.iterdir():
        path.unlink()
    with pytest.raises(CourseError) as raised:
        load_mnist("train", root=fake_mnist.data_dir / "nowhere")
    message = str(raised.value)
    for part in (f"{fake_mnist.data_dir}/nowhere/mnist (no such folder)",
                 f"{cache_dir}/mnist", "$COURSE_DATA_DIR is not set",
                 "Downloading failed: could not download train-images-idx3-ubyte.gz",
                 "set COURSE_DATA_DIR", "pass root=", "`course data download mnist`"):
        assert part in message


def test_check_says_where(fake_mnist):
    assert mnist.check("train", fake_mnist.data_dir) == (
        f"6 images, md5 verified, in the root= argument {fake_mnist.data_dir / 'mnist'}")


def test_fill_cache(fake_mnist, cache_dir):
    downloaded, present = mnist.fill_cache()
    assert sorted(path.name for path in downloaded) == sorted(fake_mnist.arrays)
    assert present == []


@pytest.mark.parametrize("split, count", [("train", 60000), ("test", 10000)])
def test_real_mnist(real_data_dir, split, count):
    images, labels = load_mnist(split, root=real_data_dir)
    assert images.shape == (count, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (count,) and labels.dtype == np.int64
    assert labels.min() == 0 and labels.max() == 9
    if split == "test":
        assert np.bincount(labels).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028,
                                                974, 1009]


def test_real_mnist_checksums(real_data_dir):
    for name, md5 in REAL_MD5S.items():
        content = gzip.decompress((real_data_dir / "mnist" / name).read_bytes())
        assert hashlib.md5(content).hexdigest() == md5
        assert sources.MNIST.file(name).digest == md5

