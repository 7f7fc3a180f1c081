"""Grade one synthetic class with plain sequential ``nbgrader autograde``, then with the course's tool.

The class: ``--students`` students (default 8) x chapters 1-3 = 24 submissions of mixed quality,
drawn with a fixed seed: solved, blank, a random subset of exercises answered, or a random subset
answered with one exercise broken (a syntax error). The same files go to a scratch course per way:

  * sequential: ``nbgrader autograde CHAPTER --create --force`` per chapter (one process grades
    every submission of the chapter, one after the other: what nbgrader alone does);
  * slots here: ``python -m grader grade CHAPTER CHAPTER CHAPTER`` (grader.classroom.grade_run on
    one pool: the submissions in parallel on ``--jobs`` slots, each one sandboxed and merged into the
    gradebook; its kernels forked warm from each slot's zygote, grader/zygote.py, started once for
    the three chapters);
  * the same with ``--cold-kernels``: each kernel starts afresh and imports TensorFlow itself;
  * each ``--scheduler`` (default ``local:1`` and ``local:2``): the same on a Dask cluster of that
    many single-threaded workers, started by ``grade`` once for the three chapters.

Prints, per way, the wall time (median of ``--repeats`` runs), submissions per minute, the speed-up
over sequential nbgrader, and the overhead per submission: the slot-seconds of the run not spent
grading, ``(slots x wall - sum of the submissions' seconds in their slots) / submissions`` (for a
cluster this holds its start, its scheduling and the transfer of each submission
and its results; the start is timed on its own too). Every way must export identical scores. Goal:
``grade`` 2.5x faster than sequential nbgrader on 2 cores.

    .venv/bin/python bench/bench_grading.py [--students 8] [--jobs 2] [--repeats 3] [--scheduler local:2 ...]
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

from grader import classroom, cluster, sandbox  # noqa: E402
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


def grade_with_tool(
    root: Path, jobs: int, scheduler: str | None, warm: bool = True
) -> tuple[float, list[float]]:
    """(wall time of the class, seconds each submission took in its slot): every chapter on the same
    slots, as ``grade ch01_visual_cortex ch02_convolutional_layers ch03_pooling_layers`` does."""
    start, seconds = time.perf_counter(), []
    pool = classroom.open_pool(jobs, scheduler=scheduler, warm_kernels=warm)
    try:
        for chapter in CHAPTERS:
            run = classroom.grade_run(root, chapter, progress=False, pool=pool)
            seconds += [o.seconds for o in run.outcomes]
    finally:
        pool.close()
    return time.perf_counter() - start, seconds


MERGES: list[float] = []  # seconds each merge into the gradebook took (the one writer's cost)


def _timed_merge(merge):
    def timed(*args, **kwargs):
        start = time.perf_counter()
        try:
            return merge(*args, **kwargs)
        finally:
            MERGES.append(time.perf_counter() - start)

    return timed


classroom.merge = _timed_merge(classroom.merge)


def cluster_start(scheduler: str) -> float:
    """Seconds to start the cluster ``local:N``, check its workers and stop it again."""
    start = time.perf_counter()
    cluster.ClusterPool(scheduler, sandbox.Limits(), sandboxed=True).close()
    return time.perf_counter() - start


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
        "--jobs", type=int, default=len(os.sched_getaffinity(0)), help="parallel slots of the tool here"
    )
    parser.add_argument("--repeats", type=int, default=3, help="runs of each way (median reported)")
    parser.add_argument(
        "--scheduler",
        action="append",
        help="a Dask cluster to grade on as well, local:N or an address (default: local:1 and local:2)",
    )
    args = parser.parse_args(argv)
    schedulers = args.scheduler or ["local:1", "local:2"]
    problem = sandbox.check()
    if problem:
        print(f"cannot run the tool's sandbox here: {problem}", file=sys.stderr)
        return 2
    print(
        f"machine: {platform.node()}, {len(os.sched_getaffinity(0))} cores, "
        f"Python {platform.python_version()}"
    )
    ways = {"sequential nbgrader autograde": None, f"grade, {args.jobs} slots here": ("", args.jobs, True)}
    ways[f"grade --cold-kernels, {args.jobs} slots"] = ("", args.jobs, False)
    ways |= {f"grade --scheduler {s}": (s, _workers(s, args.jobs), True) for s in schedulers}
    walls = {way: [] for way in ways}
    spent = {way: [] for way in ways}  # slot-seconds not spent grading, per submission
    identical, in_slot = [], []
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        scratch = Path(tmp)
        template = make_scratch_course(scratch / "template", CHAPTERS)
        submissions = synthetic_class({c: generate(template, c) for c in CHAPTERS}, args.students)
        count = len(submissions)
        print(f"class: {count} submissions ({args.students} students x {len(CHAPTERS)} chapters)\n")
        for attempt in range(args.repeats):
            expected = None
            for number, (way, tool) in enumerate(ways.items()):
                root = course_with(scratch, f"run{attempt}-{number}", submissions)
                if tool is None:
                    wall, seconds = grade_sequentially(root), []
                else:
                    wall, seconds = grade_with_tool(root, tool[1], tool[0] or None, tool[2])
                    spent[way].append((tool[1] * wall - sum(seconds)) / count)
                    in_slot += seconds
                walls[way].append(wall)
                got = scores(root)
                expected = expected or got
                identical.append(got == expected)
                print(
                    f"run {attempt + 1}: {way}: {wall:.1f} s, scores identical: {got == expected}", flush=True
                )
        starts = {s: statistics.median(cluster_start(s) for _ in range(args.repeats)) for s in schedulers}
        points = scores(root)
    sequential = statistics.median(walls["sequential nbgrader autograde"])
    print(f"\n{'way':<34} {'time':>8} {'per min':>8} {'speed-up':>9} {'overhead':>13}")
    for way, times in walls.items():
        wall = statistics.median(times)
        overhead = f"{statistics.median(spent[way]):.1f} s/subm." if spent[way] else ""
        print(f"{way:<34} {wall:>6.1f} s {count / wall * 60:>8.1f} {sequential / wall:>8.2f}x {overhead:>13}")
    print(f"(medians of {args.repeats} runs; speed-up over sequential nbgrader; goal 2.5x)")
    for scheduler, seconds in starts.items():
        print(f"starting and stopping {scheduler}: {seconds:.1f} s (once per run)")
    print(f"one submission in its slot: {statistics.median(in_slot):.1f} s (median, every way and run)")
    merge = statistics.median(MERGES)
    print(
        f"merging one submission into the gradebook: {merge:.2f} s (median; this process alone writes it: "
        f"at most {60 / merge:.0f} submissions a minute, however many workers)"
    )
    print(f"every score identical in every run: {all(identical)}")
    print(
        f"scores: mean {statistics.mean(points.values()):.2f}, "
        f"{sum(1 for v in points.values() if v == 0)} zero, distinct values {len(set(points.values()))}"
    )
    return 0 if all(identical) else 1


def _workers(scheduler: str, jobs: int) -> int:
    """How many slots a cluster has: N for local:N; for a running cluster, as many as here."""
    return int(scheduler.partition(":")[2]) if scheduler.startswith("local:") else jobs


if __name__ == "__main__":
    sys.exit(main())
