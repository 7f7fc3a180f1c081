"""Grade a chapter's mutants through the real grader (trusted, sandboxed) and list every misjudgement.

``tests/test_mutants.py`` runs each mutant against its test cell inside one kernel; this script
submits them as a class and grades it as an instructor would (``grader.classroom.grade_class``),
so the test cells meet the student's code through the trusted channel, as they do when grading.
Exercises named in one ``--groups`` entry share submissions (one case of each per submission), so
a group must not hold an exercise that uses another of the group (ch03's ``invariance_fraction``
calls ``max_pool2d``): a case would meet another exercise's mistake. An exercise left out of a
submission keeps the solution's answer, and ``--skip`` replaces the named exercises (a long
training) by ``raise NotImplementedError`` everywhere to keep the class fast.

    sudo .venv/bin/python scripts/grade_mutants.py ch05_resnet34 --skip build_small_resnet \\
        --groups ResidualUnit,BottleneckUnit build_resnet34

Prints one line per case that the grader misjudges (a WRONG answer that scores, a RIGHT one that
loses points) and exits 1 if there is any.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from itertools import zip_longest
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from grader import classroom  # noqa: E402
from grader.course import generate, make_scratch_course, solution_path, submit  # noqa: E402
from tests.notebook_kernel import cell_by_grade_id  # noqa: E402
from tests.solution_runs import load_mutants  # noqa: E402

NOT_WRITTEN = "raise NotImplementedError()"


def _skipped(source: str) -> str:
    """The solution cell with its definition's body replaced by ``raise NotImplementedError()``."""
    match = re.search(r"^(def|class) \w+[^\n]*:\n", source, flags=re.M)
    return source[: match.end()] + f"    {NOT_WRITTEN}\n" if match else NOT_WRITTEN


def submissions(chapter: str, groups: list[list[str]], skip: list[str]) -> dict[str, tuple[dict, dict]]:
    """{student: ({exercise: source}, {exercise: (kind, description)})}: the solution with some of its
    answers replaced; one submission per case of the largest exercise of each group."""
    mutants = load_mutants(chapter)
    cases = [case for case in mutants.cases() if case.exercise not in skip]
    plan: dict[str, tuple[dict, dict]] = {"solution": ({}, {})}
    exercises = list(dict.fromkeys(case.exercise for case in cases))
    grouped = [[e for e in group if e in exercises] for group in groups]
    grouped += [[e] for e in exercises if not any(e in group for group in grouped)]
    for number, group in enumerate(g for g in grouped if g):
        per_exercise = [[c for c in cases if c.exercise == exercise] for exercise in group]
        for index, row in enumerate(zip_longest(*per_exercise)):
            answers = {case.exercise: case.source for case in row if case is not None}
            kinds = {case.exercise: (case.kind, case.description) for case in row if case is not None}
            plan[f"g{number}-{index:02d}"] = (answers, kinds)
    return plan


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("chapter")
    parser.add_argument(
        "--groups", nargs="*", default=[], help="comma-separated exercises that share submissions"
    )
    parser.add_argument(
        "--skip", default="", help="comma-separated exercises left undone in every submission"
    )
    parser.add_argument("--jobs", type=int, default=2)
    options = parser.parse_args()
    chapter, skip = options.chapter, [e for e in options.skip.split(",") if e]
    groups = [g.split(",") for g in options.groups]
    root = make_scratch_course(Path(tempfile.mkdtemp(prefix="mutants-")) / chapter, [chapter])
    generate(root, chapter)
    plan = submissions(chapter, groups, skip)
    for student, (answers, _) in plan.items():
        nb = nbformat.read(solution_path(chapter), as_version=4)
        for exercise in skip:
            cell = cell_by_grade_id(nb, exercise)
            cell.source = _skipped(cell.source)
        for exercise, source in answers.items():
            cell_by_grade_id(nb, exercise).source = source
        submit(root, student, chapter, nb)
    print(f"grading {len(plan)} submissions of {chapter} in {root}", flush=True)
    outcomes = {o.student: o for o in classroom.grade_class(root, chapter, jobs=options.jobs, progress=True)}
    solution = outcomes["solution"].cells
    problems = [
        f"solution: {cell} {got[0]}/{got[1]} {got[2][:200]}"
        for cell, got in solution.items()
        if got[0] != got[1] and cell.removeprefix("test_") not in skip
    ]
    for student, (_, kinds) in plan.items():
        for exercise, (kind, description) in kinds.items():
            score, max_score, error = outcomes[student].cells.get(
                f"test_{exercise}", (0.0, 0.0, "not graded")
            )
            if (kind == "WRONG") == (score == max_score):
                problems.append(f"{kind} {exercise}: {description!r} -> {score}/{max_score} {error[:200]}")
    print("\n".join(problems) or f"every case of {chapter} graded as its kind says")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
