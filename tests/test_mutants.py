"""Each test cell rejects plausible mistakes and accepts unusual correct answers.

``tests/mutants/<chapter>.py`` lists, per exercise, ``WRONG`` solutions (each must fail the
exercise's test cell, visible and hidden parts together) and ``RIGHT`` ones (each must pass).
Exercises scored on a scale (an accuracy target with partial credit) are listed in
``SCORED`` instead, with a reason: their test cells are checked by the round trip's scores.
One kernel per chapter runs the solution notebook, then every case: the case's source
replaces the solution cell, the test cell runs, and the real solution is restored.
"""

from __future__ import annotations

import importlib.util
import json

import nbformat
import pytest

from grader.course import REPO, exercises, solution_path
from tests.notebook_kernel import cell_by_grade_id, execute, selected_chapters

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
print({marker!r} + __import__("json").dumps({{"id": {case_id}, "outcome": __case_outcome}}))
"""


def load_cases(chapter: str):
    path = REPO / "tests" / "mutants" / f"{chapter}.py"
    spec = importlib.util.spec_from_file_location(f"mutants_{chapter}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.WRONG, module.RIGHT, getattr(module, "SCORED", {})


def run_cases(chapter: str, tmp_path) -> dict[tuple[str, str, str], str]:
    """Outcome ("passed" or "failed: ...") of every case, keyed by (kind, exercise, description)."""
    wrong, right, _ = load_cases(chapter)
    nb = nbformat.read(solution_path(chapter), as_version=4)
    cases = [("WRONG", ex, desc, src) for ex, items in wrong.items() for desc, src in items.items()]
    cases += [("RIGHT", ex, desc, src) for ex, items in right.items() for desc, src in items.items()]
    for case_id, (_, exercise, _, source) in enumerate(cases):
        code = CASE_TEMPLATE.format(
            case=source,
            test=cell_by_grade_id(nb, f"test_{exercise}").source,
            solution=cell_by_grade_id(nb, exercise).source,
            marker=MARKER,
            case_id=case_id,
        )
        nb.cells.append(nbformat.v4.new_code_cell(code))
    executed = execute(nb, tmp_path).notebook
    outcomes = {}
    for cell in executed.cells:
        for output in cell.get("outputs", []):
            for line in output.get("text", "").splitlines():
                if line.startswith(MARKER):
                    record = json.loads(line[len(MARKER) :])
                    kind, exercise, description, _ = cases[record["id"]]
                    outcomes[(kind, exercise, description)] = record["outcome"]
    return outcomes


@pytest.mark.slow
@pytest.mark.parametrize("chapter", selected_chapters())
def test_mistakes_fail_and_alternatives_pass(chapter, tmp_path):
    wrong, right, scored = load_cases(chapter)
    names = [name for name, _ in exercises(chapter) if name not in scored]
    assert set(wrong) == set(names), f"every exercise needs plausible mistakes; have {sorted(wrong)}"
    assert set(right) == set(names), f"every exercise needs a correct alternative; have {sorted(right)}"

    outcomes = run_cases(chapter, tmp_path)
    expected_count = sum(len(v) for v in wrong.values()) + sum(len(v) for v in right.values())
    assert len(outcomes) == expected_count, "some cases did not report (kernel died?)"
    problems = [
        f"{kind} {exercise}: {description!r} -> {outcome}"
        for (kind, exercise, description), outcome in outcomes.items()
        if (kind == "WRONG") == (outcome == "passed")
    ]
    assert not problems, "test cells misjudge these answers:\n" + "\n".join(problems)
