"""The course's files: where they live, and what ``data/manifest.json`` records about each one.

The bottom of the helper package. :mod:`cvcourse.fetch`, :mod:`cvcourse.data`,
:mod:`cvcourse.pretrained` and the grader (``grader/sandbox.py``) take the course's folders from
here, and every file's name, URL and checksum from the manifest, the one record of them. Only the
standard library is imported, so the grader loads this file without TensorFlow.

>>> [file.name for file in item("mnist").files]
['mnist.npz']
>>> destination("fashion_mnist") == cache_dir() / "fashion-mnist"
True
>>> folder, label, looked = find("fashion_mnist")   # the first folder that holds every file
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from dataclasses import dataclass
from pathlib import Path

REPOSITORY_DATA = Path(__file__).resolve().parents[1] / "data"
MANIFEST_PATH = REPOSITORY_DATA / "manifest.json"
#: Where Debian's package ``dataset-fashion-mnist`` puts the four files Keras downloads.
SYSTEM_FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")


# ----------------------------------------------------------------------------- folders


def data_dir() -> Path:
    """The folder of the course's data: ``$CVCOURSE_DATA_DIR``, else the repository's ``data/``.

    >>> data_dir().name
    'data'
    """
    override = os.environ.get("CVCOURSE_DATA_DIR", "").strip()
    return Path(override).expanduser() if override else REPOSITORY_DATA


def cache_dir() -> Path:
    """The course cache, ``data_dir() / "cache"`` (git ignores it); created when a download needs it.

    >>> cache_dir().name
    'cache'
    """
    return data_dir() / "cache"


def keras_home() -> Path:
    """Keras' cache folder: ``$KERAS_HOME``, else ``~/.keras`` (as ``keras.utils.get_file`` uses it).

    >>> keras_home()  # doctest: +SKIP
    PosixPath('/home/student/.keras')
    """
    home = os.environ.get("KERAS_HOME", "").strip()
    return Path(home).expanduser() if home else Path.home() / ".keras"


# ----------------------------------------------------------------------------- the manifest


@dataclass(frozen=True)
class File:
    """One file of an item as the manifest records it; what it does not record is ``""``."""

    name: str
    url: str = ""  # where cvcourse-fetch downloads it from
    sha256: str = ""  # of the file as stored; "" where upstream publishes only an md5
    md5: str = ""  # the upstream md5 (``md5_upstream``)
    path: str = ""  # a file shipped in data/: its path there
    file: str = ""  # a file shipped in a Python package: "package/path inside it"
    model: str = ""  # the keras.applications model whose weights the file holds

    @property
    def checksum(self) -> tuple[str, str]:
        """``(algorithm, hex digest)`` the file is checked with: its sha256, else its upstream md5."""
        return ("sha256", self.sha256) if self.sha256 else ("md5", self.md5)


@dataclass(frozen=True)
class Item:
    """A data set or artefact of the manifest. ``cache`` says where cvcourse-fetch saves its files
    (``"course"``: :func:`cache_dir`, ``"keras"``: :func:`keras_home`, then ``subdir``), ``""`` for
    an item it does not fetch."""

    name: str
    files: tuple[File, ...]
    description: str = ""
    cache: str = ""
    subdir: str = ""


def _file(row: dict) -> File:
    return File(name=row.get("name") or row["file"], url=row.get("url", ""), sha256=row.get("sha256") or "",
                md5=row.get("md5_upstream", ""), path=row.get("path", ""), file=row.get("file", ""),
                model=row.get("model", ""))


def items(path: str | os.PathLike | None = None) -> list[Item]:
    """Every item of the manifest (``data/manifest.json``, or ``path``), in its order.

    >>> [entry.name for entry in items()][:2]
    ['fashion_mnist', 'mnist']
    """
    raw = json.loads(Path(path or MANIFEST_PATH).read_text())
    found = []
    for entry in raw["items"]:
        fetch = entry.get("fetch") or {}
        files = tuple(_file(row) for row in entry.get("files", []))
        found.append(Item(entry["name"], files, fetch.get("description", ""), fetch.get("cache", ""),
                          fetch.get("subdir", "")))
    return found


def item(name: str, path: str | os.PathLike | None = None) -> Item:
    """The item called ``name``; ValueError naming the manifest's items when there is none.

    >>> item("imagenet_weights").files[0].model
    'ResNet50'
    """
    found = {entry.name: entry for entry in items(path)}
    if name not in found:
        raise ValueError(f"unknown item {name!r}; the manifest records {', '.join(found)}.")
    return found[name]


def fetchable() -> dict[str, Item]:
    """Name -> item, for every item that cvcourse-fetch downloads, in the manifest's order.

    >>> list(fetchable())
    ['fashion_mnist', 'mnist', 'imagenet_weights']
    """
    return {entry.name: entry for entry in items() if entry.cache}


# ----------------------------------------------------------------------------- where files are


def destination(name: str) -> Path:
    """The folder where cvcourse-fetch saves item ``name``'s files.

    >>> destination("imagenet_weights") == keras_home() / "models"
    True
    """
    entry = item(name)
    if not entry.cache:
        raise ValueError(f"{name} is not fetched; fetchable: {', '.join(fetchable())}.")
    return (keras_home() if entry.cache == "keras" else cache_dir()) / entry.subdir


def places(name: str) -> list[tuple[Path, str]]:
    """The folders that may hold item ``name``'s files, in the order the loaders search them, each
    with a label: :func:`destination`, then Debian's package and the folder ``keras.datasets`` saves to.

    >>> [label for _, label in places("fashion_mnist")]
    ['the course cache', 'Debian package dataset-fashion-mnist', 'the Keras cache']
    """
    own = "the Keras cache" if item(name).cache == "keras" else "the course cache"
    keras_datasets = keras_home() / "datasets"
    elsewhere = {
        "fashion_mnist": [(SYSTEM_FASHION_MNIST_DIR, "Debian package dataset-fashion-mnist"),
                          (keras_datasets / "fashion-mnist", "the Keras cache")],
        "mnist": [(keras_datasets, "the Keras cache")],
    }
    return [(destination(name), own), *elsewhere.get(name, [])]


def find(name: str) -> tuple[Path | None, str, list[str]]:
    """The first of :func:`places` that holds every file of item ``name`` (or None), its label, and
    a note on each place looked in before it.

    >>> find("mnist")[0]  # doctest: +SKIP
    PosixPath('/home/student/.keras/datasets')
    """
    names = [file.name for file in item(name).files]
    looked = []
    for folder, label in places(name):
        missing = [file for file in names if not (folder / file).is_file()]
        if not missing:
            return folder, label, looked
        if len(missing) < len(names):
            looked.append(f"{folder} ({label}; incomplete, missing {', '.join(missing)})")
        else:
            looked.append(f"{folder} ({label})")
    return None, "", looked


def package_file(spec: str) -> Path | None:
    """Where an installed package keeps the file ``"package/path inside it"`` (a manifest's ``file``),
    without importing the package; None when the package is not installed.

    >>> package_file("skimage/data/camera.png").name
    'camera.png'
    """
    package, relative = spec.split("/", 1)
    found = importlib.util.find_spec(package)
    if found is None or not found.submodule_search_locations:
        return None
    return Path(next(iter(found.submodule_search_locations))) / relative


def file_digest(path: str | os.PathLike, algorithm: str = "sha256") -> str:
    """The hex digest of a file, read in blocks.

    >>> len(file_digest(MANIFEST_PATH))
    64
    """
    with open(path, "rb") as stream:
        return hashlib.file_digest(stream, algorithm).hexdigest()
