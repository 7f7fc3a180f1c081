"""Bring submissions into ``grader/submitted/<student>/<assignment>/``, where nbgrader grades them.

Three sources:

* the nbgrader exchange (students ran ``nbgrader submit`` or used the Assignment List):
  :func:`from_exchange` runs ``nbgrader collect``;
* a folder or a ``.zip`` of notebooks named by student, e.g. from a learning-management system:
  ``alice.ipynb``, ``bob.ipynb`` or ``alice/<anything>.ipynb`` (:func:`from_files`).

A student id is letters, digits, ``.``, ``_`` and ``-`` only; a file that does not map to one
notebook per student is refused with the reason, and nothing is extracted outside the course.

>>> from_files(REPO, "ch01_visual_cortex", Path("downloads/ch01.zip"))  # doctest: +SKIP
{'alice': 'grader/submitted/alice/ch01_visual_cortex/ch01_visual_cortex.ipynb', ...}
"""

from __future__ import annotations

import json
import re
import shutil
import zipfile
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from grader.course import nbgrader
from grader.paths import CoursePaths

STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
MAX_NOTEBOOK_BYTES = 50 * 2**20  # larger than any honest notebook of the course


def student_of(name: str) -> str:
    """The student id a file in a hand-in folder or zip belongs to (``alice.ipynb``, ``alice/x.ipynb``)."""
    parts = PurePosixPath(name.replace("\\", "/")).parts
    candidate = parts[0] if len(parts) > 1 else PurePosixPath(parts[0]).stem
    if not STUDENT_ID.match(candidate) or ".." in candidate:
        raise ValueError(f"{name!r}: {candidate!r} is not a usable student id (letters, digits, . _ - only)")
    return candidate


def _notebooks_in(source: Path) -> dict[str, bytes]:
    """{student: notebook bytes} from a folder or a zip, refusing two notebooks for one student."""
    if zipfile.is_zipfile(source):
        with zipfile.ZipFile(source) as archive:
            members = [m for m in archive.infolist() if not m.is_dir() and m.filename.endswith(".ipynb")]
            members = [m for m in members if "__MACOSX" not in m.filename and "checkpoint" not in m.filename]
            items = [(m.filename, m.file_size, lambda m=m: archive.read(m)) for m in members]
            return _collect(items)
    if source.is_dir():
        paths = [p for p in sorted(source.rglob("*.ipynb")) if ".ipynb_checkpoints" not in p.parts]
        items = [
            (str(p.relative_to(source)), p.lstat().st_size, p.read_bytes)
            for p in paths
            if p.is_file() and not p.is_symlink()
        ]
        return _collect(items)
    raise ValueError(f"{source}: expected a folder or a .zip of notebooks named by student")


def _without_common_folder(names: list[str]) -> list[str]:
    """``hand-in/alice.ipynb, hand-in/bob.ipynb`` -> ``alice.ipynb, bob.ipynb`` (a zip of one folder)."""
    parts = [PurePosixPath(n.replace("\\", "/")).parts for n in names]
    while len(parts) > 1 and all(len(p) > 1 for p in parts) and len({p[0] for p in parts}) == 1:
        parts = [p[1:] for p in parts]
    return [str(PurePosixPath(*p)) for p in parts]


def _collect(items) -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    names = _without_common_folder([name for name, _, _ in items])
    for name, (_, size, read) in zip(names, items, strict=True):
        student = student_of(name)
        if student in found:
            raise ValueError(f"two notebooks for student {student!r} (the second is {name!r}): keep one")
        if size > MAX_NOTEBOOK_BYTES:
            raise ValueError(
                f"{name!r} is {size / 2**20:.0f} MiB, over the {MAX_NOTEBOOK_BYTES // 2**20} MiB limit"
            )
        found[student] = read()
        problem = notebook_problem(found[student])
        if problem:
            raise ValueError(f"{name!r} is not a notebook ({problem}): fix or remove it, then collect again")
    return found


def notebook_problem(content: bytes) -> str | None:
    """None when ``content`` reads as a Jupyter notebook (JSON with a list of cells), else why not."""
    try:
        nb = json.loads(content)
    except (ValueError, UnicodeDecodeError) as error:
        return f"not JSON: {str(error).splitlines()[0]}" if content.strip() else "an empty file"
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        return "JSON without a list of cells"
    return None


def from_files(root: Path, assignment: str, source: Path) -> dict[str, Path]:
    """Place each student's notebook from folder or zip ``source`` as their submission of ``assignment``.

    Replaces an earlier submission of the same student; writes ``timestamp.txt`` (now, UTC) as
    ``nbgrader collect`` does. Nothing is placed when any file is not a notebook, when two belong to
    one student, or when there is none: the error says which.
    """
    found = _notebooks_in(Path(source))
    if not found:
        raise ValueError(
            f"{source} holds no notebook (expected alice.ipynb, bob.ipynb or alice/<name>.ipynb)"
        )
    placed = {}
    for student, content in sorted(found.items()):
        folder = CoursePaths(Path(root)).submission(student, assignment)
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        (folder / f"{assignment}.ipynb").write_bytes(content)
        (folder / "timestamp.txt").write_text(datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f %Z"))
        placed[student] = folder / f"{assignment}.ipynb"
    return placed


def from_exchange(root: Path, assignment: str) -> str:
    """``nbgrader collect``: fetch the submissions of ``assignment`` from the nbgrader exchange."""
    return nbgrader(Path(root), "collect", assignment, "--update").stderr
