"""The instructor's tools, without running notebooks: collecting hand-ins, the students' copy of
the repository, the sandbox's command lines, the grading report."""

from __future__ import annotations

import json
import os
import resource
import shutil
import time
import zipfile
from pathlib import Path

import nbformat
import pytest

from grader import classroom, collect, sandbox, slot
from grader.course import REPO, chapters
from grader.release import export_student_repository


def notebook_bytes(text: str = "hello") -> bytes:
    return nbformat.writes(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(text)])).encode()


# ----------------------------------------------------------------------------- collect


def test_collect_from_a_folder_named_by_student(tmp_path):
    hand_in = tmp_path / "hand-in"
    (hand_in / "carol").mkdir(parents=True)
    (hand_in / "alice.ipynb").write_bytes(notebook_bytes("a"))
    (hand_in / "carol" / "whatever-name.ipynb").write_bytes(notebook_bytes("c"))
    (hand_in / "bob.ipynb").symlink_to(REPO / "solutions" / "ch01_visual_cortex" / "ch01_visual_cortex.ipynb")
    placed = collect.from_files(tmp_path / "course", "ch01_visual_cortex", hand_in)
    assert sorted(placed) == ["alice", "carol"]  # a link is not a hand-in: it could point at anything
    target = tmp_path / "course" / "grader" / "submitted" / "carol" / "ch01_visual_cortex"
    assert nbformat.read(target / "ch01_visual_cortex.ipynb", as_version=4).cells[0].source == "c"
    assert (target / "timestamp.txt").read_text().endswith("UTC")


def test_collect_from_a_zip_of_one_folder(tmp_path):
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("ch02 hand-in/alice.ipynb", notebook_bytes("a"))
        handle.writestr("ch02 hand-in/bob.ipynb", notebook_bytes("b"))
        handle.writestr("__MACOSX/ch02 hand-in/._bob.ipynb", b"junk")
    placed = collect.from_files(tmp_path, "ch02_convolutional_layers", archive)
    assert sorted(placed) == ["alice", "bob"]


@pytest.mark.parametrize(
    "members, message",
    [
        ({"../evil.ipynb": notebook_bytes(), "alice.ipynb": notebook_bytes()}, "not a usable student id"),
        ({"alice.ipynb": notebook_bytes(), "alice/second.ipynb": notebook_bytes()}, "two notebooks"),
        ({"ali ce.ipynb": notebook_bytes(), "bob.ipynb": notebook_bytes()}, "not a usable student id"),
        ({"alice.ipynb": notebook_bytes(), "bob.ipynb": b"{'cells': [}"}, "'bob.ipynb' is not a notebook"),
        ({"alice.ipynb": b"", "bob.ipynb": notebook_bytes()}, "an empty file"),
        ({"alice.ipynb": b'{"cells": 3}', "bob.ipynb": notebook_bytes()}, "without a list of cells"),
        ({"alice.txt": b"no notebook here"}, "holds no notebook"),
        ({}, "holds no notebook"),
    ],
)
def test_collect_refuses_ambiguous_or_unsafe_names(tmp_path, members, message):
    archive = tmp_path / "hand-in.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        for name, content in members.items():
            handle.writestr(name, content)
    with pytest.raises(ValueError, match=message):
        collect.from_files(tmp_path / "course", "ch01_visual_cortex", archive)
    assert not (tmp_path / "course" / "grader").exists()  # nothing half-collected
    assert not (tmp_path / "evil.ipynb").exists()


def test_collect_says_what_it_expected(tmp_path):
    (tmp_path / "notes.txt").write_text("not a hand-in")
    with pytest.raises(ValueError, match="folder or a .zip"):
        collect.from_files(tmp_path, "ch01_visual_cortex", tmp_path / "notes.txt")


# ----------------------------------------------------------------------------- students' repository


def test_the_students_repository_holds_no_solutions_and_no_tests(tmp_path):
    written = export_student_repository(REPO, tmp_path / "students")
    out = tmp_path / "students"
    assert {"course", "cvcourse", "README.md", "Makefile", "pyproject.toml", "scripts/setup.sh"} <= set(
        written
    )
    for folder in ("solutions", "tests", "grader", "bench", ".git"):
        assert not (out / folder).exists(), folder
    for chapter in chapters():
        assert (out / "course" / chapter / f"{chapter}.ipynb").is_file()
        assert f"course/{chapter}/{chapter}.ipynb" in (out / "README.md").read_text()
    for path in out.rglob("*"):
        if path.is_file() and path.suffix in {".py", ".ipynb", ".md", ".json", ".sh", ".toml", ".yml"}:
            text = path.read_text()
            assert "BEGIN HIDDEN TESTS" not in text and "BEGIN SOLUTION" not in text, path


def test_the_students_repository_is_written_to_a_new_folder_only(tmp_path):
    with pytest.raises(FileExistsError):
        export_student_repository(REPO, tmp_path)


# ----------------------------------------------------------------------------- sandbox


def test_the_kernel_sees_only_an_allow_list_of_the_file_system(tmp_path):
    work = tmp_path / "cvg-a"
    (work / "0" / "runtime").mkdir(parents=True)
    cwd = work / "0" / "grader" / "autograded" / "x"
    config = sandbox.KernelConfig(
        uid=1_900_000, runtime_dir=str(work / "0" / "runtime"), visible=[str(REPO / "cvcourse")]
    )
    scratch = work / "0" / "kernel-1"
    command = sandbox.kernel_command(config, "k.json", str(cwd), str(scratch))
    joined = " ".join(command)
    assert command[0] == "bwrap" and "--unshare-net" in command
    assert (
        "--ro-bind / /" not in joined
        and "--ro-bind /usr /usr" in joined
        and "--symlink usr/bin /bin" in joined
    )
    assert f"--ro-bind {REPO / 'cvcourse'} {REPO / 'cvcourse'}" in joined
    for hidden in (
        REPO / "solutions",
        REPO / "grader",
        REPO / "tests",
        REPO / ".git",
        Path("/root"),
        Path("/var"),
    ):
        assert f" {hidden} " not in joined + " ", hidden  # never mounted: not there at all
    order = ["--tmpfs /tmp ", f"--dir {work / '0'} ", f"--bind {scratch} {cwd}"]
    assert [joined.index(part) for part in order] == sorted(joined.index(part) for part in order)
    assert f"--perms 0755 --dir {work / '0' / 'grader'} " in joined  # reachable by the kernel's user
    drop = command.index("setpriv")
    assert "--reuid=1900000" in command[drop:] and "--bounding-set=-all" in command[drop:]
    assert command[-4:] == ["-m", "ipykernel_launcher", "-f", "k.json"]


def test_a_course_under_tmp_stays_visible_to_the_kernel(tmp_path):
    """CI clones the repository into /tmp: its Python must survive the kernel's private /tmp."""
    course = Path("/tmp") / tmp_path.name / "course"
    (course / "cvcourse").mkdir(parents=True)
    try:
        config = sandbox.KernelConfig(
            uid=1_900_000, runtime_dir=str(tmp_path), visible=[str(course / "cvcourse")]
        )
        joined = " ".join(sandbox.kernel_command(config, "k.json", str(tmp_path), str(tmp_path)))
        order = [
            "--tmpfs /tmp ",
            f"--dir {course} ",
            f"--ro-bind {course / 'cvcourse'} {course / 'cvcourse'}",
        ]
        assert [joined.index(part) for part in order] == sorted(joined.index(part) for part in order)
    finally:
        shutil.rmtree(course.parent)


def test_the_kernel_environment_is_an_allow_list(monkeypatch):
    monkeypatch.setenv("NBGRADER_DB_URL", "postgresql://secret")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.setenv("LANG", "C.UTF-8")
    env = sandbox.allowed_environment(HOME="/tmp")
    assert env == {
        "LANG": "C.UTF-8",
        "HOME": "/tmp",
        "CVCOURSE_PROGRESS": "0",  # sandbox.GRADING_ENVIRONMENT: no progress bars when graded
        **{k: v for k, v in env.items() if k.startswith(("OPENBLAS", "OMP", "TF_", "LC_", "TZ", "MKL"))},
    }


def test_the_sandbox_says_what_is_missing(monkeypatch):
    monkeypatch.setattr(sandbox.shutil, "which", lambda name: None)
    assert "bubblewrap" in sandbox.check()


def test_the_kernelspec_interrupts_by_message():
    spec = sandbox.kernelspec(Path("/tmp/w/sandbox.json"))
    assert spec["interrupt_mode"] == "message" and spec["argv"][-1] == "{connection_file}"


# ----------------------------------------------------------------------------- classroom


def test_reading_a_submission_leaves_out_links_and_huge_files(tmp_path, monkeypatch):
    source = tmp_path / "in"
    (source / "data").mkdir(parents=True)
    (source / "answer.ipynb").write_text("{}")
    (source / "gradebook.db").symlink_to("/etc/hostname")
    (source / "data" / "huge.bin").write_bytes(b"x" * 11)
    monkeypatch.setattr(slot, "LARGEST_FILE", 10)
    job = slot.read_job(source, "alice")
    assert (job.files, sorted(job.left_out)) == ({"answer.ipynb": b"{}"}, ["data/huge.bin", "gradebook.db"])
    slot.write_files(job.files, tmp_path / "out")
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["answer.ipynb"]


def test_files_sent_for_a_folder_stay_in_it(tmp_path):
    with pytest.raises(ValueError, match="outside the folder"):
        slot.write_files({"../escape.txt": b"no"}, tmp_path / "out")
    assert not (tmp_path / "escape.txt").exists()


def test_a_resubmission_has_another_digest():
    first = slot.Job("alice", {"a.ipynb": b"1", "b.txt": b"2"})
    assert first.digest == slot.Job("alice", {"b.txt": b"2", "a.ipynb": b"1"}).digest
    assert first.digest != slot.Job("alice", {"a.ipynb": b"1", "b.txt": b"3"}).digest
    assert first.digest != slot.Job("alice", {"a.ipynb": b"1", "c.txt": b"2"}).digest


def test_two_claims_never_hold_the_same_slot():
    first = slot.claim_slots(2, sandboxed=False)
    second = slot.claim_slots(1, sandboxed=False)
    try:
        held = [s.index for s in first + second]
        assert len(set(held)) == 3
        assert len({s.kernel_uid for s in first + second} | {s.test_uid for s in first + second}) == 6
    finally:
        for s in first + second:
            s.release()
    again = slot.claim_slots(1, sandboxed=False)[0]
    assert again.index == min(held)  # a released slot is free again
    again.release()


@pytest.mark.parametrize(
    "log, says",
    [
        ("RuntimeError: Kernel died before replying", "kernel died"),
        ("nbformat.reader.NotJSONError: Notebook does not appear to be JSON", "corrupted JSON"),
        ("RuntimeError: Timeout waiting for IOPub output", "did not answer the interrupt"),
        ("[AutogradeApp | ERROR] something new", "something new"),
    ],
)
def test_a_failed_grading_is_explained(log, says):
    assert says in slot.explain_failure(log)


def test_the_summary_table_counts_failures_per_exercise():
    outcomes = [
        classroom.Outcome("a", "ch", 7.0, 9.0, cells={"test_x": (2.0, 2.0, ""), "test_y": (5.0, 7.0, "")}),
        classroom.Outcome("b", "ch", 0.0, 9.0, reason="the kernel died", cells={"test_x": (0.0, 2.0, "")}),
    ]
    table = classroom.summary_table(outcomes)
    assert "test_x" in table and "1.00" in table and "1/2" in table
    assert "b: the kernel died" in table


# ----------------------------------------------------------------------------- feedback and answers


def test_feedback_errors_show_their_message_and_no_code():
    from grader.feedback import ShortErrors

    cell = nbformat.v4.new_code_cell(
        "hidden_check()",
        metadata={"nbgrader": {"grade": True, "grade_id": "test_x"}},
        outputs=[
            nbformat.v4.new_output(
                "error",
                ename="CheckFailed",
                evalue="x: wrong at 3",
                traceback=["  hidden_check() line 5", "CheckFailed: x: wrong at 3"],
            )
        ],
    )
    ShortErrors().preprocess_cell(cell, {}, 0)
    assert cell.outputs[0]["traceback"] == ["CheckFailed: x: wrong at 3"]


def test_instructor_cells_leave_the_student_notebook_and_come_back_in_the_feedback(tmp_path, monkeypatch):
    from grader.answers import TAG, AddInstructorCells, RemoveInstructorOnly

    question = nbformat.v4.new_markdown_cell("Which? a) b)")
    answer = nbformat.v4.new_code_cell("ANSWER = {'a'}")
    discussion = nbformat.v4.new_markdown_cell("**a.** because ...", metadata={"tags": [TAG]})
    after = nbformat.v4.new_markdown_cell("Next section")
    instructor = nbformat.v4.new_notebook(cells=[question, answer, discussion, after])
    (tmp_path / "solutions" / "ch").mkdir(parents=True)
    nbformat.write(instructor, tmp_path / "solutions" / "ch" / "ch.ipynb")
    student, _ = RemoveInstructorOnly().preprocess(nbformat.from_dict(json.loads(json.dumps(instructor))), {})
    assert [c.source for c in student.cells] == [question.source, answer.source, after.source]
    monkeypatch.chdir(tmp_path)
    resources = {"nbgrader": {"assignment": "ch", "notebook": "ch"}}
    feedback, _ = AddInstructorCells().preprocess(student, resources)
    assert [c.source for c in feedback.cells] == [
        question.source,
        answer.source,
        discussion.source,
        after.source,
    ]


def test_a_fork_bomb_of_a_slots_user_ends_in_one_call():
    """Killing a fork bomb process by process loses the race; kill_user_processes must not."""
    if os.geteuid() != 0:
        pytest.fail("needs root, as grading does: run the tests as root (CI does)")
    uid = classroom.FIRST_UID + 77  # no slot of a grading uses it

    bomb = os.fork()
    if bomb == 0:  # the bomb: as that user, at most 256 processes, each forking for ever
        try:
            resource.setrlimit(resource.RLIMIT_NPROC, (256, 256))
            os.setuid(uid)
            while True:
                try:
                    os.fork()
                except OSError:
                    pass
        finally:
            os._exit(0)
    try:
        deadline = time.monotonic() + 10
        while len(sandbox.user_processes(uid)) < 200 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(sandbox.user_processes(uid)) >= 200, "the fork bomb did not start"
    finally:
        sandbox.kill_user_processes(uid)
        os.waitpid(bomb, 0)
    assert sandbox.user_processes(uid) == []
