"""Downloading a published file: each URL in turn, verified before it is put in place.

The download streams into a temporary file next to its destination and is renamed into
place only once its checksum matches, so an interrupted, failed or wrong download never
leaves a file behind for a loader to trust.
"""
import http.client
import os
import shutil
import sys
import tempfile
import urllib.request
from pathlib import Path

from ..errors import CourseError
from . import checksums

# Seconds any one network operation may block (connecting, or waiting for the next
# bytes); a slow but steady download of any length is fine.
TIMEOUT_SECONDS = 60
CHUNK_BYTES = 1 << 20
NETWORK_ERRORS = (OSError, http.client.HTTPException)


class DownloadError(CourseError):
    """None of a file's URLs gave a verified copy."""


def fetch(datafile, folder, timeout=TIMEOUT_SECONDS):
    """Download `datafile` into `folder`, trying its URLs in order; return its path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    destination = folder / datafile.name
    failures = []
    for url in datafile.urls:
        print(f"Downloading {url} to {folder}", file=sys.stderr, flush=True)
        try:
            problem = _download_verified(datafile, url, destination, timeout)
        except NETWORK_ERRORS as error:
            problem = str(error) or type(error).__name__
        if problem is None:
            return destination
        failures.append(f"{url}: {problem}")
    reasons = "; ".join(failures) or "no download URL is known for it"
    raise DownloadError(f"could not download {datafile.name} ({reasons})")


def _download_verified(datafile, url, destination, timeout):
    """Put a verified copy at `destination` and return None, or return what was wrong."""
    partial = tempfile.NamedTemporaryFile(
        dir=destination.parent, prefix=f".{destination.name}.", suffix=".part", delete=False)
    try:
        with partial, urllib.request.urlopen(url, timeout=timeout) as response:
            shutil.copyfileobj(response, partial, CHUNK_BYTES)
            announced, received = response.headers.get("Content-Length"), partial.tell()
        # urllib ends a response cut short quietly; say so rather than "wrong checksum".
        if announced is not None and int(announced) != received:
            return f"the connection closed after {received} of {announced} bytes"
        problem = checksums.checksum_problem(datafile, partial.name)
        if problem is None:
            os.replace(partial.name, destination)
        return problem
    finally:
        # After a successful os.replace there is nothing left to remove.
        Path(partial.name).unlink(missing_ok=True)
