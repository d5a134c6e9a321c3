"""What the course's datasets are: their published files, the checksums that identify a
good copy, and the URLs they are published at.

Loaders read `MNIST`, `IMDB` and `IMDB_REVIEWS_PER_LABEL` from this module when they are
called, so tests can substitute small fixtures with their own checksums (monkeypatch).
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class DataFile:
    """One published file and the checksum of a good copy.

    `digest` is the `algorithm` hash of the file itself or, with `digest_of_gunzipped`,
    of its gunzipped content: MNIST's canonical md5s are of the uncompressed IDX files,
    and the gzip wrappers in circulation differ.
    """
    name: str
    algorithm: str
    digest: str
    urls: tuple[str, ...] = ()
    digest_of_gunzipped: bool = False


@dataclass(frozen=True)
class Dataset:
    """A dataset's files; `name` is also its folder under a data directory."""
    name: str
    files: tuple[DataFile, ...]

    def file(self, name):
        return next(datafile for datafile in self.files if datafile.name == name)


MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)


def _mnist_file(name, md5):
    return DataFile(name, "md5", md5, tuple(mirror + name for mirror in MNIST_MIRRORS),
                    digest_of_gunzipped=True)


MNIST = Dataset("mnist", (
    _mnist_file("train-images-idx3-ubyte.gz", "6bbc9ace898e44ae57da46a324031adb"),
    _mnist_file("train-labels-idx1-ubyte.gz", "a25bea736e30d166cdddb491f175f624"),
    _mnist_file("t10k-images-idx3-ubyte.gz", "2646ac647ad5339dbf082846283269ea"),
    _mnist_file("t10k-labels-idx1-ubyte.gz", "27ae3e4e09519cfbb04c329615203637"),
))

# split -> (images file, labels file)
MNIST_SPLITS = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}

# Either archive will do. The labelled-only one (no train/unsup/, no *.feat) is the copy
# in ../shared/data and is not published anywhere, so it has no URL; the canonical
# archive's md5 is the one torchtext uses.
IMDB = Dataset("imdb", (
    DataFile("aclImdb_v1_labeled.tar.gz", "sha256",
             "75a942c75f8b16a17917aced59cd774da78d50e49635e824d4e07b41e8710461"),
    DataFile("aclImdb_v1.tar.gz", "md5", "7c2ac02c03563afcf9b574c7e56c153a",
             ("https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz",)),
))

IMDB_SPLITS = ("train", "test")

# An unpacked copy has no checksum; a full count of reviews is what it is checked against.
IMDB_REVIEWS_PER_LABEL = 12500
