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
