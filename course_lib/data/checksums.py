"""Checking that a file is the published one, with errors that name the file and say why."""
import gzip
import hashlib
import zlib

from ..errors import CourseError

REPLACE_HINT = "replace it with a good copy, or delete it and run `course data download`"

# What gzip raises for a truncated or damaged file.
GZIP_ERRORS = (EOFError, gzip.BadGzipFile, zlib.error)


def read_gunzipped(path):
    """The decompressed content of the gzip file at `path`."""
    try:
        with gzip.open(path, "rb") as file:
            return file.read()
    except GZIP_ERRORS as error:
        raise CourseError(f"{path}: {_gzip_problem(error)}; {REPLACE_HINT}") from None


def verify_file(datafile, path):
    """Raise CourseError unless the file at `path` has `datafile`'s checksum."""
    problem = checksum_problem(datafile, path)
    if problem:
        raise CourseError(f"{path}: {problem}; {REPLACE_HINT}")


def verify_content(datafile, content, path):
    """Like `verify_file`, for content already read (and gunzipped, if the digest is of that)."""
    problem = _mismatch(datafile, hashlib.new(datafile.algorithm, content).hexdigest())
    if problem:
        raise CourseError(f"{path}: {problem}; {REPLACE_HINT}")


def checksum_problem(datafile, path):
    """Why the file at `path` is not `datafile` (a phrase), or None if it is."""
    try:
        opened = gzip.open(path, "rb") if datafile.digest_of_gunzipped else open(path, "rb")
        with opened as file:
            actual = hashlib.file_digest(file, datafile.algorithm).hexdigest()
    except GZIP_ERRORS as error:
        return _gzip_problem(error)
    return _mismatch(datafile, actual)


def _mismatch(datafile, actual):
    if actual == datafile.digest:
        return None
    of_what = " of the uncompressed content" if datafile.digest_of_gunzipped else ""
    return (f"not the published {datafile.name}: {datafile.algorithm}{of_what} is {actual}, "
            f"expected {datafile.digest}")


def _gzip_problem(error):
    return f"truncated or not a valid gzip file ({error})"
