"""What trusted grading needs to know of a chapter, read from the instructor's side only.

A chapter is graded *trusted* when its instructor notebook's metadata says
``"cvcourse": {"grading": "trusted"}``: its test cells then run in the grader's test process
(:mod:`grader.testrunner`), never in the student's kernel. The plan of one notebook holds

* ``tests``: each test cell's source, from the gradebook (hidden tests included);
* ``setup``: the instructor's cells tagged ``grading-setup`` (imports, constants, data), which
  the test process runs first, so a test never uses a library or data set the student's code
  could have replaced;
* ``student_names``: the names the solution cells define: the only names a test cell takes
  from the student's kernel.

>>> student_names(["def f(x):\\n    return g(x)\\nANSWER = {'a'}"])
['ANSWER', 'f']
"""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook

SETUP_TAG = "grading-setup"


def is_trusted(nb: nbformat.NotebookNode) -> bool:
    """Whether the instructor notebook ``nb`` asks for trusted grading."""
    return nb.metadata.get("cvcourse", {}).get("grading") == "trusted"


def student_names(sources: list[str]) -> list[str]:
    """Names defined at the top level of ``sources`` (functions, classes, assignments, imports)."""
    names = set()
    for source in sources:
        for node in ast.parse(source).body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                names |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    return sorted(names)


def test_cells(gradebook_url: str, assignment: str, notebook: str) -> dict[str, str]:
    """{grade_id: source} of the notebook's autograder test cells, as the gradebook keeps them."""
    with Gradebook(gradebook_url) as gb:
        record = gb.find_notebook(notebook, assignment)
        solutions = {cell.name for cell in record.solution_cells}
        return {
            cell.name: gb.find_source_cell(cell.name, notebook, assignment).source
            for cell in record.grade_cells
            if cell.cell_type == "code" and cell.name not in solutions
        }


def notebook_plan(source: Path, gradebook_url: str, assignment: str) -> dict | None:
    """The plan of instructor notebook ``source`` (None when it is not graded trusted)."""
    nb = nbformat.read(source, as_version=4)
    if not is_trusted(nb):
        return None
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    setup = [cell.source for cell in code if SETUP_TAG in cell.metadata.get("tags", [])]
    answers = [cell.source for cell in code if cell.metadata.get("nbgrader", {}).get("solution")]
    students = student_names(answers)
    trusted = set(student_names(setup)) | {
        (alias.asname or alias.name).split(".")[0]
        for source in setup
        for node in ast.parse(source).body
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in node.names
    }
    return {
        "tests": test_cells(gradebook_url, assignment, source.stem),
        "setup": setup,
        "student_names": sorted(set(students) - trusted),  # a set-up name is never the student's
    }


def notebook_plans(source_folder: Path, gradebook_url: str, assignment: str) -> dict[str, dict]:
    """{notebook name: plan} for the trusted notebooks of instructor folder ``source_folder``."""
    plans = {}
    for path in sorted(Path(source_folder).glob("*.ipynb")):
        plan = notebook_plan(path, gradebook_url, assignment)
        if plan is not None:
            plans[path.stem] = plan
    return plans
