"""``python -m grader``'s answer to bad input: one line on stderr, a non-zero status, nothing changed.

Each case runs the command line on a scratch course and compares every file of the course before
and after (README, What the grader promises: bad input to every command changes nothing).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from grader.__main__ import main
from grader.classroom import gradebook_url
from grader.course import make_scratch_course

CHAPTER = "ch01_visual_cortex"


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def course(tmp_path):
    root = make_scratch_course(tmp_path / "course", [CHAPTER])
    (tmp_path / "empty").mkdir()
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "alice.ipynb").write_text("this is not a notebook")
    with zipfile.ZipFile(tmp_path / "empty.zip", "w"):
        pass
    return root


def released(root: Path) -> Path:
    """Put the chapter in the gradebook, as ``grader release`` does (without generating it)."""
    with Gradebook(gradebook_url(root)) as gb:
        gb.add_assignment(CHAPTER)
    return root


def submitted(root: Path, student: str) -> Path:
    folder = root / "grader" / "submitted" / student / CHAPTER
    folder.mkdir(parents=True)
    return root


@pytest.mark.parametrize(
    "arguments, prepare, message",
    [
        (["grade", "ch99_nothing"], None, "unknown chapter(s): ch99_nothing"),
        (["feedback", "ch01"], None, "unknown chapter(s): ch01; known: ch01_visual_cortex"),
        (["grade", CHAPTER, "--unsafe-no-sandbox"], None, "release it first"),
        (["grade", CHAPTER, "--unsafe-no-sandbox"], released, "collect them first"),
        (["grade", CHAPTER, "--unsafe-no-sandbox", "--students", "../alice"], released, "from: ../alice"),
        (
            ["grade", CHAPTER, "--unsafe-no-sandbox"],
            lambda root: submitted(released(root), "a*"),
            "not a usable student id",
        ),
        (["collect", CHAPTER, "--from", "{tmp}/empty"], None, "holds no notebook"),
        (["collect", CHAPTER, "--from", "{tmp}/empty.zip"], None, "holds no notebook"),
        (["collect", CHAPTER, "--from", "{tmp}/missing"], None, "expected a folder or a .zip"),
        (["collect", CHAPTER, "--from", "{tmp}/junk"], None, "'alice.ipynb' is not a notebook (not JSON"),
        (["feedback", CHAPTER], None, "is graded yet"),
        (["export", "--to", "{tmp}/no/such/folder/grades.csv"], None, "does not exist"),
        (["student-repo", "{tmp}/course"], None, "exists: choose a new folder"),
    ],
)
def test_bad_input_is_one_line_and_changes_nothing(course, capsys, arguments, prepare, message):
    if prepare:
        prepare(course)
    before = snapshot(course)
    arguments = [a.format(tmp=course.parent) for a in arguments]
    status = main(["--root", str(course), *arguments])
    err = capsys.readouterr().err
    assert status in (1, 2)
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert message in err
    assert snapshot(course) == before


@pytest.mark.parametrize(
    "option", ["--jobs=0", "--jobs=-2", "--cell-timeout=0", "--memory-gib=-1", "--jobs=x"]
)
def test_numbers_out_of_range_are_refused_by_the_parser(course, capsys, option):
    with pytest.raises(SystemExit) as stopped:
        main(["--root", str(course), "grade", CHAPTER, option])
    assert stopped.value.code == 2
    assert option.split("=")[1] in capsys.readouterr().err
