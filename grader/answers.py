"""Cells for the instructor and for after grading: the answers of the discussions.

A cell tagged ``instructor-only`` in an instructor notebook (ch11's discussions, which give the
multiple-choice answers) is left out of the student notebook when the course is generated
(:class:`RemoveInstructorOnly`), and put back into the feedback page, under the cell it followed,
once the work is graded (:class:`AddInstructorCells`).

>>> RemoveInstructorOnly().preprocess(nbformat.v4.new_notebook(cells=[
...     nbformat.v4.new_markdown_cell("answer: b", metadata={"tags": [TAG]})]), {})[0].cells
[]
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbgrader.preprocessors import NbGraderPreprocessor

TAG = "instructor-only"


def instructor_only(cell) -> bool:
    return TAG in cell.get("metadata", {}).get("tags", [])


class RemoveInstructorOnly(NbGraderPreprocessor):
    """Drop the ``instructor-only`` cells (when the student notebook is generated)."""

    def preprocess(self, nb, resources):
        nb.cells = [cell for cell in nb.cells if not instructor_only(cell)]
        return nb, resources


class AddInstructorCells(NbGraderPreprocessor):
    """Insert the instructor notebook's ``instructor-only`` cells into a graded notebook (feedback)."""

    def preprocess(self, nb, resources):
        info = resources.get("nbgrader", {})
        source = Path("solutions") / info.get("assignment", "") / f"{info.get('notebook', '')}.ipynb"
        if not source.is_file():  # run from the course root; another layout: nothing to add
            return nb, resources
        position = {cell.get("id"): index for index, cell in enumerate(nb.cells)}
        inserts, anchor = [], None
        for cell in nbformat.read(source, as_version=4).cells:
            if instructor_only(cell):
                inserts.append((position.get(anchor, len(nb.cells) - 1), cell))
            else:
                anchor = cell.get("id")
        for offset, (index, cell) in enumerate(sorted(inserts, key=lambda pair: pair[0])):
            nb.cells.insert(index + 1 + offset, cell)
        return nb, resources
