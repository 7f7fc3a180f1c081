"""A real grading round trip over every chapter with exact expected scores (README, For instructors).

What an instructor runs, with the course's command line (``python -m grader``): release each
chapter, collect a class's hand-in (a solved, a blank, a half-solved and a broken notebook per
chapter; a zip for some chapters, a folder for the others), grade every chapter in one command, in
parallel (sandboxed where the sandbox can run), generate feedback, export the CSV.
"""

from __future__ import annotations

import csv
import math
import zipfile

import nbformat
import pytest

from grader import sandbox
from grader.__main__ import main as grader_cli
from grader.course import budget_seconds, exercises, make_scratch_course, solution_path, student_path
from tests.notebook_kernel import cell_by_grade_id, selected_chapters

pytestmark = pytest.mark.slow


def with_answers(chapter, student_nb, names, broken=()):
    """The student notebook with the instructor's answer for ``names`` and a syntax error in ``broken``."""
    solution = nbformat.read(solution_path(chapter), as_version=4)
    for name in names:
        cell_by_grade_id(student_nb, name).source = cell_by_grade_id(solution, name).source
    for name in broken:
        cell_by_grade_id(student_nb, name).source = "def oops(:\n    pass\n"
    return student_nb


def class_of(chapter, student_nb_path):
    """Submissions and their exact expected scores.

    Chapters that train a network in a graded cell (a 180 s budget) get a solved and a blank
    submission only: each further one would cost minutes of training for no new coverage.
    """
    points = dict(exercises(chapter))
    names = list(points)
    half = names[: math.ceil(len(names) / 2)]

    def fresh():
        return nbformat.read(student_nb_path, as_version=4)

    submissions = {
        "solved": (nbformat.read(solution_path(chapter), as_version=4), sum(points.values())),
        "blank": (fresh(), 0),
    }
    if budget_seconds(chapter) <= 60:
        submissions["half"] = (with_answers(chapter, fresh(), half), sum(points[n] for n in half))
        submissions["broken"] = (
            with_answers(chapter, fresh(), names[1:], broken=names[:1]),
            sum(points.values()) - points[names[0]],
        )
    return submissions


def hand_in(folder, submissions, as_zip):
    """The class's notebooks as files named by student, in a folder or a zip."""
    folder.mkdir(parents=True)
    for student, (notebook, _) in submissions.items():
        nbformat.write(notebook, folder / f"{student}.ipynb")
    if not as_zip:
        return folder
    archive = folder.with_suffix(".zip")
    with zipfile.ZipFile(archive, "w") as handle:
        for path in folder.iterdir():
            handle.write(path, f"hand-in/{path.name}")
    return archive


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    root = make_scratch_course(tmp_path_factory.mktemp("roundtrip"))
    cli = ["--root", str(root)]
    unsafe = ["--unsafe-no-sandbox"] if sandbox.check() else []  # the grading logic, where bwrap can't run
    expected = {}
    for number, chapter in enumerate(selected_chapters()):
        assert grader_cli([*cli, "release", chapter]) == 0
        submissions = class_of(chapter, student_path(chapter, root))
        expected |= {(chapter, student): float(score) for student, (_, score) in submissions.items()}
        source = hand_in(root / "hand-in" / chapter, submissions, as_zip=number % 2 == 1)
        assert grader_cli([*cli, "collect", chapter, "--from", str(source)]) == 0
    # every chapter in one command, on the same two slots (their kernels start warm once)
    assert grader_cli([*cli, "grade", *selected_chapters(), "--jobs", "2", "--no-progress", *unsafe]) == 0
    for chapter in selected_chapters():
        assert grader_cli([*cli, "feedback", chapter]) == 0
    assert grader_cli([*cli, "export"]) == 0
    with (root / "grader" / "grades.csv").open(newline="") as handle:
        return root, expected, list(csv.DictReader(handle))


def test_exported_scores_are_exactly_the_expected_ones(graded_class):
    _, expected, rows = graded_class
    got = {(row["assignment"], row["student_id"]): float(row["score"]) for row in rows}
    assert {key: got.get(key) for key in expected} == expected
    # nbgrader exports every student for every assignment: one that was not submitted scores 0.
    assert {key: score for key, score in got.items() if key not in expected} == dict.fromkeys(
        set(got) - set(expected), 0.0
    )


def test_max_scores_match_the_notebooks(graded_class):
    _, _, rows = graded_class
    for row in rows:
        total = sum(points for _, points in exercises(row["assignment"]))
        assert float(row["max_score"]) == total


def test_every_submission_gets_feedback_with_its_score(graded_class):
    root, expected, _ = graded_class
    for (chapter, student), score in expected.items():
        page = root / "grader" / "feedback" / student / chapter / f"{chapter}.html"
        assert page.is_file(), f"no feedback for {student}/{chapter}"
        total = float(sum(points for _, points in exercises(chapter)))
        assert f"Score: {score:.1f} / {total:.1f}" in page.read_text()


def test_the_grading_report_has_every_submission_graded_normally(graded_class):
    root, expected, _ = graded_class
    with (root / "grader" / "grading_report.csv").open(newline="") as handle:
        rows = {(row["assignment"], row["student"]): row for row in csv.DictReader(handle)}
    assert set(rows) == set(expected)
    assert {key: float(row["score"]) for key, row in rows.items()} == expected
    assert [key for key, row in rows.items() if row["reason"]] == []
