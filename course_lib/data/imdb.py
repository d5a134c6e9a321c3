"""IMDB movie reviews for sentiment classification (Maas et al., ACL 2011).

Read from `imdb/aclImdb_v1_labeled.tar.gz` or `imdb/aclImdb_v1.tar.gz` (verified by
checksum on every call), or from an unpacked `imdb/aclImdb/`. Only the labelled reviews
`aclImdb/{train,test}/{neg,pos}/*.txt` are read, so archives without `train/unsup/` or
the `*.feat` files are fine.

The archive is read on every call rather than extracted into the cache: a split takes
about 1.7 s from the labelled archive and 3.6 s from a stand-in for the full 84 MB one
(same content plus train/unsup/ and *.feat files), measured on two cores; that is below
the ~5 s at which extracting once would pay for the disk space and the care it needs.
An unpacked copy reads in about 0.4 s once the OS has cached its files.
"""
import re
import tarfile
from pathlib import PurePosixPath

import numpy as np

from ..errors import CourseError
from . import checksums, locate, sources

SPLITS = sources.IMDB_SPLITS
LABELS = ("neg", "pos")  # a review's label is the index of its folder here
UNPACKED = "aclImdb"
URL_FILES = {f"urls_{label}.txt": label for label in LABELS}
TITLE_ID = re.compile(r"tt\d+")


def load_imdb(split="train", root=None, download=True):
    """Texts and int64 labels (neg=0, pos=1) of an IMDB split.

    Reviews are in the order of their paths, so all negative ones come first: shuffle
    before training. Looks in `root`, `$COURSE_DATA_DIR`, then the per-user cache, which
    is filled from the dataset's public URL when nothing is found and `download` is set.
    """
    _check_split(split)  # before looking, let alone downloading
    return read(find(root, download), split)


def load_imdb_movies(split="train", root=None, download=True):
    """The IMDb title id ("tt0453418") of the film each review of `split` is about, in
    `load_imdb`'s order, from the dataset's `urls_{neg,pos}.txt` (line k names the film of
    review `k_<rating>.txt`).

    A film has up to 30 reviews in a split, all of one split: a validation split that keeps
    a film's reviews together (`grouped_validation_split`) measures how a model does on
    films it has not seen, as the test set does.
    """
    _check_split(split)
    found = find(root, download)
    path = found.paths[0]
    if path.is_dir():
        names, urls = _names_and_urls_in_directory(path, split)
    else:
        checksums.verify_file(sources.IMDB.file(path.name), path)
        names, urls = _names_and_urls_in_archive(path, split)
    movies = []
    for label in LABELS:
        for name in sorted(names[label]):
            review_id = int(name.split("_", 1)[0])
            if review_id >= len(urls[label]):
                raise CourseError(f"{path}: {split}/urls_{label}.txt has {len(urls[label])} lines, "
                                  f"none for review {label}/{name}; {checksums.REPLACE_HINT}")
            movies.append(_title_id(urls[label][review_id], path, split, label))
    return np.array(movies)


def find(root=None, download=True):
    """Where the archive or unpacked folder is, as a `locate.Found`."""
    alternatives = [(datafile.name,) for datafile in sources.IMDB.files] + [(UNPACKED,)]
    return locate.find(sources.IMDB, alternatives, "The IMDB reviews", root, download)


def read(found, split):
    """The verified `(texts, labels)` of `split` from what `find` found."""
    _check_split(split)
    path = found.paths[0]
    if path.is_dir():
        reviews = _reviews_in_directory(path, split)
    else:
        checksums.verify_file(sources.IMDB.file(path.name), path)
        reviews = _reviews_in_archive(path, split)
    _check_counts(reviews, path, split)
    reviews.sort(key=lambda review: review[:2])
    texts = [_decode(content, path, split, label, name) for label, name, content in reviews]
    labels = np.array([LABELS.index(label) for label, _, _ in reviews], dtype=np.int64)
    return texts, labels


def check(split, root=None):
    """Where the split is, once loaded and verified, as a phrase; CourseError if it is not."""
    found = find(root, download=False)
    texts, _ = read(found, split)
    path = found.paths[0]
    if path.is_dir():
        verified = "an unpacked copy, which has no checksum: review counts checked"
    else:
        verified = f"{sources.IMDB.file(path.name).algorithm} verified"
    return f"{len(texts)} reviews, {verified}, in {found.place.label} {path}"


def fill_cache():
    """Download the published files missing from the per-user cache (see `locate.fill_cache`)."""
    return locate.fill_cache(sources.IMDB)


def _check_split(split):
    if split not in SPLITS:
        raise ValueError(f"IMDB has no split {split!r}; the splits are {', '.join(SPLITS)}")


def _reviews_in_archive(path, split):
    """(label, file name, content) of each review of `split` in the archive."""
    reviews = []
    # Streaming ("r|gz") reads the archive once, front to back, which is all we need.
    with tarfile.open(path, "r|gz") as archive:
        for member in archive:
            parts = PurePosixPath(member.name).parts
            if (member.isfile() and len(parts) == 4 and parts[:2] == (UNPACKED, split)
                    and parts[2] in LABELS and parts[3].endswith(".txt")):
                reviews.append((parts[2], parts[3], archive.extractfile(member).read()))
    return reviews


def _reviews_in_directory(directory, split):
    return [(label, file.name, file.read_bytes())
            for label in LABELS
            for file in (directory / split / label).glob("*.txt")]


def _names_and_urls_in_archive(path, split):
    """The review file names and the lines of urls_<label>.txt of `split`, per label."""
    names = {label: [] for label in LABELS}
    urls = {}
    with tarfile.open(path, "r|gz") as archive:
        for member in archive:
            parts = PurePosixPath(member.name).parts
            if not (member.isfile() and len(parts) >= 3 and parts[:2] == (UNPACKED, split)):
                continue
            if len(parts) == 4 and parts[2] in LABELS and parts[3].endswith(".txt"):
                names[parts[2]].append(parts[3])
            elif len(parts) == 3 and parts[2] in URL_FILES:
                urls[URL_FILES[parts[2]]] = archive.extractfile(member).read().decode("ascii").split()
    return names, _all_urls(urls, path, split)


def _names_and_urls_in_directory(directory, split):
    names = {label: [file.name for file in (directory / split / label).glob("*.txt")] for label in LABELS}
    urls = {label: (directory / split / file).read_text("ascii").split()
            for file, label in URL_FILES.items() if (directory / split / file).is_file()}
    return names, _all_urls(urls, directory, split)


def _all_urls(urls, path, split):
    missing = [f"{split}/{file}" for file, label in URL_FILES.items() if label not in urls]
    if missing:
        raise CourseError(f"{path} has no {' or '.join(missing)}, which name each review's film; "
                          f"{checksums.REPLACE_HINT}")
    return urls


def _title_id(url, path, split, label):
    match = TITLE_ID.search(url)
    if match is None:
        raise CourseError(f"{path}: {split}/urls_{label}.txt has a line without an IMDb title id: {url!r}")
    return match.group(0)


def _check_counts(reviews, path, split):
    expected = sources.IMDB_REVIEWS_PER_LABEL
    for label in LABELS:
        count = sum(1 for review in reviews if review[0] == label)
        if count != expected:
            raise CourseError(f"{path}: {split}/{label} holds {count} reviews, expected "
                              f"{expected}; {checksums.REPLACE_HINT}")


def _decode(content, path, split, label, name):
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError as error:
        raise CourseError(f"{path}: {split}/{label}/{name} is not UTF-8 text ({error})") from None
