"""``make html`` and ``make slides`` (grader/publish.py): every chapter as pages and a deck that
show its figures, load nothing from the network and never show a test cell's code.

The notebooks are the slow tier's own executions (tests/solution_runs.py), rendered here.
"""

from __future__ import annotations

import re

import pytest

from grader import publish
from grader.course import REPO, solution_path, student_path
from grader.presentation import is_test_cell, slide_types
from tests.notebook_kernel import selected_chapters

pytestmark = pytest.mark.slow

# an attribute or import that makes the browser fetch something from another host
FETCHES = re.compile(r"""(?:src|<link[^>]*href)\s*=\s*["'](?:https?:)?//|import\s[^;]*from\s*["']https?:""")


def figures(nb) -> int:
    return sum(
        "image/png" in output.get("data", {}) for cell in nb.cells for output in cell.get("outputs", [])
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory, solution_runs, student_runs, monkeypatch_module):
    """The site of every selected chapter, from this session's executions."""
    runs = {solution_path(c): solution_runs[c].notebook for c in selected_chapters()}
    runs |= {student_path(c): student_runs[c].notebook for c in selected_chapters()}
    monkeypatch_module.setattr(publish, "executed", lambda path: runs[path])
    out = tmp_path_factory.mktemp("site")
    written = publish.publish(out, selected_chapters(), progress=lambda _: None)
    return out, written


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def test_the_site_has_every_page_deck_and_asset(site):
    out, written = site
    for chapter in selected_chapters():
        for path in (
            f"student/{chapter}.html",
            f"instructor/{chapter}.html",
            f"slides/{chapter}.slides.html",
        ):
            assert out / path in written
    index = (out / "index.html").read_text()
    assert index.count("<li>") == len(selected_chapters())
    for link in re.findall(r'href="([^"]+)"', index):
        assert (out / link).is_file(), link
    assert (out / "_static" / "mathjax" / "MathJax.js").is_file()
    assert (out / "_static" / "reveal.js" / "dist" / "reveal.js").is_file()
    assert (out / "_static" / "reveal.js" / "plugin" / "notes" / "notes.js").is_file()


@pytest.mark.parametrize("chapter", selected_chapters())
def test_pages_show_the_figures_and_load_nothing_from_the_network(site, chapter, solution_runs, student_runs):
    out, _ = site
    for folder, nb in (
        ("instructor", solution_runs[chapter].notebook),
        ("student", student_runs[chapter].notebook),
    ):
        text = (out / folder / f"{chapter}.html").read_text()
        assert text.count('src="data:image/png;base64,') >= figures(nb), f"{folder}: figures missing"
        assert not FETCHES.findall(text), f"{folder} page fetches {FETCHES.findall(text)[:3]}"
        assert "../_static/mathjax/MathJax.js?config=" in text
        assert publish.title(nb) in text


@pytest.mark.parametrize("chapter", selected_chapters())
def test_the_deck_has_a_slide_per_section_and_no_test_code(site, chapter, solution_runs):
    out, _ = site
    nb = solution_runs[chapter].notebook
    text = (out / "slides" / f"{chapter}.slides.html").read_text()
    assert not FETCHES.findall(text), f"the deck fetches {FETCHES.findall(text)[:3]}"
    assert '"../_static/reveal.js/dist/reveal.js"' in text
    # nbconvert opens each slide and its first sub-slide together: one "<section><section>" a slide
    assert text.count("<section><section>") == slide_types(nb).count("slide")
    assert "BEGIN HIDDEN TESTS" not in text
    if any(is_test_cell(cell) for cell in nb.cells):
        assert "visible_test" not in text  # no test cell's code, visible or hidden


def test_set_up_code_is_hidden_and_its_outputs_kept(solution_runs):
    chapter = selected_chapters()[0]
    nb = publish._for_reading(solution_runs[chapter].notebook)
    setup = [cell for cell in nb.cells if "grading-setup" in cell.metadata.get("tags", [])]
    assert setup and all("remove_input" in cell.metadata.tags for cell in setup)
    assert "widgets" not in nb.metadata


def test_missing_slide_scripts_name_the_command_that_installs_them(tmp_path, monkeypatch):
    monkeypatch.setattr(publish, "NODE_ASSETS", (("reveal.js/dist", tmp_path / "nowhere"),))
    with pytest.raises(RuntimeError, match=r"make setup.*npm ci --prefix grader/web"):
        publish.copy_assets(tmp_path / "static")
    assert REPO.joinpath("grader", "web", "package-lock.json").is_file()
