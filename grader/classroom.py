"""Autograde a whole class in parallel, each submission alone in a sandbox, into one gradebook.

For every submission in ``grader/submitted/<student>/<assignment>/`` (nbgrader's layout):

1. a private work folder gets a copy of the gradebook, of the submission (plain files only) and
   an nbgrader configuration whose kernel starts in the sandbox (:mod:`grader.sandbox`);
2. ``nbgrader autograde`` runs there, confined to that folder, on one of ``jobs`` parallel slots;
3. its grades are merged into the course's gradebook and its graded notebook copied to
   ``grader/autograded/`` (one merge at a time, in this process: the gradebook is never written
   by two processes, and never by student code).

A submission that nbgrader cannot grade (a kernel that died, a notebook that is not JSON, grading
past the time limit) scores zero with the reason; nothing else is affected.

>>> outcomes = grade_class(REPO, "ch01_visual_cortex", jobs=2)                  # doctest: +SKIP
>>> print(summary_table(outcomes))                                              # doctest: +SKIP
"""

from __future__ import annotations

import csv
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
import warnings
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook, MissingEntry
from sqlalchemy.exc import SAWarning
from tqdm.auto import tqdm

from grader import collect, plan, repair, sandbox, trusted_execute
from grader.course import REPO, nbgrader_environment, write_course_config
from grader.paths import CoursePaths

FIRST_UID = 1_900_000  # slot k runs its kernels as user FIRST_UID + k (no account needed)
TEST_UID = 1_950_000  # the test server and its test processes (grader.testrunner) run as this user


@dataclass
class Outcome:
    """How one submission was graded."""

    student: str
    assignment: str
    score: float
    max_score: float
    reason: str = ""  # why it could not be graded normally; "" when it was
    cells: dict[str, tuple[float, float, str]] = field(
        default_factory=dict
    )  # test cell -> (score, max, error)
    seconds: float = 0.0
    repairs: list[str] = field(default_factory=list)  # what was repaired before grading, in words
    trusted: bool = True  # its test cells ran in the grader's test process (grader.plan)


def gradebook_url(root: Path) -> str:
    """The gradebook of course root ``root`` (the repository honours ``NBGRADER_DB_URL``)."""
    if Path(root).resolve() == REPO and os.environ.get("NBGRADER_DB_URL"):
        return os.environ["NBGRADER_DB_URL"]
    return CoursePaths(Path(root).resolve()).gradebook_url


def submissions(root: Path, assignment: str, students: Iterable[str] | None = None) -> list[str]:
    """Students with a submission of ``assignment`` in ``root/grader/submitted``, sorted.

    Raises ValueError, with what to do, when there is none, when one of ``students`` has none, or
    when a folder's name is not a usable student id (it reaches nbgrader's ``--student`` pattern).
    """
    folder = CoursePaths(Path(root)).submitted
    found = sorted(p.parent.name for p in folder.glob(f"*/{assignment}") if p.is_dir() and not p.is_symlink())
    unusable = [name for name in found if not collect.STUDENT_ID.match(name)]
    if unusable:
        raise ValueError(
            f"{', '.join(map(repr, unusable))} in {folder}: not a usable student id (letters, digits, . _ - "
            "only): rename the folder"
        )
    if students is not None:
        wanted = set(students)
        missing = wanted - set(found)
        if missing:
            raise ValueError(f"no submission of {assignment} from: {', '.join(sorted(missing))}")
        found = [s for s in found if s in wanted]
    if not found:
        raise ValueError(
            f"no submission of {assignment} in {folder}: collect them first (python -m grader collect "
            f"{assignment})"
        )
    return found


def copy_plain_files(source: Path, target: Path, skip_suffixes: tuple[str, ...] = ()) -> list[str]:
    """Copy the regular files under ``source`` to ``target``; return what was skipped (links, devices)."""
    skipped = []
    for dirpath, dirnames, filenames in os.walk(source):
        here = Path(dirpath)
        for name in list(dirnames):
            if (here / name).is_symlink():
                skipped.append(str((here / name).relative_to(source)))
                dirnames.remove(name)
        for name in filenames:
            path = here / name
            if path.suffix in skip_suffixes:
                continue
            if path.is_symlink() or not path.is_file():
                skipped.append(str(path.relative_to(source)))
                continue
            destination = target / path.relative_to(source)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, destination)
    return skipped


def _sqlite_path(url: str) -> Path:
    if not url.startswith("sqlite:///"):
        raise ValueError(
            f"parallel grading copies the gradebook per submission, so it needs SQLite; got {url}"
        )
    return Path(url[len("sqlite:///") :])


def _kernel_names(root: Path, assignment: str) -> set[str]:
    names = {"python3", "cnn-course"}
    source = CoursePaths(Path(root)).source / assignment
    for path in source.glob("*.ipynb"):
        names.add(nbformat.read(path, as_version=4).metadata.get("kernelspec", {}).get("name", "python3"))
    return names


@dataclass
class Release:
    """What every submission of an assignment is graded against, read once per grading run."""

    tests: dict[str, dict]  # notebook file -> its test cells (grader.repair.release_tests)
    plans: dict[str, dict]  # notebook name -> its trusted-grading plan (grader.plan.notebook_plans)
    trusted: bool  # every notebook of the assignment is graded trusted


def read_release(root: Path, assignment: str) -> Release:
    """The test cells and grading plans of ``assignment``, from the course's gradebook and solutions."""
    folder, url = CoursePaths(Path(root)).source / assignment, gradebook_url(root)
    sources = sorted(folder.glob("*.ipynb"))
    plans = plan.notebook_plans(folder, url, assignment)
    tests = {source.name: repair.release_tests(url, assignment, source) for source in sources}
    return Release(tests, plans, bool(sources) and len(plans) == len(sources))


def prepare(
    root: Path,
    assignment: str,
    student: str,
    work_dir: Path,
    slot: int,
    limits: sandbox.Limits,
    cell_timeout: int,
    release: Release,
    sandboxed: bool = True,
) -> list[str]:
    """Lay out ``work_dir`` for grading one submission; return the ``nbgrader autograde`` arguments."""
    root = Path(root).resolve()
    course, work = CoursePaths(root), CoursePaths(work_dir)
    work.gradebook.parent.mkdir(parents=True)
    shutil.copyfile(_sqlite_path(gradebook_url(root)), work.gradebook)
    copy_plain_files(course.submission(student, assignment), work.submission(student, assignment))
    repairs = []
    for name, tests in release.tests.items():
        submitted = work.submission(student, assignment) / name
        if submitted.is_file():
            repairs += [f"{Path(name).stem}: {note}" for note in repair.repair_file(submitted, tests)]
    (work_dir / "repairs.json").write_text(json.dumps(repairs))
    # nbgrader copies the assignment's other files (data) from the source folder: not the notebooks.
    (work.source / assignment).mkdir(parents=True)
    copy_plain_files(course.source / assignment, work.source / assignment, (".ipynb",))
    runtime = work_dir / "runtime"
    runtime.mkdir()
    extra = f"c.Execute.timeout = {int(cell_timeout)}\n"
    if sandboxed:
        extra += (
            "c.KernelManager.transport = 'ipc'  # Unix sockets: the kernel has no network at all\n"
            f"c.KernelManager.ip = {str(runtime / 'kernel')!r}  # where the sockets go\n"
        )
    readable, env = sandbox.keras_cache(sandboxed)
    if release.trusted:
        tests = test_server_folder(work_dir.parent) / work_dir.name  # where its test process works
        tests.mkdir()
        if sandboxed:
            sandbox.give_to(tests, TEST_UID)
        extra += trusted_configuration(release.plans, work_dir, tests, env)
    write_course_config(work_dir, exchange=work_dir / "exchange", extra=extra)
    arguments = [assignment, f"--student={student}", "--create", "--force"]
    if not sandboxed:
        return arguments
    config = sandbox.KernelConfig(
        uid=FIRST_UID + slot,
        visible=sandbox.visible_paths(),
        runtime_dir=str(runtime),
        limits=limits,
        readable=readable,
        env=env,
    )
    config_path = config.write(work_dir / "sandbox.json")
    for name in _kernel_names(root, assignment):
        folder = work_dir / "jupyter" / "kernels" / name
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


def test_server_folder(parent: Path) -> Path:
    """Where the test server listens, and each submission's test process works (a folder each)."""
    return Path(parent) / "tests"


@contextmanager
def test_server(parent: Path, limits: sandbox.Limits, sandboxed: bool):
    """The test server of a grading run (:mod:`grader.testrunner`), confined as the test user.

    One for every slot: it imports TensorFlow once, and forks a test process per submission.
    """
    folder = test_server_folder(parent)
    folder.mkdir()
    command = trusted_execute.test_server_command(folder / "server.sock")
    readable, cache = sandbox.keras_cache(sandboxed)
    env = {**trusted_execute.test_process_environment(folder), **cache}
    if sandboxed:
        config = sandbox.KernelConfig(
            uid=TEST_UID,
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
    try:
        deadline = time.monotonic() + 120
        while not (folder / "server.sock").exists():
            if server.poll() is not None or time.monotonic() > deadline:
                log = (parent / "tests.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"the grader's test server did not start:\n{log}")
            time.sleep(0.1)
        yield
    finally:
        server.kill()
        server.wait()
        if sandboxed:
            sandbox.kill_user_processes(TEST_UID)


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
        }
    )
    return env


# nbgrader and nbconvert take seconds of CPU to import: the graders are forked from a server
# process that has imported them once (a fresh process per submission all the same).
_GRADERS = multiprocessing.get_context("forkserver")
_GRADERS.set_forkserver_preload(["nbgrader.apps.autogradeapp"])


def _autograde(work_dir: str, arguments: list[str], env: dict[str, str]) -> None:
    """In a forked process: ``nbgrader autograde ARGUMENTS`` in ``work_dir``, output to its log."""
    os.setsid()
    log = os.open(os.path.join(work_dir, "grading.log"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.chdir(work_dir)
    os.environ.clear()
    os.environ.update(env)
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


def _run(arguments: list[str], work_dir: Path, timeout: float) -> tuple[int | None, str]:
    """``nbgrader autograde ARGUMENTS`` in ``work_dir``; (exit code or None on time-out, its log)."""
    (work_dir / "home").mkdir(exist_ok=True)
    process = _GRADERS.Process(
        target=_autograde, args=(str(work_dir), arguments, _worker_environment(work_dir))
    )
    process.start()
    process.join(timeout)
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


def cell_problems(notebook_path: Path) -> dict[str, str]:
    """{test cell: first line of the error} for the exercises that raised, in a graded notebook.

    The error of the exercise's answer cell (``X``, e.g. a time-out) comes before that of its
    test cell (``test_X``, often only the consequence: X is not defined).
    """
    errors = {}
    for cell in nbformat.read(notebook_path, as_version=4).cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        for output in cell.get("outputs", []) if grade_id else []:
            if output.get("output_type") == "error":
                first = (output.get("evalue") or "").strip().splitlines()
                errors[grade_id] = f"{output['ename']}: {first[0] if first else ''}".rstrip(": ")
                break
    tests = {name for name in errors if name.startswith("test_")}
    tests |= {f"test_{name}" for name in errors if not name.startswith("test_")}
    return {
        test: f"in the answer: {errors[test[5:]]}" if test[5:] in errors else errors[test] for test in tests
    }


def _read_grades(url: str, assignment: str, student: str):
    """{(notebook, cell): (auto_score, needs_manual_grade)}, {(notebook, cell): auto_comment}, timestamp,
    {notebook: late-submission penalty} (what nbgrader computed for this submission)."""
    with Gradebook(url) as gb:
        submission = gb.find_submission(assignment, student)
        grades = {
            (nb.name, g.name): (g.auto_score, g.needs_manual_grade)
            for nb in submission.notebooks
            for g in nb.grades
        }
        comments = {(nb.name, c.name): c.auto_comment for nb in submission.notebooks for c in nb.comments}
        penalties = {nb.name: nb.late_submission_penalty for nb in submission.notebooks}
        return grades, comments, submission.timestamp, penalties


def merge(root: Path, assignment: str, student: str, work_dir: Path | None) -> Outcome:
    """Write one graded submission (``work_dir``; None when it failed: zero) into the course's gradebook."""
    root = Path(root).resolve()
    target = CoursePaths(root).graded(student, assignment)
    grades, comments, timestamp, penalties = {}, {}, None, {}
    if work_dir is not None:
        grades, comments, timestamp, penalties = _read_grades(
            CoursePaths(work_dir).gradebook_url, assignment, student
        )
    with Gradebook(gradebook_url(root)) as gb, warnings.catch_warnings():
        # nbgrader's add_submission trips SQLAlchemy's autoflush warnings; they are harmless here
        warnings.simplefilter("ignore", SAWarning)
        gb.update_or_create_student(student)
        submission = gb.update_or_create_submission(
            assignment, student, **({"timestamp": timestamp} if timestamp else {})
        )
        for nb in submission.notebooks:
            nb.late_submission_penalty = penalties.get(nb.name, nb.late_submission_penalty)
            for grade in nb.grades:
                grade.auto_score, grade.needs_manual_grade = grades.get((nb.name, grade.name), (0.0, False))
            for comment in nb.comments:
                comment.auto_comment = comments.get((nb.name, comment.name), comment.auto_comment)
        gb.db.commit()
        gb.db.expire_all()
        cells = {
            grade.name: (grade.score, grade.max_score, "")
            for nb in submission.notebooks
            for grade in nb.grades
        }
    total, maximum = sum(c[0] for c in cells.values()), sum(c[1] for c in cells.values())
    if target.exists():
        shutil.rmtree(target)
    if work_dir is not None:
        copy_plain_files(CoursePaths(work_dir).graded(student, assignment), target)
        for path in target.glob("*.ipynb"):
            present = {c.metadata.get("nbgrader", {}).get("grade_id") for c in nbformat.read(path, 4).cells}
            problems = {name: "deleted from the notebook" for name in cells if name not in present}
            for name, problem in {**cell_problems(path), **problems}.items():
                if name in cells:
                    cells[name] = (*cells[name][:2], problem)
    return Outcome(student, assignment, total, maximum, cells=cells)


def grade_class(
    root: Path,
    assignment: str,
    students: Iterable[str] | None = None,
    *,
    jobs: int | None = None,
    limits: sandbox.Limits | None = None,
    cell_timeout: int = 300,
    submission_timeout: float = 1800,
    progress: bool = True,
    keep_work: bool = False,
    sandboxed: bool = True,
) -> list[Outcome]:
    """Autograde every submission of ``assignment`` (or ``students``'), ``jobs`` at a time, sandboxed.

    ``sandboxed=False`` grades without the sandbox (parallel still, each submission in its own
    folder): only for trusted submissions, on a machine where the sandbox cannot run.
    """
    problem = sandbox.check() if sandboxed else None
    if problem:
        raise RuntimeError(f"cannot grade safely here: {problem} (or grade trusted work unsandboxed)")
    root = Path(root).resolve()
    unreleased = RuntimeError(
        f"{assignment} is not in the gradebook: release it first (python -m grader release {assignment})"
    )
    if not _sqlite_path(gradebook_url(root)).is_file():
        raise unreleased
    with Gradebook(gradebook_url(root)) as gb:
        try:
            gb.find_assignment(assignment)
        except MissingEntry:
            raise unreleased from None
    names = submissions(root, assignment, students)
    release = read_release(root, assignment)
    jobs = jobs or len(os.sched_getaffinity(0))
    limits = limits or sandbox.Limits()
    free_slots = list(range(jobs))
    lock = threading.Lock()
    parent = Path(tempfile.mkdtemp(prefix="cvg-"))

    def grade_one(index: int, student: str):
        with lock:
            slot = free_slots.pop()
        work_dir = parent / str(index)
        start = time.perf_counter()
        try:
            command = prepare(
                root, assignment, student, work_dir, slot, limits, cell_timeout, release, sandboxed
            )
            code, log = _run(command, work_dir, submission_timeout)
        except OSError as error:  # a submission folder that cannot be copied, say
            return student, work_dir, f"could not prepare its grading: {error}", time.perf_counter() - start
        finally:
            if sandboxed:  # whatever the submission left running (a fork bomb's children) ends here
                sandbox.kill_user_processes(FIRST_UID + slot)
            with lock:
                free_slots.append(slot)
        graded = CoursePaths(work_dir).graded(student, assignment)
        if code is None:
            reason = f"grading took longer than {submission_timeout:.0f} s and was stopped"
        elif code != 0 or not any(graded.glob("*.ipynb")):
            reason = explain_failure(log)
        else:
            reason = ""
        return student, work_dir, reason, time.perf_counter() - start

    outcomes = []
    try:
        with (
            test_server(parent, limits, sandboxed) if release.trusted else nullcontext(),
            ThreadPoolExecutor(max_workers=jobs) as pool,
            tqdm(
                total=len(names), desc=f"grading {assignment}", unit="submission", disable=not progress
            ) as bar,
        ):
            futures = [pool.submit(grade_one, i, s) for i, s in enumerate(names)]
            for future in as_completed(futures):
                student, work_dir, reason, seconds = future.result()
                try:
                    outcome = merge(root, assignment, student, None if reason else work_dir)
                except Exception as error:  # noqa: BLE001 (its results are unreadable: its own loss only)
                    reason = f"its grading results could not be read: {type(error).__name__}: {error}"
                    outcome = merge(root, assignment, student, None)
                outcome.reason, outcome.seconds = reason, seconds
                repairs = work_dir / "repairs.json"
                outcome.repairs = json.loads(repairs.read_text()) if repairs.is_file() else []
                outcome.trusted = release.trusted
                outcomes.append(outcome)
                if not keep_work:
                    shutil.rmtree(work_dir, ignore_errors=True)
                bar.set_postfix_str(f"{student} {outcome.score:g}/{outcome.max_score:g}")
                bar.update()
    finally:
        if not keep_work:
            shutil.rmtree(parent, ignore_errors=True)
    outcomes.sort(key=lambda o: o.student)
    write_report(root, outcomes)
    return outcomes


def write_report(root: Path, outcomes: list[Outcome]) -> Path:
    """Append the outcomes to ``root/grader/grading_report.csv`` (one row per submission)."""
    path = CoursePaths(Path(root)).report
    new = not path.exists()
    with path.open("a", newline="") as handle:
        writer = csv.writer(handle)
        if new:
            writer.writerow(
                [
                    "assignment",
                    "student",
                    "score",
                    "max_score",
                    "reason",
                    "failed_cells",
                    "repaired",
                    "seconds",
                ]
            )
        for o in outcomes:
            failed = "; ".join(
                f"{name}: {problem or 'wrong answer'}"
                for name, (got, most, problem) in o.cells.items()
                if got < most and not o.reason
            )
            writer.writerow(
                [
                    o.assignment,
                    o.student,
                    o.score,
                    o.max_score,
                    o.reason,
                    failed,
                    "; ".join(o.repairs),
                    f"{o.seconds:.1f}",
                ]
            )
    return path


def summary_table(outcomes: list[Outcome]) -> str:
    """Per exercise: mean score, points, how many submissions lost points; then the unusual submissions."""
    if not outcomes:
        return "no submissions"
    lines = [f"{'exercise':<34} {'mean':>6} {'points':>6} {'failed':>7}"]
    names = list(dict.fromkeys(name for o in outcomes for name in o.cells))
    for name in names:
        scored = [o.cells[name] for o in outcomes if name in o.cells]
        mean = sum(s for s, _, _ in scored) / len(scored)
        failed = sum(1 for s, m, _ in scored if s < m)
        lines.append(f"{name:<34} {mean:>6.2f} {scored[0][1]:>6g} {failed:>4}/{len(scored)}")
    total_mean = sum(o.score for o in outcomes) / len(outcomes)
    lines.append(f"{'total':<34} {total_mean:>6.2f} {outcomes[0].max_score:>6g}")
    if any(not o.trusted for o in outcomes):
        lines.append("")
        lines.append("graded in the student's kernel: this chapter's tests still run beside student code;")
        lines.append("  its scores rest on the sandbox alone (README: what the grader promises)")
    repaired = [o for o in outcomes if o.repairs]
    if repaired:
        lines.append("")
        lines.append("repaired before grading (test cells put back as released; no points lost):")
        lines += [f"  {o.student}: {'; '.join(o.repairs)}" for o in repaired]
    unusual = [o for o in outcomes if o.reason]
    if unusual:
        lines.append("")
        lines.append("not graded normally (scored 0):")
        lines += [f"  {o.student}: {o.reason}" for o in unusual]
    return "\n".join(lines)
