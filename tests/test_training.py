"""The fixed training routine: schedule, batch-norm momentum, time budget, interface checks, determinism."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest

from cvcourse import training
from cvcourse.checks import CheckFailed
from cvcourse.data import ImageSplits
from cvcourse.grading_agent import layers_inside


def tiny_splits(n_train=240, n_test=60, seed=0) -> ImageSplits:
    """Two separable classes of 8x8 images: bright left half or bright right half, plus noise."""
    rng = np.random.default_rng(seed)

    def make(n):
        y = rng.integers(0, 2, size=n).astype(np.uint8)
        x = rng.uniform(0, 0.3, size=(n, 8, 8, 1)).astype(np.float32)
        for i, label in enumerate(y):
            x[i, :, (4 * label):(4 * label + 4)] += 0.6
        return x, y

    x_train, y_train = make(n_train)
    x_test, y_test = make(n_test)
    return ImageSplits(x_train, y_train, x_test, y_test, ("left", "right"), "synthetic halves (a unit test)")


def tiny_model() -> keras.Model:
    inputs = keras.Input((8, 8, 1))
    x = keras.layers.Conv2D(4, 3, padding="same", use_bias=False)(inputs)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.Activation("relu")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(x))


def test_warmup_cosine_rises_to_the_peak_then_decays_to_zero():
    schedule = training.warmup_cosine(4e-3, total_steps=1000)
    values = [float(schedule(step)) for step in (0, 50, 100, 550, 1000)]
    assert values[0] == pytest.approx(0.0, abs=1e-9)
    assert values[1] == pytest.approx(2e-3, rel=1e-3)
    assert values[2] == pytest.approx(4e-3, rel=1e-6)
    assert values[3] == pytest.approx(2e-3, rel=1e-3)  # half way down the cosine
    assert values[4] == pytest.approx(0.0, abs=1e-9)
    with pytest.raises(ValueError, match="total_steps"):
        training.warmup_cosine(1e-3, total_steps=0)


class UnitWithNorms(keras.layers.Layer):
    """A layer that holds sublayers in attributes, as chapter 5's ResidualUnit does (and one in a dict)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.main_layers = [keras.layers.Dense(4), keras.layers.BatchNormalization()]
        self.skip_layers = []
        self._extra = {"norm": keras.layers.BatchNormalization()}

    def build(self, input_shape):
        self.skip_layers = [keras.layers.Dense(4), keras.layers.BatchNormalization()]

    def call(self, inputs):
        z, skip = inputs, inputs
        for layer in self.main_layers:
            z = layer(z)
        for layer in self.skip_layers:
            skip = layer(skip)
        return self._extra["norm"](z + skip)


def test_set_batchnorm_momentum_reaches_nested_layers():
    inner = keras.Sequential([keras.Input((4,)), keras.layers.BatchNormalization()])
    outer = keras.Sequential([keras.Input((4,)), inner, keras.layers.BatchNormalization()])
    assert training.set_batchnorm_momentum(outer, 0.8) == 2
    assert [layer.momentum for layer in (inner.layers[0], outer.layers[1])] == [0.8, 0.8]
    assert training.set_batchnorm_momentum(keras.layers.BatchNormalization(), 0.5) == 1


def test_set_batchnorm_momentum_reaches_the_layers_inside_a_custom_layer():
    inputs = keras.Input((4,))
    unit = UnitWithNorms()
    model = keras.Model(inputs, keras.layers.Dense(2)(keras.Sequential([unit])(unit(inputs))))
    norms = [unit.main_layers[1], unit.skip_layers[1], unit._extra["norm"]]
    assert training.set_batchnorm_momentum(model, 0.7) == 3
    assert [norm.momentum for norm in norms] == [0.7, 0.7, 0.7]
    inside = layers_inside(model)
    assert len(inside) == len({id(layer) for layer in inside})  # each once (the unit is used twice)
    assert {type(layer).__name__ for layer in inside} == {
        "InputLayer", "UnitWithNorms", "Dense", "BatchNormalization", "Sequential"}
    assert inside.count(unit) == 1 and all(norm in inside for norm in norms)


def test_check_classifier_explains_each_problem():
    good = tiny_model()
    training.check_classifier(good, (8, 8, 1), 2, max_params=1_000)
    with pytest.raises(CheckFailed, match="keras.Model"):
        training.check_classifier(lambda x: x, (8, 8, 1), 2, max_params=1_000)
    with pytest.raises(CheckFailed, match="output_shape"):
        training.check_classifier(good, (8, 8, 1), 3, max_params=1_000)
    with pytest.raises(CheckFailed, match="parameters"):
        training.check_classifier(good, (8, 8, 1), 2, max_params=10)
    logits = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(), keras.layers.Dense(2)])
    with pytest.raises(CheckFailed, match="softmax"):
        training.check_classifier(logits, (8, 8, 1), 2, max_params=1_000)


def test_a_layer_of_the_students_own_is_refused_unless_the_exercise_asks_for_one():
    class Doubling(keras.layers.Layer):
        def call(self, x):
            return 2 * x

    inputs = keras.Input((8, 8, 1))
    outputs = keras.layers.Dense(2, activation="softmax")(keras.layers.Flatten()(Doubling()(inputs)))
    own = keras.Model(inputs, outputs)
    with pytest.raises(CheckFailed, match="Doubling"):
        training.check_classifier(own, (8, 8, 1), 2, max_params=1_000)
    training.check_classifier(own, (8, 8, 1), 2, max_params=1_000, keras_layers_only=False)


def test_train_classifier_is_deterministic_and_never_trains_on_test_images():
    splits = tiny_splits()
    runs = [training.train_classifier(tiny_model, splits, epochs=3, batch_size=16, peak_learning_rate=0.05,
                                      n_validation=40) for _ in range(2)]
    assert runs[0].test_accuracy == runs[1].test_accuracy
    assert np.allclose(runs[0].history.history["loss"], runs[1].history.history["loss"])
    assert runs[0].test_accuracy > 0.9  # the halves are easy
    # 200 training images in batches of 16 is 13 steps per epoch: the validation and test images stay out
    assert runs[0].history.params["steps"] == 13
    # a model built before the call gets the same score when the seed is set before building it
    keras.utils.set_random_seed(42)
    prebuilt = training.train_classifier(tiny_model(), splits, epochs=3, batch_size=16,
                                         peak_learning_rate=0.05, n_validation=40)
    assert prebuilt.test_accuracy == runs[0].test_accuracy
    assert "test accuracy" in runs[0].report(target=0.5) and "margin" in runs[0].report(target=0.5)


def test_time_budget_stops_a_training_that_would_take_too_long():
    splits = tiny_splits(n_train=600)
    with pytest.raises(CheckFailed, match="would take about"):
        training.train_classifier(tiny_model(), splits, epochs=50, batch_size=8, n_validation=40,
                                  time_limit_seconds=1e-6)


def test_train_classifier_rejects_bad_arguments():
    with pytest.raises(ValueError, match="n_validation"):
        training.train_classifier(tiny_model(), tiny_splits(), n_validation=0)
    with pytest.raises(TypeError, match="keras.Model or a function"):
        training.train_classifier("my model", tiny_splits(), n_validation=40)
    with pytest.raises(CheckFailed, match="should return a keras.Model"):
        training.train_classifier(lambda: None, tiny_splits(), n_validation=40)


def test_time_budget_window_fits_a_short_epoch():
    # 200 training images in batches of 16: 13 steps per epoch, fewer than the default window's 50
    with pytest.raises(CheckFailed, match="would take about"):
        training.train_classifier(tiny_model, tiny_splits(), epochs=3, batch_size=16, n_validation=40,
                                  time_limit_seconds=1e-6)
    with pytest.raises(ValueError, match="first_step < last_step"):
        training.TimeBudget(10, epochs=1, first_step=5, last_step=5)


def test_a_training_shows_its_progress_on_stdout_when_watched(monkeypatch, capsys):
    monkeypatch.delenv(training.PROGRESS_VARIABLE, raising=False)
    callbacks = training.progress_callbacks()
    assert [type(callback) for callback in callbacks] == [training.ProgressBar]
    training.train_classifier(tiny_model, tiny_splits(), epochs=2, batch_size=32, n_validation=40)
    out, err = capsys.readouterr()
    assert "Epoch 2/2" in out and "/step" in out, out  # the epochs, and the bar with its time left
    assert out.count("━") > 20  # the training's bars and the test split's
    assert err == ""


def test_nothing_shows_when_graded_or_published(monkeypatch, capsys):
    from grader import sandbox, trusted_execute

    grading = {**sandbox.allowed_environment(), **trusted_execute.test_process_environment(Path("/tmp"))}
    assert grading[training.PROGRESS_VARIABLE] == "0"  # every kernel and test process the grader starts
    monkeypatch.setenv(training.PROGRESS_VARIABLE, sandbox.GRADING_ENVIRONMENT[training.PROGRESS_VARIABLE])
    assert training.progress_callbacks() == []
    run = training.train_classifier(tiny_model, tiny_splits(), epochs=2, batch_size=32, n_validation=40)
    assert len(run.history.epoch) == 2
    assert capsys.readouterr() == ("", "")
