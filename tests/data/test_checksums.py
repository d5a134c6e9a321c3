import gzip
import hashlib
import re

import pytest

from course_lib.data import checksums
from course_lib.data.sources import DataFile
from course_lib.errors import CourseError

CONTENT = b"\x00\x00\x08\x01\x00\x00\x00\x02\x07\x02"


@pytest.fixture
def gz_file(tmp_path):
    path = tmp_path / "labels.gz"
    path.write_bytes(gzip.compress(CONTENT))
    return path


def test_read_gunzipped(gz_file):
    assert checksums.read_gunzipped(gz_file) == CONTENT


def test_truncated_gzip_names_the_file(gz_file):
    gz_file.write_bytes(gz_file.read_bytes()[:-12])
    with pytest.raises(CourseError, match=re.escape(f"{gz_file}: truncated or not a valid gzip")):
        checksums.read_gunzipped(gz_file)


def test_corrupted_gzip_names_the_file(gz_file):
    damaged = bytearray(gz_file.read_bytes())
    damaged[-6] ^= 0xFF  # inside the CRC
    gz_file.write_bytes(bytes(damaged))
    with pytest.raises(CourseError, match=f"{re.escape(str(gz_file))}: .*CRC check failed"):
        checksums.read_gunzipped(gz_file)


def test_verify_file_checks_the_file_itself(tmp_path, make_datafile):
    path = tmp_path / "archive.tar.gz"
    path.write_bytes(b"archive")
    checksums.verify_file(make_datafile("archive.tar.gz", b"archive", "sha256"), path)
    with pytest.raises(CourseError) as raised:
        checksums.verify_file(make_datafile("archive.tar.gz", b"other", "sha256"), path)
    expected = hashlib.sha256(b"other").hexdigest()
    actual = hashlib.sha256(b"archive").hexdigest()
    assert str(raised.value).startswith(
        f"{path}: not the published archive.tar.gz: sha256 is {actual}, expected {expected}; ")


def test_verify_file_checks_the_gunzipped_content_when_told_to(gz_file, make_datafile):
    datafile = make_datafile("labels.gz", CONTENT, digest_of_gunzipped=True)
    checksums.verify_file(datafile, gz_file)
    assert checksums.checksum_problem(datafile, gz_file) is None


def test_checksum_problem_of_gunzipped_content(gz_file):
    datafile = DataFile("labels.gz", "md5", "0" * 32, digest_of_gunzipped=True)
    problem = checksums.checksum_problem(datafile, gz_file)
    assert problem == (f"not the published labels.gz: md5 of the uncompressed content is "
                       f"{hashlib.md5(CONTENT).hexdigest()}, expected {'0' * 32}")


def test_checksum_problem_of_a_broken_gzip(tmp_path):
    path = tmp_path / "labels.gz"
    path.write_bytes(b"not gzip at all")
    datafile = DataFile("labels.gz", "md5", "0" * 32, digest_of_gunzipped=True)
    assert checksums.checksum_problem(datafile, path).startswith("truncated or not a valid gzip")


def test_verify_content(make_datafile):
    checksums.verify_content(make_datafile("x", CONTENT), CONTENT, "x")
    with pytest.raises(CourseError, match="x: not the published x: md5 is"):
        checksums.verify_content(make_datafile("x", CONTENT), CONTENT + b"\x00", "x")
