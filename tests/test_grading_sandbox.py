"""Grading a class in parallel survives hostile and broken submissions (README, For instructors).

One class of chapter 1 is graded by ``grader.classroom.grade_class`` with two parallel slots:
three ordinary submissions (solved, blank, half) and one per attack. Each attack scores
exactly what its own code earns once the attack fails, the ordinary submissions score
exactly what they would alone, nothing on disk outside the submission changes, and the
gradebook exports cleanly.
"""

from __future__ import annotations

import json
import socket
import threading

import nbformat
import pytest

from grader import classroom, sandbox
from grader.course import export_grades, generate, make_scratch_course, nbgrader, solution_path, submit
from tests.notebook_kernel import cell_by_grade_id

pytestmark = pytest.mark.slow  # needs root and bubblewrap (make setup installs it), as CI has

CHAPTER = "ch01_visual_cortex"
FIRST = "dense_vs_conv_weights"  # 2 points; the chapter has 9
CELL_TIMEOUT = 20


def solved():
    return nbformat.read(solution_path(CHAPTER), as_version=4)


def answer(name: str) -> str:
    return cell_by_grade_id(solved(), name).source


def with_first_answer(source: str, base=None):
    """``base`` (the solved notebook) with the first exercise's cell replaced by ``source``."""
    nb = base or solved()
    cell_by_grade_id(nb, FIRST).source = source
    return nb


def attacks(root, blank, port):
    """{student: (notebook or raw text, expected score, what must be true of the reason)}."""
    stolen_paths = [
        root / "grader" / "submitted" / "solved" / CHAPTER / f"{CHAPTER}.ipynb",
        root / "solutions" / CHAPTER / f"{CHAPTER}.ipynb",
    ]
    steal = (
        "import json, glob\n"
        f"paths = {[str(p) for p in stolen_paths]!r}\n"
        "paths += glob.glob('/tmp/cvg-*/*/grader/submitted/*/*/*.ipynb')  # other submissions being graded\n"
        "for path in paths:\n"
        "    try:\n"
        "        cells = json.load(open(path))['cells']\n"
        "    except OSError:\n"
        "        continue\n"
        "    for cell in cells:\n"
        f"        if cell['metadata'].get('nbgrader', {{}}).get('grade_id') == {FIRST!r}:\n"
        "            exec(''.join(cell['source']))\n"
    )
    blank_stealer = nbformat.from_dict(json.loads(json.dumps(blank)))
    cell_by_grade_id(blank_stealer, FIRST).source = steal
    deleted = solved()
    deleted.cells = [
        c for c in deleted.cells if c.metadata.get("nbgrader", {}).get("grade_id") != "test_edge_kernels"
    ]
    return {
        "loops_forever": (with_first_answer("while True:\n    pass\n"), 7.0, ""),
        "memory_bomb": (with_first_answer("hog = bytearray(64 * 2**30)\n" + answer(FIRST)), 7.0, ""),
        "memory_creep": (with_first_answer("hog = []\nwhile True:\n    hog.append(b'x' * 2**28)\n"), None, 0),
        "fork_bomb": (with_first_answer("import os\nwhile True:\n    os.fork()\n"), None, None),
        "deletes_files": (
            with_first_answer(
                "import os, shutil\n"
                f"for path in [{str(root / 'solutions')!r}, {str(root / 'grader')!r}]:\n"
                "    shutil.rmtree(path, ignore_errors=True)\n"
                f"for path in [{str(root / 'canary.txt')!r}, {str(root / 'nbgrader_config.py')!r}]:\n"
                "    try:\n        os.remove(path)\n    except OSError:\n        pass\n" + answer(FIRST)
            ),
            9.0,
            "",
        ),
        "writes_gradebook": (
            with_first_answer(
                "import sqlite3\n"
                f"db = sqlite3.connect({str(root / 'grader' / 'gradebook.db')!r})\n"
                "db.execute('UPDATE grade SET auto_score = 100'); db.commit()\n" + answer(FIRST)
            ),
            7.0,
            "",
        ),
        "steals_answers": (blank_stealer, 0.0, ""),
        # nbgrader writes the graded notebook where the submission's notebook was: make that a
        # link to the gradebook (the kernel works in a copy of that folder, so the link stays there)
        "swaps_in_a_link": (
            with_first_answer(
                "import os\n"
                "try:\n"
                f"    os.remove({CHAPTER + '.ipynb'!r})  # the kernel's copy of the folder has none\n"
                "except OSError:\n"
                "    pass\n"
                f"os.symlink({str(root / 'grader' / 'gradebook.db')!r}, {CHAPTER + '.ipynb'!r})\n"
                + answer(FIRST)
            ),
            9.0,
            "",
        ),
        "opens_socket": (
            with_first_answer(
                "import socket\n"
                f"with socket.create_connection(('127.0.0.1', {port}), timeout=5) as s:\n"
                "    exec(s.makefile().read())\n"
            ),
            7.0,
            "",
        ),
        "kills_kernel": (with_first_answer("import os, signal\nos.kill(os.getpid(), 9)\n"), 0, "died"),
        "deleted_cells": (deleted, 9.0, ""),  # the test cell is the instructor's: restored before grading
        "corrupted_json": ('{"cells": [ {"cell_type": "code", "sour', 0.0, "JSON"),
    }


def serve_answer(source: str) -> int:
    """A TCP server on the host's loopback that hands out ``source``: reachable only with network."""
    server = socket.create_server(("127.0.0.1", 0))

    def run():
        while True:
            connection, _ = server.accept()
            with connection:
                connection.sendall(source.encode())

    threading.Thread(target=run, daemon=True).start()
    return server.getsockname()[1]


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    if sandbox.check():  # never skipped: without the sandbox these tests check nothing
        pytest.fail(f"the grading sandbox cannot run here: {sandbox.check()}")
    root = make_scratch_course(tmp_path_factory.mktemp("hostile"), [CHAPTER])
    (root / "canary.txt").write_text("still here")
    blank = nbformat.read(generate(root, CHAPTER), as_version=4)
    half = nbformat.read(generate(root, CHAPTER), as_version=4)
    cell_by_grade_id(half, "cross_correlate2d").source = answer("cross_correlate2d")
    ordinary = {"solved": (solved(), 9.0, ""), "blank": (blank, 0.0, ""), "half": (half, 5.0, "")}
    cases = {**ordinary, **attacks(root, blank, serve_answer(answer(FIRST)))}
    for student, (notebook, _, _) in cases.items():
        if isinstance(notebook, str):
            path = submit(root, student, CHAPTER, solved())
            path.write_text(notebook)
        else:
            submit(root, student, CHAPTER, notebook)
    before = {p: p.read_bytes() for p in (root / "solutions").rglob("*") if p.is_file()}
    before[root / "canary.txt"] = (root / "canary.txt").read_bytes()
    outcomes = classroom.grade_class(
        root,
        CHAPTER,
        jobs=2,
        cell_timeout=CELL_TIMEOUT,
        submission_timeout=300,
        limits=sandbox.Limits(memory_bytes=6 * 2**30, processes=512),
        progress=False,
    )
    return root, cases, {o.student: o for o in outcomes}, before


def test_every_submission_gets_its_own_score(graded):
    _, cases, outcomes, _ = graded
    expected = {s: score for s, (_, score, _) in cases.items() if score is not None}
    got = {s: outcomes[s].score for s in expected}
    assert got == expected, {s: (outcomes[s].reason, outcomes[s].cells) for s in got if got[s] != expected[s]}


def test_broken_submissions_say_why(graded):
    _, cases, outcomes, _ = graded
    for student, (_, _, why) in cases.items():
        if why:
            assert why in outcomes[student].reason, (student, outcomes[student].reason)
        elif why == "":
            assert outcomes[student].reason == "", (student, outcomes[student])


def test_a_fork_bomb_costs_only_its_own_points(graded):
    """Its cell never ends; its children are killed after it, so the next submission starts clean."""
    _, _, outcomes, _ = graded
    assert outcomes["fork_bomb"].score <= 7.0
    assert outcomes["fork_bomb"].cells.get("test_dense_vs_conv_weights", (0,))[0] == 0


def test_memory_exhaustion_costs_only_its_own_points(graded):
    """At the limit a growing list raises MemoryError in its cell, or the kernel runs out too and dies."""
    _, _, outcomes, _ = graded
    creep = outcomes["memory_creep"]
    assert (creep.score, creep.reason) == (7.0, "") or (creep.score == 0 and "died" in creep.reason), creep


def test_a_deleted_test_cell_is_restored_and_reported(graded):
    _, _, outcomes, _ = graded
    assert outcomes["deleted_cells"].score == 9.0, outcomes["deleted_cells"]
    notes = outcomes["deleted_cells"].repairs
    assert any("test_edge_kernels" in note and "restored" in note for note in notes), notes


def test_a_timed_out_cell_says_so(graded):
    _, _, outcomes, _ = graded
    assert "KeyboardInterrupt" in outcomes["loops_forever"].cells["test_dense_vs_conv_weights"][2]
    assert "MemoryError" in outcomes["memory_bomb"].cells["test_dense_vs_conv_weights"][2]


def test_nothing_outside_the_submission_changed(graded):
    root, _, _, before = graded
    assert {p: p.read_bytes() for p in before if p.exists()} == before


def test_the_gradebook_exports_exactly_the_merged_scores(graded):
    root, cases, outcomes, _ = graded
    rows = {row["student_id"]: float(row["score"]) for row in export_grades(root)}
    assert rows == {s: o.score for s, o in outcomes.items()}
    assert set(rows) == set(cases)


def test_feedback_is_generated_for_every_graded_notebook(graded):
    root, _, outcomes, _ = graded
    nbgrader(root, "generate_feedback", CHAPTER, "--force")
    for student, outcome in outcomes.items():
        page = root / "grader" / "feedback" / student / CHAPTER / f"{CHAPTER}.html"
        assert page.is_file() == (outcome.reason == ""), student
