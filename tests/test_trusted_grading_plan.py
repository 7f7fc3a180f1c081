"""A trusted chapter's tests use only what the grader's test process has (CONTRIBUTING, Trusted grading).

The test process runs the cells tagged ``grading-setup`` and the test cells, and takes from the
student's kernel only the names the solution cells define. A test cell that used any other name
of the notebook (a demo's variable) would fail when graded, or worse, read a value the student's
code could set: every name a test loads must be bound by one of those cells, or be a builtin.
"""

from __future__ import annotations

import ast
import builtins

import nbformat
import pytest

from grader import plan
from grader.course import chapters, solution_path
from tests.notebook_kernel import nbgrader_meta

TRUSTED = [c for c in chapters() if plan.is_trusted(nbformat.read(solution_path(c), as_version=4))]


def bound(source: str) -> set[str]:
    """Every name ``source`` binds anywhere: assignments, definitions, arguments, imports."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
    return names


def test_some_chapters_are_graded_trusted():
    assert {"ch01_visual_cortex", "ch03_pooling_layers", "ch11_exercises"} <= set(TRUSTED)


@pytest.mark.parametrize("chapter", TRUSTED)
def test_every_name_a_test_uses_is_the_grader_s_or_an_exercise(chapter):
    nb = nbformat.read(solution_path(chapter), as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    tests = [c.source for c in code if nbgrader_meta(c).get("grade") and not nbgrader_meta(c).get("solution")]
    setup = [c.source for c in code if plan.SETUP_TAG in c.metadata.get("tags", [])]
    students = set(plan.student_names([c.source for c in code if nbgrader_meta(c).get("solution")]))
    assert tests and setup, chapter
    known = set(dir(builtins)) | students | set().union(*map(bound, tests + setup))
    used = {
        node.id
        for source in tests
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)
    }
    assert used <= known, f"{chapter}: test cells use {sorted(used - known)}, which the test process lacks"
