"""Plausible mistakes and unusual correct answers, one module per chapter (see CONTRIBUTING.md).

The modules are loaded by path by tests/solution_runs.py and checked by tests/test_mutants.py;
they share :func:`change` and :func:`solution_source`.
"""

from __future__ import annotations

import json
from pathlib import Path

SOLUTIONS = Path(__file__).resolve().parents[2] / "solutions"


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
    notebook = json.loads((SOLUTIONS / chapter / f"{chapter}.ipynb").read_text())
    for cell in notebook["cells"]:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == exercise:
            source = "".join(cell["source"])
            markers = ("### BEGIN SOLUTION", "### END SOLUTION")
            lines = [line for line in source.split("\n") if line.strip() not in markers]
            return "\n".join(lines) + "\n"
    raise KeyError(f"{chapter} has no solution cell {exercise!r}")
