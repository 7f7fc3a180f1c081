"""Plausible mistakes and unusual correct answers, one module per chapter (see CONTRIBUTING.md).

The modules are loaded by path by tests/solution_runs.py and checked by tests/test_mutants.py;
they share :func:`change` and :func:`solution_source`.
"""

from __future__ import annotations

import nbformat

from grader.course import solution_path
from tests.notebook_kernel import cell_by_grade_id


def change(source: str, *replacements: tuple[str, str]) -> str:
    """``source`` with each (old, new) replacement made; every ``old`` must occur in ``source``.

    >>> change("return a + b", ("a + b", "a - b"))
    'return a - b'
    """
    for old, new in replacements:
        assert old in source, f"mutant pattern not found: {old!r}"
        source = source.replace(old, new)
    return source


def solution_source(chapter: str, exercise: str) -> str:
    """The solution cell of ``exercise`` in ``solutions/<chapter>/<chapter>.ipynb``, without its
    ``### BEGIN/END SOLUTION`` lines: what a mutant edits, so that it follows the solution.

    >>> solution_source("ch02_convolutional_layers", "conv2d_backward").startswith("def conv2d_backward(")
    True
    """
    source = cell_by_grade_id(nbformat.read(solution_path(chapter), as_version=4), exercise).source
    markers = ("### BEGIN SOLUTION", "### END SOLUTION")
    return "\n".join(line for line in source.split("\n") if line.strip() not in markers) + "\n"
