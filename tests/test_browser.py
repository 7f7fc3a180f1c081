"""The course in a real browser, as a student, an instructor and a lecturer meet it (README).

A JupyterLab server on a scratch copy of the course (``tests/browser.py``: 127.0.0.1, a token,
stopped after) and Debian's Chromium driven by Playwright. Every step is named, leaves a screenshot
in ``test-artifacts/browser/<test>/`` and, when it fails, says which step it was. Nothing the
browser loads may come from outside this machine: the course runs offline.
"""

from __future__ import annotations

import re
import shutil

import nbformat
import pytest

from grader.course import REPO, exercises, make_scratch_course, solution_path
from grader.paths import CoursePaths
from grader.presentation import COURSE_KERNEL
from tests.browser import Steps, chromium, jupyterlab
from tests.notebook_kernel import cell_by_grade_id

pytestmark = pytest.mark.slow  # a JupyterLab server and a browser: minutes

CHAPTER = "ch01_visual_cortex"  # the quickest chapter, with figures and the kernel explorer widget
NOTEBOOK = f"{CHAPTER}/{CHAPTER}.ipynb"
STEP_TIMEOUT_MS = 90_000  # one click's answer; CI's machine runs up to 2.5 times slower than this one
RUN_TIMEOUT_MS = 300_000  # a whole chapter, or nbgrader validating or grading it


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A course root with every chapter's solutions and the student notebooks, as the repository has."""
    root = make_scratch_course(tmp_path_factory.mktemp("browser") / "course")
    shutil.copytree(CoursePaths(REPO).release, CoursePaths(root).release)
    return root


@pytest.fixture(scope="module")
def lab(course):
    with jupyterlab(course) as server:
        yield server


@pytest.fixture(scope="module")
def browser():
    with chromium() as context:
        context.set_default_timeout(STEP_TIMEOUT_MS)
        yield context


@pytest.fixture
def page(browser, request):
    """A new tab; after the test, no request of it went anywhere but this machine."""
    outside = []
    tab = browser.new_page()
    tab.on("request", lambda r: None if r.url.startswith(("http://127.0.0.1", "data:", "blob:"))
           else outside.append(r.url))
    yield tab
    tab.close()
    assert not outside, f"{request.node.name}: the browser fetched from outside this machine: {outside[:5]}"


def open_menu_item(page, menu: str, item: str) -> None:
    page.click(f".lm-MenuBar-item:has-text('{menu}')")
    page.click(f".lm-Menu-item:has-text('{item}')")


def open_notebook(page, lab, path: str) -> None:
    """Open ``path`` alone in JupyterLab (``reset``: no tab of an earlier test) and wait until its
    kernel is idle."""
    page.goto(lab.url(f"lab/tree/{path}?reset"))
    page.wait_for_selector(".jp-Notebook .jp-Cell >> visible=true")
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle'] >> visible=true")


def validate(page) -> str:
    """Click the notebook's Validate button (nbgrader) and return what its dialog says."""
    page.locator(".jp-NotebookPanel-toolbar :text-is('Validate') >> visible=true").click()  # this tab's
    dialog = page.locator(".jp-Dialog")
    dialog.wait_for(timeout=RUN_TIMEOUT_MS)
    text = dialog.inner_text()
    page.click(".jp-Dialog button:has-text('OK'), .jp-Dialog .jp-mod-accept")
    return text


def test_the_course_opens_with_its_chapters_its_kernel_and_the_nbgrader_menu(page, lab):
    steps = Steps("course_opens", page)
    with steps("JupyterLab opens on course/ with the 11 chapters"):
        page.goto(lab.url("lab/tree/course?reset"))
        page.wait_for_selector(".jp-DirListing-itemName")
        listed = page.locator(".jp-DirListing-itemName").all_inner_texts()
        assert listed == sorted(p.name for p in CoursePaths(REPO).release.iterdir() if p.is_dir())
        assert len(listed) == 11, listed
    with steps("the menu bar has nbgrader's menu"):
        assert "Nbgrader" in page.locator(".lm-MenuBar-itemLabel").all_inner_texts()
        page.click(".lm-MenuBar-item:has-text('Nbgrader')")
        items = " ".join(page.locator(".lm-Menu-item").all_inner_texts())
        assert "Assignment List" in items and "Formgrader" in items, items
        page.keyboard.press("Escape")
    with steps("the Launcher offers the course's kernel only"):
        cards = page.locator(".jp-Launcher-section:has-text('Notebook') .jp-LauncherCard-label")
        assert cards.all_inner_texts() == [COURSE_KERNEL["display_name"]]
    with steps("no pop-up asks to go online"):
        assert page.locator(".jp-toast-container :text('news')").count() == 0


def test_a_student_notebook_runs_all_to_its_last_cell_with_figures_a_widget_and_validate(page, lab, course):
    steps = Steps("student_notebook", page)
    path = CoursePaths(course).release / NOTEBOOK
    code_cells = sum(cell.cell_type == "code" for cell in nbformat.read(path, as_version=4).cells)
    with steps("the notebook opens on the course kernel, not marked modified"):
        open_notebook(page, lab, f"course/{NOTEBOOK}")
        page.wait_for_timeout(2000)  # JupyterLab marks a notebook modified, if at all, right after opening
        kernel = page.locator(".jp-NotebookPanel-toolbar .jp-Toolbar-kernelName").first.inner_text()
        assert kernel == COURSE_KERNEL["display_name"], kernel
        assert page.locator(".lm-TabBar-tab.jp-mod-current.jp-mod-dirty").count() == 0, "marked modified"
    with steps("Run All goes past the exercises to the last cell"):
        open_menu_item(page, "Run", "Run All Cells")
        page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='busy']")
        page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=RUN_TIMEOUT_MS)
        last_prompt = page.locator(".jp-CodeCell .jp-InputPrompt").last
        last_prompt.scroll_into_view_if_needed()
        assert last_prompt.inner_text().strip() == f"[{code_cells}]:", "Run All stopped before the last cell"
    with steps("the figures are rendered as PNG images"):
        page.keyboard.press("Control+s")
        page.wait_for_selector(".lm-TabBar-tab.jp-mod-current:not(.jp-mod-dirty)")
        saved = nbformat.read(path, as_version=4)
        outputs = [output for cell in saved.cells if cell.cell_type == "code" for output in cell.outputs]
        figures = [output for output in outputs if "image/png" in output.get("data", {})]
        assert len(figures) >= 5, f"{len(figures)} PNG figures in the run notebook"
        assert page.locator(".jp-RenderedImage img[src^='data:image/png']").count() >= 1
    with steps("the kernel explorer answers a selection"):
        dropdown = page.locator(".widget-dropdown select").first
        dropdown.scroll_into_view_if_needed()
        picture = page.locator(".jupyter-widgets img").first
        before = picture.get_attribute("src")
        chosen = dropdown.locator("option").nth(3).get_attribute("value")
        dropdown.select_option(chosen)
        page.wait_for_function("([img, old]) => img.src !== old", arg=[picture.element_handle(), before])
    with steps("Validate says which test fails"):
        said = validate(page)
        assert "failed" in said and "dense_vs_conv_weights" in said, said[:500]


def test_a_chapter_goes_from_release_to_an_autograded_score_through_the_ui(page, lab, course):
    steps = Steps("formgrader_round_trip", page)
    formgrader = page.frame_locator("iframe").first
    row = formgrader.locator(f"#main-table tr:has(td.name[data-order='{CHAPTER}'])")

    def confirm(what: str) -> None:
        """Wait for the Formgrader's dialog after ``what``; it must say it succeeded."""
        dialog = formgrader.locator(".modal-dialog").first
        dialog.wait_for(timeout=RUN_TIMEOUT_MS)
        text = dialog.inner_text()
        assert "Success" in text, f"{what}: {text[:500]}"
        formgrader.locator(".modal-footer button").last.click()
        dialog.wait_for(state="hidden")

    with steps("the Formgrader lists every chapter"):
        page.goto(lab.url("lab/tree/course?reset"))
        open_menu_item(page, "Nbgrader", "Formgrader")
        names = formgrader.locator("#main-table td.name")
        names.first.wait_for()
        chapters = sorted(path.parent.name for path in CoursePaths(course).source.glob("*/*.ipynb"))
        assert sorted(names.all_inner_texts()) == chapters and len(chapters) == 11
    with steps("the instructor generates and releases chapter 1"):
        row.locator("td.assign a").click()
        confirm("generate")
        row.locator("td.release a").click()
        confirm("release")
        assert row.locator("td.status").inner_text() == "released"
    fetched = CoursePaths(course).assignments / NOTEBOOK
    with steps("the student fetches it into assignments/"):
        open_menu_item(page, "Nbgrader", "Assignment List")
        page.click(f"#released_assignments_list .list_item:has-text('{CHAPTER}') button:has-text('Fetch')")
        page.locator("#fetched_assignments_list button:has-text('Submit')").wait_for()
        assert fetched.is_file(), f"not fetched to {fetched}"
    with steps("the student's answers pass Validate"):
        nb = nbformat.read(fetched, as_version=4)
        solved = nbformat.read(solution_path(CHAPTER, course), as_version=4)
        for cell in nb.cells:  # what the student types into each answer cell
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if cell.metadata.get("nbgrader", {}).get("solution"):
                cell.source = cell_by_grade_id(solved, grade_id).source
        nbformat.write(nb, fetched)
        open_notebook(page, lab, f"assignments/{NOTEBOOK}")
        said = validate(page)
        assert "Success" in said and "passes all the tests" in said, said[:500]
    with steps("the student submits"):
        open_menu_item(page, "Nbgrader", "Assignment List")
        page.click(f"#fetched_assignments_list .list_item:has-text('{CHAPTER}') button:has-text('Submit')")
        page.locator(f"#submitted_assignments_list .list_item:has-text('{CHAPTER}')").first.wait_for()
    with steps("the instructor collects the submission"):
        open_menu_item(page, "Nbgrader", "Formgrader")
        row.locator("td.collect a").click()
        confirm("collect")
        assert row.locator("td.num-submissions").inner_text().strip() == "1"
    points = sum(points for _, points in exercises(CHAPTER, course))
    with steps(f"autograding gives the submission {points} / {points}"):
        row.locator("td.num-submissions a").click()
        submission = formgrader.locator("#main-table tr").first
        submission.locator("td.autograde a").click()
        confirm("autograde")
        score = submission.locator("td.score")
        score.wait_for()
        shown = re.sub(r"\s+", " ", score.inner_text()).strip()
        assert shown == f"{points:g} / {points:g}", shown


def test_a_chapter_opens_as_a_slide_deck(page, lab):
    steps = Steps("slides", page)
    with steps("jupyterlab-rise opens chapter 1 on its title slide"):
        page.goto(lab.url(f"rise/course/{NOTEBOOK}"))
        current = page.locator(".reveal .slides section.present").last
        current.wait_for()
        title = current.inner_text().lower()  # the theme writes headings in capitals
        assert title.startswith("chapter 1"), title[:200]
    with steps("the next slide is the first section"):
        page.keyboard.press("ArrowRight")
        shown = "() => [...document.querySelectorAll('.reveal .slides section.present')].pop().innerText"
        page.wait_for_function(f"{shown}.startsWith('1.')")
    with steps("no test code is on a slide"):
        assert "visible_test" not in page.locator(".reveal .slides").inner_text()
