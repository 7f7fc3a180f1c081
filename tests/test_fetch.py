"""Tests of cvcourse.fetch (the ``cvcourse-fetch`` command) and of data/manifest.json."""

from __future__ import annotations

import hashlib
import importlib.util
import io
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from cvcourse import data, fetch

REPOSITORY = Path(__file__).resolve().parents[1]
MANIFEST = REPOSITORY / "data" / "manifest.json"
SHA256 = re.compile(r"^[0-9a-f]{64}$")
MD5 = re.compile(r"^[0-9a-f]{32}$")


@pytest.fixture
def course_dir(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("CVCOURSE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras-home"))  # weights go to Keras' cache
    return tmp_path


@pytest.fixture
def no_network(monkeypatch) -> list[str]:
    tried: list[str] = []

    def refuse(url, *args, **kwargs):
        tried.append(url)
        raise urllib.error.URLError(OSError(101, "Network is unreachable"))

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    return tried


def serve(monkeypatch, payloads: dict[str, bytes]) -> list[str]:
    """Answer urlopen from ``payloads``; record the URLs asked for and the timeouts used."""
    asked: list[str] = []

    def fake_urlopen(url, timeout=None):
        assert timeout is not None and timeout <= 10, "every request needs a short timeout"
        asked.append(url)
        return io.BytesIO(payloads[url])

    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen)
    return asked


def fake_entry(monkeypatch, name: str, payloads: dict[str, bytes], subdir: str = "fake") -> fetch.Fetchable:
    entry = fetch.Fetchable(
        description="fake data",
        files=tuple(url.rsplit("/", 1)[1] for url in payloads),
        urls=tuple(payloads),
        sha256=tuple(hashlib.sha256(p).hexdigest() for p in payloads.values()),
        subdir=subdir,
    )
    monkeypatch.setitem(fetch.FETCHABLE, name, entry)
    return entry


# ----------------------------------------------------------------------------- the network is down


def test_fetch_without_network_fails_fast_with_one_line_each(course_dir, no_network, capsys):
    start = time.perf_counter()
    status = fetch.main(["fashion_mnist", "mnist"])
    elapsed = time.perf_counter() - start
    out, err = capsys.readouterr()
    assert status == 1 and elapsed < 5
    failed = [line for line in err.splitlines() if line.startswith("FAILED")]
    assert len(failed) == 2
    assert failed[0].startswith("FAILED fashion_mnist: could not download https://")
    assert failed[1].startswith("FAILED mnist: could not download https://")
    assert "Network is unreachable" in failed[1]
    assert "2 of 2 could not be fetched" in err
    assert not list(course_dir.rglob("*"))  # no partial file, no empty folder


def test_a_timeout_is_reported(course_dir, monkeypatch, capsys):
    def slow(url, timeout=None):
        raise TimeoutError("timed out")

    monkeypatch.setattr(urllib.request, "urlopen", slow)
    assert fetch.main(["mnist", "--timeout", "0.5"]) == 1
    assert "TimeoutError: timed out" in capsys.readouterr().err


def test_fetch_all_tries_everything(course_dir, no_network, capsys):
    assert fetch.main(["all"]) == 1
    err = capsys.readouterr().err
    for name in fetch.FETCHABLE:
        assert f"FAILED {name}:" in err
    assert len(no_network) == len(fetch.FETCHABLE)  # one failure per set, then the next set


# ----------------------------------------------------------------------------- downloads


def test_successful_fetch_verifies_and_saves(course_dir, monkeypatch, capsys):
    payloads = {"https://example.invalid/a.bin": b"alpha" * 1000, "https://example.invalid/b.bin": b"beta"}
    fake_entry(monkeypatch, "fake", payloads)
    asked = serve(monkeypatch, payloads)
    assert fetch.main(["fake"]) == 0
    assert (course_dir / "cache" / "fake" / "a.bin").read_bytes() == b"alpha" * 1000
    assert (course_dir / "cache" / "fake" / "b.bin").read_bytes() == b"beta"
    assert "ok     fake: 2 file(s) in" in capsys.readouterr().out
    assert len(asked) == 2
    assert fetch.main(["fake"]) == 0  # already there with the right sha256: nothing downloaded
    assert len(asked) == 2


def test_checksum_mismatch_saves_nothing(course_dir, monkeypatch, capsys):
    payloads = {"https://example.invalid/c.bin": b"the real content"}
    fake_entry(monkeypatch, "fake", payloads)
    serve(monkeypatch, {"https://example.invalid/c.bin": b"tampered content"})
    assert fetch.main(["fake"]) == 1
    assert "does not match the expected" in capsys.readouterr().err
    assert not list(course_dir.rglob("c.bin*"))
    with pytest.raises(fetch.FetchError, match="nothing was saved"):
        fetch.fetch("fake")


def test_a_damaged_cached_file_is_downloaded_again(course_dir, monkeypatch):
    payloads = {"https://example.invalid/d.bin": b"good"}
    fake_entry(monkeypatch, "fake", payloads, subdir="")
    (course_dir / "cache").mkdir()
    (course_dir / "cache" / "d.bin").write_bytes(b"bad")
    asked = serve(monkeypatch, payloads)
    assert fetch.fetch("fake") == [course_dir / "cache" / "d.bin"]
    assert (course_dir / "cache" / "d.bin").read_bytes() == b"good" and asked


def test_registry_entries_are_consistent():
    with pytest.raises(ValueError, match="one entry per file"):
        fetch.Fetchable("broken", ("a", "b"), ("https://x/a",), ("0" * 64,))
    with pytest.raises(ValueError, match="needs a sha256"):
        fetch.Fetchable("no hash", ("a",), ("https://x/a",), ("",))
    for name, entry in fetch.FETCHABLE.items():
        assert entry.description and entry.files, name
        assert all(url.startswith("https://") for url in entry.urls), name
        for index, digest in enumerate(entry.sha256):
            assert SHA256.match(digest) or (digest == "" and MD5.match(entry.md5[index])), name
    assert fetch.destination("fashion_mnist") == data.cache_dir() / "fashion-mnist"
    assert fetch.destination("mnist") == data.cache_dir()
    with pytest.raises(ValueError, match="unknown item 'imagenet'; fetchable: fashion_mnist, mnist"):
        fetch.fetch("imagenet")


# ----------------------------------------------------------------------------- the command line


def test_status_prints_a_table(capsys):
    assert fetch.main(["--status"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split() == ["data", "set", "status"]
    for name in ("fashion_mnist", "mnist", "sample_images", "digit_scenes"):
        assert any(line.startswith(name) for line in lines), name
    assert "course cache:" in out


def test_status_lists_fetchable_items_without_a_loader(course_dir, monkeypatch, capsys):
    fake_entry(monkeypatch, "weights", {"https://example.invalid/w.h5": b"w"})
    assert fetch.main(["--status"]) == 0
    out = capsys.readouterr().out
    assert any(line.startswith("weights") and "not cached: `cvcourse-fetch weights`" in line
               for line in out.splitlines())


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
    assert "cvcourse-fetch" in capsys.readouterr().out


def test_runs_as_a_module_offline(tmp_path):
    # TF_CPP_MIN_LOG_LEVEL=0 keeps `import cvcourse` from importing TensorFlow (seconds), which
    # the fetch command never uses.
    environment = {**os.environ, "CVCOURSE_DATA_DIR": str(tmp_path), "TF_CPP_MIN_LOG_LEVEL": "0"}
    done = subprocess.run(
        [sys.executable, "-m", "cvcourse.fetch", "--status"],
        capture_output=True, text=True, timeout=120, env=environment, cwd=REPOSITORY,
    )
    assert done.returncode == 0, done.stderr
    assert "fashion_mnist" in done.stdout and str(tmp_path / "cache") in done.stdout


# ----------------------------------------------------------------------------- data/manifest.json


@pytest.fixture(scope="module")
def manifest() -> dict:
    return json.loads(MANIFEST.read_text())


def test_manifest_describes_every_item(manifest):
    items = manifest["items"]
    names = [item["name"] for item in items]
    assert len(names) == len(set(names))
    for required in ("fashion_mnist", "mnist", "mnist_sample", "sample_images", "digit_scenes",
                     "course_backbone", "imagenet_weights"):
        assert required in names
    for item in items:
        for key in ("name", "what", "source", "licence", "files"):
            assert item.get(key) is not None, (item["name"], key)
        for file in item["files"]:
            assert isinstance(file["size"], int) and file["size"] > 0, file
            assert SHA256.match(file["sha256"] or "") or MD5.match(file.get("md5_upstream", "")), file
    licences = {item["name"]: item["licence"] for item in items}
    assert licences["fashion_mnist"] == "MIT" and licences["mnist"] == "CC BY-SA 3.0"
    images = {file["name"] for file in next(i for i in items if i["name"] == "sample_images")["files"]}
    assert images == set(data.SAMPLE_IMAGES)


def test_manifest_and_fetch_registry_agree(manifest):
    items = {item["name"]: item for item in manifest["items"]}
    for name, entry in fetch.FETCHABLE.items():
        files = items[name]["files"]
        assert tuple(f["name"] for f in files) == entry.files, name
        assert tuple(f["url"] for f in files) == entry.urls, name
        assert tuple(f["sha256"] or "" for f in files) == entry.sha256, name
        if entry.md5:
            assert tuple(f["md5_upstream"] for f in files) == entry.md5, name


def test_mnist_hash_is_the_one_keras_publishes(manifest):
    spec = importlib.util.find_spec("keras")
    source = Path(next(iter(spec.submodule_search_locations))) / "src" / "datasets" / "mnist.py"
    if not source.is_file():  # pragma: no cover - another Keras layout
        pytest.skip("keras/src/datasets/mnist.py not found")
    assert fetch.FETCHABLE["mnist"].sha256[0] in source.read_text()


def test_shipped_files_match_their_recorded_hashes(manifest):
    for item in manifest["items"]:
        for file in item["files"]:
            if "file" not in file:
                continue
            package, relative = file["file"].split("/", 1)
            path = data._package_file(package, relative)
            assert path is not None and path.is_file(), file["file"]
            assert path.stat().st_size == file["size"], file["file"]
            assert hashlib.sha256(path.read_bytes()).hexdigest() == file["sha256"], file["file"]


def test_debian_fashion_mnist_matches_the_manifest(manifest):
    folder = data.SYSTEM_FASHION_MNIST_DIR
    if not folder.is_dir():  # pragma: no cover - the course machines have it
        pytest.skip("dataset-fashion-mnist is not installed")
    import gzip

    files = next(i for i in manifest["items"] if i["name"] == "fashion_mnist")["files"]
    for file in files:
        path = folder / file["name"]
        raw = path.read_bytes()
        assert len(raw) == file["debian_size"] and hashlib.sha256(raw).hexdigest() == file["debian_sha256"]
        assert hashlib.sha256(gzip.decompress(raw)).hexdigest() == file["sha256_uncompressed"]
        assert file["size"] - file["debian_size"] == len(file["name"]) - 2  # the name in the gzip header


def test_imagenet_weights_go_to_the_keras_cache(course_dir, monkeypatch, capsys):
    entry = fetch.FETCHABLE["imagenet_weights"]
    assert fetch.destination("imagenet_weights") == course_dir / "keras-home" / "models"
    payloads = {url: f"payload {i}".encode() for i, url in enumerate(entry.urls)}
    monkeypatch.setitem(fetch.FETCHABLE, "imagenet_weights", fetch.Fetchable(
        entry.description, entry.files, entry.urls, entry.sha256,
        subdir=entry.subdir, md5=tuple(hashlib.md5(p).hexdigest() for p in payloads.values()),
        keras_cache=True))
    asked = serve(monkeypatch, payloads)
    assert fetch.main(["imagenet_weights"]) == 0
    for file, payload in zip(entry.files, payloads.values(), strict=True):
        assert (course_dir / "keras-home" / "models" / file).read_bytes() == payload
    assert fetch.main(["imagenet_weights"]) == 0 and len(asked) == 2  # md5 matches: kept
    from cvcourse import pretrained

    assert pretrained.keras_cache_dir() == fetch.destination("imagenet_weights")
    assert pretrained.imagenet_weights_path().is_file()  # where load_imagenet_model looks
    capsys.readouterr()
    assert fetch.main(["--status"]) == 0
    line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("imagenet_weights"))
    assert "cached: " in line and "not cached" not in line


def test_an_md5_mismatch_saves_nothing(course_dir, monkeypatch, capsys):
    entry = fetch.FETCHABLE["imagenet_weights"]
    serve(monkeypatch, {url: b"not the weights" for url in entry.urls})
    assert fetch.main(["imagenet_weights"]) == 1
    err = capsys.readouterr().err
    assert "md5" in err and "does not match the expected 2cb95161c43110f7111970584f804107" in err
    assert not list(course_dir.rglob("*.h5*")) and not list(course_dir.rglob("*.json*"))


def test_imagenet_hashes_and_urls_are_the_ones_keras_uses():
    spec = importlib.util.find_spec("keras")
    root = Path(next(iter(spec.submodule_search_locations))) / "src" / "applications"
    resnet, utils = (root / "resnet.py").read_text(), (root / "imagenet_utils.py").read_text()
    entry = fetch.FETCHABLE["imagenet_weights"]
    weights_md5, index_md5 = entry.md5
    assert re.search(r'"resnet50": \(\s*"' + weights_md5 + '"', resnet)
    assert f'file_hash="{index_md5}"' in utils
    assert entry.urls[0].endswith("resnet/" + entry.files[0]) and "keras-applications/resnet/" in resnet
    assert "data/imagenet_class_index.json" in utils
    assert entry.urls[1].endswith("data/imagenet_class_index.json")
    assert entry.keras_cache and entry.subdir == "models"  # keras.utils.get_file(cache_subdir="models")


def test_no_test_here_uses_the_network(monkeypatch):
    """A guard for this file's own fakes: a real connection attempt would fail loudly."""
    monkeypatch.setattr(socket.socket, "connect", lambda *a: pytest.fail("network used"))
    assert fetch.main(["--status"]) == 0
