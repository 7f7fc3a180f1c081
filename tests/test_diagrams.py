"""Tests of cvcourse.diagrams: model diagrams come from keras.utils.plot_model on the real model (or a
text fallback that says how to install Graphviz), the YOLO tensor picture reads S, B and C from the
output shape, and bad inputs fail with messages that say what was expected."""

import io

import keras
import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.patches import ConnectionPatch, Rectangle

from cvcourse import diagrams

matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def two_branch_model() -> keras.Model:
    inputs = keras.Input((16, 16, 3))
    left = keras.layers.Conv2D(4, 1, name="one_by_one")(inputs)
    right = keras.layers.Conv2D(4, 3, padding="same", name="three_by_three")(inputs)
    return keras.Model(inputs, keras.layers.Concatenate(name="joined")([left, right]))


def png_size(data: bytes) -> tuple[int, int]:
    image = plt.imread(io.BytesIO(data), format="png")
    return image.shape[1], image.shape[0]


def test_show_model_draws_a_png_of_the_graph():
    assert diagrams.graphviz_available(), "make setup installs Graphviz and pydot"
    picture = diagrams.show_model(two_branch_model())
    assert picture.data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = png_size(picture.data)
    assert width > height  # two branches side by side, three ranks deep


def test_show_model_left_to_right_is_wider_than_top_to_bottom():
    layers = [keras.Input((8,)), keras.layers.Dense(4), keras.layers.Dense(2), keras.layers.Dense(1)]
    model = keras.Sequential(layers)
    tall_width, tall_height = png_size(diagrams.show_model(model).data)
    wide_width, wide_height = png_size(diagrams.show_model(model, rankdir="LR").data)
    assert wide_width / wide_height > 3 * tall_width / tall_height


def test_show_model_without_graphviz_prints_the_layers_and_how_to_install(monkeypatch, capsys):
    monkeypatch.setattr(diagrams.shutil, "which", lambda name: None)
    assert diagrams.show_model(two_branch_model()) is None
    printed = capsys.readouterr().out
    assert "apt-get install graphviz" in printed and "three_by_three" in printed


@pytest.mark.parametrize(
    ("argument", "error", "words"),
    [
        (keras.layers.Dense(3), TypeError, "keras.Model"),
        ("model", TypeError, "keras.Model"),
    ],
)
def test_show_model_refuses_what_is_not_a_model(argument, error, words):
    with pytest.raises(error, match=words):
        diagrams.show_model(argument)


def test_show_model_rankdir_is_checked():
    with pytest.raises(ValueError, match="'TB'"):
        diagrams.show_model(two_branch_model(), rankdir="BT")


def test_show_yolo_output_draws_the_grid_and_one_cells_numbers():
    fig = diagrams.show_yolo_output(np.zeros((70, 70)), (None, 7, 7, 2 * 5 + 20), 2, 20, cell=(1, 5))
    ax_image, ax_cell = fig.axes
    assert len(ax_image.lines) == 2 * 6  # inner grid lines, both directions
    highlighted = [p for p in ax_image.patches if isinstance(p, Rectangle)]
    assert len(highlighted) == 1 and highlighted[0].get_xy() == (5 * 10 - 0.5, 1 * 10 - 0.5)
    slots = [p for p in ax_cell.patches if isinstance(p, Rectangle)]
    assert len(slots) == 30
    labels = [t.get_text() for t in ax_cell.texts]
    assert labels.count("conf") == 2 and "p19" in labels and "p20" not in labels
    assert "7 x 7 x 30" in fig._suptitle.get_text()
    assert any(isinstance(a, ConnectionPatch) for a in fig.artists)


@pytest.mark.parametrize(
    ("shape", "cell", "words"),
    [
        ((None, 7, 7, 29), None, "B \\* 5 \\+ C = 30"),
        ((None, 7, 5, 30), None, "S, S"),
        ((7, 7, 30), None, "S, S"),
        ((None, 7, 7, 30), (7, 0), "outside"),
    ],
)
def test_show_yolo_output_explains_a_shape_that_does_not_fit(shape, cell, words):
    with pytest.raises(ValueError, match=words):
        diagrams.show_yolo_output(np.zeros((70, 70)), shape, 2, 20, cell=cell)


class TinyUnit(keras.layers.Layer):
    """A residual unit as chapter 5 writes one: lists `main_layers` and `skip_layers`, a projection
    added in `build` when the shapes differ."""

    def __init__(self, filters, strides=1, **kwargs):
        super().__init__(**kwargs)
        self.filters, self.strides, self.activation = filters, strides, keras.activations.get("relu")
        self.main_layers = [keras.layers.Conv2D(filters, 3, strides=strides, padding="same"),
                            keras.layers.BatchNormalization()]
        self.skip_layers = []

    def build(self, input_shape):
        if self.strides > 1 or input_shape[-1] != self.filters:
            self.skip_layers = [keras.layers.Conv2D(self.filters, 1, strides=self.strides)]

    def call(self, inputs):
        z, skip = inputs, inputs
        for layer in self.main_layers:
            z = layer(z)
        for layer in self.skip_layers:
            skip = layer(skip)
        return self.activation(z + skip)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "strides": self.strides}


@pytest.mark.parametrize(
    ("layer", "label"),
    [
        (keras.layers.Conv2D(64, 7, strides=2), "conv 7x7, 64 filters, stride 2"),
        (keras.layers.Conv2D(8, 1), "conv 1x1, 8 filters"),
        (keras.layers.MaxPooling2D(3, strides=2), "max pool 3x3, stride 2"),
        (keras.layers.Dense(10, activation="softmax"), "dense 10, softmax"),
        (keras.layers.Activation("relu"), "relu"),
        (keras.layers.GlobalAveragePooling2D(), "global average pool"),
        (keras.layers.Flatten(name="flat"), "flat"),
    ],
)
def test_layer_label_reads_the_configuration(layer, label):
    assert diagrams.layer_label(layer) == label


def test_show_unit_opens_the_unit_into_its_own_layers(monkeypatch):
    monkeypatch.setattr(diagrams, "show_model", lambda model, **options: model)  # the model it would draw
    identity = diagrams.show_unit(TinyUnit(8), (16, 16, 8))
    names = [layer.name for layer in identity.layers]
    assert names == ["input", "main 1: conv 3x3, 8 filters", "main 2: batch norm", "main + skip",
                     "relu after the addition"]
    projection = diagrams.show_unit(TinyUnit(16, strides=2), (16, 16, 8))
    assert "skip 1: conv 1x1, 16 filters, stride 2" in [layer.name for layer in projection.layers]
    assert projection.output_shape == (None, 8, 8, 16)


def test_show_unit_names_what_a_unit_lacks():
    with pytest.raises(TypeError, match="main_layers"):
        diagrams.show_unit(keras.layers.Dense(3), (4,))


def test_show_stages_draws_one_box_per_unit_hatched_where_projected():
    inputs = keras.Input((32, 32, 3))
    x = keras.layers.Conv2D(8, 3, strides=2, padding="same")(inputs)
    for filters, strides in [(8, 1), (8, 1), (16, 2), (16, 1)]:
        x = TinyUnit(filters, strides)(x)
    model = keras.Model(inputs, keras.layers.Dense(10)(keras.layers.GlobalAveragePooling2D()(x)), name="tiny")
    fig = diagrams.show_stages(model, TinyUnit)
    ax = fig.axes[0]
    boxes = [p for p in ax.patches if isinstance(p, Rectangle) and p.get_width() > 0]
    assert len(boxes) == 2 + 4  # stem, head, four units
    hatched = [p for p in boxes if p.get_hatch()]
    assert len(hatched) == 1  # only the stride-2 unit projects
    texts = [t.get_text() for t in ax.texts]
    assert "stage 1\n2 units, 8 filters\nfirst: stride 1" in texts and "8×8×16" in texts
    assert "4 TinyUnits" in ax.get_title()


def test_show_stages_needs_the_unit_class_in_the_model():
    with pytest.raises(ValueError, match="no TinyUnit"):
        diagrams.show_stages(two_branch_model(), TinyUnit)
