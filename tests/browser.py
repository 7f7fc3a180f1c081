"""A JupyterLab server and a headless Chromium for the browser tests (tests/test_browser.py).

The server listens on 127.0.0.1 only, with a random token, on a course root of the test's own, and
stops with the context. The browser is Debian's Chromium (``make setup`` installs it as root on
Debian; ``CHROMIUM`` names another), driven by Playwright from PyPI: never a browser download. Its
flags keep it off the network (without them it floods a closed one). :class:`Steps` names each
step, saves a screenshot of it under ``test-artifacts/browser/`` and says which step failed.

>>> with jupyterlab(course_root) as lab, chromium() as browser:      # doctest: +SKIP
...     page = browser.new_page()
...     page.goto(lab.url("lab/tree/course"))
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from grader.course import REPO, nbgrader_environment
from grader.presentation import COURSE_KERNEL

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = REPO / "test-artifacts" / "browser"


@dataclass
class Lab:
    """A running JupyterLab server: its port, token and log."""

    port: int
    token: str
    log: Path

    def url(self, path: str) -> str:
        """The address of ``path`` on this server, with the token."""
        joiner = "&" if "?" in path else "?"
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}{joiner}token={self.token}"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def jupyterlab(root: Path, timeout: float = 90):
    """JupyterLab on ``root`` as ``make lab`` starts it, on 127.0.0.1 with a token; stopped after."""
    port, token = _free_port(), secrets.token_hex(16)
    state = Path(tempfile.mkdtemp(prefix="lab-state-"))  # workspaces and settings: none from before
    log = state / "jupyterlab.log"
    command = [
        str(Path(sys.executable).parent / "jupyter"), "lab", "--no-browser", "--allow-root",
        "--ip=127.0.0.1", f"--port={port}", f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}", f"--KernelSpecManager.allowed_kernelspecs={COURSE_KERNEL['name']}",
        f"--LabApp.workspaces_dir={state / 'workspaces'}", f"--LabApp.user_settings_dir={state / 'settings'}",
    ]
    # nbgrader keeps a student's submissions in JUPYTER_DATA_DIR's cache: the test's own, not the user's
    env = nbgrader_environment() | {"JUPYTER_DATA_DIR": str(state / "data")}
    with open(log, "w") as out:
        server = subprocess.Popen(command, cwd=root, env=env, stdout=out,
                                  stderr=subprocess.STDOUT, start_new_session=True)
    lab = Lab(port, token, log)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                urllib.request.urlopen(lab.url("api/status"), timeout=5).read()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"JupyterLab did not start: {log.read_text()[-2000:]}") from None
                time.sleep(0.5)
        yield lab
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, 9)
            server.wait()
        shutil.rmtree(state, ignore_errors=True)


@contextlib.contextmanager
def chromium(width: int = 1400, height: int = 900):
    """A headless Chromium with a fresh profile, through Playwright; closed after."""
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.is_file():
        raise RuntimeError(f"no Chromium at {CHROMIUM}: `make setup` installs Debian's as root "
                           "(apt-get install chromium), or set CHROMIUM=/path/to/chromium")
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    try:
        with sync_playwright() as playwright:
            context = playwright.chromium.launch_persistent_context(
                profile, executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS,
                viewport={"width": width, "height": height})
            try:
                yield context
            finally:
                context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


class Steps:
    """Named steps of one browser test: a screenshot of each, and the step's name in a failure.

    >>> steps = Steps("course_opens", page)                               # doctest: +SKIP
    >>> with steps("the file browser lists 11 chapters"):                 # doctest: +SKIP
    ...     ...
    """

    def __init__(self, test: str, page):
        self.folder, self.page, self.count = ARTIFACTS / test, page, 0
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)

    @contextlib.contextmanager
    def __call__(self, name: str):
        self.count += 1
        stem = f"{self.count:02d}-{re.sub(r'[^a-z0-9]+', '-', name.lower()).strip('-')}"
        try:
            yield
        except Exception as error:
            shot = self.shot(f"{stem}-FAILED")
            raise AssertionError(f"browser step {self.count} {name!r} failed (screenshot {shot}): "
                                 f"{type(error).__name__}: {error}") from error
        self.shot(stem)

    def shot(self, stem: str) -> Path:
        path = self.folder / f"{stem}.png"
        with contextlib.suppress(Exception):  # a screenshot never hides the failure it documents
            self.page.screenshot(path=path)
        return path
