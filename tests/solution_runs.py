"""Each chapter's solution notebook executed once, for three test files (and its student notebook,
for two).

``tests/test_notebooks.py`` checks the solution's own cells (clean, within the budget);
``tests/test_mutants.py`` checks the mutant cases appended after them, in the same kernel: each
case's source replaces the solution cell, the exercise's test cell runs, and the real solution
is restored. One execution serves both, so the slow tier runs each solution once;
``tests/test_publish.py`` renders the same executions as pages and slides.
"""

from __future__ import annotations

import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path

import nbformat

from grader.course import REPO, solution_path, student_path
from tests.notebook_kernel import cell_by_grade_id, copy_of_chapter, execute

MARKER = "MUTANT-RESULT "

CASE_TEMPLATE = """
__case_outcome = "passed"
try:
    exec(compile({case!r}, "<case>", "exec"), globals())
    exec(compile({test!r}, "<test cell>", "exec"), globals())
except BaseException as __error:  # noqa: BLE001
    __case_outcome = f"failed: {{type(__error).__name__}}: {{str(__error)[:300]}}"
finally:
    exec(compile({solution!r}, "<solution>", "exec"), globals())
print("\\n" + {marker!r} + __import__("json").dumps({{"id": {case_id}, "outcome": __case_outcome}}))
"""


@dataclass
class Case:
    kind: str  # "WRONG" (must fail the test cell) or "RIGHT" (must pass it)
    exercise: str
    description: str
    source: str


@dataclass
class Mutants:
    wrong: dict[str, dict[str, str]]
    right: dict[str, dict[str, str]]
    scored: dict[str, str]

    def cases(self) -> list[Case]:
        return [
            Case(kind, exercise, description, source)
            for kind, table in (("WRONG", self.wrong), ("RIGHT", self.right))
            for exercise, items in table.items()
            for description, source in items.items()
        ]


def load_mutants(chapter: str) -> Mutants:
    """``tests/mutants/<chapter>.py``: its ``WRONG``, ``RIGHT`` and ``SCORED`` tables."""
    path = REPO / "tests" / "mutants" / f"{chapter}.py"
    spec = importlib.util.spec_from_file_location(f"mutants_{chapter}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return Mutants(module.WRONG, module.RIGHT, getattr(module, "SCORED", {}))


@dataclass
class SolutionRun:
    notebook: nbformat.NotebookNode  # the solution's own cells, executed
    seconds: float  # kernel start to the solution's last cell, the cases not counted
    outcomes: dict[tuple[str, str, str], str]  # (kind, exercise, description) -> "passed" or "failed: ..."


def run_solution(chapter: str, tmp_path: Path) -> SolutionRun:
    """Execute the solution in a copy of its folder: its own cells, then every mutant case."""
    nb, work = copy_of_chapter(solution_path(chapter), tmp_path)
    n_solution_cells = len(nb.cells)
    cases = load_mutants(chapter).cases()
    for case_id, case in enumerate(cases):
        code = CASE_TEMPLATE.format(
            case=case.source,
            test=cell_by_grade_id(nb, f"test_{case.exercise}").source,
            solution=cell_by_grade_id(nb, case.exercise).source,
            marker=MARKER,
            case_id=case_id,
        )
        nb.cells.append(nbformat.v4.new_code_cell(code))
    run = execute(nb, work, allow_errors=True, timed_cells=n_solution_cells)
    outcomes = {}
    for cell in run.notebook.cells[n_solution_cells:]:
        for output in cell.get("outputs", []):
            for line in output.get("text", "").splitlines():
                if line.startswith(MARKER):
                    record = json.loads(line[len(MARKER) :])
                    case = cases[record["id"]]
                    outcomes[(case.kind, case.exercise, case.description)] = record["outcome"]
    solution = nbformat.from_dict(dict(run.notebook, cells=run.notebook.cells[:n_solution_cells]))
    return SolutionRun(solution, run.seconds, outcomes)


class _RunOnce(dict):
    """{chapter: its execution}, each run on first use, once a test session."""

    def __init__(self, tmp_path_factory):
        super().__init__()
        self.tmp_path_factory = tmp_path_factory

    def __missing__(self, chapter: str):
        self[chapter] = self.run(chapter, self.tmp_path_factory.mktemp(f"{type(self).__name__}-{chapter}"))
        return self[chapter]


class SolutionRuns(_RunOnce):
    """The executed solutions of a test session (:class:`SolutionRun`), each run on first use.

    >>> runs = SolutionRuns(tmp_path_factory); runs["ch01_visual_cortex"].seconds  # doctest: +SKIP
    """

    run = staticmethod(run_solution)


class StudentRuns(_RunOnce):
    """The executed student notebooks of a test session, each run on first use as JupyterLab's Run
    All runs it: errors not allowed, except in the cells tagged raises-exception (the exercises).
    Holds the :class:`tests.notebook_kernel.Execution`."""

    @staticmethod
    def run(chapter: str, tmp_path: Path):
        nb, work = copy_of_chapter(student_path(chapter), tmp_path)
        return execute(nb, work, allow_errors=False)
