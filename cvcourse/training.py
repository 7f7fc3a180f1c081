"""The fixed training routine that grades an accuracy target, the same for every student.

A graded cell that trains a student's model must give one score for one submission (seeds
fixed, deterministic operations), must never train on the test split, and must refuse a model
that would blow the chapter's time budget quickly and in words, instead of hanging the grader.
:func:`train_classifier` does all three for a classifier; :func:`fit_fixed` is the same recipe
for a model with other outputs (boxes, masks), and :func:`check_classifier` the interface check.

>>> from cvcourse import data, training
>>> fashion = data.load_fashion_mnist()
>>> run = training.train_classifier(model, fashion, epochs=4)      # doctest: +SKIP
>>> run.test_accuracy                                                # doctest: +SKIP
0.9151
"""

from __future__ import annotations

import os
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from cvcourse.checks import CheckFailed, expect_close, expect_equal, expect_keras_layers_only
from cvcourse.grading_agent import layers_inside


@dataclass
class TrainingRun:
    """What :func:`train_classifier` returns: the trained model, its history and its scores."""

    model: keras.Model
    history: keras.callbacks.History
    test_accuracy: float
    validation_accuracy: float
    seconds: float

    def report(self, target: float | None = None) -> str:
        """One line for the notebook: accuracy, time and the margin over ``target``."""
        text = (f"{self.model.count_params():,} parameters, {len(self.history.epoch)} epochs in "
                f"{self.seconds:.0f} s: validation accuracy {self.validation_accuracy:.4f}, "
                f"test accuracy {self.test_accuracy:.4f}")
        if target is not None:
            text += f" (target {target:g}, margin {self.test_accuracy - target:+.4f})"
        return text


def warmup_cosine(peak_learning_rate: float, total_steps: int, warmup_fraction: float = 0.1):
    """A learning rate that rises linearly to its peak, then decays to zero along a cosine.

    >>> schedule = warmup_cosine(4e-3, total_steps=1000)
    >>> round(float(schedule(100)), 6), round(float(schedule(1000)), 6)
    (0.004, 0.0)
    """
    if total_steps < 1:
        raise ValueError(f"total_steps should be a positive number of steps, got {total_steps}")
    warmup_steps = int(total_steps * warmup_fraction)
    return keras.optimizers.schedules.CosineDecay(
        0.0, total_steps - warmup_steps, warmup_target=peak_learning_rate, warmup_steps=warmup_steps)


def set_batchnorm_momentum(model: keras.Model, momentum: float = 0.9) -> int:
    """Set the moving-average momentum of every BatchNormalization layer, nested ones included.

    Keras' default 0.99 remembers about 100 steps: too slow for a training of a few hundred
    steps, whose moving statistics then lag behind the weights. Returns how many layers changed.

    >>> set_batchnorm_momentum(keras.Sequential([keras.layers.BatchNormalization()]))
    1
    """
    layers = [model, *layers_inside(model)]
    norms = [layer for layer in layers if isinstance(layer, keras.layers.BatchNormalization)]
    for layer in norms:
        layer.momentum = momentum
    return len(norms)


class TimeBudget(keras.callbacks.Callback):
    """Stop a training whose steps, timed after a warm-up, would take longer than ``limit_seconds``.

    Steps ``first_step`` to ``last_step`` of the first epoch are timed (the first steps build
    the graph and are slow; the window shrinks to fit a short epoch) and extrapolated over every
    epoch; a training over the limit raises :class:`~cvcourse.checks.CheckFailed` with the
    projection, so the grader moves on at once. The time is the *work* the steps took: this
    process's CPU time divided by the cores it may use, about the wall time on a quiet machine,
    and the same when other gradings share the machine (a busy machine stretches wall time, not
    work), so one model gets one verdict at every grading. Set the limit well above the expected
    time: it guards against a model several times too slow.

    >>> model.fit(x, y, epochs=4, callbacks=[TimeBudget(300, epochs=4)])   # doctest: +SKIP
    """

    def __init__(self, limit_seconds: float, epochs: int, first_step: int = 10, last_step: int = 50):
        super().__init__()
        if not 0 <= first_step < last_step:
            raise ValueError(f"need 0 <= first_step < last_step, got {first_step} and {last_step}")
        self.limit_seconds, self.epochs = limit_seconds, epochs
        self.first_step, self.last_step = first_step, last_step
        self.projected_seconds: float | None = None
        self._start: float | None = None

    def on_train_begin(self, logs=None):
        steps = (self.params or {}).get("steps") or self.last_step + 1
        self._last = min(self.last_step, max(steps - 1, 1))
        self._first = min(self.first_step, self._last // 2)

    @staticmethod
    def work_seconds() -> float:
        """This process's CPU seconds per core it may use."""
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()  # macOS
        return time.process_time() / (cores or 1)

    def on_train_batch_begin(self, batch, logs=None):
        if batch == self._first and self._start is None:
            self._start = self.work_seconds()

    def on_train_batch_end(self, batch, logs=None):
        if batch != self._last or self._start is None or self.projected_seconds is not None:
            return
        per_step = (self.work_seconds() - self._start) / (self._last - self._first + 1)
        self.projected_seconds = per_step * self.params["steps"] * self.epochs
        if self.projected_seconds > self.limit_seconds:
            raise CheckFailed(
                f"training this model would take about {self.projected_seconds:.0f} s of work, more than the "
                f"{self.limit_seconds:.0f} s allowed: use fewer filters where the feature maps are large "
                "(a strided first layer, or pool earlier).")


# The environment variable that turns progress bars off: "0" wherever nobody watches a cell run.
# The grader sets it for every kernel and test process it starts (grader/sandbox.py's
# GRADING_ENVIRONMENT), and make html / make slides (grader/publish.py) for the notebooks they run.
PROGRESS_VARIABLE = "CVCOURSE_PROGRESS"


class ProgressBar(keras.callbacks.ProgbarLogger):
    """Keras' own progress bar (epoch number, steps, ETA, metrics), written to stdout, whatever
    ``verbose`` the training was given (the course's trainings pass ``verbose=0``).

    >>> model.fit(x, y, epochs=3, verbose=0, callbacks=[ProgressBar()])   # doctest: +SKIP
    """

    def set_params(self, params):
        super().set_params({**params, "verbose": 1})


def show_progress() -> bool:
    """Whether a training shows its progress: yes, unless :data:`PROGRESS_VARIABLE` is ``0`` (graded,
    published).

    >>> os.environ[PROGRESS_VARIABLE] = "0"; show_progress()
    False
    >>> del os.environ[PROGRESS_VARIABLE]; show_progress()
    True
    """
    return os.environ.get(PROGRESS_VARIABLE, "1").strip().lower() not in ("0", "false", "no", "off")


def progress_callbacks() -> list[keras.callbacks.Callback]:
    """The callbacks that show a training's progress: ``[ProgressBar()]`` when a person watches the
    cell (:func:`show_progress`), ``[]`` when graded or published. Every training of the course
    passes them, so that no long cell runs silent.

    >>> model.fit(x, y, epochs=3, verbose=0, callbacks=progress_callbacks())   # doctest: +SKIP
    """
    return [ProgressBar()] if show_progress() else []


def check_classifier(
    model,
    input_shape: tuple,
    n_classes: int,
    max_params: int,
    what: str = "the model",
    *,
    keras_layers_only: bool = True,
) -> None:
    """Check a classifier's interface before training it: a Keras model of Keras' own layers (one
    the grader can rebuild; ``keras_layers_only=False`` where the exercise asks for a layer class
    of the student's own, which the grader replaces by its own version, :data:`stand_ins`), its
    input and output shapes, at most ``max_params`` parameters, and softmax outputs (each row sums to 1).

    >>> check_classifier(keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")]),
    ...                  (4,), 3, max_params=100)
    """
    if keras_layers_only:
        expect_keras_layers_only(model, what)
    expect_equal(tuple(model.input_shape), (None, *input_shape), f"{what}'s input_shape")
    expect_equal(tuple(model.output_shape), (None, n_classes), f"{what}'s output_shape")
    if model.count_params() > max_params:
        raise CheckFailed(f"{what} has {model.count_params():,} parameters, more than the "
                          f"{max_params:,} that train within the budget.")
    probe = np.zeros((2, *input_shape), np.float32)
    probabilities = keras.ops.convert_to_numpy(model(probe, training=False))
    what_sums = f"the sum of {what}'s {n_classes} outputs (a softmax)"
    expect_close(probabilities.sum(axis=1), np.ones(2), what_sums, atol=1e-3)


# Models the grader rebuilt from a student's description (cvcourse.wire): the initial weights the
# grader drew when it rebuilt them, after the recipe fixed the seeds. The recipe trains from these,
# never from weights the student's kernel sent (which could have been trained on the test images).
recipe_weights: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

# Layer classes the grader builds in place of a student's class of the same name when it rebuilds a
# student's model to train it ({class name: class}). A hidden test registers the course's own version
# of a layer the exercise asks for (ch05's ResidualUnit): the model's design is then the student's,
# read from its configuration, and no student code runs where it is trained and scored. Empty in a
# student's kernel, where the student's own classes are trained.
stand_ins: dict[str, type] = {}


def start_from_drawn_weights(model: keras.Model) -> keras.Model:
    """Give ``model`` the initial weights the grader drew when it rebuilt it from the student's kernel
    (:data:`recipe_weights`), never those the student's kernel sent; a model built here is unchanged.

    >>> model = start_from_drawn_weights(build_transfer_model(base, 10))  # doctest: +SKIP
    """
    if model in recipe_weights:
        model.set_weights(recipe_weights[model])
    return model


def fit_fixed(
    model: keras.Model,
    x,
    y,
    *,
    loss,
    epochs: int,
    batch_size: int,
    peak_learning_rate: float,
    time_limit_seconds: float,
    validation_data=None,
    sample_weight=None,
    loss_weights=None,
    metrics=None,
    batchnorm_momentum: float = 0.9,
) -> tuple[keras.callbacks.History, float]:
    """Compile and fit ``model`` with the course's fixed recipe; return the history and the seconds.

    Deterministic operations; batch-norm momentum ``batchnorm_momentum``; Adam whose learning rate
    warms up over the first 10 % of the steps to ``peak_learning_rate``, then decays to zero along
    a cosine; :class:`TimeBudget` stops a training that would take longer than
    ``time_limit_seconds``; a progress bar shows when a person watches (:func:`progress_callbacks`).
    Fix the seeds (``keras.utils.set_random_seed``) *before* building the model: then its initial
    weights, too, are the same at every grading. A model the grader rebuilt
    from the student's kernel (:data:`recipe_weights`) starts from the weights the grader drew.
    :func:`train_classifier` uses it; so do the routines for boxes and masks (chapters 8 to 10).

    >>> keras.utils.set_random_seed(42)                                     # doctest: +SKIP
    >>> history, seconds = fit_fixed(build_unet(), x, y, loss="sparse_categorical_crossentropy",
    ...                              epochs=6, batch_size=32, peak_learning_rate=4e-3,
    ...                              time_limit_seconds=240)                # doctest: +SKIP
    """
    tf.config.experimental.enable_op_determinism()
    start_from_drawn_weights(model)
    set_batchnorm_momentum(model, batchnorm_momentum)
    steps = epochs * int(np.ceil(len(x) / batch_size))
    model.compile(optimizer=keras.optimizers.Adam(warmup_cosine(peak_learning_rate, steps)),
                  loss=loss, loss_weights=loss_weights, metrics=metrics)
    start = time.perf_counter()
    history = model.fit(x, y, validation_data=validation_data, sample_weight=sample_weight, epochs=epochs,
                        batch_size=batch_size, verbose=0,
                        callbacks=[TimeBudget(time_limit_seconds, epochs), *progress_callbacks()])
    return history, time.perf_counter() - start


def train_classifier(
    model: keras.Model | Callable[[], keras.Model],
    splits,
    *,
    epochs: int = 4,
    batch_size: int = 128,
    peak_learning_rate: float = 4e-3,
    n_validation: int = 5_000,
    batchnorm_momentum: float = 0.9,
    time_limit_seconds: float = 300,
    seed: int = 42,
) -> TrainingRun:
    """Train ``model`` (not yet compiled) the same way for everyone and score it on the test split.

    ``model`` may be a function that builds the model: it is then called after the seeds are
    set, so that its initial weights, too, are the same at every grading. Seeds fixed and
    deterministic operations, so that one submission gives one score; Adam with a
    linear warm-up over the first 10 % of the steps and a cosine decay to zero; batch-norm
    momentum ``batchnorm_momentum``; the last ``n_validation`` training images held out for
    validation; the test images of ``splits`` only scored, never trained on. A training whose
    first steps project past ``time_limit_seconds`` stops with :class:`CheckFailed`.

    >>> run = train_classifier(build_my_cnn, data.load_fashion_mnist())   # doctest: +SKIP
    >>> print(run.report(target=0.91))                                     # doctest: +SKIP
    """
    if not 0 < n_validation < len(splits.x_train):
        raise ValueError(f"n_validation should be between 1 and {len(splits.x_train) - 1}, "
                         f"got {n_validation}")
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    if not isinstance(model, keras.Model):
        if not callable(model):
            raise TypeError(f"train_classifier takes a keras.Model or a function that builds one, "
                            f"got {model!r}")
        model = model()
        if not isinstance(model, keras.Model):
            raise CheckFailed(f"the model builder should return a keras.Model, got {type(model).__name__}.")
    x_train, y_train = splits.x_train[:-n_validation], splits.y_train[:-n_validation]
    x_valid, y_valid = splits.x_train[-n_validation:], splits.y_train[-n_validation:]
    history, seconds = fit_fixed(
        model, x_train, y_train, loss="sparse_categorical_crossentropy", metrics=["accuracy"],
        validation_data=(x_valid, y_valid), epochs=epochs, batch_size=batch_size,
        peak_learning_rate=peak_learning_rate, time_limit_seconds=time_limit_seconds,
        batchnorm_momentum=batchnorm_momentum)
    test_accuracy = model.evaluate(splits.x_test, splits.y_test, batch_size=1000, verbose=0,
                                   callbacks=progress_callbacks())[1]
    validation_accuracy = float(history.history["val_accuracy"][-1])
    return TrainingRun(model, history, float(test_accuracy), validation_accuracy, seconds)
