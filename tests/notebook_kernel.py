"""Run notebooks for the tests: execute with nbclient, read outputs, find graded cells."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import nbformat

from grader.course import chapters, execute_notebook


def nbgrader_meta(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def is_graded_cell(cell) -> bool:
    """A solution cell or a test cell: where a student notebook may legitimately fail."""
    meta = nbgrader_meta(cell)
    return bool(meta.get("solution") or meta.get("grade"))


def cell_by_grade_id(nb, grade_id: str):
    for cell in nb.cells:
        if nbgrader_meta(cell).get("grade_id") == grade_id:
            return cell
    raise KeyError(f"no cell with grade_id {grade_id!r}")


def stderr_text(cell) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("name") == "stderr")


def error_text(cell) -> str:
    return "\n".join(
        f"{o['ename']}: {o['evalue']}" for o in cell.get("outputs", []) if o.output_type == "error"
    )


@dataclass
class Execution:
    notebook: nbformat.NotebookNode
    seconds: float


def execute(
    nb: nbformat.NotebookNode,
    cwd: Path,
    timeout: int = 300,
    allow_errors: bool = False,
    timed_cells: int | None = None,
) -> Execution:
    """Execute ``nb`` in ``cwd``; the wall time runs from the kernel's start to the end of the first
    ``timed_cells`` cells (by default all of them)."""
    seconds = execute_notebook(nb, cwd, timeout=timeout, allow_errors=allow_errors, timed_cells=timed_cells)
    return Execution(nb, seconds)


def copy_of_chapter(path: Path, tmp_path: Path) -> tuple[nbformat.NotebookNode, Path]:
    """The notebook at ``path``, read from a copy of its folder in ``tmp_path``, and that copy: what
    the notebook writes when it runs stays out of the repository."""
    work = tmp_path / path.parent.name
    shutil.copytree(path.parent, work)
    return nbformat.read(work / path.name, as_version=4), work


def selected_chapters() -> list[str]:
    """Every chapter, or those named in ``CHAPTERS`` (comma-separated) to test a few of them.

    ``CHAPTERS=ch04_cnn_architectures make test`` runs the slow tiers for one chapter only.
    """
    wanted = [name for name in os.environ.get("CHAPTERS", "").split(",") if name]
    unknown = sorted(set(wanted) - set(chapters()))
    if unknown:
        raise ValueError(f"CHAPTERS names unknown chapters {unknown}; known: {chapters()}")
    return [chapter for chapter in chapters() if not wanted or chapter in wanted]
