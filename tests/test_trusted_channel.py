"""The parts of trusted grading, without kernels: the wire, the agent, the test runner, repair."""

from __future__ import annotations

import base64
import json
import os
import struct

import numpy as np
import pytest

from cvcourse import checks, grading_agent, wire
from grader import plan, repair, testrunner


class Loopback(testrunner.Channel):
    """A channel whose "student kernel" is ``grading_agent.answer`` on a namespace, in this process."""

    def __init__(self, namespace: dict):
        self.namespace, self.reply = namespace, None

    def send(self, message: dict) -> None:
        assert message["op"] == "ask"
        reply = grading_agent.answer(base64.b64decode(message["payload"]), self.namespace)
        self.reply = {"op": "answer", "payload": base64.b64encode(reply).decode()}

    def receive(self) -> dict:
        return self.reply


def round_trip(value):
    return wire.decode(wire.encode(value))


# ----------------------------------------------------------------------------- the wire


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        3,
        -(2**70),
        2.5,
        "text",
        1 + 2j,
        (1, [2, 3], {"a": (4,)}),
        {1: "one", (2, 3): None},
        {"a", "b"},
        frozenset({1}),
        np.arange(6, dtype=np.int16).reshape(2, 3),
        np.array(["ab", "c"]),
        np.zeros((0, 3)),
    ],
)
def test_plain_data_crosses_unchanged(value):
    got = round_trip(value)
    if isinstance(value, np.ndarray):
        assert got.dtype == value.dtype and got.shape == value.shape and np.array_equal(got, value)
        assert got.flags.writeable
    else:
        assert got == value and type(got) is type(value)


def test_numpy_scalars_and_special_floats_keep_their_type():
    for value in (np.int64(5), np.float32(0.5), np.bool_(True)):
        got = round_trip(value)
        assert type(got) is type(value) and got == value
    assert np.isnan(round_trip(float("nan"))) and round_trip(float("-inf")) == float("-inf")


def test_values_that_lie_arrive_as_what_they_convert_to_once():
    class Liar(int):
        def __eq__(self, other):
            return True

        __hash__ = int.__hash__

    class Tensor:
        calls = 0

        def __array__(self, dtype=None, copy=None):
            Tensor.calls += 1
            return np.ones(2)

    got = round_trip([Liar(3), Tensor()])
    assert type(got[0]) is int and got[0] == 3 and got[0] != 4
    assert isinstance(got[1], np.ndarray) and Tensor.calls == 1


@pytest.mark.parametrize(
    "value", [np.array([object()]), object(), lambda: 1, np.zeros(2, dtype=[("a", "f4")])]
)
def test_anything_else_is_refused(value):
    with pytest.raises(wire.WireError):
        wire.encode(value)


def forged(document: dict, blobs: bytes = b"") -> bytes:
    text = json.dumps(document).encode()
    return struct.pack("<Q", len(text)) + text + blobs


@pytest.mark.parametrize(
    "message",
    [
        b"",
        b"\x00" * 8,
        forged({"value": {"t": "array", "dtype": "|O", "shape": [1], "blob": 0}, "sizes": [8]}, b"\x00" * 8),
        forged({"value": {"t": "array", "dtype": "<f8", "shape": [2], "blob": 0}, "sizes": [8]}, b"\x00" * 8),
        forged({"value": {"t": "pickle", "v": "gASV"}, "sizes": []}),
        forged({"value": {"t": "float", "v": "1e308*10"}, "sizes": []}),
        forged({"value": {"t": "list", "v": [1]}, "sizes": [4]}),
        forged({"value": {"t": "set", "v": [{"t": "list", "v": []}]}, "sizes": []}),
        forged({"value": [1, 2], "sizes": []}),
    ],
    ids=[
        "empty",
        "no json",
        "object dtype",
        "short array",
        "pickle",
        "bad float",
        "extra bytes",
        "unhashable",
        "bare list",
    ],
)
def test_a_malformed_or_hostile_message_is_refused(message):
    with pytest.raises(wire.WireError):
        wire.decode(message)


def test_a_deeply_nested_message_is_refused():
    value = None
    for _ in range(wire.MAX_DEPTH + 5):
        value = {"t": "list", "v": [value]}
    with pytest.raises(wire.WireError):
        wire.decode(forged({"value": value, "sizes": []}))


# ----------------------------------------------------------------------------- agent and test runner


def test_student_functions_are_called_through_the_channel():
    def double(x):
        return 2 * x

    namespace = {"double": double, "ANSWER": {"a", "c"}}
    channel = Loopback(namespace)
    remote = channel.ask({"op": "lookup", "name": "double"})
    assert isinstance(remote, testrunner.Remote) and callable(remote)
    assert remote(np.arange(3)).tolist() == [0, 2, 4]
    assert channel.ask({"op": "lookup", "name": "ANSWER"}) == {"a", "c"}
    with pytest.raises(NameError):
        channel.ask({"op": "lookup", "name": "missing"})


def test_the_student_s_exceptions_arrive_by_type_and_message():
    class MyError(ValueError):
        pass

    def fails(kind):
        raise {
            "value": MyError("bad shape"),
            "own": type("Odd", (Exception,), {})("odd"),
            "ni": NotImplementedError(),
        }[kind]

    remote = Loopback({"fails": fails}).ask({"op": "lookup", "name": "fails"})
    with pytest.raises(ValueError, match="bad shape"):
        remote("value")
    with pytest.raises(testrunner.StudentError, match="Odd: odd"):
        remote("own")
    with pytest.raises(NotImplementedError):
        remote("ni")


def test_a_failure_says_where_the_student_s_code_raised_it():
    def helper(x):
        return x.reshape(7)

    def student_function(x):
        return helper(x)

    remote = Loopback({"solve": student_function}).ask({"op": "lookup", "name": "solve"})
    result = checks._run("exercise", lambda: remote(np.zeros(3)))
    assert not result.passed
    assert result.message.startswith("raised ValueError: cannot reshape"), result.message
    assert result.message.endswith(f"(line {helper.__code__.co_firstlineno + 1} of helper)"), result.message


def test_arrays_written_by_the_student_s_code_come_back():
    def scribble(image, other):
        image[0, 0] = 99.0

    image, other = np.zeros((2, 2)), np.ones(3)
    Loopback({"scribble": scribble}).ask({"op": "lookup", "name": "scribble"})(image, other)
    assert image[0, 0] == 99.0 and other.tolist() == [1.0, 1.0, 1.0]


def test_objects_stay_in_the_student_s_kernel_as_handles():
    class Pool:
        size = 3

        def count(self):
            return 0

    remote_class = Loopback({"Pool": Pool}).ask({"op": "lookup", "name": "Pool"})
    layer = remote_class()
    assert isinstance(layer, testrunner.Remote) and layer.size == 3 and layer.count() == 0
    assert layer != layer._handle and not isinstance(layer, Pool)
    with pytest.raises(AttributeError):
        layer.size = 4


def test_a_test_cell_runs_like_ipython_and_shows_no_code_in_errors():
    namespace = {}
    outputs = testrunner.run_cell("x = 2\nprint('hi')\nx * 21", namespace, 1)
    assert [o["output_type"] for o in outputs] == ["stream", "execute_result"]
    assert outputs[1]["data"]["text/plain"] == "42"
    (error,) = testrunner.run_cell(
        "secret_hidden_line = 1\nassert secret_hidden_line == 2, 'wrong'", namespace, 2
    )
    assert error["ename"] == "AssertionError" and error["traceback"] == ["AssertionError: wrong"]


def test_a_test_cell_takes_only_the_student_s_names_from_the_kernel():
    namespace = {"np": np}
    kernel = {"answer": lambda: 1, "np": "replaced", "isinstance": lambda *a: True}
    testrunner.bind_student_names("answer() + len(np.zeros(1))", namespace, {"answer"}, Loopback(kernel))
    assert namespace["np"] is np and "isinstance" not in namespace
    assert namespace["answer"]() == 1


def test_a_rebuilt_model_trains_from_weights_drawn_here():
    import keras

    from cvcourse import training

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    pretrained = [w + 100 for w in model.get_weights()]
    rebuilt = testrunner._rebuild_model(wire.ModelData(model.to_json(), tuple(pretrained)))
    assert np.allclose(rebuilt.get_weights()[0], pretrained[0])  # what the student sent, for inspection
    assert not np.allclose(training.recipe_weights[rebuilt][0], pretrained[0])  # but training starts here
    lambda_model = keras.Sequential([keras.Input((3,)), keras.layers.Lambda(lambda x: x * 2)])
    with pytest.raises(testrunner.StudentError, match="Lambda"):
        testrunner._rebuild_model(wire.ModelData(lambda_model.to_json(), ()))


# ----------------------------------------------------------------------------- static checks on source

BANNED = {"scipy.signal.correlate2d": None, "tf.nn.conv2d": None}


@pytest.mark.parametrize(
    "source, refused",
    [
        ("def f(x):\n    return x.sum()\n", False),
        ("def f(x):\n    kernel = 1\n    return x * kernel\nkernel = tf.nn.conv2d\n", False),
        ("from scipy import signal\ndef f(x):\n    return signal.correlate2d(x, x)\n", True),
        ("from scipy.signal import correlate2d as cc\ndef f(x):\n    return cc(x, x)\n", True),
        ("def helper(x):\n    return tf.nn.conv2d(x)\ndef f(x):\n    return helper(x)\n", True),
        ("import scipy.signal as s\nop = s.correlate2d\ndef f(x):\n    return op(x, x)\n", True),
        ("def f(x):\n    return getattr(tf.nn, 'conv' + '2d')(x)\n", True),
        ("def f(x):\n    return eval('x')\n", True),
        ("def f(x):\n    from scipy.signal import correlate2d\n    return correlate2d(x, x)\n", True),
        ("def f(x):\n    import scipy.signal as s\n    return s.correlate2d(x, x)\n", True),
        ("def f(x):\n    from numpy import sum as total\n    return total(x)\n", False),
    ],
)
def test_the_written_by_hand_check_reads_the_submitted_source(source, refused):
    stand_in = type("Remote", (), {"_cvcourse_name": "f"})()
    checks.use_submitted_source(["import numpy as np", source])
    try:
        if refused:
            with pytest.raises(checks.CheckFailed):
                checks.expect_written_by_hand(stand_in, BANNED)
        else:
            checks.expect_written_by_hand(stand_in, BANNED)
    finally:
        checks.use_submitted_source(None)


# ----------------------------------------------------------------------------- repair and plan

TESTS = {"test_a": ("check(a)\n### BEGIN HIDDEN TESTS\nsecret\n### END HIDDEN TESTS", 2.0, 2)}


def notebook(*cells):
    return {"cells": [dict(c) for c in cells]}


ANSWER = {
    "cell_type": "code",
    "source": "a = 1",
    "metadata": {"nbgrader": {"grade_id": "a", "solution": True}},
}
TEST = repair.test_cell("test_a", *TESTS["test_a"][:2])
OTHER = {"cell_type": "markdown", "source": "text", "metadata": {}}


@pytest.mark.parametrize(
    "cells, says",
    [
        ([OTHER, ANSWER, TEST], None),
        ([OTHER, ANSWER, TEST, TEST], "copy"),
        ([OTHER, ANSWER], "missing"),
        ([TEST, OTHER, ANSWER], "moved"),
        ([OTHER, ANSWER, {**TEST, "metadata": {}}], "metadata"),
    ],
    ids=["intact", "copied", "deleted", "moved", "stripped"],
)
def test_repair_puts_each_test_cell_back_under_its_answer(cells, says):
    nb = notebook(*cells)
    notes = repair.repair(nb, TESTS)
    assert [c.get("metadata", {}).get("nbgrader", {}).get("grade_id") for c in nb["cells"]] == [
        None,
        "a",
        "test_a",
    ]
    assert "secret" not in json.dumps(nb)
    assert (notes == []) if says is None else any(says in note for note in notes)


def test_the_student_names_are_what_the_solution_cells_define():
    assert plan.student_names(["class Pool:\n    size = 3\n", "x, (y, z) = 1, (2, 3)\ndef f(): w = 1"]) == [
        "Pool",
        "f",
        "x",
        "y",
        "z",
    ]


def test_a_function_on_symbolic_inputs_comes_back_as_its_graph_of_layers():
    import keras

    def block(x, units):
        hidden = keras.layers.Dense(units, activation="relu")(x)
        return keras.layers.Concatenate()([x, hidden])

    class Own(keras.layers.Layer):
        def call(self, x):
            return x * 2

    remote = Loopback({"block": block, "own": lambda x: Own()(x)})
    inputs = keras.Input((4,))
    outputs = remote.ask({"op": "lookup", "name": "block"})(inputs, 3)
    model = keras.Model(inputs, outputs)
    assert [type(layer).__name__ for layer in model.layers] == ["InputLayer", "Dense", "Concatenate"]
    assert model.count_params() == 4 * 3 + 3 and tuple(outputs.shape) == (None, 7)
    shapes_only = remote.ask({"op": "lookup", "name": "own"})(keras.Input((5,)))
    assert tuple(shapes_only.shape) == (None, 5)  # a layer of the student's own: only its output's shape


def test_a_model_of_the_student_s_layers_is_rebuilt_here_only_around_stand_ins(monkeypatch):
    import keras

    from cvcourse import training

    class Doubler(keras.layers.Layer):  # the student's layer: code the grader never runs
        def call(self, x):
            return x * 2

    class CourseDoubler(keras.layers.Layer):  # the grader's version of it
        def call(self, x):
            return x * 2

    def build():
        inputs = keras.Input((3,))
        inner = keras.Sequential([keras.Input((3,)), Doubler(), keras.layers.Dense(2)])
        return keras.Model(inputs, keras.layers.Dense(1)(inner(inputs)))

    kernel = Loopback({"build": build, "Doubler": Doubler})
    remote_build, remote_class = (kernel.ask({"op": "lookup", "name": n}) for n in ("build", "Doubler"))
    model = remote_build()  # no stand-ins: the model stays in the student's kernel
    assert isinstance(model, testrunner.Remote) and model.count_params() == 3 * 2 + 2 + 2 + 1
    layers = checks.layers_within(model)  # nested models opened, the student's layer not
    assert [checks.is_instance(layer, remote_class) for layer in layers] == [False, False, True, False, False]
    assert checks.is_instance(model, keras.Model) and not checks.is_instance(layers[1], keras.layers.Dense)
    monkeypatch.setitem(training.stand_ins, "Doubler", CourseDoubler)
    rebuilt = remote_build()
    assert isinstance(rebuilt, keras.Model) and rebuilt in training.recipe_weights
    assert [type(layer).__name__ for layer in checks.layers_within(rebuilt)][-3:] == [
        "CourseDoubler",
        "Dense",
        "Dense",
    ]
    x = np.ones((1, 3), np.float32)
    dense, last = rebuilt.layers[1].layers[-1], rebuilt.layers[-1]
    expected = (2 * x @ dense.kernel.numpy() + dense.bias.numpy()) @ last.kernel.numpy() + last.bias.numpy()
    assert np.allclose(rebuilt(x).numpy(), expected)  # computed here, by the grader's class


def test_a_stand_in_that_cannot_take_the_student_s_config_is_a_student_error(monkeypatch):
    import keras

    from cvcourse import training

    class Scaled(keras.layers.Layer):
        def __init__(self, factor, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor

        def call(self, x):
            return x * self.factor

        def get_config(self):
            return {**super().get_config(), "factor": self.factor, "extra": 1}

    class CourseScaled(Scaled):
        def __init__(self, factor, **kwargs):  # no "extra"
            super().__init__(factor, name=kwargs.get("name"))

    kernel = Loopback({"build": lambda: keras.Sequential([keras.Input((2,)), Scaled(3.0)])})
    monkeypatch.setitem(training.stand_ins, "Scaled", CourseScaled)
    assert isinstance(kernel.ask({"op": "lookup", "name": "build"})(), keras.Model)
    monkeypatch.setitem(training.stand_ins, "Scaled", lambda **config: 1 / 0)
    with pytest.raises(testrunner.StudentError, match="around the course's own Scaled"):
        kernel.ask({"op": "lookup", "name": "build"})()


def test_a_test_s_function_goes_as_source_and_no_code_comes_back():
    double = checks.portable_function("lambda x: 2 * x + 1")
    assert double(3) == 7  # in a student's own kernel it is the function
    kernel = Loopback({"apply": lambda f, x: f(x)})
    assert kernel.ask({"op": "lookup", "name": "apply"})(double, np.arange(3)).tolist() == [1, 3, 5]
    with pytest.raises(wire.WireError, match="code is not accepted"):
        wire.decode(wire.encode({"ok": wire.Source("__import__('os')")}))


def _transfer_pair():
    import keras

    keras.utils.set_random_seed(0)
    base = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(3), keras.layers.BatchNormalization()], name="base"
    )
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(base(inputs, training=False)))
    model.compile(
        optimizer=keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    return model, base


def test_a_model_returned_around_an_argument_holds_the_caller_s_object():
    import keras

    from cvcourse import training

    def around(base, n):
        base.trainable = False
        inputs = keras.Input(base.input_shape[1:])
        return keras.Model(inputs, keras.layers.Dense(n)(base(inputs, training=False)))

    _, base = _transfer_pair()
    model = Loopback({"around": around}).ask({"op": "lookup", "name": "around"})(base, 5)
    assert any(layer is base for layer in model.layers)  # shared, as within one process
    assert base.trainable is False  # what the student's code changed in its copy, made here
    assert {id(v) for v in base.weights} <= {id(v) for v in model.weights}
    drawn = training.recipe_weights[model]
    assert np.array_equal(drawn[0], base.get_weights()[0])  # the base's own weights; the head drawn here
    before = model(np.ones((1, 4), np.float32)).numpy()
    base.layers[0].kernel.assign(base.layers[0].kernel * 0)
    assert not np.allclose(model(np.ones((1, 4), np.float32)).numpy(), before)


def test_a_call_that_unfreezes_and_recompiles_changes_the_caller_s_model():
    import keras

    def unfreeze(model, base, learning_rate):
        assert any(layer is base for layer in model.layers)  # the base inside the model, as the caller has it
        base.trainable = True
        base.layers[-1].trainable = False
        model.layers[-1].kernel.assign(np.full((3, 2), 99.0, np.float32))  # weights never come back
        model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="sparse_categorical_crossentropy")

    model, base = _transfer_pair()
    base.trainable = False
    kernel_before = model.layers[-1].get_weights()[0]
    assert (
        Loopback({"unfreeze": unfreeze}).ask({"op": "lookup", "name": "unfreeze"})(model, base, 3e-4) is None
    )
    assert base.trainable and base.layers[0].trainable and not base.layers[-1].trainable
    assert isinstance(model.optimizer, keras.optimizers.Adam)
    assert np.isclose(float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)), 3e-4)
    assert model.get_compile_config()["metrics"] is None
    assert np.array_equal(model.layers[-1].get_weights()[0], kernel_before)


def test_a_compile_of_classes_of_the_student_s_own_is_refused():
    import keras

    class Mine(keras.losses.Loss):
        def call(self, y_true, y_pred):
            return keras.ops.mean(y_pred)

    def recompile(model):
        model.compile(optimizer="adam", loss=Mine())

    model, _ = _transfer_pair()
    with pytest.raises(testrunner.StudentError, match="compiled with Mine"):
        Loopback({"recompile": recompile}).ask({"op": "lookup", "name": "recompile"})(model)
    assert model.get_compile_config()["loss"] == "sparse_categorical_crossentropy"


def test_only_a_new_compile_comes_back_as_one():
    import keras

    def retune(model):  # the optimizer's variable changed, no compile: the caller's model keeps its compile
        model.optimizer.learning_rate.assign(1e-5)
        model.layers[-1].trainable = False

    def same_optimizer(model):  # compile again with the same optimizer object: a new compile
        model.compile(optimizer=model.optimizer, loss="mse")

    model, _ = _transfer_pair()
    kernel = Loopback({"retune": retune, "same_optimizer": same_optimizer})
    kernel.ask({"op": "lookup", "name": "retune"})(model)
    assert not model.layers[-1].trainable
    assert np.isclose(float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)), 1e-2)
    kernel.ask({"op": "lookup", "name": "same_optimizer"})(model)
    assert model.get_compile_config()["loss"] == "mse"


def test_a_large_request_reaches_the_kernel_as_a_file_and_is_removed_after(tmp_path, monkeypatch):
    """Through :class:`grader.trusted_execute.TrustedExecute`, with a stand-in kernel client that runs
    the code it is sent here: a request over LARGE_REQUEST bytes comes as a file, not inside the code."""
    from grader import trusted_execute

    namespace, sent = {"total": lambda a: float(a.sum())}, []

    class Kernel:  # runs the agent's call here, as the student's kernel would, and replies as it does
        def execute(self, code, **_):
            sent.append(code)
            replies = []
            monkeypatch.setattr(
                grading_agent,
                "_reply",
                lambda request, mime: replies.append(grading_agent.answer(request, namespace)),
            )
            exec(code, {})
            data = {trusted_execute.MIME: base64.b64encode(replies[0]).decode()}
            self.messages = [
                {"parent_header": {"msg_id": "m"}, "msg_type": "display_data", "content": {"data": data}},
                {
                    "parent_header": {"msg_id": "m"},
                    "msg_type": "status",
                    "content": {"execution_state": "idle"},
                },
            ]
            return "m"

        async def get_iopub_msg(self, timeout):
            return self.messages.pop(0)

        async def get_shell_msg(self, timeout):
            return {"parent_header": {"msg_id": "m"}}

    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path))
    executor = trusted_execute.TrustedExecute()
    executor.kc, executor._unresponsive = Kernel(), False
    executor._requests = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)

    class Channel(testrunner.Channel):
        def __init__(self):  # no connection: each request goes to the executor at once
            pass

        def send(self, message):
            self.reply = {
                "op": "answer",
                "payload": base64.b64encode(
                    executor._ask_student(base64.b64decode(message["payload"]), 30)
                ).decode(),
            }

        def receive(self):
            return self.reply

    try:
        total = Channel().ask({"op": "lookup", "name": "total"})
        assert total(np.ones(10)) == 10.0 and "serve_file" not in sent[-1]  # small: inside the code
        big = np.ones((300, 300))  # 720 kB
        assert total(big) == 90_000.0
        assert "serve_file" in sent[-1] and str(tmp_path) in sent[-1] and len(sent[-1]) < 1000
        assert list(tmp_path.iterdir()) == []  # the request file is gone once answered
    finally:
        os.close(executor._requests)
