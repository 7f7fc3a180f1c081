"""Trusted grading: a score is earned only by the submitted work (README, What the grader promises).

Three chapters are graded by ``grader.classroom.grade_class`` on two slots, each with a class of
honest and hostile submissions: ch01 (array exercises), ch03 (a Keras layer, ``DepthMaxPool``) and
ch11 (an accuracy target, ``build_my_mnist_cnn``). A hostile submission leaves one exercise (the
*target*) undone and acts on its kernel, its libraries or the file system to win the target's
points anyway; it must score exactly the points of the other exercises. ch01 gets one submission
per attack; ch03 and ch11 get every attack in one submission and every probe in another. A *probe* gives the
target's right answer only if it can see something it must not (the hidden tests, the grader's
environment, another copy of the course), so it too must lose the target's points. Honest
mistakes (a copied, moved, deleted or stripped test cell) and correct work that starts many
threads must cost nothing, on every re-grade, and no feedback page may show a line of a hidden
test.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

from grader import classroom, sandbox
from grader.course import budget_seconds, generate, make_scratch_course, nbgrader, solution_path, submit
from tests.notebook_kernel import cell_by_grade_id, nbgrader_meta

pytestmark = pytest.mark.slow  # needs root and bubblewrap (make setup installs it), as CI has

SECRET = "cvg-secret-7f3a9c"  # in the grading process's environment: no kernel may see it


@dataclass(frozen=True)
class Target:
    chapter: str
    exercise: str  # the exercise the attacks leave undone
    no_work: str  # a definition of it that does none of the work
    function: bool  # whether it is a function (the probes that look at a call need one)


TARGETS = {
    "ch01": Target(
        "ch01_visual_cortex",
        "dense_vs_conv_weights",
        "def dense_vs_conv_weights(*args):\n    return (0, 0)\n",
        True,
    ),
    "ch03": Target(
        "ch03_pooling_layers",
        "DepthMaxPool",
        "class DepthMaxPool(keras.layers.Layer):\n"
        "    def __init__(self, pool_size=1, **kwargs):\n"
        "        super().__init__(**kwargs)\n"
        "        self.pool_size = pool_size\n\n"
        "    def call(self, inputs):\n"
        "        return inputs\n",
        False,
    ),
    "ch11": Target(
        "ch11_exercises",
        "build_my_mnist_cnn",
        "def build_my_mnist_cnn():\n"
        "    return keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(),\n"
        "                             keras.layers.Dense(10, activation='softmax',\n"
        "                                                kernel_initializer='zeros',\n"
        "                                                trainable=False)])\n",
        True,
    ),
}

# Code that acts on the student's own kernel, before the undone exercise.
KERNEL_ATTACKS = {
    "input_transformer": (
        "def _neuter(lines):\n"
        "    text = ''.join(lines)\n"
        "    tests = ('visible_test' in text or 'HIDDEN' in text or 'checks.' in text)\n"
        "    return ['pass\\n'] if tests else lines\n"
        "get_ipython().input_transformers_post.append(_neuter)\n"
    ),
    "pre_run_cell_hook": (
        "from IPython.display import display as _display\n"
        "_claim = lambda info: _display({'text/plain': '100'}, raw=True)\n"
        "get_ipython().events.register('pre_run_cell', _claim)\n"
    ),
    "checks_replaced": (
        "from cvcourse import checks as _checks\n"
        "for _name in ('expect_equal', 'expect_close', 'expect_shape', 'expect_dtype',\n"
        "              'expect_written_by_hand'):\n"
        "    setattr(_checks, _name, lambda *args, **kwargs: None)\n"
        "_checks.accuracy_points = lambda *args, points=1, **kwargs: float(points)\n"
        "_checks.visible_test = lambda name: (lambda test: test)\n"
        "_checks.CheckFailed = type('NeverRaised', (Exception,), {})\n"
    ),
    "numpy_replaced": (
        "import numpy as _np\n"
        "_np.allclose = _np.array_equal = lambda *args, **kwargs: True\n"
        "_np.isclose = lambda a, b, *args, **kwargs: _np.ones(\n"
        "    _np.broadcast(_np.asarray(a), _np.asarray(b)).shape, bool)\n"
    ),
    "oracles_replaced": (
        "import scipy.signal, tensorflow as _tf, keras as _keras\n"
        "scipy.signal.correlate2d = lambda *args, **kwargs: _np_zeros((1, 1))\n"
        "from numpy import zeros as _np_zeros\n"
        "_tf.nn.max_pool = lambda inputs, *args, **kwargs: inputs\n"
        "_keras.Model.count_params = _keras.layers.Layer.count_params = lambda self: 0\n"
    ),
    "builtins_shadowed": (
        "isinstance = lambda *args: True\nlen = lambda *args: 2\nsorted = lambda *args, **kwargs: []\n"
    ),
    "training_data_metric_replaced": (
        "from cvcourse import data as _data, training as _training\n"
        "class _Run:\n"
        "    test_accuracy, validation_accuracy, seconds = 0.999, 0.999, 1.0\n"
        "    def report(self, target=None):\n"
        "        return 'test accuracy 0.9990'\n"
        "_training.train_classifier = lambda *args, **kwargs: _Run()\n"
        "_training.check_classifier = lambda *args, **kwargs: None\n"
        "import keras as _keras\n"
        "_keras.Model.evaluate = lambda self, *args, **kwargs: [0.0, 1.0]\n"
        "_keras.Model.fit = lambda self, *args, **kwargs: None\n"
        "mnist = None\n"
    ),
}

# An object that claims to equal anything, and reads the expected value from its caller's frames
# or from the test's source in linecache: what an in-kernel test would hand it.
FRAMES_ATTACK = (
    "import linecache as _linecache, sys as _sys\n"
    "class _Sneaky:\n"
    "    def _expected(self):\n"
    "        frame = _sys._getframe(1)\n"
    "        while frame is not None:\n"
    "            for key, value in frame.f_locals.items():\n"
    "                if 'expected' in key and not isinstance(value, _Sneaky):\n"
    "                    return value\n"
    "            frame = frame.f_back\n"
    "        return 0\n"
    "    def __eq__(self, other):\n"
    "        return True\n"
    "    __hash__ = object.__hash__\n"
    "    def __array__(self, dtype=None, copy=None):\n"
    "        import numpy\n"
    "        return numpy.asarray(self._expected(), dtype=dtype)\n"
    "    def __int__(self):\n"
    "        return int(self._expected())\n"
    "    __index__ = __int__\n"
    "    def __float__(self):\n"
    "        return float(self._expected())\n"
    "    def __iter__(self):\n"
    "        return iter((_Sneaky(), _Sneaky()))\n"
    "    def __len__(self):\n"
    "        return 2\n"
    "    def __getattr__(self, name):\n"
    "        return _Sneaky()\n"
    "    def __call__(self, *args, **kwargs):\n"
    "        return _Sneaky()\n"
    "{name} = _Sneaky()\n"
)

# True when the student's code can see something it must not.
LEAK_PROBE = (
    "import glob as _glob, linecache as _linecache, os as _os\n"
    "_HIDDEN = ' '.join(['HIDDEN', 'TESTS'])  # built here: this cell's own source must not match\n"
    "def _readable(path):\n"
    "    try:\n"
    "        with open(path, errors='replace') as handle:\n"
    "            return handle.read(2_000_000)\n"
    "    except OSError:\n"
    "        return ''\n"
    "def _leaks_now():  # cheap enough for every call: what a running test leaves in the kernel\n"
    "    found = []\n"
    "    cached = [''.join(entry[2]) for entry in list(_linecache.cache.values()) if len(entry) > 2]\n"
    "    if any(_HIDDEN in text for text in cached):\n"
    "        found.append('linecache')\n"
    "    if any(_HIDDEN in str(cell) for cell in globals().get('In', [])):\n"
    "        found.append('input history')\n"
    "    return found\n"
    "def _leaks():\n"
    "    found = _leaks_now()\n"
    "    here = _os.getcwd()\n"
    "    for folder in {{here, _os.path.dirname(here), _os.path.dirname(_os.path.dirname(here))}}:\n"
    "        for path in _glob.glob(_os.path.join(folder, '**', '*.ipynb'), recursive=True)[:200]:\n"
    "            if _HIDDEN in _readable(path):\n"
    "                found.append('notebook ' + path)\n"
    "    seen = 0\n"
    "    for top in ('/work', '/var/tmp', '/tmp', '/root', '/home', '/srv', '/opt', '/mnt'):\n"
    "        for folder, _, files in _os.walk(top):\n"
    "            seen += 1\n"
    "            if seen > 20_000:\n"
    "                break\n"
    "            for name in files:\n"
    "                text = _readable(_os.path.join(folder, name)) if name.endswith('.ipynb') else ''\n"
    "                if _HIDDEN in text and 'cvcourse' in text:\n"
    "                    found.append('solutions ' + _os.path.join(folder, name))\n"
    "    if any({secret!r} in value for value in _os.environ.values()):\n"
    "        found.append('environment')\n"
    "    return found\n"
    "_LEAKED_AT_RUN = _leaks()\n"
)


# Correct work that starts many threads: hundreds at once, and a pool left running through the tests.
MANY_THREADS = (
    "import threading as _threading, concurrent.futures as _futures\n"
    "import numpy as _np\n"
    "_started = [_threading.Thread(target=_np.linalg.norm, args=(_np.ones(1000),)) for _ in range(600)]\n"
    "for _thread in _started:\n"
    "    _thread.start()\n"
    "for _thread in _started:\n"
    "    _thread.join()\n"
    "_pool = _futures.ThreadPoolExecutor(max_workers=64)\n"
    "assert len(list(_pool.map(_np.sum, [_np.ones(10)] * 256))) == 256\n"
)


def solved(target: Target):
    return nbformat.read(solution_path(target.chapter), as_version=4)


def answer(target: Target) -> str:
    return cell_by_grade_id(solved(target), target.exercise).source


def with_target_cell(target: Target, source: str):
    nb = solved(target)
    cell_by_grade_id(nb, target.exercise).source = source
    return nb


def probe(target: Target) -> str:
    """The target's cell: its right answer only when something leaks (when it runs, or when called)."""
    code = LEAK_PROBE.format(secret=SECRET)
    if not target.function:
        return code + f"exec({answer(target)!r} if _LEAKED_AT_RUN else {target.no_work!r})\n"
    name = target.exercise
    return code + (
        f"exec({target.no_work!r})\n_no_work = {name}\n"
        f"exec({answer(target)!r})\n_right = {name}\n"
        f"def {name}(*args, **kwargs):\n"
        f"    return (_right if _LEAKED_AT_RUN or _leaks_now() else _no_work)(*args, **kwargs)\n"
    )


def honest_mistakes(target: Target) -> dict:
    """{student: notebook}: solved notebooks with a test cell copied, moved, deleted or stripped, or
    with correct work that starts many threads."""
    cases = {}
    test_ids = [
        nbgrader_meta(c).get("grade_id") for c in solved(target).cells if nbgrader_meta(c).get("grade")
    ]
    test_ids = [t for t in test_ids if t and t.startswith("test_")]
    copied = solved(target)
    first = cell_by_grade_id(copied, test_ids[0])
    copied.cells.insert(copied.cells.index(first) + 2, nbformat.from_dict(json.loads(json.dumps(first))))
    cases["copied_test_cell"] = copied
    moved = solved(target)
    last = cell_by_grade_id(moved, test_ids[-1])
    moved.cells.remove(last)
    moved.cells.insert(1, last)  # above its exercise: it would run before the answer exists
    cases["moved_test_cell"] = moved
    deleted = solved(target)
    deleted.cells.remove(cell_by_grade_id(deleted, test_ids[0]))
    cases["deleted_test_cell"] = deleted
    stripped = solved(target)
    cell_by_grade_id(stripped, test_ids[-1]).metadata = {}
    cases["stripped_metadata"] = stripped
    cases["many_threads"] = with_target_cell(target, MANY_THREADS + answer(target))
    return cases


def class_of(target: Target, kinds: str) -> dict:
    """{student: (notebook, expected score)} for ``target``'s chapter; ``kinds``: 'all' or 'combined'."""
    total = sum(
        float(nbgrader_meta(c).get("points", 0))
        for c in solved(target).cells
        if nbgrader_meta(c).get("grade")
    )
    points = float(nbgrader_meta(cell_by_grade_id(solved(target), f"test_{target.exercise}"))["points"])
    undone = total - points
    frames = FRAMES_ATTACK.format(name=target.exercise)
    if kinds == "combined":  # every attack in one submission, every probe in another
        cases = {
            "solved": (solved(target), total),
            "every_attack": (with_target_cell(target, "".join(KERNEL_ATTACKS.values()) + frames), undone),
            "every_probe": (with_target_cell(target, probe(target)), undone),
        }
        if budget_seconds(target.chapter) <= 60:  # no training to grade: correct work with many threads too
            cases["many_threads"] = (with_target_cell(target, MANY_THREADS + answer(target)), total)
        return cases
    cases = {"solved": (solved(target), total)}
    cases |= {name: (nb, total) for name, nb in honest_mistakes(target).items()}
    cases |= {
        f"attack_{name}": (with_target_cell(target, code + target.no_work), undone)
        for name, code in KERNEL_ATTACKS.items()
    }
    cases["attack_result_object"] = (with_target_cell(target, frames), undone)
    cases["probe"] = (with_target_cell(target, probe(target)), undone)
    return cases


def grade(target: Target, kinds: str, workspace: Path, monkeypatch):
    root = make_scratch_course(workspace / target.chapter, [target.chapter])
    blank = nbformat.read(generate(root, target.chapter), as_version=4)
    cases = class_of(target, kinds) | {"blank": (blank, 0.0)}
    for student, (notebook, _) in cases.items():
        submit(root, student, target.chapter, notebook)
    monkeypatch.setenv("CVCOURSE_GRADER_TOKEN", SECRET)
    outcomes = classroom.grade_class(root, target.chapter, jobs=2, cell_timeout=300, progress=False)
    return root, cases, {o.student: o for o in outcomes}


@pytest.fixture(scope="module")
def other_copy_of_the_course():
    """A copy of the solutions where an instructor might keep one: the kernels must not see it."""
    folder = Path(tempfile.mkdtemp(prefix="cvcourse-other-copy-", dir="/var/tmp"))
    shutil.copytree(solution_path("ch01_visual_cortex").parent, folder / "solutions" / "ch01_visual_cortex")
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module", params=[("ch01", "all"), ("ch03", "combined"), ("ch11", "combined")], ids=str)
def graded(request, tmp_path_factory, other_copy_of_the_course):
    if sandbox.check():  # never skipped: without the sandbox these tests check nothing
        pytest.fail(f"the grading sandbox cannot run here: {sandbox.check()}")
    key, kinds = request.param
    with pytest.MonkeyPatch.context() as monkeypatch:
        yield (TARGETS[key], *grade(TARGETS[key], kinds, tmp_path_factory.mktemp(key), monkeypatch))


def test_every_submission_scores_what_its_work_earns(graded):
    _, _, cases, outcomes = graded
    expected = {student: score for student, (_, score) in cases.items()}
    got = {student: outcomes[student].score for student in expected}
    wrong = {
        s: (got[s], expected[s], outcomes[s].reason, outcomes[s].cells) for s in got if got[s] != expected[s]
    }
    assert not wrong, wrong


def test_honest_mistakes_are_repaired_and_reported(graded):
    _, _, cases, outcomes = graded
    for student in cases:
        repairs = outcomes[student].repairs
        if student in ("copied_test_cell", "moved_test_cell", "deleted_test_cell", "stripped_metadata"):
            assert repairs, student
        elif student in ("solved", "blank"):
            assert repairs == [], (student, repairs)


def test_no_feedback_page_shows_a_hidden_test(graded):
    target, root, cases, outcomes = graded
    hidden, elsewhere = [], set()
    for cell in solved(target).cells:
        source = cell.source
        if "### BEGIN HIDDEN TESTS" in source:
            before, region = source.split("### BEGIN HIDDEN TESTS", 1)
            region, after = region.split("### END HIDDEN TESTS", 1)
            hidden += [line.strip() for line in region.splitlines() if len(line.strip()) >= 30]
            source = before + after
        elsewhere |= {line.strip() for line in source.splitlines()}
    hidden = [line for line in hidden if line not in elsewhere]  # only in the hidden tests
    assert len(hidden) > 10
    nbgrader(root, "generate_feedback", target.chapter, "--force")
    pages = list((root / "grader" / "feedback").rglob("*.html"))
    assert len(pages) == len(cases)
    for page in pages:
        text = html.unescape(re.sub(r"<[^>]+>", "", page.read_text()))
        shown = [line for line in hidden if line in text]
        assert not shown, (page, shown[:3])


def test_a_regrade_gives_the_same_scores(graded):
    """Graded again (two at a time, beside each other), the same submissions score the same."""
    target, root, cases, outcomes = graded
    again = {
        o.student: o.score
        for o in classroom.grade_class(
            root,
            target.chapter,
            students=[
                "solved",
                *(["many_threads"] if "many_threads" in cases else []),
                next(s for s in sorted(cases) if s.startswith(("attack_", "every_"))),
            ],
            jobs=2,
            progress=False,
            regrade=True,
        )
    }
    assert again == {student: outcomes[student].score for student in again}
