"""What a student's feedback page shows: each test's visible part and its failure, never hidden tests.

nbgrader's feedback shows the graded notebook as it ran, hidden tests included. The course's
feedback pipeline (set in ``grader/nbgrader_config.py``) adds the instructor's discussions
(:mod:`grader.answers`), removes the hidden-test regions from the test cells (nbgrader's own
``ClearHiddenTests``) and shortens every error of a graded cell to its type and message
(:class:`ShortErrors`): a traceback would quote the hidden test's lines.

>>> [p.__name__ for p in feedback_preprocessors()][1:4]
['AddInstructorCells', 'ClearHiddenTests', 'ShortErrors']
"""

from __future__ import annotations

from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import ClearHiddenTests, GetGrades, NbGraderPreprocessor

from grader.answers import AddInstructorCells


class ShortErrors(NbGraderPreprocessor):
    """Every error output of a graded cell as one line: ``TypeName: message``."""

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("grade"):
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    output["traceback"] = [f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"]
        return cell, resources


def feedback_preprocessors() -> list[type]:
    """nbgrader's feedback preprocessors, with the hidden tests and tracebacks taken out."""
    return [GetGrades, AddInstructorCells, ClearHiddenTests, ShortErrors, CSSHTMLHeaderPreprocessor]
