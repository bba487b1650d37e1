"""Downloads against a local HTTP server on 127.0.0.1 (never the internet)."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import threading
from pathlib import Path

import numpy as np
import pytest

from groundup.data.datasets import FashionMNIST
from groundup.data.datasets._download import (
    RemoteFile,
    cache_dir,
    download_file,
    ensure_files,
)
from groundup.data.idx import encode_idx
from groundup.errors import DataError

GOOD = b"the real file content " * 100


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class FixtureHandler(http.server.BaseHTTPRequestHandler):
    """Serves ``files`` by path; ``/truncated/...`` promises more bytes than it sends."""

    files: dict[str, bytes] = {}
    requests: list[str] = []

    def do_GET(self):  # noqa: N802 (http.server's name)
        self.requests.append(self.path)
        body = self.files.get(self.path)
        if body is None:
            self.send_error(404, "Not Found")
            return
        self.send_response(200)
        promised = len(body) + 1000 if self.path.startswith("/truncated/") else len(body)
        self.send_header("Content-Length", str(promised))
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    FixtureHandler.files, FixtureHandler.requests = {}, []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FixtureHandler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", FixtureHandler
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def test_good_download_is_verified_and_renamed(tmp_path, server):
    url, handler = server
    handler.files["/good/a.bin"] = GOOD
    path = download_file(RemoteFile("a.bin", sha(GOOD)), tmp_path, [url + "/good"])
    assert path == tmp_path / "a.bin" and path.read_bytes() == GOOD
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.bin"]


def test_falls_back_through_404_corrupt_and_truncated_mirrors(tmp_path, server):
    url, handler = server
    handler.files["/corrupt/a.bin"] = GOOD[:-1] + b"X"
    handler.files["/truncated/a.bin"] = GOOD[:500]
    handler.files["/good/a.bin"] = GOOD
    mirrors = [url + "/missing", url + "/corrupt", url + "/truncated", url + "/good"]
    path = download_file(RemoteFile("a.bin", sha(GOOD)), tmp_path, mirrors)
    assert path.read_bytes() == GOOD
    assert handler.requests == ["/missing/a.bin", "/corrupt/a.bin", "/truncated/a.bin",
                                "/good/a.bin"]


def test_all_mirrors_failing_leaves_nothing_and_explains(tmp_path, server):
    url, handler = server
    handler.files["/corrupt/a.bin"] = b"nope"
    handler.files["/truncated/a.bin"] = GOOD[:10]
    with pytest.raises(DataError) as info:
        download_file(RemoteFile("a.bin", sha(GOOD)), tmp_path,
                      [url + "/missing", url + "/corrupt", url + "/truncated"])
    message = str(info.value)
    assert "HTTP 404" in message
    assert f"SHA-256 {sha(b'nope')} does not match" in message
    assert "truncated download" in message
    assert f"put a.bin (SHA-256 {sha(GOOD)}) in {tmp_path}" in message
    assert list(tmp_path.iterdir()) == []  # no .partial or half file left behind


def test_ensure_files_redownloads_a_damaged_cached_file(tmp_path, server):
    url, handler = server
    handler.files["/good/a.bin"] = GOOD
    (tmp_path / "a.bin").write_bytes(b"damaged")
    paths = ensure_files([RemoteFile("a.bin", sha(GOOD))], tmp_path, [url + "/good"])
    assert paths["a.bin"].read_bytes() == GOOD


def test_offline_error_names_every_file_and_the_folder(tmp_path):
    files = [RemoteFile("x.gz", "0" * 64), RemoteFile("y.gz", "1" * 64)]
    with pytest.raises(DataError) as info:
        ensure_files(files, tmp_path / "cache", ["http://127.0.0.1:9/"], dataset="Demo",
                     timeout=2)
    message = str(info.value)
    assert message.startswith("Demo: ")
    assert "x.gz" in message and "y.gz" in message
    assert f"put them in {tmp_path / 'cache'}" in message
    assert "http://127.0.0.1:9/" in message


def test_cache_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("GROUNDUP_DATA", str(tmp_path))
    assert cache_dir() == tmp_path
    monkeypatch.delenv("GROUNDUP_DATA")
    assert cache_dir() == Path.home() / ".cache" / "groundup"


def test_fashion_mnist_downloads_into_the_cache_and_loads(tmp_path, server, monkeypatch):
    url, handler = server
    images = np.arange(3 * 28 * 28, dtype=np.uint8).reshape(3, 28, 28)
    labels = np.array([9, 0, 3], dtype=np.uint8)
    blobs = {"t10k-images-idx3-ubyte.gz": gzip.compress(encode_idx(images), mtime=0),
             "t10k-labels-idx1-ubyte.gz": gzip.compress(encode_idx(labels), mtime=0)}
    for name, blob in blobs.items():
        handler.files[f"/fm/{name}"] = blob
    resources = [RemoteFile(name, sha(blob)) for name, blob in blobs.items()]
    monkeypatch.setattr(FashionMNIST, "resources", resources)
    monkeypatch.setenv("GROUNDUP_DATA", str(tmp_path))
    ds = FashionMNIST(train=False, mirrors=[url + "/fm/"])
    assert (tmp_path / "FashionMNIST" / "t10k-images-idx3-ubyte.gz").is_file()
    np.testing.assert_array_equal(ds.data, images)
    assert ds.targets.tolist() == [9, 0, 3] and ds.targets.dtype == np.int64
    assert ds.classes[ds.targets[0]] == "Ankle boot"
    # Second time: served from the cache, no new request.
    count = len(handler.requests)
    FashionMNIST(train=False, mirrors=[url + "/fm/"])
    assert len(handler.requests) == count


def test_fashion_mnist_without_download_says_where_to_put_files(tmp_path):
    with pytest.raises(DataError) as info:
        FashionMNIST(root=tmp_path, train=True, download=False)
    message = str(info.value)
    assert "train-images-idx3-ubyte.gz" in message and "train-labels-idx1-ubyte.gz" in message
    assert f"put them in {tmp_path}" in message and "download=True" in message
