"""Plausible mistakes and unusual correct answers, one module per chapter (see CONTRIBUTING.md).

The modules are loaded by path by tests/solution_runs.py and checked by tests/test_mutants.py;
they share :func:`change`, :func:`solution_source` and :func:`with_body`.
"""

from __future__ import annotations

import ast
import textwrap

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


def with_body(source: str, body: str) -> str:
    r"""``source``, a cell that defines one function, with everything after the function's def line
    and docstring replaced by ``body`` (indented as the function's body): another way of writing the
    function, under the solution's own signature.

    >>> with_body('def f(x):\n    "Twice x."\n    return 2 * x\n', "return x + x")
    'def f(x):\n    "Twice x."\n    return x + x\n'
    """
    functions = [node for node in ast.parse(source).body if isinstance(node, ast.FunctionDef)]
    assert len(functions) == 1, "with_body edits a cell that defines one function"
    first = functions[0].body[0]
    has_docstring = isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(
        first.value.value, str
    )
    kept = first.end_lineno if has_docstring else first.lineno - 1
    head = "".join(source.splitlines(keepends=True)[:kept])
    return head + textwrap.indent(textwrap.dedent(body).strip("\n") + "\n", "    ")
