"""The verified download (MNIST(download=True), and the experiments through it) against a real HTTP server.

The server runs in a thread on 127.0.0.1 and nowhere else; $MINIGRAD_MIRRORS points the download at it.
It serves good files, a body cut short (with an honest and with a lying Content-Length) and a corrupt one.
"""
import gzip
import hashlib
import http.server
import os
import socket
import threading
from pathlib import Path

import numpy as np
import pytest

from minigrad.data import CHECKSUMS, MNIST, DatasetNotFoundError
from minigrad.data import datasets as ds_mod
from minigrad.data.datasets import FileSpec

TRAIN = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte")


class Server:
    """http://127.0.0.1:<port>/ serving `routes` (path -> bytes); `lie` paths announce more bytes than sent."""

    def __init__(self):
        self.routes, self.lie, self.requests = {}, set(), []
        srv = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                srv.requests.append(self.path)
                body = srv.routes.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body) * (2 if self.path in srv.lie else 1)))
                self.end_headers()
                self.wfile.write(body)  # HTTP/1.0: the connection closes after this, short or not

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = Server()
    yield s
    s.close()


def idx_bytes(a):
    a = np.asarray(a, dtype=np.uint8)
    return bytes([0, 0, 0x08, a.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in a.shape) + a.tobytes()


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    """Tiny MNIST-like train files with their checksums patched in; nothing is found locally."""
    images = np.random.default_rng(0).integers(0, 256, (5, 28, 28), dtype=np.uint8)
    raw = {TRAIN[0]: idx_bytes(images), TRAIN[1]: idx_bytes([3, 1, 4, 1, 5])}
    gz = {k: gzip.compress(v, mtime=0) for k, v in raw.items()}
    monkeypatch.setitem(CHECKSUMS, "mnist", {k: FileSpec(hashlib.md5(v).hexdigest(), len(v),
                                                         hashlib.md5(gz[k]).hexdigest()) for k, v in raw.items()})
    monkeypatch.delenv("MINIGRAD_DATA", raising=False)
    monkeypatch.delenv("MINIGRAD_MIRRORS", raising=False)
    monkeypatch.chdir(tmp_path)
    ds_mod.clear_cache()
    yield type("Tiny", (), dict(images=images, raw=raw, gz=gz, root=tmp_path / "root"))
    ds_mod.clear_cache()


def files_in(folder):
    return sorted(p.name for p in Path(folder).iterdir()) if Path(folder).exists() else []


def serve(server, prefix, files):
    for k, body in files.items():
        server.routes[f"/{prefix}/mnist/{k}.gz"] = body


def test_real_files_over_http_equal_the_local_copy(server, tmp_path, monkeypatch):
    """The published t10k files, served over HTTP, land in root/mnist/ byte for byte and verified."""
    shared = os.environ.get("MINIGRAD_DATA")
    if not shared or not (Path(shared) / "mnist").is_dir():
        pytest.skip("MINIGRAD_DATA is not set: the real MNIST files are needed")
    local = MNIST(root=shared, train=False)
    for k in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        server.routes[f"/m/mnist/{k}.gz"] = (Path(shared) / "mnist" / f"{k}.gz").read_bytes()
    monkeypatch.delenv("MINIGRAD_DATA")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MINIGRAD_MIRRORS", server.url + "/m/")
    ds_mod.clear_cache()
    got = MNIST(root=str(tmp_path / "root"), train=False, download=True)
    np.testing.assert_array_equal(got.data.numpy(), local.data.numpy())
    np.testing.assert_array_equal(got.targets.numpy(), local.targets.numpy())
    assert files_in(tmp_path / "root" / "mnist") == ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
    assert (tmp_path / "root" / "mnist" / "t10k-labels-idx1-ubyte.gz").read_bytes() == \
        server.routes["/m/mnist/t10k-labels-idx1-ubyte.gz"]


def test_progress_bar_and_default_folder(server, tiny, monkeypatch, capsys):
    serve(server, "a", tiny.gz)
    monkeypatch.setenv("MINIGRAD_MIRRORS", server.url + "/a")
    ds = MNIST(download=True)  # no root: downloads into ./data/mnist
    np.testing.assert_array_equal(ds.data.numpy(), tiny.images)
    assert files_in("data/mnist") == [k + ".gz" for k in TRAIN]
    assert TRAIN[0] + ".gz" in capsys.readouterr().err  # tqdm's bar names the file


@pytest.mark.parametrize("fault", ["short", "lying_length", "corrupt"])
def test_bad_first_mirror_falls_back_to_the_next(server, tiny, monkeypatch, fault):
    bad = dict(tiny.gz)
    if fault == "corrupt":  # a valid gzip of a file with one flipped pixel: only the MD5 can tell
        flipped = bytearray(tiny.raw[TRAIN[0]])
        flipped[100] ^= 1
        bad[TRAIN[0]] = gzip.compress(bytes(flipped))
    else:
        bad[TRAIN[0]] = tiny.gz[TRAIN[0]][: len(tiny.gz[TRAIN[0]]) // 2]
        if fault == "lying_length":
            server.lie.add(f"/a/mnist/{TRAIN[0]}.gz")
    serve(server, "a", bad)
    serve(server, "b", tiny.gz)
    monkeypatch.setenv("MINIGRAD_MIRRORS", f"{server.url}/a {server.url}/b/")
    ds = MNIST(root=str(tiny.root), download=True)
    np.testing.assert_array_equal(ds.data.numpy(), tiny.images)
    assert server.requests[:2] == [f"/a/mnist/{TRAIN[0]}.gz", f"/b/mnist/{TRAIN[0]}.gz"]
    assert files_in(tiny.root / "mnist") == [k + ".gz" for k in TRAIN]
    assert (tiny.root / "mnist" / (TRAIN[0] + ".gz")).read_bytes() == tiny.gz[TRAIN[0]]


@pytest.mark.parametrize("fault, fact", [("short", "truncated"), ("lying_length", "cut short"),
                                         ("corrupt", "checksum mismatch")])
def test_every_mirror_bad_leaves_nothing_that_looks_valid(server, tiny, monkeypatch, fault, fact):
    body = tiny.gz[TRAIN[0]][:-40]
    if fault == "corrupt":
        flipped = bytearray(tiny.raw[TRAIN[0]])
        flipped[-1] ^= 1
        body = gzip.compress(bytes(flipped))
    for prefix in ("a", "b"):
        server.routes[f"/{prefix}/mnist/{TRAIN[0]}.gz"] = body
        if fault == "lying_length":
            server.lie.add(f"/{prefix}/mnist/{TRAIN[0]}.gz")
    monkeypatch.setenv("MINIGRAD_MIRRORS", f"{server.url}/a {server.url}/b")
    with pytest.raises(DatasetNotFoundError) as e:
        MNIST(root=str(tiny.root), download=True)
    msg = str(e.value)
    assert f"{server.url}/a/mnist/{TRAIN[0]}.gz" in msg and f"{server.url}/b/mnist/{TRAIN[0]}.gz" in msg
    assert fact in msg
    assert files_in(tiny.root / "mnist") == []  # no partial or temp file left behind


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens here once the socket closes


def test_no_network_one_paragraph(tiny, monkeypatch):
    url = f"http://127.0.0.1:{closed_port()}"
    monkeypatch.setenv("MINIGRAD_MIRRORS", url)
    with pytest.raises(DatasetNotFoundError) as e:
        MNIST(root=str(tiny.root), download=True)
    msg = str(e.value)
    assert "\n" not in msg  # one paragraph
    dest = str(tiny.root.absolute() / "mnist")
    assert dest in msg  # where it looked, and where to put the files
    assert f"{url}/mnist/{TRAIN[0]}.gz" in msg  # what it tried
    assert "MINIGRAD_DATA" in msg and all(k + ".gz" in msg for k in TRAIN)  # how to place the files
    assert files_in(dest) == []


def test_official_mirrors_used_when_no_override(tiny, monkeypatch):
    monkeypatch.delenv("MINIGRAD_MIRRORS", raising=False)
    assert MNIST.urls(MNIST, TRAIN[0]) == [m + TRAIN[0] + ".gz" for m in MNIST.mirrors]
    monkeypatch.setenv("MINIGRAD_MIRRORS", "http://127.0.0.1:1/x/ http://127.0.0.1:2")
    assert MNIST.urls(MNIST, TRAIN[1]) == [f"http://127.0.0.1:1/x/mnist/{TRAIN[1]}.gz",
                                           f"http://127.0.0.1:2/mnist/{TRAIN[1]}.gz"]


def test_experiment_downloads_into_data_dir(server, tmp_path, monkeypatch):
    """`make demo`'s path where there is network: the experiment fetches what it lacks, verified, then trains."""
    shared = os.environ.get("MINIGRAD_DATA")
    if not shared or not (Path(shared) / "mnist").is_dir():
        pytest.skip("MINIGRAD_DATA is not set: the real MNIST files are needed")
    for f in (Path(shared) / "mnist").glob("*.gz"):
        server.routes[f"/mnist/{f.name}"] = f.read_bytes()
    monkeypatch.delenv("MINIGRAD_DATA")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MINIGRAD_MIRRORS", server.url)
    ds_mod.clear_cache()
    from experiments import mnist_mlp

    m = mnist_mlp.main(["--epochs", "1", "--limit", "500", "--no-progress", "--data-dir", "dl", "--out", "out"])
    assert files_in(tmp_path / "dl" / "mnist") == sorted(p.rsplit("/", 1)[1] for p in server.routes)
    assert sorted(server.requests) == sorted(server.routes)  # each file fetched once
    assert m["test"]["n"] == 10000 and (tmp_path / "out" / "metrics.json").is_file()
