"""Solution notebooks run clean inside their budgets; student notebooks fail only where graded.

CONTRIBUTING.md (budgets). Run offline, e.g. ``unshare -n sh -c 'ip link set lo up && exec make test'``.
"""

from __future__ import annotations

import nbformat
import pytest

from grader.course import REPO, budget_seconds, chapters, solution_path
from tests.notebook_kernel import (
    error_text,
    is_graded_cell,
    nbgrader_meta,
    selected_chapters,
    stderr_text,
)

# how far past its budget a solution may run here: CI's machines run up to about 2.5 times slower
# than a lecturer's laptop, and the budget itself is measured by `make bench`
BUDGET_SLACK = 3


@pytest.mark.slow
@pytest.mark.parametrize("chapter", selected_chapters())
def test_solution_runs_clean_within_budget(chapter, solution_runs):
    """Clean, and not far past its budget (``make bench`` measures the budget itself, as medians)."""
    run = solution_runs[chapter]
    for index, cell in enumerate(run.notebook.cells):
        if cell.cell_type != "code":
            continue
        assert not error_text(cell), f"cell {index} raised:\n{error_text(cell)}\n--- source:\n{cell.source}"
        assert not stderr_text(cell), f"cell {index} wrote to stderr:\n{stderr_text(cell)}"
    budget = budget_seconds(chapter)
    assert run.seconds < BUDGET_SLACK * budget, (
        f"{chapter} took {run.seconds:.1f} s, more than {BUDGET_SLACK} times its budget of {budget:.0f} s"
    )


@pytest.mark.slow
@pytest.mark.parametrize("chapter", selected_chapters())
def test_student_notebook_fails_only_in_graded_cells(chapter, student_runs):
    # run as JupyterLab's Run All runs it: only the cells tagged raises-exception (the exercises
    # and their tests, grader/presentation.py) may fail, and the run goes on past them
    run = student_runs[chapter]
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
