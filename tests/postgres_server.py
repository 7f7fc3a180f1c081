"""A private PostgreSQL server for a test: its own data folder and socket folder, no TCP port.

Debian's ``postgresql`` package (``make setup`` installs it when root on Debian) provides the
server programs; the server refuses to run as root, so as root it runs as ``nobody``.

>>> with postgres_server() as url:                                  # doctest: +SKIP
...     Gradebook(url)
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy

PORT = 5432  # names the socket file only: the server listens on no network address
USER = "cvcourse"


def server_programs() -> Path:
    """The folder with ``initdb`` and ``postgres``; RuntimeError saying how to install them."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    if shutil.which("initdb"):
        return Path(shutil.which("initdb")).parent
    raise RuntimeError(
        "PostgreSQL's server programs (initdb, postgres) are not installed: `make setup` as root on "
        "Debian installs them (apt-get install postgresql)"
    )


def _as_server_user() -> list[str]:
    if os.getuid() != 0:
        return []
    return ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"]


@contextlib.contextmanager
def postgres_server(database: str = "gradebook") -> Iterator[str]:
    """Start a server, create ``database``, yield its SQLAlchemy URL; stop the server and remove it after."""
    programs = server_programs()
    folder = Path(tempfile.mkdtemp(prefix="cvcourse-postgres-"))
    data, sockets, log = folder / "data", folder / "sockets", folder / "server.log"
    sockets.mkdir()
    if os.getuid() == 0:
        for path in (folder, sockets):
            shutil.chown(path, "nobody", "nogroup")
    run_as = _as_server_user()
    server = None
    try:
        subprocess.run(
            [*run_as, programs / "initdb", "-D", data, "-U", USER, "--auth=trust", "-E", "UTF8"],
            check=True,
            capture_output=True,
            timeout=120,
        )
        server = subprocess.Popen(
            [*run_as, programs / "postgres", "-D", data, "-k", sockets, "-p", str(PORT)]
            + ["-c", "listen_addresses=", "-c", "fsync=off"],
            stdout=subprocess.DEVNULL,
            stderr=log.open("wb"),
        )
        admin = sqlalchemy.create_engine(
            f"postgresql://{USER}@/postgres?host={sockets}&port={PORT}", isolation_level="AUTOCOMMIT"
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                with admin.connect() as connection:
                    connection.execute(sqlalchemy.text(f'CREATE DATABASE "{database}"'))
                break
            except sqlalchemy.exc.OperationalError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"PostgreSQL did not start: {log.read_text()}") from None
                time.sleep(0.3)
        admin.dispose()
        yield f"postgresql://{USER}@/{database}?host={sockets}&port={PORT}"
    finally:
        if server is not None:
            server.send_signal(signal.SIGINT)  # a fast shutdown: ends the sessions still open
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        shutil.rmtree(folder, ignore_errors=True)
