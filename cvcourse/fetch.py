"""``cvcourse-fetch``: download the course's data into its cache, for an offline classroom.

Students need no network: the loaders in :mod:`cvcourse.data` find system copies or fall back
to shipped samples. An instructor who wants the full sets on every machine runs this once
where there is a network, then copies ``data/cache/`` (see ``data/README.md``)::

    cvcourse-fetch --status            # what is available offline, and where
    cvcourse-fetch fashion_mnist mnist # or: cvcourse-fetch all
    python -m cvcourse.fetch all       # the same

Every file has a 10 s network timeout and an overall time limit, is checked against its
sha256 (the ones recorded in ``data/manifest.json``; the upstream md5 where only that is
published) before it replaces anything, and a set that fails prints one line and makes the exit
status non-zero. To add something fetchable, add one entry to :data:`FETCHABLE` (and its row to
``data/manifest.json``). Weights of ``keras.applications`` go into Keras' own cache
(``~/.keras/models``, or ``$KERAS_HOME/models``), where Keras and :mod:`cvcourse.pretrained` find them.

>>> main(["--status"])  # doctest: +ELLIPSIS
data set ...
0
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import http.client
import os
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from cvcourse.data import cache_dir, data_status, keras_home

__all__ = [
    "FETCHABLE", "FetchError", "Fetchable", "destination", "fetch", "file_digest", "keras_home", "main",
]

DEFAULT_TIMEOUT_S = 10.0
DEFAULT_MAX_SECONDS_PER_FILE = 600.0
_KERAS_DATASETS_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
_KERAS_APPLICATIONS_URL = "https://storage.googleapis.com/tensorflow/keras-applications/"


class FetchError(RuntimeError):
    """A download failed (network, timeout, checksum); the message is one line naming the URL."""


@dataclass(frozen=True)
class Fetchable:
    """Something the fetch command can download: files, their URLs and sha256, all in order.

    The files are saved under ``cache_dir() / subdir``, or under Keras' cache folder
    (``$KERAS_HOME`` or ``~/.keras``) ``/ subdir`` when ``keras_cache`` is true. A file whose
    sha256 is not published upstream has ``""`` there and its upstream md5 in ``md5``.
    """

    description: str
    files: tuple[str, ...]
    urls: tuple[str, ...]
    sha256: tuple[str, ...]
    subdir: str = ""
    md5: tuple[str, ...] = ()
    keras_cache: bool = False

    def __post_init__(self) -> None:
        if not len(self.files) == len(self.urls) == len(self.sha256):
            raise ValueError("files, urls and sha256 must have one entry per file.")
        if self.md5 and len(self.md5) != len(self.files):
            raise ValueError("md5, when given, must have one entry per file.")
        for index, sha256 in enumerate(self.sha256):
            if not sha256 and not (self.md5 and self.md5[index]):
                raise ValueError(f"{self.files[index]} needs a sha256 (or, failing that, an md5).")

    def checksum(self, index: int) -> tuple[str, str]:
        """``(algorithm, hex digest)`` that file ``index`` is checked with: sha256, else md5."""
        if self.sha256[index]:
            return "sha256", self.sha256[index]
        return "md5", self.md5[index]


#: Name -> what to download. The hashes are those of ``data/manifest.json`` (a test keeps them equal).
FETCHABLE: dict[str, Fetchable] = {
    "fashion_mnist": Fetchable(
        description="Fashion-MNIST, 70,000 clothing images (30 MB), from Keras' mirror",
        files=(
            "train-images-idx3-ubyte.gz",
            "train-labels-idx1-ubyte.gz",
            "t10k-images-idx3-ubyte.gz",
            "t10k-labels-idx1-ubyte.gz",
        ),
        urls=(
            _KERAS_DATASETS_URL + "train-images-idx3-ubyte.gz",
            _KERAS_DATASETS_URL + "train-labels-idx1-ubyte.gz",
            _KERAS_DATASETS_URL + "t10k-images-idx3-ubyte.gz",
            _KERAS_DATASETS_URL + "t10k-labels-idx1-ubyte.gz",
        ),
        sha256=(
            "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
            "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
            "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
            "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
        ),
        subdir="fashion-mnist",
    ),
    "mnist": Fetchable(
        description="MNIST, 70,000 handwritten digits (11 MB), Keras' mnist.npz",
        files=("mnist.npz",),
        urls=(_KERAS_DATASETS_URL + "mnist.npz",),
        sha256=("731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1",),
    ),
    "imagenet_weights": Fetchable(
        description="ImageNet weights of Keras' ResNet50 (98 MB) and the ImageNet class names, into "
        "Keras' cache (~/.keras/models), for the pretrained-model chapters",
        files=("resnet50_weights_tf_dim_ordering_tf_kernels.h5", "imagenet_class_index.json"),
        urls=(
            _KERAS_APPLICATIONS_URL + "resnet/resnet50_weights_tf_dim_ordering_tf_kernels.h5",
            "https://storage.googleapis.com/download.tensorflow.org/data/imagenet_class_index.json",
        ),
        # Keras publishes only md5s (keras/src/applications/resnet.py WEIGHTS_HASHES["resnet50"][0]
        # and imagenet_utils.py's file_hash); they are checked instead.
        sha256=("", ""),
        md5=("2cb95161c43110f7111970584f804107", "c2c37ea517e94d9795004a39431a14cb"),
        subdir="models",
        keras_cache=True,
    ),
}


def destination(name: str) -> Path:
    """The folder where ``name``'s files go: ``cache_dir() / subdir``.

    >>> destination("fashion_mnist").name
    'fashion-mnist'
    """
    entry = _entry(name)
    root = keras_home() if entry.keras_cache else cache_dir()
    return root / entry.subdir if entry.subdir else root


def _entry(name: str) -> Fetchable:
    if name not in FETCHABLE:
        raise ValueError(f"unknown item {name!r}; fetchable: {', '.join(FETCHABLE)}.")
    return FETCHABLE[name]


def file_digest(path: Path, algorithm: str = "sha256") -> str:
    """The hex digest of a file, read in blocks.

    >>> len(file_digest(Path(__file__)))
    64
    """
    with open(path, "rb") as stream:
        return hashlib.file_digest(stream, algorithm).hexdigest()


def _one_line(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None)
    text = f"{type(exc).__name__}: {reason if reason is not None else exc}"
    return " ".join(text.split())


def _download(url: str, target: Path, sha256: str, timeout: float, max_seconds: float,
              algorithm: str = "sha256") -> None:
    """Download ``url`` to ``target`` via a ``.part`` file that replaces it only if the checksum matches."""
    created = [folder for folder in (target.parent, *target.parent.parents) if not folder.exists()]
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    try:
        _stream_to(url, partial, sha256, timeout, max_seconds, algorithm)
    except FetchError:
        partial.unlink(missing_ok=True)
        with contextlib.suppress(OSError):  # leave no empty folder behind
            for folder in created:
                folder.rmdir()
        raise
    os.replace(partial, target)


def _stream_to(url: str, partial: Path, sha256: str, timeout: float, max_seconds: float,
               algorithm: str = "sha256") -> None:
    digest = hashlib.new(algorithm)
    start = time.monotonic()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, open(partial, "wb") as out:
            while True:
                block = response.read(1 << 16)
                if not block:
                    break
                if time.monotonic() - start > max_seconds:
                    raise FetchError(f"{url}: gave up after {max_seconds:.0f} s (the network is too slow).")
                digest.update(block)
                out.write(block)
    except (OSError, http.client.HTTPException, ValueError) as exc:  # URLError, timeouts, bad URLs
        raise FetchError(f"could not download {url} ({_one_line(exc)}).") from exc
    got = digest.hexdigest()
    if got != sha256:
        raise FetchError(f"{url}: {algorithm} {got} does not match the expected {sha256}; nothing was saved.")


def fetch(
    name: str,
    timeout: float = DEFAULT_TIMEOUT_S,
    max_seconds: float = DEFAULT_MAX_SECONDS_PER_FILE,
) -> list[Path]:
    """Download ``name``'s files into its cache folder; files already there with the right checksum are kept.

    Raises :class:`FetchError` (one line) when a file cannot be downloaded or fails its checksum.

    >>> fetch("mnist")  # doctest: +SKIP
    [PosixPath('.../data/cache/mnist.npz')]
    """
    entry = _entry(name)
    folder = destination(name)
    paths = []
    for index, (file, url) in enumerate(zip(entry.files, entry.urls, strict=True)):
        target = folder / file
        algorithm, digest = entry.checksum(index)
        if not (target.is_file() and file_digest(target, algorithm) == digest):
            _download(url, target, digest, timeout, max_seconds, algorithm)
        paths.append(target)
    return paths


def _status_rows() -> list[tuple[str, str]]:
    rows = data_status()
    known = {name for name, _ in rows}
    for name, entry in FETCHABLE.items():  # items without a loader of their own (weights, ...)
        if name not in known:
            folder = destination(name)
            cached = all((folder / file).is_file() for file in entry.files)
            rows.append((name, f"cached: {folder}" if cached else f"not cached: `cvcourse-fetch {name}`"))
    return rows


def _print_status() -> None:
    rows = _status_rows()
    width = max(len("data set"), *(len(name) for name, _ in rows))
    print(f"{'data set':<{width}}  status")
    print(f"{'-' * width}  ------")
    for name, status in rows:
        print(f"{name:<{width}}  {status}")
    print(f"\ncourse cache: {cache_dir()}")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cvcourse-fetch",
        description="Download the course's data sets into its cache (data/cache/) for offline use.",
        epilog="Fetchable: "
        + "; ".join(f"{name}: {entry.description}" for name, entry in FETCHABLE.items())
        + ". `all` fetches every one.",
    )
    parser.add_argument("names", nargs="*", metavar="NAME", help="data sets to fetch, or `all`")
    parser.add_argument("--status", action="store_true", help="show what is available offline, and where")
    parser.add_argument(
        "--timeout", type=float, default=DEFAULT_TIMEOUT_S, help="network timeout in seconds (default 10)"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the fetch command; return the exit status (0 when everything asked for is there).

    >>> main(["--status"])  # doctest: +SKIP
    """
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, or bad options (argparse printed why)
        return int(exc.code or 0)
    if args.timeout <= 0:
        print("cvcourse-fetch: --timeout must be a positive number of seconds.", file=sys.stderr)
        return 2
    names = list(dict.fromkeys(args.names))
    if "all" in names:
        names = list(FETCHABLE)
    unknown = [name for name in names if name not in FETCHABLE]
    if unknown:
        print(
            f"cvcourse-fetch: unknown {', '.join(unknown)}; fetchable: {', '.join(FETCHABLE)}, all.",
            file=sys.stderr,
        )
        return 2
    if args.status:
        _print_status()
        if not names:
            return 0
    if not names:
        parser.print_usage(sys.stderr)
        print("cvcourse-fetch: name what to fetch (or `all`), or ask for --status.", file=sys.stderr)
        return 2
    failed = 0
    for name in names:
        start = time.monotonic()
        try:
            paths = fetch(name, timeout=args.timeout)
        except FetchError as exc:
            failed += 1
            print(f"FAILED {name}: {exc}", file=sys.stderr)
            continue
        folder = paths[0].parent if paths else destination(name)
        print(f"ok     {name}: {len(paths)} file(s) in {folder} ({time.monotonic() - start:.1f} s)")
    if failed:
        print(f"{failed} of {len(names)} could not be fetched; the loaders still work offline with "
              "what `cvcourse-fetch --status` lists.", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
