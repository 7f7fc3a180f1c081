"""The student-facing checks explain failures in words; the package imports TensorFlow silently."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from cvcourse import checks


def test_expect_close_names_the_first_wrong_position():
    with pytest.raises(checks.CheckFailed, match=r"index \(1, 0\): expected 3, got 4"):
        checks.expect_close(np.array([[1, 2], [4, 4]]), np.array([[1, 2], [3, 4]]), "feature map")


def test_expect_close_reports_shape_mismatch_and_none():
    with pytest.raises(checks.CheckFailed, match=r"shape \(2, 2\) but has shape \(3, 3\)"):
        checks.expect_close(np.zeros((3, 3)), np.zeros((2, 2)), "output")
    with pytest.raises(checks.CheckFailed, match="forget a `return`"):
        checks.expect_close(None, np.zeros(2), "output")
    with pytest.raises(checks.CheckFailed, match="NaN"):
        checks.expect_close(np.array([np.nan]), np.zeros(1), "output")


def test_expect_equal_and_dtype():
    checks.expect_equal(3, 3, "x")
    with pytest.raises(checks.CheckFailed, match="expected 3, got 4"):
        checks.expect_equal(4, 3, "x")
    with pytest.raises(checks.CheckFailed, match="integer 3, not the float 3.0"):
        checks.expect_equal(3.0, 3, "x")
    checks.expect_dtype(np.zeros(2, np.float32), "f")
    with pytest.raises(checks.CheckFailed, match="floating-point dtype, got int64"):
        checks.expect_dtype(np.zeros(2, np.int64), "f")
    with pytest.raises(checks.CheckFailed, match="NumPy array"):
        checks.expect_dtype([1.0], "f")


def test_visible_test_runs_registers_and_explains(capsys):
    @checks.visible_test("good_exercise")
    def _():
        checks.expect_equal(1 + 1, 2, "1 + 1")

    assert "✓ good_exercise" in capsys.readouterr().out

    def not_written():
        raise NotImplementedError()

    with pytest.raises(checks.CheckFailed, match="not written yet"):
        checks.visible_test("todo_exercise")(not_written)

    def crashes():
        return [][1]

    with pytest.raises(checks.CheckFailed, match="raised IndexError"):
        checks.visible_test("crashing_exercise")(crashes)


def test_summary_reruns_and_lists_every_exercise(capsys):
    def not_written():
        raise NotImplementedError()

    checks.visible_test("summary_ok")(lambda: None)
    with pytest.raises(checks.CheckFailed):
        checks.visible_test("summary_todo")(not_written)
    capsys.readouterr()
    checks.summary(["summary_ok", "summary_todo", "never_run"])
    out = capsys.readouterr().out
    assert "summary_ok" in out and "pass" in out
    assert "not written yet" in out
    assert "never_run" in out and "not run yet" in out
    assert "1 of 3 exercises pass" in out


def test_importing_cvcourse_writes_nothing_to_stderr():
    code = (
        "import cvcourse, tensorflow as tf, keras\n"
        "tf.nn.conv2d(tf.ones((1, 4, 4, 1)), tf.ones((3, 3, 1, 1)), 1, 'VALID')"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_expect_written_by_hand_finds_library_calls_directly_aliased_or_in_helpers():
    import scipy.signal
    from scipy.signal import correlate2d as aliased

    banned = {"scipy.signal.correlate2d": scipy.signal.correlate2d}

    def by_attribute(image, kernel):
        return scipy.signal.correlate2d(image, kernel, mode="valid")

    def by_alias(image, kernel):
        return aliased(image, kernel, mode="valid")

    namespace = {"aliased": aliased, "np": np, "__name__": "student"}
    exec(
        "def helper(x, k):\n    return aliased(x, k)\ndef via_helper(x, k):\n    return helper(x, k)\n",
        namespace,
    )

    def by_hand(image, kernel):
        return np.sum(image * kernel)

    for cheat in (by_attribute, by_alias, namespace["via_helper"]):
        with pytest.raises(checks.CheckFailed, match="write the computation yourself"):
            checks.expect_written_by_hand(cheat, banned)
    checks.expect_written_by_hand(by_hand, banned)

    def own_function_with_the_same_name(image, kernel):
        return correlate2d(image, kernel)  # noqa: F821 - a student's own helper of that name

    namespace = {"__name__": "student"}
    exec("def correlate2d(x, k):\n    return x * k\n", namespace)
    own = type(own_function_with_the_same_name)(own_function_with_the_same_name.__code__, namespace)
    checks.expect_written_by_hand(own, banned)


class _Double(__import__("keras").layers.Layer):
    def call(self, inputs):
        return 2 * inputs


class _Subclassed(__import__("keras").Model):
    def __init__(self):
        super().__init__()
        self.dense = __import__("keras").layers.Dense(10, activation="softmax")

    def call(self, inputs):
        return self.dense(inputs)


def _models():
    import keras

    inputs = keras.Input((4,))
    return {
        "own layers": keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(inputs)),
        "sequential": keras.Sequential([keras.Input((4,)), keras.layers.Dense(10, activation="softmax")]),
        "lambda": keras.Model(inputs, keras.layers.Lambda(lambda x: x * 0)(inputs)),
        "custom layer": keras.Model(inputs, _Double()(inputs)),
        "subclassed": _Subclassed(),
    }


@pytest.mark.parametrize(
    "kind, refused",
    [
        ("own layers", None),
        ("sequential", None),
        ("lambda", "uses Lambda:"),
        ("custom layer", "test_checks._Double"),
        ("subclassed", "test_checks._Subclassed"),
    ],
)
def test_a_model_the_grader_cannot_rebuild_is_refused_with_its_classes(kind, refused):
    """What the grader rebuilds from a configuration (checks.expect_keras_layers_only) is checked in the
    student's own notebook too, so a visible test says what a grading would refuse."""
    model = _models()[kind]
    if refused is None:
        checks.expect_keras_layers_only(model, "build()")
        return
    with pytest.raises(checks.CheckFailed, match="Keras' own layers") as failed:
        checks.expect_keras_layers_only(model, "build()")
    assert refused in str(failed.value) and str(failed.value).startswith("build() uses ")


def test_something_that_is_not_a_model_is_named():
    with pytest.raises(checks.CheckFailed, match=r"build\(\) should be a keras.Model of .*, got \(3, 4\)"):
        checks.expect_keras_layers_only((3, 4), "build()")


def test_summary_shows_the_points_of_a_scored_exercise(capsys):
    checks.visible_test("summary_scored")(lambda: None)
    assert checks.scored("summary_scored", 3.25, 5) == 3.25
    capsys.readouterr()
    checks.summary(["summary_scored"])
    line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("summary_scored"))
    assert "3.25/5" in line and "3.25 of 5 points" in line
