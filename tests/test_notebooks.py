"""Solution notebooks run clean inside their budgets; student notebooks fail only where graded.

CONTRIBUTING.md (budgets). Run offline, e.g. ``unshare -n sh -c 'ip link set lo up && exec make test'``.
"""

from __future__ import annotations

import shutil

import nbformat
import pytest

from grader.course import REPO, budget_seconds, chapters, solution_path, student_path
from tests.notebook_kernel import (
    error_text,
    execute,
    is_graded_cell,
    nbgrader_meta,
    selected_chapters,
    stderr_text,
)


def run_in_copy(path, tmp_path):
    """Execute a copy of the chapter folder, so that files a notebook writes stay out of the repository."""
    work = tmp_path / path.parent.name
    shutil.copytree(path.parent, work)
    nb = nbformat.read(work / path.name, as_version=4)
    return execute(nb, work, allow_errors=True)


@pytest.mark.slow
@pytest.mark.parametrize("chapter", selected_chapters())
def test_solution_runs_clean_within_budget(chapter, tmp_path):
    run = run_in_copy(solution_path(chapter), tmp_path)
    for index, cell in enumerate(run.notebook.cells):
        if cell.cell_type != "code":
            continue
        assert not error_text(cell), f"cell {index} raised:\n{error_text(cell)}\n--- source:\n{cell.source}"
        assert not stderr_text(cell), f"cell {index} wrote to stderr:\n{stderr_text(cell)}"
    budget = budget_seconds(chapter)
    assert run.seconds < budget, f"{chapter} took {run.seconds:.1f} s; its budget is {budget:.0f} s"


@pytest.mark.slow
@pytest.mark.parametrize("chapter", selected_chapters())
def test_student_notebook_fails_only_in_graded_cells(chapter, tmp_path):
    run = run_in_copy(student_path(chapter), tmp_path)
    graded_failures = 0
    for index, cell in enumerate(run.notebook.cells):
        if cell.cell_type != "code":
            continue
        if is_graded_cell(cell):
            graded_failures += bool(error_text(cell)) and nbgrader_meta(cell).get("grade", False)
            continue
        assert not error_text(cell), (
            f"cell {index} (not graded) fails in the untouched student notebook:\n{error_text(cell)}\n"
            f"--- source:\n{cell.source}"
        )
        assert not stderr_text(cell), f"cell {index} wrote to stderr:\n{stderr_text(cell)}"
    n_tests = sum(1 for c in run.notebook.cells if nbgrader_meta(c).get("grade"))
    assert graded_failures == n_tests, (
        f"only {graded_failures} of {n_tests} test cells fail with no work done"
    )


def test_every_chapter_has_a_budget_and_exercises():
    assert chapters(), "no chapters in solutions/"
    for chapter in chapters():
        budget = budget_seconds(chapter)
        assert budget in (60, 180), f"{chapter}: budget must be 60 s or 180 s (CONTRIBUTING.md)"
        nb = nbformat.read(solution_path(chapter), as_version=4)
        ids = [nbgrader_meta(c).get("grade_id") for c in nb.cells if nbgrader_meta(c)]
        for grade_id in ids:
            if grade_id and grade_id.startswith("test_"):
                assert grade_id[5:] in ids, f"{chapter}: {grade_id} has no solution cell {grade_id[5:]!r}"
        assert REPO.joinpath("tests", "mutants", f"{chapter}.py").is_file(), f"{chapter}: no mutants file"
