"""Tests of cvcourse.manifest (the course's folders, data/manifest.json, checksums) and of its layering."""

from __future__ import annotations

import ast
import gzip
import hashlib
import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from cvcourse import manifest

REPOSITORY = Path(__file__).resolve().parents[1]
SHA256 = re.compile(r"^[0-9a-f]{64}$")
MD5 = re.compile(r"^[0-9a-f]{32}$")


@pytest.fixture
def isolated(tmp_path, monkeypatch) -> Path:
    """No course cache, no Debian copy, no Keras cache: only what a test puts in tmp_path."""
    monkeypatch.setenv("CVCOURSE_DATA_DIR", str(tmp_path / "course"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setattr(manifest, "SYSTEM_FASHION_MNIST_DIR", tmp_path / "system")
    return tmp_path


def put(folder: Path, names) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_bytes(b"x")
    return folder


# ----------------------------------------------------------------------------- folders


def test_folders_follow_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("CVCOURSE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    assert manifest.data_dir() == tmp_path and manifest.cache_dir() == tmp_path / "cache"
    assert not manifest.cache_dir().exists()  # created by a download, not by asking
    assert manifest.keras_home() == tmp_path / "keras"
    monkeypatch.setenv("CVCOURSE_DATA_DIR", "  ")
    monkeypatch.delenv("KERAS_HOME")
    assert manifest.data_dir() == REPOSITORY / "data" == manifest.REPOSITORY_DATA
    assert manifest.keras_home() == Path.home() / ".keras"
    assert manifest.MANIFEST_PATH == REPOSITORY / "data" / "manifest.json"


# ----------------------------------------------------------------------------- records


def test_items_are_read_with_their_files_and_fetch_entries():
    items = {entry.name: entry for entry in manifest.items()}
    fashion = items["fashion_mnist"]
    assert [file.name for file in fashion.files] == [
        "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
    ]  # the loader reads them in this order
    assert (fashion.cache, fashion.subdir) == ("course", "fashion-mnist") and fashion.description
    assert all(file.checksum == ("sha256", file.sha256) for file in fashion.files)
    weights, index = items["imagenet_weights"].files
    assert weights.model == "ResNet50" and not index.model
    assert weights.checksum == ("md5", "2cb95161c43110f7111970584f804107") and not weights.sha256
    assert items["course_backbone"].files[0].path == "backbone/fashion_backbone.keras"
    assert items["mnist_sample"].files[0].name == items["mnist_sample"].files[0].file  # no name: its file
    assert items["digit_scenes"].files == () and not items["digit_scenes"].cache
    assert list(manifest.fetchable()) == ["fashion_mnist", "mnist", "imagenet_weights"]


def test_an_unknown_item_names_those_recorded():
    with pytest.raises(ValueError, match="unknown item 'cifar10'; the manifest records fashion_mnist, "):
        manifest.item("cifar10")


def test_another_manifest_can_be_read(tmp_path):
    path = tmp_path / "other.json"
    path.write_text(json.dumps({"items": [{"name": "x", "files": [{"name": "x.bin", "sha256": None}]}]}))
    assert manifest.item("x", path) == manifest.Item("x", (manifest.File("x.bin"),))


def test_file_digest(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"abc" * 100_000)
    assert manifest.file_digest(path) == hashlib.sha256(b"abc" * 100_000).hexdigest()
    assert manifest.file_digest(path, "md5") == hashlib.md5(b"abc" * 100_000).hexdigest()


# ----------------------------------------------------------------------------- where files are


def test_destinations(isolated):
    assert manifest.destination("fashion_mnist") == isolated / "course" / "cache" / "fashion-mnist"
    assert manifest.destination("mnist") == isolated / "course" / "cache"
    assert manifest.destination("imagenet_weights") == isolated / "keras" / "models"
    with pytest.raises(ValueError, match="sample_images is not fetched; fetchable: fashion_mnist, mnist"):
        manifest.destination("sample_images")


def test_find_takes_the_first_complete_place_and_notes_the_others(isolated):
    names = [file.name for file in manifest.item("fashion_mnist").files]
    folder, label, looked = manifest.find("fashion_mnist")
    assert folder is None and label == ""
    assert looked == [f"{isolated / 'course/cache/fashion-mnist'} (the course cache)",
                      f"{isolated / 'system'} (Debian package dataset-fashion-mnist)",
                      f"{isolated / 'keras/datasets/fashion-mnist'} (the Keras cache)"]
    put(isolated / "keras" / "datasets" / "fashion-mnist", names)
    put(isolated / "system", names[:3])
    folder, label, looked = manifest.find("fashion_mnist")
    assert (folder, label) == (isolated / "keras" / "datasets" / "fashion-mnist", "the Keras cache")
    debian = "Debian package dataset-fashion-mnist"
    assert looked[1] == f"{isolated / 'system'} ({debian}; incomplete, missing {names[3]})"
    course = put(isolated / "course" / "cache" / "fashion-mnist", names)
    assert manifest.find("fashion_mnist")[:2] == (course, "the course cache")
    put(isolated / "keras" / "datasets", ["mnist.npz"])
    assert manifest.find("mnist")[:2] == (isolated / "keras" / "datasets", "the Keras cache")
    assert [label for _, label in manifest.places("imagenet_weights")] == ["the Keras cache"]


def test_package_files_are_found():
    assert manifest.package_file("skimage/data/camera.png").is_file()
    assert manifest.package_file("no_such_package_here/x.png") is None


# ----------------------------------------------------------------------------- the layers


def cvcourse_imports(module: str) -> set[str]:
    """The cvcourse modules a module of the package imports, anywhere in it (functions included)."""
    tree = ast.parse((REPOSITORY / "cvcourse" / f"{module}.py").read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("cvcourse"):
            names = {f"cvcourse.{alias.name}" for alias in node.names}
            found |= names if node.module == "cvcourse" else {node.module}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("cvcourse")}
    return found


def test_the_data_modules_import_downwards_only():
    assert cvcourse_imports("manifest") == set()
    assert cvcourse_imports("fetch") == {"cvcourse.manifest"}
    assert cvcourse_imports("data") == {"cvcourse.manifest", "cvcourse.fetch"}
    assert cvcourse_imports("pretrained") == {"cvcourse.manifest"}
    tree = ast.parse((REPOSITORY / "cvcourse" / "manifest.py").read_text())
    nodes = list(ast.walk(tree))
    imported = {a.name.split(".")[0] for n in nodes if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module.split(".")[0] for n in nodes if isinstance(n, ast.ImportFrom) and n.level == 0}
    assert imported <= set(sys.stdlib_module_names) | {"__future__"}, imported


def test_the_grader_reads_the_folders_without_tensorflow(tmp_path):
    code = ("import sys; from grader import sandbox; "
            "print(sandbox.keras_cache(True)[1], sandbox.visible_paths()[-1], 'tensorflow' in sys.modules)")
    environment = {**os.environ, "KERAS_HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          env=environment, cwd=REPOSITORY)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["{'KERAS_HOME':", "'/tmp/.keras'}", str(REPOSITORY / "data"), "False"]


# ----------------------------------------------------------------------------- data/manifest.json


@pytest.fixture(scope="module")
def record() -> dict:
    return json.loads(manifest.MANIFEST_PATH.read_text())


def test_manifest_describes_every_item(record):
    items = record["items"]
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
        if "fetch" in item:
            fetch = item["fetch"]
            assert fetch["cache"] in ("course", "keras") and fetch["description"], item["name"]
            assert all(file["url"].startswith("https://") for file in item["files"]), item["name"]
    licences = {item["name"]: item["licence"] for item in items}
    assert licences["fashion_mnist"] == "MIT" and licences["mnist"] == "CC BY-SA 3.0"


def test_mnist_hash_is_the_one_keras_publishes():
    spec = importlib.util.find_spec("keras")
    source = Path(next(iter(spec.submodule_search_locations))) / "src" / "datasets" / "mnist.py"
    assert source.is_file(), f"the pinned Keras keeps its MNIST loader at {source}"
    assert manifest.item("mnist").files[0].sha256 in source.read_text()


def test_shipped_files_match_their_recorded_hashes(record):
    for item in record["items"]:
        for file in item["files"]:
            if "file" in file:
                path = manifest.package_file(file["file"])
            elif "path" in file:
                path = manifest.REPOSITORY_DATA / file["path"]
            else:
                continue
            assert path is not None and path.is_file(), file
            assert path.stat().st_size == file["size"], path
            assert manifest.file_digest(path) == file["sha256"], path


def test_debian_fashion_mnist_matches_the_manifest(record):
    folder = manifest.SYSTEM_FASHION_MNIST_DIR
    assert folder.is_dir(), f"{folder} is missing: `make setup` installs Debian's dataset-fashion-mnist"
    files = next(i for i in record["items"] if i["name"] == "fashion_mnist")["files"]
    for file in files:
        raw = (folder / file["name"]).read_bytes()
        assert len(raw) == file["debian_size"] and hashlib.sha256(raw).hexdigest() == file["debian_sha256"]
        assert hashlib.sha256(gzip.decompress(raw)).hexdigest() == file["sha256_uncompressed"]
        assert file["size"] - file["debian_size"] == len(file["name"]) - 2  # the name in the gzip header


def test_imagenet_hashes_and_urls_are_the_ones_keras_uses():
    spec = importlib.util.find_spec("keras")
    root = Path(next(iter(spec.submodule_search_locations))) / "src" / "applications"
    resnet, utils = (root / "resnet.py").read_text(), (root / "imagenet_utils.py").read_text()
    entry = manifest.item("imagenet_weights")
    weights, index = entry.files
    assert re.search(r'"resnet50": \(\s*"' + weights.md5 + '"', resnet)
    assert f'file_hash="{index.md5}"' in utils
    assert weights.url.endswith("resnet/" + weights.name) and "keras-applications/resnet/" in resnet
    assert "_weights_tf_dim_ordering_tf_kernels.h5" in resnet and weights.name.startswith("resnet50")
    assert "data/imagenet_class_index.json" in utils and index.url.endswith("data/" + index.name)
    assert (entry.cache, entry.subdir) == ("keras", "models")  # keras.utils.get_file(cache_subdir="models")
