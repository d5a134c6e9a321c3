"""Where the datasets are looked for, in order: the `root=` argument, `$COURSE_DATA_DIR`,
then the per-user cache, which is filled by downloading when nothing is found.

Each of these is a data directory holding one folder per dataset (`mnist/`, `imdb/`).
"""
import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import CourseError
from .download import DownloadError, fetch

DATA_DIR_VARIABLE = "COURSE_DATA_DIR"
CACHE_NAME = "how-nets-train"


@dataclass(frozen=True)
class Place:
    """A data directory, and which of the searched places it is."""
    label: str
    directory: Path


@dataclass(frozen=True)
class Found:
    place: Place
    paths: tuple[Path, ...]


def cache_directory():
    """`$XDG_CACHE_HOME/how-nets-train`, by default `~/.cache/how-nets-train`."""
    xdg_cache = os.environ.get("XDG_CACHE_HOME", "")
    # The XDG spec says to ignore a relative value.
    base = Path(xdg_cache) if os.path.isabs(xdg_cache) else Path.home() / ".cache"
    return base / CACHE_NAME


def cache_place():
    return Place("the per-user cache", cache_directory())


def places(root=None):
    """The data directories searched, in order."""
    searched = []
    if root is not None:
        searched.append(Place("the root= argument", Path(root).expanduser().absolute()))
    if os.environ.get(DATA_DIR_VARIABLE):
        directory = Path(os.environ[DATA_DIR_VARIABLE]).expanduser().absolute()
        searched.append(Place(f"${DATA_DIR_VARIABLE}", directory))
    searched.append(cache_place())
    return searched


def find(dataset, alternatives, what, root=None, download=False):
    """The paths of the first alternative present in the first place that has one.

    `alternatives` are tuples of names (files or folders in the dataset's folder) that
    must all be present together, in order of preference. When none is found and
    `download` is set, the first alternative whose files are all published is downloaded
    into the cache. `what` names the data in the error raised when it cannot be found.
    """
    searched = places(root)
    for place in searched:
        folder = place.directory / dataset.name
        for names in alternatives:
            paths = tuple(folder / name for name in names)
            if all(path.exists() for path in paths):
                return Found(place, paths)
    failure = None
    if download:
        try:
            return _download(dataset, alternatives)
        except DownloadError as error:
            failure = error
    raise CourseError(_not_found_message(dataset, alternatives, what, searched, failure))


def fill_cache(dataset):
    """Download every published file of `dataset` missing from the cache.

    Returns the paths of the files downloaded and of those already there, in two lists.
    """
    folder = cache_directory() / dataset.name
    downloaded, present = [], []
    for datafile in dataset.files:
        if not datafile.urls:
            continue
        if (folder / datafile.name).exists():
            present.append(folder / datafile.name)
        else:
            downloaded.append(fetch(datafile, folder))
    return downloaded, present


def _download(dataset, alternatives):
    published = {datafile.name: datafile for datafile in dataset.files if datafile.urls}
    names = next((names for names in alternatives
                  if all(name in published for name in names)), None)
    if names is None:
        raise DownloadError(f"no download URL is known for {dataset.name}")
    cache = cache_place()
    folder = cache.directory / dataset.name
    # Some files of the alternative may be in the cache from an earlier download.
    paths = tuple(folder / name if (folder / name).exists() else fetch(published[name], folder)
                  for name in names)
    return Found(cache, paths)


def _not_found_message(dataset, alternatives, what, searched, failure):
    wanted = " or ".join(" and ".join(names) for names in alternatives)
    looked = "; ".join(
        f"{place.label} {place.directory / dataset.name} "
        f"({_why_not_there(place.directory / dataset.name, alternatives)})"
        for place in searched)
    sentences = [f"{what} not found: looked for {wanted} in {looked}"]
    if not os.environ.get(DATA_DIR_VARIABLE):
        sentences.append(f"${DATA_DIR_VARIABLE} is not set")
    if failure is not None:
        sentences.append(f"Downloading failed: {failure}")
    sentences.append(
        f"To fix: set {DATA_DIR_VARIABLE} to a directory holding {dataset.name}/, "
        f"pass root=, or run `course data download {dataset.name}`")
    return ". ".join(sentences) + "."


def _why_not_there(folder, alternatives):
    if not folder.is_dir():
        return "no such folder"
    if len(alternatives) == 1:
        return "missing " + ", ".join(
            name for name in alternatives[0] if not (folder / name).exists())
    return "none of them there"
