"""Autograde a whole class in parallel, each submission alone in a sandbox, into one gradebook.

For every submission in ``grader/submitted/<student>/<assignment>/`` (nbgrader's layout):

1. the submission is read as data (:class:`grader.slot.Job`) and handed to a free slot, of this
   machine (``jobs`` of them) or of a Dask cluster (:mod:`grader.cluster`);
2. the slot grades it with ``nbgrader autograde`` in a private folder, sandboxed
   (:func:`grader.slot.grade`), and returns the results as data;
3. this process merges them into the course's gradebook (SQLite or PostgreSQL), copies the graded
   notebook to ``grader/autograded/``, appends a row to the grading report and records the
   submission in the ledger (``grader/graded.json``): the gradebook is written by this process
   alone, never by two at once, and never by student code.

A run that is interrupted (Ctrl-C, a crash) and started again grades only what the ledger does
not hold yet, or what was submitted again since; ``regrade=True`` grades everything. A submission
that nbgrader cannot grade (a kernel that died, a notebook that is not JSON, grading past the time
limit) scores zero with the reason; nothing else is affected. One whose slot was lost (a worker
that died too often) is not scored at all and is graded by the next run.

>>> outcomes = grade_class(REPO, "ch01_visual_cortex", jobs=2)                  # doctest: +SKIP
>>> print(summary_table(outcomes))                                              # doctest: +SKIP
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import threading
import warnings
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import nbformat
from nbgrader.api import Gradebook, MissingEntry
from sqlalchemy.exc import SAWarning
from tqdm.auto import tqdm

from grader import collect, plan, repair, sandbox, slot
from grader.paths import CoursePaths

if TYPE_CHECKING:
    from grader import cluster

FIRST_UID = slot.FIRST_UID  # slot k runs its kernels as user FIRST_UID + k (no account needed)


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
    host: str = ""  # the machine that graded it


@dataclass
class Run:
    """What a call of :func:`grade_class` did: the outcomes, and what it left for another run."""

    outcomes: list[Outcome]
    kept: list[str] = field(default_factory=list)  # graded before and unchanged: not graded again
    lost: dict[str, str] = field(default_factory=dict)  # student -> why its grading was lost (not scored)


def gradebook_url(root: Path) -> str:
    """The gradebook of course root ``root``: ``NBGRADER_DB_URL`` (a PostgreSQL server, say) when
    set, as the course's nbgrader configuration reads it, else the root's SQLite file."""
    return os.environ.get("NBGRADER_DB_URL") or CoursePaths(Path(root).resolve()).gradebook_url


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


def _kernel_names(source: Path) -> list[str]:
    names = {"python3", "cnn-course"}
    for path in source.glob("*.ipynb"):
        names.add(nbformat.read(path, as_version=4).metadata.get("kernelspec", {}).get("name", "python3"))
    return sorted(names)


def check_sandbox(sandboxed: bool) -> None:
    """RuntimeError, saying what is missing, when ``sandboxed`` grading cannot run here."""
    problem = sandbox.check() if sandboxed else None
    if problem:
        raise RuntimeError(f"cannot grade safely here: {problem} (or grade trusted work unsandboxed)")


def check_released(url: str, assignment: str) -> None:
    """RuntimeError, saying what to do, when ``assignment`` is not in gradebook ``url``."""
    unreleased = RuntimeError(
        f"{assignment} is not in the gradebook: release it first (python -m grader release {assignment})"
    )
    if url.startswith("sqlite:///") and not Path(url[len("sqlite:///") :]).is_file():
        raise unreleased
    with Gradebook(url) as gb:
        try:
            gb.find_assignment(assignment)
        except MissingEntry:
            raise unreleased from None


def read_assignment(root: Path, assignment: str, cell_timeout: int = 300, submission_timeout: float = 1800):
    """What every submission of ``assignment`` is graded against (:class:`grader.slot.Assignment`),
    from the course's gradebook and its source folder; RuntimeError when it is not released."""
    url, folder = gradebook_url(root), CoursePaths(Path(root)).source / assignment
    check_released(url, assignment)
    sources = sorted(folder.glob("*.ipynb"))
    plans = plan.notebook_plans(folder, url, assignment)
    others = slot.read_job(folder, "").files
    return slot.Assignment(
        name=assignment,
        tests={source.name: repair.release_tests(url, assignment, source) for source in sources},
        plans=plans,
        trusted=bool(sources) and len(plans) == len(sources),
        gradebook=slot.gradebook_template(url),
        files={name: data for name, data in others.items() if not name.endswith(".ipynb")},
        kernel_names=_kernel_names(folder),
        cell_timeout=cell_timeout,
        submission_timeout=submission_timeout,
    )


def read_jobs(root: Path, assignment: str, students: list[str]) -> list[slot.Job]:
    """The submissions of ``students`` as data, each with the deadline extension the gradebook holds."""
    extensions = {}
    with Gradebook(gradebook_url(root)) as gb:
        for student in students:
            try:
                extensions[student] = gb.find_submission(assignment, student).extension
            except MissingEntry:
                pass
    folder = CoursePaths(Path(root))
    return [slot.read_job(folder.submission(s, assignment), s, extensions.get(s)) for s in students]


def ledger(root: Path) -> dict[str, dict[str, str]]:
    """{assignment: {student: digest of the files graded}}: what earlier runs graded and merged."""
    path = CoursePaths(Path(root)).ledger
    return json.loads(path.read_text()) if path.is_file() else {}


def _record(root: Path, assignment: str, student: str, digest: str) -> None:
    path = CoursePaths(Path(root)).ledger
    entries = ledger(root)
    entries.setdefault(assignment, {})[student] = digest
    partial = path.with_suffix(".json.partial")
    partial.write_text(json.dumps(entries, indent=1, sort_keys=True))
    os.replace(partial, path)  # a crash leaves the old ledger or the new one, never half of one


def cell_problems(nb: nbformat.NotebookNode) -> dict[str, str]:
    """{test cell: first line of the error} for the exercises that raised, in a graded notebook.

    The error of the exercise's answer cell (``X``, e.g. a time-out) comes before that of its
    test cell (``test_X``, often only the consequence: X is not defined).
    """
    errors = {}
    for cell in nb.cells:
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


def merge(root: Path, assignment: str, graded: slot.Graded) -> Outcome:
    """Write one graded submission into the course's gradebook (zero for every cell when it could
    not be graded normally) and its graded folder into ``grader/autograded/``."""
    root = Path(root).resolve()
    target = CoursePaths(root).graded(graded.student, assignment)
    ok = not graded.reason
    with Gradebook(gradebook_url(root)) as gb, warnings.catch_warnings():
        # nbgrader's add_submission trips SQLAlchemy's autoflush warnings; they are harmless here
        warnings.simplefilter("ignore", SAWarning)
        gb.update_or_create_student(graded.student)
        submission = gb.update_or_create_submission(
            assignment, graded.student, **({"timestamp": graded.timestamp} if ok and graded.timestamp else {})
        )
        for nb in submission.notebooks:
            nb.late_submission_penalty = graded.penalties.get(nb.name, nb.late_submission_penalty)
            for grade in nb.grades:
                grade.auto_score, grade.needs_manual_grade = graded.grades.get(
                    (nb.name, grade.name), (0.0, False)
                )
            for comment in nb.comments:
                comment.auto_comment = graded.comments.get((nb.name, comment.name), comment.auto_comment)
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
    if ok:
        target.mkdir(parents=True)
        slot.write_files(graded.files, target)
        for path in target.glob("*.ipynb"):
            nb = nbformat.read(path, 4)
            present = {c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells}
            problems = {name: "deleted from the notebook" for name in cells if name not in present}
            for name, problem in {**cell_problems(nb), **problems}.items():
                if name in cells:
                    cells[name] = (*cells[name][:2], problem)
    return Outcome(
        graded.student,
        assignment,
        total,
        maximum,
        reason=graded.reason,
        cells=cells,
        seconds=graded.seconds,
        repairs=graded.repairs,
        host=graded.host,
    )


class LocalPool:
    """``jobs`` slots of this machine, sharing one folder and one test server."""

    def __init__(self, jobs: int, limits: sandbox.Limits, sandboxed: bool, warm: bool = True):
        self._slots = slot.claim_slots(jobs, sandboxed)
        self._free = list(self._slots)
        self._lock = threading.Lock()
        self.stop = threading.Event()
        self._place = slot.Workplace(limits, sandboxed, self._slots[0].test_uid, warm)
        self._pool = ThreadPoolExecutor(max_workers=jobs)
        self.description = f"{jobs} slot(s) here"

    def _grade(self, assignment: slot.Assignment, job: slot.Job) -> slot.Graded:
        with self._lock:
            held = self._free.pop()
        try:
            return slot.grade(assignment, job, self._place, held, self.stop)
        finally:
            with self._lock:
                self._free.append(held)

    def submit(self, assignment: slot.Assignment, job: slot.Job) -> Future:
        return self._pool.submit(self._grade, assignment, job)

    def close(self) -> None:
        self.stop.set()
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._place.close()
        for held in self._slots:
            held.release()


def open_pool(
    jobs: int | None = None,
    limits: sandbox.Limits | None = None,
    sandboxed: bool = True,
    scheduler: str | None = None,
    security=None,
    warm_kernels: bool = True,
) -> LocalPool | cluster.ClusterPool:
    """The slots that grade: ``jobs`` here, or the Dask cluster at ``scheduler`` (``local:N`` starts one
    of N workers here; ``security``: its TLS settings). Pass it to several :func:`grade_run` calls
    (every chapter due this week, say) and each slot's test server and zygote start once for all of
    them; close it after.

    >>> with contextlib.closing(open_pool(jobs=2)) as pool:                        # doctest: +SKIP
    ...     runs = [grade_run(REPO, chapter, pool=pool) for chapter in ("ch01_visual_cortex", ...)]
    """
    limits = limits or sandbox.Limits()
    if scheduler:
        from grader import cluster

        return cluster.ClusterPool(scheduler, limits, sandboxed, security, warm_kernels)
    return LocalPool(jobs or len(os.sched_getaffinity(0)), limits, sandboxed, warm_kernels)


def grade_run(
    root: Path,
    assignment: str,
    students: Iterable[str] | None = None,
    *,
    jobs: int | None = None,
    limits: sandbox.Limits | None = None,
    cell_timeout: int = 300,
    submission_timeout: float = 1800,
    progress: bool = True,
    sandboxed: bool = True,
    scheduler: str | None = None,
    security=None,
    regrade: bool = False,
    warm_kernels: bool = True,
    pool: LocalPool | cluster.ClusterPool | None = None,
) -> Run:
    """Autograde every submission of ``assignment`` (or ``students``') not graded yet (every one with
    ``regrade``), ``jobs`` at a time here or on the Dask cluster at ``scheduler`` (``local:N`` starts
    one of N workers on this machine; ``security``: its TLS settings), sandboxed: the outcomes of
    what it graded, sorted by student, what it kept and what it lost (:class:`Run`).

    ``sandboxed=False`` grades without the sandbox (parallel still, each submission in its own
    folder): only for trusted submissions, on a machine where the sandbox cannot run.
    ``warm_kernels=False`` starts every kernel afresh instead of forking it from its slot's zygote
    (:mod:`grader.zygote`), which has imported TensorFlow once: slower, the same scores.
    ``pool``: slots opened by :func:`open_pool`, used instead of ``jobs``, ``limits``, ``scheduler``,
    ``security`` and ``warm_kernels``, and left open.
    """
    check_sandbox(sandboxed)
    root = Path(root).resolve()
    check_released(gradebook_url(root), assignment)
    names = submissions(root, assignment, students)
    release = read_assignment(root, assignment, cell_timeout, submission_timeout)
    done = {} if regrade else ledger(root).get(assignment, {})
    run = Run([])
    todo = []
    for job in read_jobs(root, assignment, names):
        if done.get(job.student) == job.digest:
            run.kept.append(job.student)
        else:
            todo.append(job)
    if not todo:
        return run
    owned = pool is None
    if owned:
        pool = open_pool(jobs, limits, sandboxed, scheduler, security, warm_kernels)
    try:
        futures = {pool.submit(release, job): job for job in todo}
        with tqdm(
            total=len(todo),
            desc=f"grading {assignment} on {pool.description}",
            unit="submission",
            disable=not progress,
        ) as bar:
            for future in as_completed(futures):
                job = futures[future]
                try:
                    graded = future.result()
                except Exception as error:  # noqa: BLE001 (its slot was lost: graded by the next run)
                    if getattr(error, "stops_the_run", False):
                        raise RuntimeError(str(error)) from None
                    run.lost[job.student] = f"{type(error).__name__}: {error}"
                    bar.update()
                    continue
                try:
                    outcome = merge(root, assignment, graded)
                except Exception as error:  # noqa: BLE001 (its results are unreadable: its own loss only)
                    graded.reason = f"its grading results could not be read: {type(error).__name__}: {error}"
                    outcome = merge(root, assignment, graded)
                outcome.trusted = release.trusted
                write_report(root, [outcome])
                _record(root, assignment, job.student, job.digest)
                run.outcomes.append(outcome)
                bar.set_postfix_str(f"{job.student} {outcome.score:g}/{outcome.max_score:g}")
                bar.update()
    finally:
        if owned:
            pool.close()
    run.outcomes.sort(key=lambda o: o.student)
    return run


def grade_class(root: Path, assignment: str, *args, **kwargs) -> list[Outcome]:
    """:func:`grade_run`'s outcomes only: what it graded, sorted by student."""
    return grade_run(root, assignment, *args, **kwargs).outcomes


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
