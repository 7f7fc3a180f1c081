"""Time every chapter on this machine: running the solution notebook, and autograding one submission.

Prints, per chapter, the median of N runs (default 3) of
  * run:   executing the solution notebook top to bottom with nbclient (kernel start included),
  * grade: ``nbgrader autograde`` of one submission (the solved notebook) in a scratch course,
           nbgrader's own start-up included,
next to the chapter's budget, and the whole course's total against CURRICULUM.md's 20 minutes.

    .venv/bin/python bench/bench_chapters.py [--repeats 3] [CHAPTER ...]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from grader.course import (  # noqa: E402
    autograde,
    budget_seconds,
    chapters,
    execute_notebook,
    generate,
    make_scratch_course,
    solution_path,
    submit,
)

COURSE_BUDGET_SECONDS = 20 * 60


def time_solution_run(chapter: str, scratch: Path) -> float:
    work = scratch / f"run-{chapter}"
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(solution_path(chapter).parent, work)
    nb = nbformat.read(work / f"{chapter}.ipynb", as_version=4)
    return execute_notebook(nb, work)


def time_autograde(chapter: str, root: Path, attempt: int) -> float:
    student = f"bench{attempt}"
    submit(root, student, chapter, nbformat.read(solution_path(chapter), as_version=4))
    start = time.perf_counter()
    autograde(root, chapter, student=student)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("chapters", nargs="*", help="chapters to time (default: all)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per measurement (median reported)")
    args = parser.parse_args(argv)
    selected = args.chapters or chapters()

    print(f"machine: {platform.node()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"medians of {args.repeats} runs, seconds\n")
    print(f"{'chapter':<30} {'run':>7} {'grade':>7} {'budget':>7}  verdict")
    total_run = 0.0
    over = []
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        scratch = Path(tmp)
        root = make_scratch_course(scratch / "course", selected)
        for chapter in selected:
            generate(root, chapter)
            runs = [time_solution_run(chapter, scratch) for _ in range(args.repeats)]
            grades = [time_autograde(chapter, root, i) for i in range(args.repeats)]
            run, grade, budget = statistics.median(runs), statistics.median(grades), budget_seconds(chapter)
            total_run += run
            verdict = "within budget" if max(run, grade) <= budget else "OVER BUDGET"
            if max(run, grade) > budget:
                over.append(chapter)
            print(f"{chapter:<30} {run:7.1f} {grade:7.1f} {budget:7.0f}  {verdict}", flush=True)
    print(f"\nwhole course (solution runs): {total_run:.1f} s of the {COURSE_BUDGET_SECONDS} s budget")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
