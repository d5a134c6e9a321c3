"""Downloads from a local HTTP server that misbehaves on request; never the internet."""
import gzip
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from course_lib.data.download import DownloadError, fetch

pytestmark = pytest.mark.usefixtures("isolated")

CONTENT = b"the published bytes " * 1000


class Handler(BaseHTTPRequestHandler):
    """Serves `server.routes[path](handler)`; 404 for anything else."""

    def do_GET(self):
        route = self.server.routes.get(self.path)
        if route is None:
            self.send_error(404)
        else:
            route(self)

    def log_message(self, *args):
        pass


def serve(content):
    def route(handler):
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(content)))
        handler.end_headers()
        handler.wfile.write(content)
    return route


def cut_off(content):
    """Announce all of `content`, send half, then close the connection."""
    def route(handler):
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(content)))
        handler.end_headers()
        handler.wfile.write(content[:len(content) // 2])
        handler.close_connection = True
    return route


def stall(released):
    """Send a little, then go quiet until the test is over."""
    def route(handler):
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(CONTENT)))
        handler.end_headers()
        handler.wfile.write(CONTENT[:10])
        handler.wfile.flush()
        released.wait(10)
    return route


@pytest.fixture
def server():
    """A server on 127.0.0.1; set `server.routes` and fetch from `server.url + path`."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    httpd.routes = {}
    httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def folder(tmp_path):
    return tmp_path / "cache" / "mnist"


def test_downloads_and_verifies(server, folder, make_datafile):
    server.routes["/f.bin"] = serve(CONTENT)
    path = fetch(make_datafile("f.bin", CONTENT, urls=[server.url + "/f.bin"]), folder)
    assert path == folder / "f.bin"
    assert path.read_bytes() == CONTENT
    assert sorted(folder.iterdir()) == [path]


def test_falls_back_to_the_next_url(server, folder, make_datafile):
    server.routes["/mirror/f.bin"] = serve(CONTENT)
    datafile = make_datafile("f.bin", CONTENT,
                             urls=[server.url + "/gone/f.bin", server.url + "/mirror/f.bin"])
    assert fetch(datafile, folder).read_bytes() == CONTENT


def test_connection_closed_mid_body_leaves_nothing(server, folder, make_datafile):
    server.routes["/f.bin"] = cut_off(CONTENT)
    with pytest.raises(DownloadError, match=r"could not download f\.bin \(http://.*/f\.bin: "
                                            r"the connection closed after 10000 of 20000 bytes\)"):
        fetch(make_datafile("f.bin", CONTENT, urls=[server.url + "/f.bin"]), folder)
    assert list(folder.iterdir()) == []


def test_wrong_bytes_leave_nothing(server, folder, make_datafile):
    server.routes["/f.bin"] = serve(b"an error page")
    with pytest.raises(DownloadError, match=r"not the published f\.bin: md5 is .*, expected"):
        fetch(make_datafile("f.bin", CONTENT, urls=[server.url + "/f.bin"]), folder)
    assert list(folder.iterdir()) == []


def test_a_stalled_server_times_out_and_leaves_nothing(server, folder, make_datafile):
    released = threading.Event()
    server.routes["/f.bin"] = stall(released)
    try:
        with pytest.raises(DownloadError, match="timed out"):
            fetch(make_datafile("f.bin", CONTENT, urls=[server.url + "/f.bin"]), folder,
                  timeout=0.2)
    finally:
        released.set()
    assert list(folder.iterdir()) == []


def test_every_failure_is_reported(server, folder, make_datafile):
    server.routes["/b/f.bin"] = serve(b"wrong")
    datafile = make_datafile("f.bin", CONTENT, urls=[server.url + "/a/f.bin",
                                                     server.url + "/b/f.bin"])
    with pytest.raises(DownloadError) as raised:
        fetch(datafile, folder)
    message = str(raised.value)
    assert f"{server.url}/a/f.bin: HTTP Error 404" in message
    assert f"{server.url}/b/f.bin: not the published f.bin" in message


def test_gzipped_file_is_verified_by_its_content(tmp_path, folder, make_datafile):
    published = tmp_path / "labels.gz"
    published.write_bytes(gzip.compress(CONTENT))
    datafile = make_datafile("labels.gz", CONTENT, urls=[published.as_uri()],
                             digest_of_gunzipped=True)
    assert gzip.decompress(fetch(datafile, folder).read_bytes()) == CONTENT


def test_a_failed_download_keeps_an_earlier_copy(server, folder, make_datafile):
    folder.mkdir(parents=True)
    (folder / "f.bin").write_bytes(b"earlier")
    server.routes["/f.bin"] = cut_off(CONTENT)
    with pytest.raises(DownloadError):
        fetch(make_datafile("f.bin", CONTENT, urls=[server.url + "/f.bin"]), folder)
    assert [path.name for path in folder.iterdir()] == ["f.bin"]
    assert (folder / "f.bin").read_bytes() == b"earlier"


def test_no_urls(folder, make_datafile):
    with pytest.raises(DownloadError, match="no download URL is known for it"):
        fetch(make_datafile("f.bin", CONTENT), folder)
