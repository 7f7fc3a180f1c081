"""``cvcourse-fetch``: download the course's data into its cache, for an offline classroom.

Students need no network: the loaders in :mod:`cvcourse.data` find system copies or fall back
to shipped samples. An instructor who wants the full sets on every machine runs this once
where there is a network, then copies ``data/cache/`` (see ``data/README.md``)::

    cvcourse-fetch --status            # what is available offline, and where
    cvcourse-fetch fashion_mnist mnist # or: cvcourse-fetch all (what `make fetch` runs)
    python -m cvcourse.fetch all       # the same

What is fetchable, from where, into which folder and with which checksum is what
``data/manifest.json`` records (:mod:`cvcourse.manifest`): to add something, give its item there a
``fetch`` entry and its files a ``url`` and ``sha256``. Each file is downloaded by
``keras.utils.get_file`` with a 10 s network timeout into a folder of its own, checked against its
sha256 (the upstream md5 where only that is published), and only then moved into place; a set that
fails prints one line and makes the exit status non-zero. Weights of ``keras.applications`` go into
Keras' own cache (``~/.keras/models``, or ``$KERAS_HOME/models``), where Keras and
:mod:`cvcourse.pretrained` find them.

>>> main(["--status"])  # doctest: +ELLIPSIS
data set ...
0
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import socket
import sys
import tempfile
import time
from pathlib import Path

from cvcourse import manifest

__all__ = ["FetchError", "fetch", "main", "status"]

DEFAULT_TIMEOUT_S = 10.0


class FetchError(RuntimeError):
    """A download failed (network, timeout, checksum); the message is one line naming the URL."""


@contextlib.contextmanager
def _network_timeout(seconds: float):
    """Give every socket opened in the block ``seconds`` to connect and for each read: ``get_file``
    (``urllib.request.urlretrieve``) sets none of its own."""
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(previous)


def _reason(exc: BaseException) -> str:
    """Why a download failed, in one line (get_file raises a bare Exception from urllib's error)."""
    if type(exc) is Exception and exc.__context__ is not None:
        exc = exc.__context__
    return " ".join(f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}".split())


def _download(file: manifest.File, folder: Path, timeout: float) -> None:
    """Download ``file`` into ``folder``, through a private folder it leaves only with the right checksum."""
    import keras  # TensorFlow's start-up: only when something is downloaded

    algorithm, digest = file.checksum
    created = [parent for parent in (folder, *folder.parents) if not parent.exists()]
    folder.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".fetch-", dir=folder))
    staged = staging / file.name
    try:
        with _network_timeout(timeout):
            keras.utils.get_file(file.name, file.url, file_hash=digest, hash_algorithm=algorithm,
                                 cache_dir=staging, cache_subdir="")
        os.replace(staged, folder / file.name)
    except Exception as exc:  # what get_file raises: Exception (network), ValueError (checksum), OSError
        if staged.is_file():  # get_file keeps a download that fails its checksum
            got = manifest.file_digest(staged, algorithm)
            raise FetchError(f"{file.url}: {algorithm} {got} does not match the expected {digest}; "
                             "nothing was saved.") from exc
        raise FetchError(f"could not download {file.url} ({_reason(exc)}).") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if not (folder / file.name).is_file():
            with contextlib.suppress(OSError):  # leave no empty folder behind
                for parent in created:
                    parent.rmdir()


def fetch(name: str, timeout: float = DEFAULT_TIMEOUT_S) -> list[Path]:
    """Download item ``name``'s files into :func:`~cvcourse.manifest.destination`; files already there
    with the right checksum are kept.

    Raises :class:`FetchError` (one line) when a file cannot be downloaded or fails its checksum.

    >>> fetch("mnist")  # doctest: +SKIP
    [PosixPath('.../data/cache/mnist.npz')]
    """
    fetchable = manifest.fetchable()
    if name not in fetchable:
        raise ValueError(f"unknown item {name!r}; fetchable: {', '.join(fetchable)}.")
    folder = manifest.destination(name)
    paths = []
    for file in fetchable[name].files:
        target = folder / file.name
        algorithm, digest = file.checksum
        if not (target.is_file() and manifest.file_digest(target, algorithm) == digest):
            _download(file, folder, timeout)
        paths.append(target)
    return paths


def _shipped(file: manifest.File) -> Path | None:
    """Where a file shipped with the course is: in an installed package, or in ``data/``."""
    return manifest.package_file(file.file) if file.file else manifest.REPOSITORY_DATA / file.path


def status() -> list[tuple[str, str]]:
    """For every item of the manifest, whether and where it is available offline (``--status``).

    >>> dict(status())["fashion_mnist"]  # doctest: +ELLIPSIS
    'available: /usr/share/datasets/fashion-mnist (Debian package dataset-fashion-mnist)'
    """
    rows = []
    for entry in manifest.items():
        if entry.cache:
            folder, label, _ = manifest.find(entry.name)
            row = (f"available: {folder} ({label})" if folder
                   else f"not cached: `cvcourse-fetch {entry.name}` (or `make fetch`)")
        elif entry.files:
            missing = [file.name for file in entry.files if not ((path := _shipped(file)) and path.is_file())]
            where = sorted({file.file.split("/")[0] if file.file else f"data/{file.path}"
                            for file in entry.files})
            row = f"MISSING: {', '.join(missing)}" if missing else f"available: in {', '.join(where)}"
        else:
            row = "made on demand: nothing stored"
        rows.append((entry.name, row))
    return rows


def _print_status() -> None:
    rows = status()
    width = max(len("data set"), *(len(name) for name, _ in rows))
    print(f"{'data set':<{width}}  status")
    print(f"{'-' * width}  ------")
    for name, row in rows:
        print(f"{name:<{width}}  {row}")
    print(f"\ncourse cache: {manifest.cache_dir()}")


def _parser(fetchable: dict[str, manifest.Item]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cvcourse-fetch",
        description="Download the course's data sets into its cache (data/cache/) for offline use.",
        epilog="Fetchable: "
        + "; ".join(f"{name}: {entry.description}" for name, entry in fetchable.items())
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
    fetchable = manifest.fetchable()
    parser = _parser(fetchable)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, or bad options (argparse printed why)
        return int(exc.code or 0)
    if args.timeout <= 0:
        print("cvcourse-fetch: --timeout must be a positive number of seconds.", file=sys.stderr)
        return 2
    names = list(dict.fromkeys(args.names))
    if "all" in names:
        names = list(fetchable)
    unknown = [name for name in names if name not in fetchable]
    if unknown:
        print(
            f"cvcourse-fetch: unknown {', '.join(unknown)}; fetchable: {', '.join(fetchable)}, all.",
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
        print(f"ok     {name}: {len(paths)} file(s) in {manifest.destination(name)} "
              f"({time.monotonic() - start:.1f} s)")
    if failed:
        print(f"{failed} of {len(names)} could not be fetched; the loaders still work offline with "
              "what `cvcourse-fetch --status` lists.", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
