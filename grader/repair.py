"""Repair a submission's test cells from the gradebook before grading: honest mistakes cost nothing.

Students copy, move, retype and delete cells in JupyterLab. nbgrader refuses a notebook with two
cells of one ``grade_id`` (a copied test cell: zero for the whole notebook), scores a deleted test
cell zero and runs a moved one where it now stands. The test cells are the instructor's, not the
student's work, so before grading each one is put back as the gradebook has it:

* a duplicate of a test cell (same ``grade_id``, or the same source) is removed;
* a test cell whose nbgrader metadata was lost (recognised by its source) gets it back;
* a test cell that is missing is restored, and every test cell stands right after its
  exercise's answer cell (``test_X`` after ``X``), or where the release had it.

The student's own cells are never changed. What was repaired is returned in words, for the
report.

>>> repair({"cells": []}, {})
[]
"""

from __future__ import annotations

import copy
import json
from pathlib import Path


def _grade_id(cell: dict) -> str | None:
    return (cell.get("metadata") or {}).get("nbgrader", {}).get("grade_id")


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _visible(source: str) -> str:
    """A test cell's source without its hidden regions (what the student's notebook shows), line by
    line as nbgrader's ``ClearHiddenTests`` removes them: a region may sit between visible parts."""
    kept, hidden = [], False
    for line in source.split("\n"):
        if "BEGIN HIDDEN TESTS" in line:
            hidden = True
        elif "END HIDDEN TESTS" in line:
            hidden = False
        elif not hidden:
            kept.append(line)
    return "\n".join(kept).strip()


def test_cell(grade_id: str, source: str, points: float) -> dict:
    """A locked autograder test cell as nbgrader's release has it."""
    return {
        "cell_type": "code",
        "execution_count": None,
        "metadata": {
            "deletable": False,
            "editable": False,
            "nbgrader": {
                "cell_type": "code",
                "checksum": "",
                "grade": True,
                "grade_id": grade_id,
                "locked": True,
                "points": points,
                "schema_version": 3,
                "solution": False,
                "task": False,
            },
        },
        "outputs": [],
        "source": _visible(source) + "\n",
    }


def repair(nb: dict, tests: dict[str, tuple[str, float, int]]) -> list[str]:
    """Repair the test cells of notebook ``nb`` (JSON) in place; return what was repaired.

    ``tests``: {grade_id: (source, points, position in the release)} of the notebook's test cells.
    """
    cells = nb.get("cells")
    if not isinstance(cells, list) or not all(isinstance(c, dict) for c in cells):
        return []
    repaired, kept, found = [], [], {}
    by_visible = {_visible(source): name for name, (source, _, _) in tests.items()}
    for cell in cells:
        name = _grade_id(cell)
        if name is None and cell.get("cell_type") == "code" and _visible(_source(cell)) in by_visible:
            name = by_visible[_visible(_source(cell))]
            if name not in found:
                restored = test_cell(name, *tests[name][:2])["metadata"]["nbgrader"]
                cell.setdefault("metadata", {})["nbgrader"] = restored
                repaired.append(f"{name}: its nbgrader metadata was lost; restored")
        if name in tests:
            if name in found:
                repaired.append(f"{name}: a copy of the test cell was removed")
                continue
            found[name] = cell
        kept.append(cell)
    for name, (source, points, position) in sorted(tests.items(), key=lambda item: item[1][2]):
        if name not in found:
            found[name] = test_cell(name, source, points)
            kept.insert(min(position, len(kept)), found[name])
            repaired.append(f"{name}: the test cell was missing; restored")
    for name in tests:  # each test right after its exercise's answer cell
        answer = next((c for c in kept if _grade_id(c) == name.removeprefix("test_")), None)
        if answer is None or not name.startswith("test_"):
            continue
        cell = found[name]
        before = kept.index(cell)
        kept.remove(cell)
        kept.insert(kept.index(answer) + 1, cell)
        restored = any(r.startswith(f"{name}: the test cell was missing") for r in repaired)
        if kept.index(cell) != before and not restored:
            repaired.append(f"{name}: the test cell was moved back under its exercise")
    nb["cells"] = kept
    return repaired


def release_tests(gradebook_url: str, assignment: str, source: Path) -> dict[str, tuple[str, float, int]]:
    """{grade_id: (source, points, position)} of the test cells of instructor notebook ``source``."""
    from nbgrader.api import Gradebook

    from grader.plan import test_cells

    order = [_grade_id(c) for c in json.loads(Path(source).read_text())["cells"]]
    sources = test_cells(gradebook_url, assignment, Path(source).stem)
    with Gradebook(gradebook_url) as gb:
        points = {c.name: c.max_score for c in gb.find_notebook(Path(source).stem, assignment).grade_cells}
    return {
        name: (text, points[name], order.index(name) if name in order else len(order))
        for name, text in sources.items()
    }


def repair_file(path: Path, tests: dict[str, tuple[str, float, int]]) -> list[str]:
    """:func:`repair` the notebook file ``path`` (left alone when it is not JSON: nbgrader says so)."""
    try:
        nb = json.loads(Path(path).read_text())
    except (ValueError, UnicodeDecodeError):
        return []
    if not isinstance(nb, dict):
        return []
    original = copy.deepcopy(nb)
    repaired = repair(nb, tests)
    if nb != original:
        Path(path).write_text(json.dumps(nb, indent=1))
    return repaired
