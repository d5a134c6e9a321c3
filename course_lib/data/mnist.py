"""MNIST handwritten digits (LeCun, Cortes & Burges; CC BY-SA 3.0) from the four IDX files."""
import numpy as np

from . import checksums, locate, sources
from .idx import parse_idx

SPLITS = tuple(sources.MNIST_SPLITS)


def load_mnist(split="train", root=None, download=True):
    """Images and labels of an MNIST split: uint8 `[N, 28, 28]` and int64 `[N]`.

    Looks in `root`, `$COURSE_DATA_DIR`, then the per-user cache, which is filled from
    the public mirrors when nothing is found and `download` is set. Every file is checked
    against the md5 of the published uncompressed file.
    """
    return read(find(split, root, download))


def find(split="train", root=None, download=True):
    """Where the split's images and labels files are, as a `locate.Found`."""
    if split not in sources.MNIST_SPLITS:
        raise ValueError(f"MNIST has no split {split!r}; the splits are {', '.join(SPLITS)}")
    return locate.find(sources.MNIST, [sources.MNIST_SPLITS[split]],
                       f"MNIST ({split} split)", root, download)


def read(found):
    """The verified `(images, labels)` from the files `find` found."""
    images_path, labels_path = found.paths
    return _read_verified(images_path), _read_verified(labels_path).astype(np.int64)


def check(split, root=None):
    """Where the split is, once loaded and verified, as a phrase; CourseError if it is not."""
    found = find(split, root, download=False)
    images, _ = read(found)
    algorithm = sources.MNIST.file(found.paths[0].name).algorithm
    return (f"{len(images)} images, {algorithm} verified, in {found.place.label} "
            f"{found.paths[0].parent}")


def fill_cache():
    """Download the published files missing from the per-user cache (see `locate.fill_cache`)."""
    return locate.fill_cache(sources.MNIST)


def _read_verified(path):
    content = checksums.read_gunzipped(path)
    # Parsing first gives the more telling error for a truncated file; the checksum then
    # catches anything else.
    array = parse_idx(content, path)
    checksums.verify_content(sources.MNIST.file(path.name), content, path)
    return array
