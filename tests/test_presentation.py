"""How the generated notebooks open, run and present (grader/presentation.py), and a failed check's
short message (cvcourse.checks.CheckFailed)."""

from __future__ import annotations

import nbformat
import pytest
from IPython.core.interactiveshell import InteractiveShell

from cvcourse import checks
from grader.course import REPO, chapters, solution_path, student_path
from grader.presentation import (
    COURSE_KERNEL,
    LANGUAGE_INFO,
    RUN_ON_TAG,
    SETUP_TAG,
    SLIDE_THEME,
    is_exercise_cell,
    is_test_cell,
    slide_types,
)
from grader.publish import WEB
from grader.release import STUDENT_MAKEFILE


def notebook(*cells):
    return nbformat.v4.new_notebook(cells=list(cells))


def test_sections_are_slides_demos_sub_slides_and_tests_skipped():
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    test = code("assert f() == 1", metadata={"nbgrader": {"grade": True, "solution": False}})
    answer = code("def f(): ...", metadata={"nbgrader": {"grade": False, "solution": True}})
    nb = notebook(
        md("# Chapter"),
        md("Intro."),
        md("## 1. A section"),
        code("demo()"),
        md("What the demo shows."),  # text after a demo: a new sub-slide
        md("### Exercise 1"),
        answer,
        test,
        md("More text."),  # after a skipped test: the answer cell before it counts
        md("  ## 2. Indented heading"),
    )
    assert slide_types(nb) == [
        "slide",
        "-",
        "slide",
        "-",
        "subslide",
        "subslide",
        "-",
        "skip",
        "subslide",
        "slide",
    ]


@pytest.mark.parametrize("chapter", chapters())
def test_student_notebooks_carry_what_generation_adds(chapter):
    nb = nbformat.read(student_path(chapter), as_version=4)
    assert nb.metadata.kernelspec == COURSE_KERNEL
    assert nb.metadata.language_info == LANGUAGE_INFO
    assert nb.metadata.get("rise") == {"theme": SLIDE_THEME}, "run `make course`"
    kinds = [cell.metadata.get("slideshow", {}).get("slide_type") for cell in nb.cells]
    assert kinds == slide_types(nb), "course/ is older than grader/presentation.py: run `make course`"
    sections = [c for c in nb.cells if c.cell_type == "markdown" and c.source.lstrip().startswith("## ")]
    assert kinds.count("slide") == len(sections) + 1  # the title and one per section
    for cell, kind in zip(nb.cells, kinds, strict=True):
        tags = cell.metadata.get("tags", [])
        assert (RUN_ON_TAG in tags) == is_exercise_cell(cell), cell.source[:80]
        assert (kind == "skip") == is_test_cell(cell), cell.source[:80]
        if SETUP_TAG in tags and cell.cell_type == "code":
            assert cell.metadata.jupyter.source_hidden is True


@pytest.mark.parametrize("chapter", chapters())
def test_instructor_notebooks_open_on_the_course_kernel(chapter):
    nb = nbformat.read(solution_path(chapter), as_version=4)
    assert nb.metadata.kernelspec == COURSE_KERNEL
    assert nb.metadata.language_info == LANGUAGE_INFO


def test_set_up_registers_the_kernel_the_notebooks_name_and_lab_offers_no_other():
    setup = (REPO / "scripts" / "setup.sh").read_text()
    assert f'--name {COURSE_KERNEL["name"]} --display-name "{COURSE_KERNEL["display_name"]}"' in setup
    only_it = f"--KernelSpecManager.allowed_kernelspecs={COURSE_KERNEL['name']}"
    assert only_it in (REPO / "Makefile").read_text()
    assert only_it in STUDENT_MAKEFILE


def test_a_failed_check_shows_its_message_not_a_traceback(capsys):
    shell = InteractiveShell.instance()
    try:
        shell.run_cell(
            "from cvcourse import checks\n"
            "@checks.visible_test('double')\n"
            "def _():\n"
            "    checks.expect_equal(2 + 2, 5, 'double(2)')\n"
        )
        shown = capsys.readouterr().out
        assert "double: double(2): expected 5, got 4." in shown
        assert "Traceback" not in shown and "checks.py" not in shown
        assert len(shown.strip().splitlines()) == 2
        checks.show_traceback()  # the whole traceback, on demand
        assert "checks.py" in capsys.readouterr().err
    finally:
        InteractiveShell.clear_instance()


def test_the_decks_theme_fetches_nothing():
    theme = (WEB / "node_modules" / "reveal.js" / "dist" / "theme" / f"{SLIDE_THEME}.css").read_text()
    imports = [line for line in theme.splitlines() if "@import" in line]
    assert imports and not [line for line in imports if "//" in line], imports  # its fonts are local files
    simple = (WEB / "node_modules" / "reveal.js" / "dist" / "theme" / "simple.css").read_text()
    assert "fonts.googleapis.com" in simple  # what the check above would catch
