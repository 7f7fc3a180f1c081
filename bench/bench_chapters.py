"""Time every chapter on this machine: running the solution notebook, and autograding one submission.

Prints, per chapter, the median of N runs (default 3) of
  * run:   executing the solution notebook top to bottom with nbclient (kernel start included),
  * grade: ``nbgrader autograde`` of one submission (the solved notebook) in a scratch course,
           nbgrader's own start-up included,
next to the chapter's budget, and the whole course's total against the course's budget of 20 minutes;
then every graded metric the solution runs reached (the lines ``checks.accuracy_points`` prints
in the test cells of accuracy targets), the median of the N runs, its target and margin; and each
chapter's longest silent stretch: the longest time a cell ran without printing anything (a training
shows its progress bar, as for a student), which should stay under 20 s.

    .venv/bin/python bench/bench_chapters.py [--repeats 3] [CHAPTER ...]
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

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
SILENCE_LIMIT_SECONDS = 20  # no cell runs longer than this without output
# what checks.accuracy_points prints: "test accuracy 0.9151 >= target 0.91: ..."
# or "test accuracy 0.8800 is below the target 0.91 ..."
METRIC_LINE = re.compile(
    r"^(?P<what>.+?) (?P<value>-?\d+\.\d+) (?:>= target|is below the target) (?P<target>\d+(?:\.\d+)?)",
    re.MULTILINE,
)
# a test cell comparing models prints "test accuracy: scratch 0.4250, frozen base 0.5140, fine-tuned 0.6800"
COMPARISON_LINE = re.compile(r"^test accuracy: (?P<pairs>(?:[\w -]+ \d\.\d+(?:, )?)+)$", re.MULTILINE)


def graded_metrics(nb: nbformat.NotebookNode) -> dict[str, tuple[float, float]]:
    """{metric: (value, target)} from the outputs of the executed notebook's test cells."""
    found = {}
    for cell in nb.cells:
        if not cell.get("metadata", {}).get("nbgrader", {}).get("grade"):
            continue
        text = "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("name") == "stdout")
        for match in METRIC_LINE.finditer(text):
            name = f"{cell.metadata.nbgrader.grade_id[5:]}: {match['what']}"
            found[name] = (float(match["value"]), float(match["target"]))
        for match in COMPARISON_LINE.finditer(text):
            for pair in match["pairs"].split(", "):
                model, value = pair.rsplit(" ", 1)
                name = f"{cell.metadata.nbgrader.grade_id[5:]}: {model} test accuracy"
                found.setdefault(name, (float(value), float("nan")))  # no target: reported for comparison
    return found


class WatchedClient(NotebookClient):
    """nbclient's client, noting when each code cell starts, writes an output and ends, to find the
    longest time a cell ran silent: the class attribute :attr:`longest_silence` (seconds, cell
    index), so take a fresh subclass per run (:func:`run_solution`)."""

    longest_silence = (0.0, -1)

    async def async_execute_cell(self, cell, cell_index, *args, **kwargs):
        self._marks = [time.perf_counter()]
        try:
            return await super().async_execute_cell(cell, cell_index, *args, **kwargs)
        finally:
            marks = [*self._marks, time.perf_counter()]
            gap = max(after - before for before, after in zip(marks, marks[1:], strict=False))
            type(self).longest_silence = max(type(self).longest_silence, (gap, cell_index))

    def output(self, outs, msg, display_id, cell_index):
        self._marks.append(time.perf_counter())
        return super().output(outs, msg, display_id, cell_index)


def run_solution(chapter: str, scratch: Path) -> tuple[float, dict, tuple[float, int]]:
    """Seconds to execute the solution notebook, the graded metrics it reached, and its longest silent
    stretch (seconds, cell index)."""
    work = scratch / f"run-{chapter}"
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(solution_path(chapter).parent, work)
    nb = nbformat.read(work / f"{chapter}.ipynb", as_version=4)
    watched = type("WatchedRun", (WatchedClient,), {})
    seconds = execute_notebook(nb, work, client_class=watched)
    return seconds, graded_metrics(nb), watched.longest_silence


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
    metrics: dict[str, list[tuple[float, float]]] = {}
    silences: dict[str, tuple[float, int]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        scratch = Path(tmp)
        root = make_scratch_course(scratch / "course", selected)
        for chapter in selected:
            generate(root, chapter)
            results = [run_solution(chapter, scratch) for _ in range(args.repeats)]
            runs = [seconds for seconds, _, _ in results]
            silences[chapter] = max(silence for _, _, silence in results)
            for _, found, _ in results:
                for name, value in found.items():
                    metrics.setdefault(f"{chapter} {name}", []).append(value)
            grades = [time_autograde(chapter, root, i) for i in range(args.repeats)]
            run, grade, budget = statistics.median(runs), statistics.median(grades), budget_seconds(chapter)
            total_run += run
            verdict = "within budget" if max(run, grade) <= budget else "OVER BUDGET"
            if max(run, grade) > budget:
                over.append(chapter)
            print(f"{chapter:<30} {run:7.1f} {grade:7.1f} {budget:7.0f}  {verdict}", flush=True)
    print(f"\nwhole course (solution runs): {total_run:.1f} s of the {COURSE_BUDGET_SECONDS} s budget")
    limit = SILENCE_LIMIT_SECONDS
    print(f"\nlongest silent stretch of a cell (worst of {args.repeats} runs, at most {limit} s)")
    for chapter, (seconds, cell) in silences.items():
        verdict = "ok" if seconds <= limit else "TOO LONG WITHOUT OUTPUT"
        print(f"  {chapter:<30} {seconds:6.1f} s  (cell {cell})  {verdict}")
    if metrics:
        print(
            f"\ngraded metrics of the solutions (median of {args.repeats} runs; "
            "'runs agree' = the same value every time)"
        )
        for name, values in metrics.items():
            reached = [value for value, _ in values]
            median, target = statistics.median(reached), values[0][1]
            spread = f"runs differ: {min(reached):.4f}-{max(reached):.4f}"
            agree = "runs agree" if len(set(reached)) == 1 else spread
            goal = f"target {target:g}  margin {median - target:+.4f}" if target == target else "(compared)"
            print(f"  {name:<58} {median:.4f}  {goal}  {agree}")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
