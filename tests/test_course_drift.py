"""course/ is exactly what nbgrader generates from solutions/, with no solutions in it.

CONTRIBUTING.md: course/ is generated, never edited by hand.
"""

from __future__ import annotations

import nbformat
import pytest

from grader.course import REPO, chapters, generate, make_scratch_course, solution_path, student_path
from tests.notebook_kernel import nbgrader_meta, selected_chapters

LEAK_MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory):
    root = make_scratch_course(tmp_path_factory.mktemp("drift"))
    return {chapter: generate(root, chapter) for chapter in selected_chapters()}


@pytest.mark.slow
@pytest.mark.parametrize("chapter", selected_chapters())
def test_course_equals_generated(chapter, regenerated):
    committed = student_path(chapter).read_text()
    fresh = regenerated[chapter].read_text()
    assert committed == fresh, f"course/{chapter} differs from solutions/: run `make course` and commit"


def released_form(solution_source: str) -> list[str]:
    """What nbgrader makes of a solution cell: each answer between the markers becomes the stub."""
    released = []
    inside = False
    for line in solution_source.splitlines():
        if line.strip() == "### BEGIN SOLUTION":
            indent = line[: len(line) - len(line.lstrip())]
            released += [f"{indent}# YOUR CODE HERE", f"{indent}raise NotImplementedError()"]
            inside = True
        elif line.strip() == "### END SOLUTION":
            inside = False
        elif not inside:
            released.append(line)
    return released


@pytest.mark.parametrize("chapter", selected_chapters())
def test_student_notebook_has_no_solutions(chapter):
    text = student_path(chapter).read_text()
    for marker in LEAK_MARKERS:
        assert marker not in text, f"{marker!r} in course/{chapter}"
    student = nbformat.read(student_path(chapter), as_version=4)
    solution = nbformat.read(solution_path(chapter), as_version=4)
    student_cells = {nbgrader_meta(c).get("grade_id"): c for c in student.cells if nbgrader_meta(c)}
    for cell in solution.cells:
        meta = nbgrader_meta(cell)
        if meta.get("solution"):
            released = student_cells[meta["grade_id"]].source.splitlines()
            assert released == released_form(cell.source), (
                f"{chapter}/{meta['grade_id']}: the student cell is not the solution cell with its answer "
                "replaced by the stub"
            )


def test_course_has_every_chapter_and_nothing_else():
    released = sorted(p.name for p in (REPO / "course").iterdir() if p.is_dir())
    assert released == chapters()
