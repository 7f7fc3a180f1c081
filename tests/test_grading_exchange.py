"""The nbgrader exchange path of the grading tool: release, a student fetches and submits, collect."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from grader.__main__ import main as grader_cli
from grader.course import REPO, make_scratch_course, nbgrader_environment
from grader.release import export_student_repository

pytestmark = pytest.mark.slow
CHAPTER = "ch01_visual_cortex"


def student_runs(*args: str, cwd: Path, exchange: Path) -> None:
    """``nbgrader ARGS`` as a student would, in their own folder, with the course's exchange."""
    command = [
        str(Path(sys.executable).parent / "nbgrader"),
        *args,
        "--course=cnn-vision",
        f"--Exchange.root={exchange}",
    ]
    result = subprocess.run(command, cwd=cwd, env=nbgrader_environment(), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_release_fetch_submit_collect(tmp_path):
    root = make_scratch_course(tmp_path / "course", [CHAPTER])
    exchange = root / "grader" / "exchange"
    assert grader_cli(["--root", str(root), "release", CHAPTER]) == 0
    assert (exchange / "cnn-vision" / "outbound" / CHAPTER / f"{CHAPTER}.ipynb").is_file()

    home = tmp_path / "student"  # the students' repository, where a student runs nbgrader
    export_student_repository(REPO, home)
    student_runs("fetch_assignment", CHAPTER, cwd=home, exchange=exchange)
    fetched = home / "assignments" / CHAPTER / f"{CHAPTER}.ipynb"
    assert "raise NotImplementedError()" in fetched.read_text()
    assert not (home / CHAPTER).exists()
    subprocess.run(["git", "init", "-q"], cwd=home, check=True)
    ignored = subprocess.run(["git", "check-ignore", "--", str(fetched), "assignments/nbgrader_config.py"],
                             cwd=home, capture_output=True, text=True).stdout.split()
    assert ignored == [str(fetched)], "a fetched assignment is git-ignored, the folder's configuration is not"
    student_runs("submit", CHAPTER, cwd=home, exchange=exchange)

    assert grader_cli(["--root", str(root), "collect", CHAPTER]) == 0
    submitted = list((root / "grader" / "submitted").glob(f"*/{CHAPTER}/{CHAPTER}.ipynb"))
    assert len(submitted) == 1 and submitted[0].read_bytes() == fetched.read_bytes()
    assert (submitted[0].parent / "timestamp.txt").is_file()
