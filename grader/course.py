"""Drive nbgrader over the course: find chapters, generate student notebooks, grade a class.

Everything goes through nbgrader's own command line with the course configuration
(grader/nbgrader_config.py). A *course root* is a folder laid out like the repository
(``solutions/``, ``course/``, ``grader/``); the repository itself is one, and tests build
scratch ones in temporary folders with :func:`make_scratch_course`.

>>> from grader.course import REPO, chapters
>>> chapters(REPO)[:1]
['ch01_visual_cortex']
"""

from __future__ import annotations

import atexit
import csv
import functools
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from grader.paths import CoursePaths

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / "grader" / "nbgrader_config.py"
# Loads the configuration one folder up; nbgrader's Assignments tab reads this one (write_assignments_config).
ASSIGNMENTS_CONFIG = CoursePaths(REPO).assignments / "nbgrader_config.py"


def chapters(root: Path = REPO) -> list[str]:
    """Names of the chapters in ``root/solutions``, in order (each folder holds ``<name>.ipynb``)."""
    source = CoursePaths(Path(root)).source
    return sorted(p.name for p in source.iterdir() if (p / f"{p.name}.ipynb").is_file())


def solution_path(chapter: str, root: Path = REPO) -> Path:
    """The instructor notebook of ``chapter``."""
    return CoursePaths(Path(root)).source / chapter / f"{chapter}.ipynb"


def student_path(chapter: str, root: Path = REPO) -> Path:
    """The generated student notebook of ``chapter``."""
    return CoursePaths(Path(root)).release / chapter / f"{chapter}.ipynb"


def budget_seconds(chapter: str, root: Path = REPO) -> float:
    """The time budget recorded in the notebook's metadata (``cvcourse.budget_seconds``)."""
    nb = nbformat.read(solution_path(chapter, root), as_version=4)
    return float(nb.metadata["cvcourse"]["budget_seconds"])


def exercises(chapter: str, root: Path = REPO) -> list[tuple[str, int]]:
    """``(exercise name, points)`` of every graded exercise, in notebook order."""
    nb = nbformat.read(solution_path(chapter, root), as_version=4)
    found = []
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and meta.get("grade_id", "").startswith("test_"):
            found.append((meta["grade_id"][len("test_") :], int(meta["points"])))
    return found


def nbgrader_environment() -> dict[str, str]:
    """nbgrader needs the venv's bin on PATH (it runs alembic for the gradebook), and the course's
    kernel is this interpreter."""
    use_this_interpreter_as_course_kernel()
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    return env


class NbgraderError(RuntimeError):
    """nbgrader failed: ``str()`` is one line (the command and nbgrader's last error), ``log`` all of it."""

    def __init__(self, args: tuple[str, ...], root: Path, log: str):
        errors = [
            line.split("]", 1)[-1].strip() for line in log.splitlines() if "ERROR" in line or "Error" in line
        ]
        last = errors[-1] if errors else (log.strip().splitlines() or ["no output"])[-1]
        super().__init__(f"nbgrader {' '.join(args)} failed in {root}: {last}")
        self.log = log


def nbgrader(root: Path, *args: str, timeout: float | None = None) -> subprocess.CompletedProcess:
    """Run ``nbgrader ARGS`` in course root ``root``; raise :class:`NbgraderError` if it fails."""
    command = [str(Path(sys.executable).parent / "nbgrader"), *args]
    result = subprocess.run(
        command, cwd=root, env=nbgrader_environment(), capture_output=True, text=True, timeout=timeout
    )
    if result.returncode != 0:
        raise NbgraderError(args, root, f"{result.stdout}\n{result.stderr}")
    return result


def generate(root: Path, chapter: str) -> Path:
    """Generate the student notebook of ``chapter`` into ``root/course`` (overwriting it)."""
    nbgrader(root, "generate_assignment", chapter, "--force")
    return student_path(chapter, root)


def make_scratch_course(root: Path, chapter_names: list[str] | None = None) -> Path:
    """Lay out a course root in ``root`` with copies of the chapters' solution folders.

    Its ``nbgrader_config.py`` loads the course configuration and points it at ``root``,
    with its own gradebook, so nothing in the repository is touched.
    """
    root, paths = Path(root), CoursePaths(Path(root))
    paths.gradebook.parent.mkdir(parents=True, exist_ok=True)
    for chapter in chapter_names or chapters():
        shutil.copytree(CoursePaths(REPO).source / chapter, paths.source / chapter, dirs_exist_ok=True)
    paths.exchange.mkdir(parents=True, exist_ok=True)  # as `make setup` does: the Formgrader needs it
    write_course_config(root, exchange=paths.exchange)
    write_assignments_config(root)
    return root


def write_course_config(root: Path, exchange: Path, extra: str = "", db_url: str | None = None) -> Path:
    """``root/nbgrader_config.py``: the course configuration, pointed at ``root`` and its gradebook:
    ``db_url``, or else ``NBGRADER_DB_URL`` when set where nbgrader runs, or else the root's SQLite file.

    ``extra`` is appended (more configuration lines).
    """
    path = Path(root) / "nbgrader_config.py"
    default = CoursePaths(Path(root)).gradebook_url
    gradebook = repr(db_url) if db_url else f"os.environ.get('NBGRADER_DB_URL') or {default!r}"
    path.write_text(
        "import os\n"
        "c = get_config()  # noqa: F821\n"
        f"load_subconfig({str(CONFIG)!r})  # noqa: F821\n"
        f"c.CourseDirectory.root = {str(root)!r}\n"
        f"c.CourseDirectory.db_url = {gradebook}\n"
        f"c.Exchange.root = {str(exchange)!r}\n"
        f"c.Exchange.assignment_dir = {str(CoursePaths(Path(root)).assignments)!r}\n" + extra
    )
    return path


def write_assignments_config(root: Path) -> Path:
    """``root/assignments/nbgrader_config.py``, which loads ``root``'s: nbgrader's Assignments tab
    reads the configuration of the folder fetched assignments land in, and nothing else there.

    >>> write_assignments_config(Path("/tmp/course"))  # doctest: +SKIP
    PosixPath('/tmp/course/assignments/nbgrader_config.py')
    """
    path = CoursePaths(Path(root)).assignments / ASSIGNMENTS_CONFIG.name
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(ASSIGNMENTS_CONFIG, path)
    return path


def submit(root: Path, student: str, chapter: str, notebook: nbformat.NotebookNode) -> Path:
    """Place ``notebook`` as ``student``'s submission of ``chapter`` (as ``nbgrader collect`` would)."""
    folder = CoursePaths(Path(root)).submission(student, chapter)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{chapter}.ipynb"
    nbformat.write(notebook, path)
    return path


def autograde(root: Path, chapter: str, student: str | None = None) -> None:
    """Autograde every submission of ``chapter`` (or only ``student``'s), creating students as needed."""
    args = ["autograde", chapter, "--create", "--force"]
    if student:
        args.append(f"--student={student}")
    nbgrader(root, *args)


def export_grades(root: Path, target: Path | None = None) -> list[dict[str, str]]:
    """Export the gradebook to ``target`` (default ``root/grader/grades.csv``) and return its rows."""
    target = Path(target or CoursePaths(Path(root)).grades).resolve()
    nbgrader(root, "export", f"--to={target}")
    with target.open(newline="") as handle:
        return list(csv.DictReader(handle))


@functools.cache
def use_this_interpreter_as_course_kernel() -> Path:
    """Make the course's kernel (``grader.presentation.COURSE_KERNEL``), for this process and what it
    starts, this interpreter, not whichever environment last registered a kernel of that name for
    the user (another clone's, one since moved): a kernelspec in a temporary folder put first on
    ``JUPYTER_PATH``, removed at exit; once a process. Returns that folder. :func:`execute_notebook`
    and :func:`nbgrader_environment` call it."""
    from ipykernel.kernelspec import write_kernel_spec

    from grader.presentation import COURSE_KERNEL

    folder = Path(tempfile.mkdtemp(prefix="course-kernel-"))
    atexit.register(shutil.rmtree, folder, True)
    overrides = {"display_name": COURSE_KERNEL["display_name"], "env": {"TF_CPP_MIN_LOG_LEVEL": "3"}}
    write_kernel_spec(folder / "kernels" / COURSE_KERNEL["name"], overrides=overrides)
    os.environ["JUPYTER_PATH"] = os.pathsep.join(filter(None, [str(folder), os.environ.get("JUPYTER_PATH")]))
    return folder


def execute_notebook(
    nb: nbformat.NotebookNode,
    cwd: Path,
    timeout: int = 300,
    allow_errors: bool = False,
    timed_cells: int | None = None,
    client_class: type[NotebookClient] = NotebookClient,
) -> float:
    """Execute ``nb`` in place, in folder ``cwd``; return the wall time in seconds from the kernel's
    start until the first ``timed_cells`` cells (by default all of them) are done. ``client_class``:
    nbclient's client or a subclass of it (one that watches the outputs: bench/bench_chapters.py).

    >>> seconds = execute_notebook(nb, Path("solutions/ch01_visual_cortex"))  # doctest: +SKIP
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    use_this_interpreter_as_course_kernel()
    timed_cells = len(nb.cells) if timed_cells is None else timed_cells
    done = {}
    client = client_class(
        nb,
        timeout=timeout,
        kernel_name=nb.metadata.get("kernelspec", {}).get("name", "python3"),
        resources={"metadata": {"path": str(cwd)}},
        allow_errors=allow_errors,
        on_cell_executed=lambda cell_index, **_: done.__setitem__(cell_index, time.perf_counter()),
    )
    start = time.perf_counter()
    client.execute()
    timed = [at for index, at in done.items() if index < timed_cells]
    return (max(timed) if timed else time.perf_counter()) - start
