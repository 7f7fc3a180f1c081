"""Warm kernels (grader/zygote.py): nothing one submission did is visible to the next.

Four chapter-1 submissions are graded one after another in one slot, so that every kernel is
forked by the same zygote: the first leaves traces everywhere a kernel can (files in /tmp,
/dev/shm and its folder, a variable, a changed module, a System V shared-memory segment, an
abstract socket held by a process left running); the second looks for each of them and for the
zygote's own files; the third kills every process it may; the fourth looks again. Each scores
exactly what its work earns: the zygote survived, and no trace reached a later kernel.
"""

from __future__ import annotations

import nbformat
import pytest

from grader import classroom, sandbox
from grader.course import generate, make_scratch_course, solution_path, submit
from tests.notebook_kernel import cell_by_grade_id

pytestmark = pytest.mark.slow  # needs root and bubblewrap (make setup installs it), as CI has

CHAPTER = "ch01_visual_cortex"
FIRST = "dense_vs_conv_weights"

LEAVE_TRACES = """
import ctypes, os, socket, time
import numpy
for path in ['/tmp/trace', '/dev/shm/trace', 'trace.txt']:
    open(path, 'w').write('left by the previous submission')
os.environ['CVG_TRACE'] = '1'
numpy.cvg_trace = 1
ctypes.CDLL(None).shmget(0x4242, 4096, 0o1000 | 0o666)  # IPC_CREAT
held = socket.socket(socket.AF_UNIX)
held.bind('\\0cvg-trace')
held.listen(1)
if os.fork() == 0:  # outlives the cell, holding the socket, until the slot kills it
    time.sleep(3600)
"""

LOOK_FOR_TRACES = """
import ctypes, glob, os, socket, sys
import numpy
seen = [path for path in ['/tmp/trace', '/dev/shm/trace', 'trace.txt'] if os.path.exists(path)]
seen += glob.glob('/tmp/cvg-*/*/trace*') + glob.glob('/dev/shm/.*') + glob.glob('/tmp/*.sock')
seen += ['a variable'] * ('CVG_TRACE' in os.environ) + ['a module attribute'] * hasattr(numpy, 'cvg_trace')
seen += ['shared memory'] * (ctypes.CDLL(None).shmget(0x4242, 0, 0) != -1)
probe = socket.socket(socket.AF_UNIX)
try:
    probe.connect('\\0cvg-trace')
    seen.append('an abstract socket')
except OSError:
    pass
if seen or not WARM:
    raise RuntimeError(f'warm kernel: {WARM}; traces of an earlier submission: {seen}')
"""

KILL_EVERYTHING = """
import os, signal as signals
for pid in (1, os.getppid()):
    try:
        os.kill(pid, signals.SIGKILL)  # the namespace's first process and the zygote's forks: root's
    except PermissionError:
        pass
try:
    os.kill(-1, signals.SIGKILL)  # every other process this user may signal: there is none
except ProcessLookupError:
    pass
os.kill(os.getpid(), signals.SIGKILL)
"""


def with_first_answer(prefix: str, first_cell: str | None = None):
    nb = nbformat.read(solution_path(CHAPTER), as_version=4)
    cell = cell_by_grade_id(nb, FIRST)
    cell.source = prefix + "\n" + cell.source
    if first_cell is not None:  # a cell of the student's own, run before anything imports TensorFlow
        nb.cells.insert(0, nbformat.v4.new_code_cell(first_cell))
    return nb


def test_nothing_one_submission_did_reaches_the_next(tmp_path):
    if sandbox.check():  # never skipped: without the sandbox this checks nothing
        pytest.fail(f"the grading sandbox cannot run here: {sandbox.check()}")
    root = make_scratch_course(tmp_path / "warm", [CHAPTER])
    generate(root, CHAPTER)
    warm = "import sys\nWARM = 'tensorflow' in sys.modules  # imported by the zygote, not yet by the notebook"
    cases = {  # graded in this order (by name), one slot: every kernel forks from one zygote
        "a_leaves_traces": (with_first_answer(LEAVE_TRACES), 9.0, ""),
        "b_looks": (with_first_answer(LOOK_FOR_TRACES, warm), 9.0, ""),
        "c_kills_everything": (with_first_answer(KILL_EVERYTHING), 0.0, "died"),
        "d_looks_again": (with_first_answer(LOOK_FOR_TRACES, warm), 9.0, ""),
    }
    for student, (notebook, _, _) in cases.items():
        submit(root, student, CHAPTER, notebook)
    outcomes = {o.student: o for o in classroom.grade_class(root, CHAPTER, jobs=1, progress=False)}
    for student, (_, score, reason) in cases.items():
        outcome = outcomes[student]
        assert outcome.score == score, (student, outcome.score, outcome.reason)
        assert reason in outcome.reason if reason else outcome.reason == "", (student, outcome.reason)
