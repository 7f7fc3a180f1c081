"""Release assignments to students, and export the repository students get.

* :func:`release` generates the student version of a chapter (``course/``) with nbgrader and
  puts it in the nbgrader exchange, from where students fetch it (Assignment List, or
  ``nbgrader fetch_assignment``);
* :func:`export_student_repository` writes a copy of the repository for students: the student
  notebooks, the helper package, the data manifest and shipped data, the environment and
  set-up script, a student README and Makefile. No solutions, no tests (they hold solutions),
  no grader, no history.

>>> export_student_repository(REPO, Path("/tmp/cnn-course-students"))  # doctest: +SKIP
"""

from __future__ import annotations

import shutil
from pathlib import Path

from grader.course import chapters, generate, nbgrader
from grader.paths import CoursePaths

# What students get, relative to the repository root (folders are copied whole).
STUDENT_FILES = (
    "course",
    "cvcourse",
    "data/README.md",
    "data/manifest.json",
    "data/backbone",
    "scripts/setup.sh",
    "environment.yml",
    "pyproject.toml",
    "requirements.lock",
    ".gitignore",
    "assignments/nbgrader_config.py",
)

# The students' nbgrader_config.py: the course id and exchange are the instructor's to give (their
# JupyterHub, or ~/.jupyter/nbgrader_config.py); this keeps fetched assignments out of git's way.
STUDENT_NBGRADER_CONFIG = """\
# nbgrader for students. Your instructor's settings (course id, exchange) come from JupyterHub or
# ~/.jupyter/nbgrader_config.py; this file only puts fetched assignments in assignments/ (git-ignored).
from pathlib import Path

c = get_config()  # noqa: F821 (provided by traitlets when it loads this file)
c.Exchange.assignment_dir = str(Path(__file__).resolve().parent / "assignments")
"""

STUDENT_MAKEFILE = """\
# Shortcuts for the course; `make help` lists them.
BIN := $(CURDIR)/.venv/bin
export PATH := $(BIN):$(PATH)

.PHONY: help setup lab fetch validate

help:           ## list the targets
\t@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*##/\\t/'

setup:          ## set everything up (venv, pinned packages, Jupyter kernel, Debian data package)
\tbash scripts/setup.sh

lab:            ## open the course in JupyterLab
\t$(BIN)/jupyter lab --notebook-dir=. --LabApp.default_url=/lab/tree/course \\
\t    --KernelSpecManager.allowed_kernelspecs=cnn-course

fetch:          ## download and cache the optional data sets (needs a network once)
\t$(BIN)/cvcourse-fetch all

validate:       ## the visible tests of a chapter, before you submit: make validate CHAPTER=ch01_visual_cortex
\t$(BIN)/nbgrader validate course/$(CHAPTER)/$(CHAPTER).ipynb
"""

STUDENT_README = """\
# Deep computer vision with convolutional networks

Jupyter notebooks that teach convolutional networks for vision, with exercises you can check
yourself before you hand them in. Everything runs offline on a laptop CPU.

## Set up (once)

    make setup        # Python 3.11 virtual environment with the pinned packages, Jupyter kernel
    make lab          # open the course in JupyterLab

On Debian or Ubuntu run `make setup` with sudo rights once to install the Fashion-MNIST data
package; elsewhere, run `make fetch` once with a network.

## Chapters

{chapters}

## Working on an exercise

Each chapter is one notebook in `course/`. Write your code where it says `# YOUR CODE HERE`,
run the test cell under it: it prints what is wrong in words, or that the visible tests pass.
The last cell of each notebook ("Check your work") runs every visible test again. Hidden tests
run when your notebook is graded, so make your code correct, not only the visible examples.

Before you hand in, run `make validate CHAPTER=<chapter>` and hand in the notebook file as
your instructor asks (JupyterLab's Assignments tab, or the file itself).
"""


def release(root: Path, assignment: str) -> Path:
    """Generate ``course/<assignment>`` from the solutions and release it to the nbgrader exchange."""
    student_notebook = generate(Path(root), assignment)
    CoursePaths(Path(root)).exchange.mkdir(parents=True, exist_ok=True)  # as the course config says
    nbgrader(Path(root), "release_assignment", assignment, "--force")
    return student_notebook


def export_student_repository(root: Path, destination: Path) -> list[str]:
    """Write the students' copy of the repository at ``root`` to ``destination`` (must not exist)."""
    root, destination = Path(root), Path(destination)
    if destination.exists():
        raise FileExistsError(f"{destination} exists: choose a new folder")
    copied = []
    for relative in STUDENT_FILES:
        source = root / relative
        if not source.exists():
            continue
        target = destination / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(
                source, target, ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints")
            )
        else:
            shutil.copy2(source, target)
        copied.append(relative)
    listed = "\n".join(
        f"- `course/{name}/{name}.ipynb`"
        for name in chapters(root)
        if (CoursePaths(root).release / name).is_dir()
    )
    (destination / "README.md").write_text(STUDENT_README.format(chapters=listed))
    (destination / "Makefile").write_text(STUDENT_MAKEFILE)
    (destination / "nbgrader_config.py").write_text(STUDENT_NBGRADER_CONFIG)
    return [*copied, "README.md", "Makefile", "nbgrader_config.py"]
