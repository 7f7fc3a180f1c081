"""Each test cell rejects plausible mistakes and accepts unusual correct answers.

``tests/mutants/<chapter>.py`` lists, per exercise, ``WRONG`` solutions (each must fail the
exercise's test cell, visible and hidden parts together) and ``RIGHT`` ones (each must pass).
Exercises scored on a scale (an accuracy target with partial credit) are listed in
``SCORED`` instead, with a reason: their test cells are checked by the round trip's scores.
The cases run in the kernel of the chapter's solution run, after its own cells
(tests/solution_runs.py): the case's source replaces the solution cell, the test cell runs,
and the real solution is restored.
"""

from __future__ import annotations

import pytest

from grader.course import exercises
from tests.notebook_kernel import error_text, selected_chapters
from tests.solution_runs import load_mutants


@pytest.mark.slow
@pytest.mark.parametrize("chapter", selected_chapters())
def test_mistakes_fail_and_alternatives_pass(chapter, solution_runs):
    mutants = load_mutants(chapter)
    names = [name for name, _ in exercises(chapter) if name not in mutants.scored]
    assert set(mutants.wrong) == set(names), (
        f"every exercise needs plausible mistakes; have {sorted(mutants.wrong)}"
    )
    assert set(mutants.right) == set(names), (
        f"every exercise needs a correct alternative; have {sorted(mutants.right)}"
    )

    run = solution_runs[chapter]
    raised = [
        error_text(cell) for cell in run.notebook.cells if cell.cell_type == "code" and error_text(cell)
    ]
    assert not raised, f"the solution itself fails, so its cases say nothing: {raised[0]}"
    assert len(run.outcomes) == len(mutants.cases()), "some cases did not report (kernel died?)"
    problems = [
        f"{kind} {exercise}: {description!r} -> {outcome}"
        for (kind, exercise, description), outcome in run.outcomes.items()
        if (kind == "WRONG") == (outcome == "passed")
    ]
    assert not problems, "test cells misjudge these answers:\n" + "\n".join(problems)
