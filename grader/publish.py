"""Chapters to read and present without Jupyter: a static site (``make html``) and slide decks
(``make slides``), written by nbconvert from notebooks executed here, offline.

``make html`` writes, under ``site/`` (git-ignored):

  index.html                          the chapters, with links to everything below
  student/<chapter>.html              the student notebook, run: what a student reads before the work
  instructor/<chapter>.html           the instructor notebook with its solutions, run (not for students)
  slides/<chapter>.slides.html        the instructor notebook as a reveal.js deck (test cells left out)
  _static/                            MathJax, reveal.js, require.js and jQuery: nothing is loaded
                                      from the network

``make slides`` writes only the decks. The slides follow the metadata that generating the course
adds (:mod:`grader.presentation`): a slide per section, sub-slides for sub-sections and demos,
set-up code hidden. A lecturer opens ``site/slides/<chapter>.slides.html`` in a browser (arrow
keys; ``s`` for the speaker view).

>>> publish(Path("site"), ["ch01_visual_cortex"], pages=True)                   # doctest: +SKIP
"""

from __future__ import annotations

import html
import os
import shutil
import tempfile
from pathlib import Path
from unittest import mock

import nbformat
from nbconvert import HTMLExporter, SlidesExporter
from traitlets.config import Config

from grader.course import REPO, execute_notebook, solution_path, student_path
from grader.presentation import SETUP_TAG, SLIDE_THEME, present
from grader.sandbox import GRADING_ENVIRONMENT

TEMPLATES = Path(__file__).with_name("templates")  # the lab and reveal templates, with no CDN in them
WEB = Path(__file__).with_name("web")  # package.json: reveal.js & co., installed by `make setup` (npm)
MATHJAX_CONFIG = "TeX-AMS-MML_HTMLorMML-full,Safe"

# what _static/ holds: (its name there, where it comes from)
NODE_ASSETS = (
    ("reveal.js/dist", WEB / "node_modules" / "reveal.js" / "dist"),
    ("reveal.js/plugin", WEB / "node_modules" / "reveal.js" / "plugin"),
    ("require.js", WEB / "node_modules" / "requirejs" / "require.js"),
    ("jquery.min.js", WEB / "node_modules" / "jquery" / "dist" / "jquery.min.js"),
)


def mathjax_folder() -> Path:
    """MathJax 2.7, as the PyPI package jupyter-server-mathjax ships it."""
    import jupyter_server_mathjax

    return Path(jupyter_server_mathjax.__file__).parent / "static"


def copy_assets(static: Path) -> None:
    """Put MathJax, reveal.js, require.js and jQuery in ``static``."""
    targets = [("mathjax", mathjax_folder()), *NODE_ASSETS]
    missing = [str(source) for _, source in targets if not source.exists()]
    if missing:
        raise RuntimeError(
            f"missing {', '.join(missing)}: run `make setup` (slides need Node.js's npm for reveal.js: "
            f"npm ci --prefix {WEB.relative_to(REPO)})"
        )
    for name, source in targets:
        target = static / name
        if target.exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            shutil.copy2(source, target)


def executed(path: Path) -> nbformat.NotebookNode:
    """The notebook at ``path`` run in a copy of its folder (what it writes stays out of the course),
    without progress bars, as graded (a static page would keep a half-drawn bar).
    Exercise cells of a student notebook may fail (tagged raises-exception); any other error raises."""
    quiet = mock.patch.dict(os.environ, GRADING_ENVIRONMENT)
    with tempfile.TemporaryDirectory(prefix="publish-") as scratch, quiet:
        work = Path(scratch) / path.parent.name
        shutil.copytree(path.parent, work)
        nb = nbformat.read(work / path.name, as_version=4)
        execute_notebook(nb, work)
    return nb


def _for_reading(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of ``nb`` laid out as the course presents it, without widget state (a static page
    cannot run widgets: their text form shows) and with the set-up cells' code hidden."""
    nb = present(nbformat.from_dict(nb), run_on=False)
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        if SETUP_TAG in cell.metadata.get("tags", []):
            cell.metadata.setdefault("tags", []).append("remove_input")
    return nb


def _exporter(kind: type, static: str):
    options = {
        "template_name": f"course_{'reveal' if kind is SlidesExporter else 'lab'}",
        "extra_template_basedirs": [str(TEMPLATES)],
        "embed_images": True,
        "mathjax_url": f"{static}/mathjax/MathJax.js?config={MATHJAX_CONFIG}",
        "require_js_url": f"{static}/require.js",
        "jquery_url": f"{static}/jquery.min.js",
    }
    if kind is SlidesExporter:
        options |= {"reveal_url_prefix": f"{static}/reveal.js", "reveal_theme": SLIDE_THEME}
        options["reveal_scroll"] = True  # a long slide scrolls instead of running off the screen
    hide_code = {"TagRemovePreprocessor": {"enabled": True, "remove_input_tags": {"remove_input"}}}
    return kind(config=Config({kind.__name__: options, **hide_code}))


def page(nb: nbformat.NotebookNode, static: str = "../_static") -> str:
    """An executed notebook as one HTML page, its figures inside it, its assets under ``static``."""
    body, _ = _exporter(HTMLExporter, static).from_notebook_node(_for_reading(nb))
    return body


def deck(nb: nbformat.NotebookNode, static: str = "../_static") -> str:
    """An executed notebook as a reveal.js deck, cut as :func:`grader.presentation.slide_types` says."""
    body, _ = _exporter(SlidesExporter, static).from_notebook_node(_for_reading(nb))
    return body


def title(nb: nbformat.NotebookNode) -> str:
    """The notebook's first heading (``# Chapter 1 — ...``), without the ``#``."""
    for cell in nb.cells:
        if cell.cell_type == "markdown" and cell.source.lstrip().startswith("# "):
            return cell.source.lstrip()[2:].splitlines()[0].strip()
    return ""


def write_chapter(
    out: Path, chapter: str, instructor: nbformat.NotebookNode, student: nbformat.NotebookNode | None
) -> list[Path]:
    """Write ``chapter``'s deck, and its two pages when ``student`` is given; the paths written."""
    written = [out / "slides" / f"{chapter}.slides.html"]
    if student is not None:
        written += [out / "instructor" / f"{chapter}.html", out / "student" / f"{chapter}.html"]
    texts = [deck(instructor)] + ([page(instructor), page(student)] if student is not None else [])
    for path, text in zip(written, texts, strict=True):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return written


def write_index(out: Path, titles: dict[str, str]) -> Path:
    """``out/index.html``: each chapter with the pages and deck that exist for it."""
    rows = []
    for chapter, name in titles.items():
        links = [
            f'<a href="{folder}/{chapter}{suffix}">{label}</a>'
            for folder, suffix, label in (
                ("student", ".html", "read (student version)"),
                ("instructor", ".html", "with solutions"),
                ("slides", ".slides.html", "slides"),
            )
            if (out / folder / f"{chapter}{suffix}").is_file()
        ]
        rows.append(f"<li><strong>{html.escape(name or chapter)}</strong><br>{' · '.join(links)}</li>")
    path = out / "index.html"
    path.write_text(
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        "<title>Deep computer vision with convolutional networks</title>"
        "<style>body{font:16px/1.5 sans-serif;max-width:48em;margin:2em auto;padding:0 1em}"
        "li{margin:.8em 0}</style></head><body>\n"
        "<h1>Deep computer vision with convolutional networks</h1>\n"
        "<p>Every chapter run on a CPU, offline, with its outputs. The student version stops at each "
        "exercise; the pages with solutions and the slides are for instructors.</p>\n"
        f"<ol>\n{chr(10).join(rows)}\n</ol>\n</body></html>\n",
        encoding="utf-8",
    )
    return path


def publish(
    out: Path, chapters: list[str], pages: bool = True, root: Path = REPO, progress=print
) -> list[Path]:
    """Execute each chapter of course ``root`` (its instructor notebook, and with ``pages`` its
    student notebook) and write its deck (and pages) under ``out``, then the index; the paths written."""
    out = Path(out)
    copy_assets(out / "_static")
    written, titles = [], {}
    for chapter in chapters:
        progress(f"running {chapter} ...")
        instructor = executed(solution_path(chapter, root))
        student = executed(student_path(chapter, root)) if pages else None
        written += write_chapter(out, chapter, instructor, student)
        titles[chapter] = title(instructor)
    return [*written, write_index(out, titles)]
