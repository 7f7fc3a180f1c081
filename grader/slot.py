"""What one grading slot does with one submission: the same on this machine and on a Dask worker.

A slot is a user id for the kernels it starts (and one for its test server), claimed with a lock
file so that no two slots on a machine, of one grading run or of several, ever share one. Given
the assignment (:class:`Assignment`, read once per run by :mod:`grader.classroom`) and one
submission as data (:class:`Job`), :func:`grade` lays out a private work folder, runs ``nbgrader
autograde`` there with the kernel in the sandbox (:mod:`grader.sandbox`) and the test cells in the
test server's process (:mod:`grader.trusted_execute`), and returns the results as data
(:class:`Graded`). It reads nothing of the course root, and writes nothing outside its folder:
the instructor's process alone writes the gradebook.

>>> with claim_slots(1)[0] as slot, Workplace(limits, sandboxed=True, test_uid=slot.test_uid) as place:
...     graded = grade(assignment, job, place, slot)                          # doctest: +SKIP
"""

from __future__ import annotations

import ctypes
import fcntl
import hashlib
import json
import multiprocessing
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from nbgrader.api import Gradebook

from grader import repair, sandbox, trusted_execute
from grader.course import REPO, nbgrader_environment, write_course_config
from grader.paths import CoursePaths

FIRST_UID = 1_900_000  # slot k runs its kernels as user FIRST_UID + k (no account needed)
TEST_UID = 1_950_000  # and its test server and test processes (grader.testrunner) as TEST_UID + k
MAX_SLOTS = 64  # slots one machine can hold at once
LARGEST_FILE = 64 * 2**20  # a submitted file larger than this is left out (noted), not graded
SLOT_LOCKS = Path("/tmp/cvcourse-grading-slots")  # one place for every run on the machine, whatever TMPDIR


@dataclass
class Assignment:
    """What every submission of an assignment is graded against, read once per grading run."""

    name: str
    tests: dict[str, dict]  # notebook file -> its test cells (grader.repair.release_tests)
    plans: dict[str, dict]  # notebook name -> its trusted-grading plan (grader.plan.notebook_plans)
    trusted: bool  # every notebook of the assignment is graded trusted
    gradebook: bytes  # a SQLite gradebook with the course's assignments and no submission
    files: dict[str, bytes]  # the assignment's other files (data) nbgrader copies beside the notebook
    kernel_names: list[str]  # kernels the notebooks may name: each starts in the sandbox
    cell_timeout: int = 300
    submission_timeout: float = 1800


@dataclass
class Job:
    """One submission, as data: its files by relative path, and what was left out of them."""

    student: str
    files: dict[str, bytes]
    left_out: list[str] = field(default_factory=list)
    extension: timedelta | None = None  # a deadline extension the instructor gave this student

    @property
    def digest(self) -> str:
        """A fingerprint of the submitted files: a re-collected submission has another."""
        h = hashlib.sha256()
        for name in sorted(self.files):
            h.update(name.encode() + b"\0" + hashlib.sha256(self.files[name]).digest())
        return h.hexdigest()


@dataclass
class Graded:
    """How one submission was graded, as data the instructor's process merges into the gradebook."""

    student: str
    reason: str  # why it could not be graded normally; "" when it was
    seconds: float
    repairs: list[str] = field(default_factory=list)
    grades: dict[tuple[str, str], tuple[float | None, bool]] = field(default_factory=dict)
    comments: dict[tuple[str, str], str | None] = field(default_factory=dict)
    timestamp: datetime | None = None
    penalties: dict[str, float | None] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)  # the graded folder (notebooks and all)
    host: str = ""


def read_job(folder: Path, student: str, extension: timedelta | None = None) -> Job:
    """``student``'s submission in ``folder`` as a :class:`Job`: regular files only (no links,
    devices or files over :data:`LARGEST_FILE`, which are named in ``left_out``)."""
    files, left_out = {}, []
    for dirpath, dirnames, filenames in os.walk(folder):
        here = Path(dirpath)
        for name in list(dirnames):
            if (here / name).is_symlink():
                left_out.append(str((here / name).relative_to(folder)))
                dirnames.remove(name)
        for name in filenames:
            path, relative = here / name, str((here / name).relative_to(folder))
            if path.is_symlink() or not path.is_file() or path.stat().st_size > LARGEST_FILE:
                left_out.append(relative)
            else:
                files[relative] = path.read_bytes()
    return Job(student, files, left_out, extension)


def write_files(files: dict[str, bytes], target: Path) -> None:
    """Write ``files`` (relative path -> content) under ``target``, refusing paths that leave it."""
    target = Path(target)
    for relative, content in files.items():
        path = (target / relative).resolve()
        if not path.is_relative_to(target.resolve()):
            raise ValueError(f"{relative!r} is outside the folder it was sent for")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)


class Slot:
    """A slot held on this machine: kernels run as ``kernel_uid``, the test server as ``test_uid``.

    Held by an exclusive lock on ``SLOT_LOCKS/<index>``; the lock ends with the process that holds
    it, so a slot of a killed worker is free again, and whatever it left running is killed by the
    next holder before it grades anything.
    """

    def __init__(self, index: int, handle: int):
        self.index, self._handle = index, handle
        self.kernel_uid, self.test_uid = FIRST_UID + index, TEST_UID + index

    def release(self) -> None:
        if self._handle >= 0:
            os.close(self._handle)
            self._handle = -1

    def __enter__(self) -> Slot:
        return self

    def __exit__(self, *_) -> None:
        self.release()


def claim_slots(count: int, sandboxed: bool = True) -> list[Slot]:
    """Claim ``count`` free slots of this machine (RuntimeError when fewer are free)."""
    SLOT_LOCKS.mkdir(mode=0o700, exist_ok=True)
    if SLOT_LOCKS.is_symlink() or SLOT_LOCKS.stat().st_uid != os.getuid():
        raise RuntimeError(f"{SLOT_LOCKS} belongs to another user: remove it (it holds only lock files)")
    slots = []
    for index in range(MAX_SLOTS):
        if len(slots) == count:
            break
        handle = os.open(SLOT_LOCKS / str(index), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(handle)
            continue
        slot = Slot(index, handle)
        if sandboxed:  # what an earlier holder, killed, left running
            sandbox.kill_user_processes(slot.kernel_uid)
            sandbox.kill_user_processes(slot.test_uid)
        slots.append(slot)
    if len(slots) < count:
        for slot in slots:
            slot.release()
        raise RuntimeError(
            f"{count} grading slot(s) wanted, {len(slots)} free on this machine ({SLOT_LOCKS})"
        )
    return slots


class Workplace:
    """A private folder for one slot or pool of slots, and its test server, started when first needed.

    The test server (:mod:`grader.testrunner`) imports TensorFlow once and forks a test process
    per submission; it runs confined as ``test_uid``. With ``warm``, each slot has a zygote
    (:mod:`grader.zygote`) that imports TensorFlow once and forks the slot's kernels.
    """

    def __init__(self, limits: sandbox.Limits, sandboxed: bool, test_uid: int, warm: bool = True):
        self.limits, self.sandboxed, self.test_uid = limits, sandboxed, test_uid
        self.warm = warm and sandboxed  # kernels forked by each slot's zygote (grader/zygote.py)
        # under /tmp when sandboxed: a warm kernel's folders are bound on its fresh /tmp
        self.folder = Path(tempfile.mkdtemp(prefix="cvg-", dir="/tmp" if sandboxed else None))
        self._server: subprocess.Popen | None = None
        self._zygotes: dict[int, subprocess.Popen] = {}  # slot index -> its zygote
        self._lock = threading.Lock()
        self._count = 0

    def work_folder(self) -> Path:
        with self._lock:
            self._count += 1
            return self.folder / str(self._count)

    @property
    def tests(self) -> Path:
        """Where the test server listens, and each submission's test process works (a folder each)."""
        return self.folder / "tests"

    def start_test_server(self) -> None:
        with self._lock:
            if self._server is None or self._server.poll() is not None:
                self._server = _start_test_server(
                    self.folder, self.tests, self.limits, self.sandboxed, self.test_uid
                )

    def zygote_socket(self, slot: Slot) -> Path:
        return self.folder / f"zygote-{slot.index}.sock"

    def launch_zygote(self, slot: Slot) -> None:
        """Start ``slot``'s zygote if it is not running, without waiting for it (it imports TensorFlow
        while the test server starts)."""
        zygote = self._zygotes.get(slot.index)
        if zygote is not None and zygote.poll() is None:
            return
        socket_path = self.zygote_socket(slot)
        socket_path.unlink(missing_ok=True)
        readable, env = sandbox.keras_cache(True)
        config = sandbox.KernelConfig(
            uid=slot.kernel_uid,
            visible=sandbox.visible_paths(),
            runtime_dir=str(self.folder),
            limits=self.limits,
            readable=readable,
            env=env,
        )
        command = sandbox.zygote_command(config, self.folder, socket_path)
        log = self.folder / f"zygote-{slot.index}.log"
        with log.open("ab") as output:
            zygote = subprocess.Popen(
                command,
                env=sandbox.zygote_environment(config),
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=output,
                start_new_session=True,
            )
        self._zygotes[slot.index] = zygote

    def start_zygote(self, slot: Slot) -> str:
        """Start ``slot``'s zygote if it is not running: the socket its kernels fork from, or "" when
        it cannot start (its kernels then start cold, in the same sandbox; the log says why)."""
        self.launch_zygote(slot)
        zygote, socket_path = self._zygotes[slot.index], self.zygote_socket(slot)
        log = self.folder / f"zygote-{slot.index}.log"
        deadline = time.monotonic() + 120
        while not socket_path.exists():
            if zygote.poll() is not None or time.monotonic() > deadline:
                zygote.kill()
                zygote.wait()
                why = log.read_text(errors="replace")[-1500:]
                print(f"slot {slot.index}'s zygote did not start (cold kernels):\n{why}", file=sys.stderr)
                return ""
            time.sleep(0.1)
        return str(socket_path)

    def close(self) -> None:
        with self._lock:
            if self._server is not None:
                self._server.kill()
                self._server.wait()
                self._server = None
            for zygote in self._zygotes.values():
                zygote.kill()
                zygote.wait()
            self._zygotes.clear()
            if self.sandboxed:
                sandbox.kill_user_processes(self.test_uid)
            shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> Workplace:
        return self

    def __exit__(self, *_) -> None:
        self.close()


def _start_test_server(parent: Path, folder: Path, limits, sandboxed: bool, uid: int) -> subprocess.Popen:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    command = trusted_execute.test_server_command(folder / "server.sock")
    readable, cache = sandbox.keras_cache(sandboxed)
    env = {**trusted_execute.test_process_environment(folder), **cache}
    if sandboxed:
        sandbox.kill_user_processes(uid)
        config = sandbox.KernelConfig(
            uid=uid,
            visible=sandbox.visible_paths(test_server=True),
            runtime_dir=str(folder),
            limits=limits,
            readable=readable,
            env=env,
        )
        command = [
            sys.executable,
            sandbox.__file__,
            "run",
            str(config.write(parent / "tests.json")),
            "--",
            *command,
        ]
    with (parent / "tests.log").open("wb") as log:
        server = subprocess.Popen(
            command,
            env=env,
            cwd=folder,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
    deadline = time.monotonic() + 120
    while not (folder / "server.sock").exists():
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            server.wait()
            log = (parent / "tests.log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"the grader's test server did not start:\n{log}")
        time.sleep(0.1)
    return server


def gradebook_template(url: str) -> bytes:
    """A SQLite gradebook holding what gradebook ``url`` (SQLite or PostgreSQL) knows of the course's
    assignments (notebooks, cells, checksums) and its migration stamp, and no student or submission."""
    from nbgrader.api import Base
    from sqlalchemy import MetaData, create_engine, select

    kept = {"course", "assignment", "notebook", "base_cell", "grade_cells", "solution_cells", "task_cells"}
    kept |= {"source_cell"}
    with tempfile.TemporaryDirectory(prefix="cvg-gradebook-") as folder:
        path = Path(folder) / "gradebook.db"
        source, target = create_engine(url), create_engine(f"sqlite:///{path}")
        stamp = MetaData()
        stamp.reflect(bind=source, only=["alembic_version"])
        Base.metadata.create_all(bind=target)
        stamp.create_all(bind=target)
        tables = [t for t in Base.metadata.sorted_tables if t.name in kept] + list(stamp.tables.values())
        with source.connect() as read, target.begin() as write:
            for table in tables:
                rows = [dict(row._mapping) for row in read.execute(select(table))]
                if rows:
                    write.execute(table.insert(), rows)
        source.dispose()
        target.dispose()
        return path.read_bytes()


def grade(assignment: Assignment, job: Job, place: Workplace, slot: Slot, stop=None) -> Graded:
    """Grade ``job`` in a new folder of ``place``, its kernel running as ``slot``'s user.

    ``stop`` (a threading.Event), once set, ends the grading at once (an interrupted run).
    """
    work_dir, start = place.work_folder(), time.perf_counter()
    graded = Graded(job.student, "", 0.0, host=os.uname().nodename)
    try:
        if place.warm:
            place.launch_zygote(slot)
        if assignment.trusted:
            place.start_test_server()
        zygote = place.start_zygote(slot) if place.warm else ""
        arguments = prepare(assignment, job, work_dir, place, slot, zygote)
        graded.repairs = json.loads((work_dir / "repairs.json").read_text())
        code, log = _run(arguments, work_dir, assignment.submission_timeout, stop)
        folder = CoursePaths(work_dir).graded(job.student, assignment.name)
        if code is None:
            graded.reason = f"grading took longer than {assignment.submission_timeout:.0f} s and was stopped"
        elif code != 0 or not any(folder.glob("*.ipynb")):
            graded.reason = explain_failure(log)
        else:
            _read_results(graded, work_dir, assignment.name, folder)
    except OSError as error:  # a submission that cannot be written out, say
        graded.reason = f"could not prepare its grading: {error}"
    finally:
        if place.sandboxed:  # whatever the submission left running (a fork bomb's children) ends here
            sandbox.kill_user_processes(slot.kernel_uid)
        shutil.rmtree(work_dir, ignore_errors=True)
        shutil.rmtree(place.tests / work_dir.name, ignore_errors=True)
    graded.seconds = time.perf_counter() - start
    return graded


def _read_results(graded: Graded, work_dir: Path, assignment: str, folder: Path) -> None:
    with Gradebook(CoursePaths(work_dir).gradebook_url) as gb:
        submission = gb.find_submission(assignment, graded.student)
        for nb in submission.notebooks:
            graded.grades |= {(nb.name, g.name): (g.auto_score, g.needs_manual_grade) for g in nb.grades}
            graded.comments |= {(nb.name, c.name): c.auto_comment for c in nb.comments}
            graded.penalties[nb.name] = nb.late_submission_penalty
        graded.timestamp = submission.timestamp
    graded.files = read_job(folder, graded.student).files


def prepare(
    assignment: Assignment, job: Job, work_dir: Path, place: Workplace, slot: Slot, zygote: str = ""
) -> list[str]:
    """Lay out ``work_dir`` for grading ``job``; return the ``nbgrader autograde`` arguments.

    ``zygote``: the socket of the slot's zygote, which forks its kernels warm ("": they start cold).
    """
    name, work = assignment.name, CoursePaths(work_dir)
    work.gradebook.parent.mkdir(parents=True)
    work.gradebook.write_bytes(assignment.gradebook)
    if job.extension:
        with Gradebook(work.gradebook_url) as gb:
            gb.update_or_create_student(job.student)
            gb.update_or_create_submission(name, job.student, extension=job.extension)
    submitted = work.submission(job.student, name)
    submitted.mkdir(parents=True)
    write_files(job.files, submitted)
    repairs = [f"left out of the submission: {path}" for path in job.left_out]
    for notebook, tests in assignment.tests.items():
        if (submitted / notebook).is_file():
            repairs += [
                f"{Path(notebook).stem}: {note}" for note in repair.repair_file(submitted / notebook, tests)
            ]
    (work_dir / "repairs.json").write_text(json.dumps(repairs))
    # nbgrader copies the assignment's other files (data) from the source folder: not the notebooks.
    (work.source / name).mkdir(parents=True)
    write_files(assignment.files, work.source / name)
    runtime = work_dir / "runtime"
    runtime.mkdir()
    extra = f"c.Execute.timeout = {int(assignment.cell_timeout)}\n"
    if place.sandboxed:
        extra += (
            "c.KernelManager.transport = 'ipc'  # Unix sockets: the kernel has no network at all\n"
            f"c.KernelManager.ip = {str(runtime / 'kernel')!r}  # where the sockets go\n"
        )
    readable, env = sandbox.keras_cache(place.sandboxed)
    if assignment.trusted:
        tests = place.tests / work_dir.name  # where its test process works
        tests.mkdir()
        if place.sandboxed:
            sandbox.give_to(tests, place.test_uid)
        extra += trusted_configuration(assignment.plans, work_dir, tests, env)
    write_course_config(work_dir, exchange=work_dir / "exchange", extra=extra, db_url=work.gradebook_url)
    arguments = [name, f"--student={job.student}", "--create", "--force"]
    if not place.sandboxed:
        return arguments
    config = sandbox.KernelConfig(
        uid=slot.kernel_uid,
        visible=sandbox.visible_paths(),
        runtime_dir=str(runtime),
        limits=place.limits,
        readable=readable,
        env=env,
        zygote=zygote,
    )
    config_path = config.write(work_dir / "sandbox.json")
    for kernel in assignment.kernel_names:
        folder = work_dir / "jupyter" / "kernels" / kernel
        folder.mkdir(parents=True)
        (folder / "kernel.json").write_text(json.dumps(sandbox.kernelspec(config_path)))
    return arguments


def trusted_configuration(plans: dict[str, dict], work_dir: Path, tests: Path, env: dict[str, str]) -> str:
    """nbgrader configuration lines that run the test cells of trusted notebooks (``plans``) in a
    test process forked by the test server, working in folder ``tests``, with ``env`` added."""
    process = {
        "socket": str(tests.parent / "server.sock"),
        "env": {**trusted_execute.test_process_environment(tests), **env},
        "cwd": str(tests),
    }
    path = work_dir / "plan.json"
    path.write_text(json.dumps({name: {**notebook, **process} for name, notebook in plans.items()}))
    return (
        f"import sys; sys.path.insert(0, {str(REPO)!r})\n"
        "from grader.trusted_execute import autograde_preprocessors\n"
        "c.Autograde.autograde_preprocessors = autograde_preprocessors()\n"
        f"c.TrustedExecute.plan = {str(path)!r}\n"
    )


def _worker_environment(work_dir: Path) -> dict[str, str]:
    env = {
        k: v for k, v in nbgrader_environment().items() if not k.startswith(("JUPYTER", "NBGRADER", "JPY_"))
    }
    env.update(
        {
            "JUPYTER_PATH": str(work_dir / "jupyter"),
            "JUPYTER_RUNTIME_DIR": str(work_dir / "runtime"),
            "JUPYTER_CONFIG_DIR": str(work_dir / "jupyter-config"),
            "HOME": str(work_dir / "home"),
            "TMPDIR": str(work_dir / "runtime"),  # connection files: the kernel sees this folder
            **sandbox.GRADING_ENVIRONMENT,  # an unsandboxed kernel inherits it from nbgrader
        }
    )
    return env


# nbgrader and nbconvert take seconds of CPU to import: the graders are forked from a server
# process that has imported them once (a fresh process per submission all the same).
_GRADERS = multiprocessing.get_context("forkserver")
_GRADERS.set_forkserver_preload(["nbgrader.apps.autogradeapp"])
_PR_SET_PDEATHSIG = 1


def _autograde(work_dir: str, arguments: list[str], env: dict[str, str]) -> None:
    """In a forked process: ``nbgrader autograde ARGUMENTS`` in ``work_dir``, output to its log."""
    os.setsid()
    # it dies with the fork server, which dies with the process that grades (a killed worker)
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    log = os.open(os.path.join(work_dir, "grading.log"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.chdir(work_dir)
    os.environ.clear()
    os.environ.update(env)
    tempfile.tempdir = None  # the fork server's cached one is not this submission's TMPDIR
    code = 1
    try:
        from nbgrader.apps.autogradeapp import AutogradeApp

        AutogradeApp.launch_instance(arguments)
        code = 0
    except SystemExit as exit:
        code = exit.code if isinstance(exit.code, int) else 1
    except BaseException:  # noqa: BLE001 (reported in the log, scored as a failed grading)
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _run(arguments: list[str], work_dir: Path, timeout: float, stop=None) -> tuple[int | None, str]:
    """``nbgrader autograde ARGUMENTS`` in ``work_dir``; (exit code or None on time-out, its log)."""
    (work_dir / "home").mkdir(exist_ok=True)
    process = _GRADERS.Process(
        target=_autograde, args=(str(work_dir), arguments, _worker_environment(work_dir))
    )
    process.start()
    deadline = time.monotonic() + timeout
    while process.is_alive() and time.monotonic() < deadline and not (stop and stop.is_set()):
        process.join(1)
    code = process.exitcode
    if process.is_alive():  # its kernel dies with it (bwrap --die-with-parent)
        os.killpg(process.pid, signal.SIGKILL)
        process.join()
        code = None
    log = work_dir / "grading.log"
    return code, log.read_text(errors="replace") if log.exists() else ""


REASONS = (  # (pattern in nbgrader's log, what it means), first match wins
    (r"DeadKernelError|Kernel died", "the kernel died while running the notebook (it exited, or was killed)"),
    (
        r"NotJSONError|not valid JSON|Unreadable Notebook|JSONDecodeError|does not appear to be JSON",
        "the notebook file is not a valid notebook (corrupted JSON)",
    ),
    (
        r"Timeout waiting for IOPub|UnresponsiveKernelError|became unresponsive",
        "a cell ran past the time limit and the kernel did not answer the interrupt",
    ),
    (r"ValidationError|is not valid under any", "the notebook does not follow the notebook format"),
)


def explain_failure(log: str) -> str:
    """One sentence on why nbgrader could not grade a submission, from its log."""
    for pattern, meaning in REASONS:
        if re.search(pattern, log):
            return meaning
    raised = re.findall(r"^\s*((?:[\w.]+\.)?\w+(?:Error|Exception): .+)$", log, re.MULTILINE)
    errors = raised or [line for line in log.splitlines() if "ERROR" in line]
    return f"nbgrader could not grade it: {errors[-1].strip()[:200] if errors else 'no message'}"
