"""nbgrader's executor for trusted grading: student cells in the sandbox, test cells in the grader.

:class:`TrustedExecute` takes the place of nbgrader's ``Execute`` in ``nbgrader autograde``. It
reads a *plan* (:func:`grader.plan.notebook_plans`, with the test process's socket, folder and
environment added: the test cells' source from the
gradebook, the instructor's set-up cells, the names the student defines) and, for a notebook
the plan names, runs

* every cell that is not a known test cell in the student's kernel, as ``Execute`` does;
* every test cell in a test process of the grader's own (:mod:`grader.testrunner`), whose
  requests for the student's values it carries to the student's kernel and back as bytes.

A test cell's outputs are written where nbgrader scores them, so scoring, late penalties and
feedback stay nbgrader's. A student's code that runs past the cell time-out while answering a
request is interrupted, and the test meets a ``TimeoutError``.

>>> # nbgrader_config.py of a grading folder            # doctest: +SKIP
>>> c.Autograde.autograde_preprocessors[0] = TrustedExecute
>>> c.TrustedExecute.plan = "/tmp/cvg-1/0/plan.json"
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import queue
import signal
import sys
import time
import uuid
from multiprocessing.connection import Client, Connection
from pathlib import Path

from jupyter_core.paths import jupyter_runtime_dir
from jupyter_core.utils import run_sync
from nbformat import NotebookNode
from nbgrader.preprocessors import Execute
from traitlets import Unicode

from grader import sandbox

MIME = "application/vnd.cvcourse.grading-reply"  # the display data that carries the kernel's answer
AGENT_CALL = "__import__('cvcourse.grading_agent', fromlist=['serve']).serve({request!r}, {mime!r})"
# A large request (a model's weights, a batch of images) goes as a file in the kernel's runtime
# folder: inside the code IPython runs, megabytes of text cost it a second a call to parse.
AGENT_CALL_FILE = (
    "__import__('cvcourse.grading_agent', fromlist=['serve_file']).serve_file({path!r}, {mime!r})"
)
LARGE_REQUEST = 64 * 1024  # bytes


class NoAnswer(Exception):
    """The student's kernel gave no answer to a request (time-out, death, silence)."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


class TestProcess:
    """A test process of the grading run's server (``python -m grader.testrunner SOCKET``), forked afresh
    for this notebook, and again if it fails."""

    def __init__(self, socket: str, setup: dict):
        self.socket, self.setup = socket, setup
        self.connection: Connection | None = None
        self.pid: int | None = None
        self.pending_setup = False

    def start(self) -> None:
        self.connection = Client(self.socket, family="AF_UNIX")
        hello = self._receive(time.monotonic() + 60)
        if hello is None or hello.get("op") != "hello":
            raise RuntimeError(f"the grader's test server at {self.socket} did not answer")
        self.pid = int(hello["pid"])
        self.connection.send_bytes(json.dumps({"op": "setup", **self.setup}).encode())
        self.pending_setup = True

    def stop(self) -> None:
        if self.connection is not None:
            self.connection.close()
        if self.pid is not None:
            try:
                os.killpg(self.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        self.connection = self.pid = None

    def _receive(self, deadline: float) -> dict | None:
        """The next message, or None when the process died or the deadline passed."""
        try:
            if not self.connection.poll(max(0.0, deadline - time.monotonic())):
                return None
            return json.loads(self.connection.recv_bytes())
        except (EOFError, OSError):
            return None

    def run(self, code: str, ask, timeout: float) -> list[dict]:
        """Outputs of test cell ``code``; ``ask(request bytes, seconds left)`` answers its requests."""
        if self.connection is None:
            self.start()
        deadline = time.monotonic() + timeout
        if self.pending_setup:
            done = self._receive(deadline)
            self.pending_setup = False
            if done is None or done.get("outputs"):
                self.stop()
                why = "it stopped" if done is None else done["outputs"][0].get("evalue", "")
                return [_failure("GraderError", f"the grader's test process could not set up: {why}")]
        self.connection.send_bytes(json.dumps({"op": "run", "code": code}).encode())
        while True:
            message = self._receive(deadline)
            if message is None:
                self.stop()  # hung or died: the next test cell gets a fresh one
                return [_failure("CellTimeoutError", f"the test did not finish within {timeout:.0f} s")]
            if message.get("op") == "done":
                return message["outputs"]
            if message.get("op") == "ask":
                try:
                    reply = ask(base64.b64decode(message["payload"]), deadline - time.monotonic())
                    answer = {"op": "answer", "payload": base64.b64encode(reply).decode()}
                except NoAnswer as missing:
                    answer = {"op": "answer", "error": {"type": missing.kind, "message": str(missing)}}
                self.connection.send_bytes(json.dumps(answer).encode())


def _failure(name: str, message: str) -> dict:
    return {"output_type": "error", "ename": name, "evalue": message, "traceback": [f"{name}: {message}"]}


def submitted_sources(nb: NotebookNode, test_ids: set[str]) -> list[str]:
    """The source of every code cell the student's kernel runs (all but the known test cells)."""
    return [
        cell.source
        for cell in nb.cells
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("grade_id") not in test_ids
    ]


class TrustedExecute(Execute):
    """nbgrader's Execute, with the test cells run in the grader's test process."""

    plan = Unicode("", help="the grading plan (JSON) of this notebook").tag(config=True)

    def preprocess(self, nb, resources=None, km=None):
        plans = json.loads(Path(self.plan).read_text()) if self.plan else {}
        plan = plans.get((resources or {}).get("unique_key", ""))
        self._tests, self._unresponsive = {}, False
        if plan is None:  # a notebook graded in the student's kernel, as nbgrader does
            return super().preprocess(nb, resources, km)
        self._tests = plan["tests"]
        setup = {
            "setup": plan["setup"],
            "student_names": plan["student_names"],
            "submission": submitted_sources(nb, set(self._tests)),
        }
        self._test_process = TestProcess(plan["socket"], {**setup, "cwd": plan["cwd"], "env": plan["env"]})
        self._test_process.start()  # sets up while the student's kernel starts
        # opened before the kernel starts, and written through this descriptor only with O_EXCL: a
        # kernel that renames the folder or plants links there cannot send a write anywhere else
        self._requests = os.open(jupyter_runtime_dir(), os.O_RDONLY | os.O_DIRECTORY)
        try:
            return super().preprocess(nb, resources, km)
        finally:
            self._test_process.stop()
            os.close(self._requests)

    def preprocess_cell(self, cell, resources, index):
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.cell_type != "code" or grade_id not in self._tests:
            return super().preprocess_cell(cell, resources, index)
        self._check_assign_resources(resources)
        cell.source = self._tests[grade_id]
        outputs = self._test_process.run(cell.source, self._ask_student, float(self.timeout or 300))
        cell.outputs = [NotebookNode(output) for output in outputs]
        cell.execution_count = None
        return cell, self.resources

    def _ask_student(self, request: bytes, seconds: float) -> bytes:
        """Run one request in the student's kernel; its reply (bytes), or raise :class:`NoAnswer`."""
        if self._unresponsive:
            raise NoAnswer("TimeoutError", "the student's kernel stopped answering after an earlier time-out")
        name = None
        if len(request) > LARGE_REQUEST:
            name = f"grading-request-{uuid.uuid4().hex}"
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
            with os.fdopen(os.open(name, flags, 0o644, dir_fd=self._requests), "wb") as handle:
                handle.write(request)
            code = AGENT_CALL_FILE.format(path=os.path.join(jupyter_runtime_dir(), name), mime=MIME)
        else:
            code = AGENT_CALL.format(request=base64.b64encode(request).decode(), mime=MIME)
        try:
            return self._answer(
                self.kc.execute(code, silent=True, store_history=False, allow_stdin=False), seconds
            )
        finally:
            if name is not None:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(name, dir_fd=self._requests)

    def _answer(self, msg_id: str, seconds: float) -> bytes:
        """The student's kernel's reply to the request it runs as ``msg_id``, or raise :class:`NoAnswer`."""
        deadline = time.monotonic() + max(seconds, 1.0)
        reply = None
        while True:
            if time.monotonic() > deadline:
                return self._interrupt(msg_id, seconds)
            try:
                message = run_sync(self.kc.get_iopub_msg)(timeout=1)
            except queue.Empty:
                if not run_sync(self.km.is_alive)():
                    raise NoAnswer("RuntimeError", "the student's kernel died") from None
                continue
            if message["parent_header"].get("msg_id") != msg_id:
                continue
            content = message["content"]
            if message["msg_type"] == "display_data" and MIME in content.get("data", {}):
                try:
                    reply = base64.b64decode(content["data"][MIME], validate=True)
                except ValueError:
                    reply = None
            if message["msg_type"] == "status" and content.get("execution_state") == "idle":
                break
        self._drain_shell(msg_id)
        if reply is None:
            raise NoAnswer("RuntimeError", "the student's kernel gave no answer")
        return reply

    def _drain_shell(self, msg_id: str, seconds: float = 5.0) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                message = run_sync(self.kc.get_shell_msg)(timeout=1)
            except queue.Empty:
                continue
            if message["parent_header"].get("msg_id") == msg_id:
                return

    def _interrupt(self, msg_id: str, seconds: float) -> None:
        run_sync(self.km.interrupt_kernel)()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                message = run_sync(self.kc.get_iopub_msg)(timeout=1)
            except queue.Empty:
                continue
            if (
                message["parent_header"].get("msg_id") == msg_id
                and message["msg_type"] == "status"
                and message["content"].get("execution_state") == "idle"
            ):
                self._drain_shell(msg_id)
                break
        else:
            self._unresponsive = True
        raise NoAnswer("TimeoutError", f"the student's code ran past the time limit ({seconds:.0f} s left)")


def autograde_preprocessors() -> list[type]:
    """nbgrader's autograde preprocessors with :class:`TrustedExecute` in the place of ``Execute``."""
    from nbgrader.converters import Autograde

    default = Autograde.class_traits()["autograde_preprocessors"].default()
    return [TrustedExecute if p is Execute else p for p in default]


def test_server_command(socket: Path) -> list[str]:
    """How the grader starts a slot's test server (its test processes fork from it)."""
    return [sys.executable, "-m", "grader.testrunner", str(socket)]


def test_process_environment(tmp: Path) -> dict[str, str]:
    """The test process's environment: the grader's, without secrets, with its own temporary folder."""
    return sandbox.allowed_environment(
        PATH=os.environ.get("PATH", "/usr/bin:/bin"),
        HOME=str(tmp),
        TMPDIR=str(tmp),
        MPLCONFIGDIR=str(tmp / "matplotlib"),
        MPLBACKEND="Agg",
        TF_CPP_MIN_LOG_LEVEL="3",
        PYTHONPATH=str(Path(__file__).resolve().parents[1]),
    )
