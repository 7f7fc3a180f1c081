"""Grading a large course (README, Grading a large course): on a Dask cluster, into a PostgreSQL
gradebook, through faults.

One ch01 class (a solved, a blank, a half-solved and a broken notebook) goes through the command
line's round trip into a private PostgreSQL server; it is then graded again on a TLS ``local:2``
cluster, on a cluster that loses a worker in the middle of a submission, by a run interrupted
with Ctrl-C and started again, and by a cluster whose worker has another environment. Every way
must leave the same scores in the gradebook, each submission once.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from distributed import Client
from nbgrader.api import Gradebook

from grader import classroom, cluster
from grader.__main__ import main as grader_cli
from grader.course import REPO, make_scratch_course, student_path
from grader.paths import CoursePaths
from tests.postgres_server import postgres_server
from tests.test_grading_round_trip import class_of, hand_in

CHAPTER = "ch01_visual_cortex"


def test_differences_name_each_thing_that_differs():
    here = {
        "python": "3.11.7",
        "packages": {"numpy": "2.4.6", "keras": "3.15.1"},
        "course": "a",
        "commit": "1",
    }
    there = {"python": "3.11.9", "packages": {"numpy": "2.4.6"}, "course": "b", "commit": "2"}
    assert cluster.differences(here, here) == []
    found = cluster.differences(here, there)
    assert found[:2] == ["Python 3.11.9 (here 3.11.7)", "keras not installed (here 3.15.1)"]
    assert "commit 2 (here 1" in found[2]


def test_a_different_worker_is_refused_by_name_before_anything_is_graded():
    here = cluster.fingerprint()
    other = json.loads(json.dumps(here))
    other["packages"]["numpy"] = "1.26.0"
    numpy = here["packages"]["numpy"]
    cluster.refuse_if_different({"tcp://10.0.0.1:1": here}, here)
    with pytest.raises(cluster.EnvironmentMismatch) as refused:
        cluster.refuse_if_different({"tcp://10.0.0.1:1": here, "tcp://10.0.0.2:1": other}, here)
    assert f"tcp://10.0.0.2:1: numpy 1.26.0 (here {numpy})" in str(refused.value)
    assert "10.0.0.1" not in str(refused.value)


def test_the_fingerprint_holds_every_locked_package():
    locked = [line.partition("==")[0] for line in (REPO / "requirements.lock").read_text().split()]
    assert sorted(cluster.fingerprint()["packages"]) == sorted(locked)
    assert "not installed" not in cluster.fingerprint()["packages"].values()


def test_local_needs_a_number_of_workers():
    with pytest.raises(ValueError, match="local:N needs a number of workers"):
        cluster.ClusterPool("local:0", None, sandboxed=True)


def scores(url: str) -> dict[str, tuple[float, int]]:
    """{student: (score, how many submissions of CHAPTER the gradebook holds for them)}."""
    with Gradebook(url) as gb:
        held = [(s.student_id, s.score) for s in gb.assignment_submissions(CHAPTER)]
    return {student: (score, sum(1 for other, _ in held if other == student)) for student, score in held}


def cell_scores(url: str) -> dict[tuple[str, str], float]:
    """{(student, test cell): score} of CHAPTER in the gradebook."""
    with Gradebook(url) as gb:
        return {
            (s.student_id, grade.name): grade.score
            for s in gb.assignment_submissions(CHAPTER)
            for nb in s.notebooks
            for grade in nb.grades
        }


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """The class, released, collected, graded (2 slots here), fed back and exported with PostgreSQL."""
    with postgres_server() as url, pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("NBGRADER_DB_URL", url)
        root = make_scratch_course(tmp_path_factory.mktemp("cluster") / "course", [CHAPTER])
        cli = ["--root", str(root)]
        assert grader_cli([*cli, "release", CHAPTER]) == 0
        submissions = class_of(CHAPTER, student_path(CHAPTER, root))
        expected = {student: (float(score), 1) for student, (_, score) in submissions.items()}
        assert (
            grader_cli(
                [*cli, "collect", CHAPTER, "--from", str(hand_in(root / "hand-in", submissions, False))]
            )
            == 0
        )
        assert grader_cli([*cli, "grade", CHAPTER, "--jobs", "2", "--no-progress"]) == 0
        assert grader_cli([*cli, "feedback", CHAPTER]) == 0
        assert grader_cli([*cli, "export"]) == 0
        yield root, url, expected


@pytest.mark.slow
def test_the_round_trip_runs_on_postgresql(course):
    root, url, expected = course
    assert scores(url) == expected
    assert not CoursePaths(root).gradebook.exists()  # nothing went to the SQLite default
    with CoursePaths(root).grades.open(newline="") as handle:
        exported = {row["student_id"]: float(row["score"]) for row in csv.DictReader(handle)}
    assert exported == {student: score for student, (score, _) in expected.items()}
    for student, (score, _) in expected.items():
        page = CoursePaths(root).feedback / student / CHAPTER / f"{CHAPTER}.html"
        assert f"Score: {score:.1f} / 9.0" in page.read_text()


@pytest.mark.slow
def test_a_tls_cluster_of_two_gives_each_cell_the_score_of_local_grading(course):
    from distributed.security import Security

    root, url, expected = course
    before = cell_scores(url)  # as the local slots graded them
    run = classroom.grade_run(
        root, CHAPTER, scheduler="local:2", security=Security.temporary(), progress=False, regrade=True
    )
    assert {(o.student, cell): got for o in run.outcomes for cell, (got, _, _) in o.cells.items()} == before
    assert cell_scores(url) == before
    assert (run.kept, run.lost) == ([], {})
    assert scores(url) == expected


@contextlib.contextmanager
def cluster_of_the_command_line(folder, workers: int):
    """A scheduler and ``workers`` workers started with ``dask scheduler``/``dask worker``, as the
    README starts them on lab machines (here on 127.0.0.1); yields a client of the cluster."""
    dask, address = Path(sys.executable).with_name("dask"), folder / "scheduler.json"
    environment = {**os.environ, "DASK_DISTRIBUTED__WORKER__DAEMON": "False", "PYTHONPATH": str(REPO)}
    local = ["--host", "127.0.0.1", "--no-dashboard"]
    started = [
        subprocess.Popen(
            [dask, "scheduler", *local, "--port", "0", "--scheduler-file", address], env=environment
        )
    ]
    try:
        started.append(
            subprocess.Popen(
                [
                    dask,
                    "worker",
                    *local,
                    "--scheduler-file",
                    address,
                    "--nworkers",
                    str(workers),
                    "--nthreads",
                    "1",
                ],
                env=environment,
            )
        )
        deadline = time.monotonic() + 60
        while not address.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        with Client(scheduler_file=str(address), timeout="60s") as client:
            client.wait_for_workers(workers, timeout=120)
            yield client
    finally:
        for process in reversed(started):
            process.terminate()
            process.wait(timeout=60)


@pytest.mark.slow
def test_a_worker_killed_in_the_middle_of_a_submission_loses_nothing(course, tmp_path):
    root, url, expected = course
    run, killed = {}, []
    with cluster_of_the_command_line(tmp_path, 2) as watcher:

        def grade():
            run["run"] = classroom.grade_run(
                root, CHAPTER, scheduler=watcher.scheduler.address, progress=False, regrade=True
            )

        grading = threading.Thread(target=grade)
        grading.start()
        deadline = time.monotonic() + 300
        while not killed and time.monotonic() < deadline:
            busy = [worker for worker, keys in watcher.processing().items() if keys]
            if busy:
                time.sleep(3)  # well inside its submission: the sandbox and the kernel are running
                pid = watcher.run(os.getpid, workers=busy[:1])[busy[0]]
                os.kill(pid, signal.SIGKILL)  # its nanny starts a new worker, which claims a slot again
                killed.append(busy[0])
            time.sleep(0.2)
        grading.join(timeout=600)
    assert killed and not grading.is_alive()
    assert run["run"].lost == {}
    assert sorted(o.student for o in run["run"].outcomes) == sorted(expected)
    assert scores(url) == expected


@pytest.mark.slow
def test_an_interrupted_run_grades_only_the_rest(course):
    root, url, expected = course
    CoursePaths(root).ledger.unlink()  # as if nothing was graded yet
    command = [
        sys.executable,
        "-m",
        "grader",
        "--root",
        str(root),
        "grade",
        CHAPTER,
        "--jobs",
        "1",
        "--no-progress",
    ]
    first = subprocess.Popen(
        command,
        cwd=REPO,
        start_new_session=True,
        # as a terminal runs it: Ctrl-C interrupts (a test run in the background inherits it ignored)
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 300
    while not classroom.ledger(root).get(CHAPTER) and time.monotonic() < deadline:
        time.sleep(0.5)
    os.killpg(first.pid, signal.SIGINT)  # Ctrl-C in the instructor's terminal
    _, error = first.communicate(timeout=120)
    assert first.returncode == 130, error.decode()
    done = sorted(classroom.ledger(root)[CHAPTER])
    assert 1 <= len(done) < len(expected)
    run = classroom.grade_run(root, CHAPTER, jobs=2, progress=False)
    assert sorted(run.kept) == done
    assert sorted(o.student for o in run.outcomes) == sorted(set(expected) - set(done))
    assert scores(url) == expected


@pytest.mark.slow
def test_a_cluster_with_another_environment_grades_nothing(course):
    root, url, expected = course
    report = CoursePaths(root).report.read_text()
    workers = cluster.local_cluster(1)
    try:
        with Client(workers) as client:
            client.run(lambda: cluster.fingerprint()["packages"].update(numpy="1.26.0"))
        numpy = cluster.fingerprint()["packages"]["numpy"]
        with pytest.raises(RuntimeError, match=re.escape(f"numpy 1.26.0 (here {numpy})")):
            classroom.grade_run(
                root, CHAPTER, scheduler=workers.scheduler_address, progress=False, regrade=True
            )
    finally:
        workers.close()
    assert CoursePaths(root).report.read_text() == report
    assert scores(url) == expected


@contextlib.contextmanager
def formgrader(root):
    """A Jupyter server with the Formgrader on ``root`` (127.0.0.1); yields ``api(method, path, body)``."""
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    token = os.urandom(16).hex()
    server = subprocess.Popen(
        [Path(sys.executable).with_name("jupyter-server"), "--ip=127.0.0.1", f"--port={port}", "--allow-root"]
        + [
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={root}",
            "--ServerApp.open_browser=False",
        ],
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def api(method: str, path: str, body=None):
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/formgrader/api/{path}",
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"token {token}"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                api("GET", "status")
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the Jupyter server with the Formgrader did not start") from None
                time.sleep(0.5)
        yield api
    finally:
        server.terminate()
        server.wait(timeout=60)


@pytest.mark.slow
def test_a_ta_comments_in_the_formgrader_on_postgresql(course):
    root, url, expected = course
    with formgrader(root) as api:
        listed = api("GET", f"submissions/{CHAPTER}")
        assert {s["student"]: s["score"] for s in listed} == {s: score for s, (score, _) in expected.items()}
        notebook = next(
            n for n in api("GET", f"submitted_notebooks/{CHAPTER}/{CHAPTER}") if n["student"] == "half"
        )
        comment = api("GET", f"comments?submission_id={notebook['id']}")[0]
        api("PUT", f"comment/{comment['id']}", {"manual_comment": "Good start: now the stride."})
    with Gradebook(url) as gb:
        held = gb.find_submission_notebook(CHAPTER, CHAPTER, "half").comments
        assert "Good start: now the stride." in [c.manual_comment for c in held]
    assert grader_cli(["--root", str(root), "feedback", CHAPTER]) == 0
    page = CoursePaths(root).feedback / "half" / CHAPTER / f"{CHAPTER}.html"
    assert "Good start: now the stride." in page.read_text()
    assert scores(url) == expected
