"""How a notebook of the course opens, runs and presents: its kernel, its slides, Run All.

When the course is generated (``python -m grader generate``) every student notebook gets, from
:class:`PresentNotebook`:

* the course's kernel (:data:`COURSE_KERNEL`, registered by ``make setup``) and a complete
  ``language_info``, so JupyterLab neither asks for a kernel nor marks the notebook modified;
* slide metadata for jupyterlab-rise and ``make slides`` (:func:`slide_types`): a title slide, a
  slide per section (``##``), a sub-slide per sub-section (``###``) and per demo (the text that
  follows a code cell opens a new one), test cells skipped; set-up cells collapsed; a reveal.js
  theme whose fonts ship with it (:data:`SLIDE_THEME`);
* the tag ``raises-exception`` on the exercise and test cells, so that Run All goes on past an
  exercise not done yet (or a test that fails) instead of stopping there. nbgrader grades exactly
  as before: it runs every cell to the end whatever the tags.

>>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Title"),
...     nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_markdown_cell("## 1. A section")])
>>> slide_types(nb)
['slide', '-', 'slide']
"""

from __future__ import annotations

import sys

import nbformat
from nbgrader.preprocessors import NbGraderPreprocessor

# The Jupyter kernel of the course's virtual environment (scripts/setup.sh registers it).
COURSE_KERNEL = {"name": "cnn-course", "display_name": "Python 3 (CNN course)", "language": "python"}

# What ipykernel reports on connecting, written in advance (JupyterLab otherwise adds it on opening).
LANGUAGE_INFO = {
    "codemirror_mode": {"name": "ipython", "version": 3},
    "file_extension": ".py",
    "mimetype": "text/x-python",
    "name": "python",
    "nbconvert_exporter": "python",
    "pygments_lexer": "ipython3",
    "version": f"{sys.version_info.major}.{sys.version_info.minor}.{sys.version_info.micro}",
}

# The reveal.js theme of every deck, in JupyterLab (jupyterlab-rise) and from `make slides`: one whose
# fonts ship with reveal.js ("simple", RISE's default, fetches Google's: the course runs offline).
SLIDE_THEME = "white"

SETUP_TAG = "grading-setup"  # the code cells that import and load (cvcourse, the data)
RUN_ON_TAG = "raises-exception"  # JupyterLab's Run All goes on past such a cell when it raises


def _nbgrader(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def is_test_cell(cell) -> bool:
    return bool(_nbgrader(cell).get("grade")) and not _nbgrader(cell).get("solution")


def is_exercise_cell(cell) -> bool:
    return bool(_nbgrader(cell).get("solution")) or is_test_cell(cell)


def slide_types(nb: nbformat.NotebookNode) -> list[str]:
    """The RISE / reveal.js slide type of each cell, from the notebook's structure alone."""
    types, previous = [], None
    for index, cell in enumerate(nb.cells):
        heading = cell.source.lstrip() if cell.cell_type == "markdown" else ""
        if index == 0 or heading.startswith("## "):
            kind = "slide"
        elif is_test_cell(cell) or "instructor-only" in cell.metadata.get("tags", []):
            kind = "skip"
        elif heading.startswith("### ") or (heading and previous == "code"):
            kind = "subslide"
        else:
            kind = "-"
        types.append(kind)
        if kind != "skip":
            previous = cell.cell_type
    return types


def present(nb: nbformat.NotebookNode, run_on: bool = True) -> nbformat.NotebookNode:
    """``nb`` with the course kernel, its language, slide metadata and collapsed set-up cells; with
    ``run_on``, its exercise and test cells tagged so that Run All goes on past them. In place."""
    nb.metadata["kernelspec"] = dict(COURSE_KERNEL)
    nb.metadata["language_info"] = dict(LANGUAGE_INFO)
    nb.metadata["rise"] = {"theme": SLIDE_THEME}
    for cell, kind in zip(nb.cells, slide_types(nb), strict=True):
        cell.metadata["slideshow"] = {"slide_type": kind}
        tags = cell.metadata.get("tags", [])
        if cell.cell_type == "code" and SETUP_TAG in tags:
            cell.metadata.setdefault("jupyter", {})["source_hidden"] = True
        if run_on and is_exercise_cell(cell) and RUN_ON_TAG not in tags:
            cell.metadata["tags"] = [*tags, RUN_ON_TAG]
    return nb


class PresentNotebook(NbGraderPreprocessor):
    """:func:`present` as a step of ``nbgrader generate_assignment``."""

    def preprocess(self, nb, resources):
        return present(nb), resources


def generate_preprocessors() -> list[type]:
    """nbgrader's preprocessors for generating the student notebook: the instructor's cells dropped
    (:class:`grader.answers.RemoveInstructorOnly`) and the notebook laid out for the student
    (:class:`PresentNotebook`) first, then nbgrader's own."""
    from nbgrader.converters import GenerateAssignment

    from grader.answers import RemoveInstructorOnly

    nbgraders_own = GenerateAssignment.class_traits()["preprocessors"].default()
    return [RemoveInstructorOnly, PresentNotebook, *nbgraders_own]
