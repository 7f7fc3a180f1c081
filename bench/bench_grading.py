"""Grade one synthetic class twice: plain sequential ``nbgrader autograde``, then the course's tool.

The class: ``--students`` students (default 8) x chapters 1-3 = 24 submissions of mixed quality,
drawn with a fixed seed: solved, blank, a random subset of exercises answered, or a random subset
answered with one exercise broken (a syntax error). The same files go to two scratch courses:

  * sequential: ``nbgrader autograde CHAPTER --create --force`` per chapter (one process grades
    every submission of the chapter, one after the other: what nbgrader alone does);
  * tool:       ``python -m grader grade CHAPTER`` per chapter (grader.classroom.grade_class: the
    submissions in parallel on ``--jobs`` slots, each one sandboxed and merged into the gradebook).

Prints both wall times (medians of ``--repeats`` runs), the ratio, and whether every exported
score is identical. Goal: a speed-up within 10% of 1.83x on 2 cores (what the tool reached before
its test cells moved to a process of their own), identical scores; the median time one submission
takes in its slot is printed too, to compare across versions.

    .venv/bin/python bench/bench_grading.py [--students 8] [--jobs 2] [--repeats 1]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from grader import classroom, sandbox  # noqa: E402
from grader.course import (  # noqa: E402
    autograde,
    exercises,
    export_grades,
    generate,
    make_scratch_course,
    solution_path,
    submit,
)

CHAPTERS = ["ch01_visual_cortex", "ch02_convolutional_layers", "ch03_pooling_layers"]


def answer_cells(nb) -> dict[str, nbformat.NotebookNode]:
    return {
        c.metadata.nbgrader.grade_id: c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")
    }


def synthetic_class(student_nbs: dict[str, Path], n_students: int, seed: int = 0):
    """{(chapter, student): notebook}: solved, blank, partly answered, partly answered and broken."""
    rng = random.Random(seed)
    submissions = {}
    for chapter in CHAPTERS:
        solution = answer_cells(nbformat.read(solution_path(chapter), as_version=4))
        names = [name for name, _ in exercises(chapter)]
        for i in range(n_students):
            nb = nbformat.read(student_nbs[chapter], as_version=4)
            kind = (
                ["solved", "blank", "partial", "broken"][i % 4]
                if i < 4
                else rng.choice(["partial", "broken"])
            )
            if kind in ("solved", "blank"):
                answered = names if kind == "solved" else []
            else:
                answered = rng.sample(names, rng.randint(1, len(names)))
            cells = answer_cells(nb)
            for name in answered:
                cells[name].source = solution[name].source
            if kind == "broken":
                cells[rng.choice(names)].source = "def oops(:\n    pass\n"
            submissions[(chapter, f"student{i:02d}")] = nb
    return submissions


def scores(root: Path) -> dict[tuple[str, str], float]:
    return {(r["assignment"], r["student_id"]): float(r["score"]) for r in export_grades(root)}


def grade_sequentially(root: Path) -> float:
    start = time.perf_counter()
    for chapter in CHAPTERS:
        autograde(root, chapter)
    return time.perf_counter() - start


def grade_with_tool(root: Path, jobs: int) -> tuple[float, float]:
    """(wall time of the class, median seconds one submission took in its slot)."""
    start, seconds = time.perf_counter(), []
    for chapter in CHAPTERS:
        seconds += [o.seconds for o in classroom.grade_class(root, chapter, jobs=jobs, progress=False)]
    return time.perf_counter() - start, statistics.median(seconds)


def course_with(scratch: Path, name: str, submissions) -> Path:
    root = make_scratch_course(scratch / name, CHAPTERS)
    for chapter in CHAPTERS:
        generate(root, chapter)
    for (chapter, student), nb in submissions.items():
        submit(root, student, chapter, nb)
    return root


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--students", type=int, default=8, help="students per chapter (default 8: 24 submissions)"
    )
    parser.add_argument(
        "--jobs", type=int, default=len(os.sched_getaffinity(0)), help="parallel slots of the tool"
    )
    parser.add_argument("--repeats", type=int, default=1, help="runs of each way (median reported)")
    args = parser.parse_args(argv)
    problem = sandbox.check()
    if problem:
        print(f"cannot run the tool's sandbox here: {problem}", file=sys.stderr)
        return 2
    print(
        f"machine: {platform.node()}, {len(os.sched_getaffinity(0))} cores, "
        f"Python {platform.python_version()}"
    )
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        scratch = Path(tmp)
        template = make_scratch_course(scratch / "template", CHAPTERS)
        submissions = synthetic_class({c: generate(template, c) for c in CHAPTERS}, args.students)
        print(
            f"class: {len(submissions)} submissions ({args.students} students x {len(CHAPTERS)} chapters)\n"
        )
        sequential, tool, identical, each = [], [], [], []
        for attempt in range(args.repeats):
            plain = course_with(scratch, f"plain{attempt}", submissions)
            sequential.append(grade_sequentially(plain))
            graded = course_with(scratch, f"tool{attempt}", submissions)
            wall, one = grade_with_tool(graded, args.jobs)
            tool.append(wall)
            each.append(one)
            identical.append(scores(plain) == scores(graded))
            print(
                f"run {attempt + 1}: sequential {sequential[-1]:.1f} s, tool {tool[-1]:.1f} s "
                f"(one submission {one:.1f} s), scores identical: {identical[-1]}",
                flush=True,
            )
        seq, par = statistics.median(sequential), statistics.median(tool)
        print(f"\nsequential nbgrader autograde: {seq:7.1f} s  (median of {args.repeats})")
        print(f"grader tool, {args.jobs} slots:      {par:7.1f} s  (sandboxed)")
        print(f"one submission in its slot:   {statistics.median(each):7.1f} s  (median, class and runs)")
        print(f"speed-up: {seq / par:.2f}x   (goal: within 10% of 1.83x, the figure before trusted grading)")
        print(f"every score identical in every run: {all(identical)}")
        points = scores(plain)
        print(
            f"scores: mean {statistics.mean(points.values()):.2f}, "
            f"{sum(1 for v in points.values() if v == 0)} zero, distinct values {len(set(points.values()))}"
        )
    return 0 if all(identical) else 1


if __name__ == "__main__":
    sys.exit(main())
