"""Tests of cvcourse.plotting and cvcourse.widgets: each function returns a Figure with the expected
axes and artists, and bad inputs fail with messages that say what was expected."""

import math
from pathlib import Path
from types import SimpleNamespace

import ipywidgets
import matplotlib
import matplotlib.pyplot as plt
import nbformat
import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from cvcourse import plotting, widgets

matplotlib.use("Agg")  # off-screen; pyplot picks its backend at the first figure, which is later

RNG = np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def visible_image_axes(fig: Figure) -> list:
    return [ax for ax in fig.axes if ax.get_visible() and ax.images]


def grid_shape(ax) -> tuple[int, int]:
    return ax.get_subplotspec().get_gridspec().get_geometry()


def texts(ax) -> list[str]:
    return [t.get_text() for t in ax.texts]


# ----------------------------------------------------------------------------- show_images


@pytest.mark.parametrize("n", [1, 2, 5, 9, 10])
def test_show_images_grid_is_square_ish_with_one_axes_per_image(n):
    fig = plotting.show_images(RNG.random((n, 12, 10)), titles=[f"t{i}" for i in range(n)])
    assert isinstance(fig, Figure)
    ncols = math.ceil(math.sqrt(n))
    assert grid_shape(fig.axes[0]) == (math.ceil(n / ncols), ncols)
    assert len(visible_image_axes(fig)) == n == len(fig.axes)
    assert [ax.get_title() for ax in fig.axes] == [f"t{i}" for i in range(n)]
    assert all(not ax.get_xticks().size and not ax.get_yticks().size for ax in fig.axes)


def test_show_images_accepts_mixed_shapes_dtypes_and_ncols():
    images = [
        RNG.integers(0, 256, (16, 16, 3), dtype=np.uint8),
        RNG.random((8, 8)),
        RNG.random((8, 8, 1)).astype(np.float32),
        RNG.random((20, 10, 3)) * 1.05,  # a small overshoot is clipped, not refused
        np.ones((5, 5), bool),
    ]
    fig = plotting.show_images(images, ncols=2, suptitle="mixed")
    assert grid_shape(fig.axes[0]) == (3, 2)
    assert len(visible_image_axes(fig)) == 5
    assert fig.get_suptitle() == "mixed"
    assert fig.axes[0].images[0].get_array().shape == (16, 16, 3)
    assert fig.axes[2].images[0].get_array().shape == (8, 8)


def test_show_images_single_image_and_fixed_scale():
    fig = plotting.show_images(RNG.random((10, 12, 3)), titles="one photo")
    assert len(fig.axes) == 1 and fig.axes[0].get_title() == "one photo"
    fig = plotting.show_images(RNG.random((2, 6, 6)), vmin=0, vmax=2, cmap="viridis")
    assert fig.axes[0].images[0].get_clim() == (0, 2)
    assert fig.axes[0].images[0].get_cmap().name == "viridis"
    fig = plotting.show_images(RNG.random((2, 6, 6)) * 5)  # auto-scaled per image
    first, second = (ax.images[0] for ax in fig.axes)
    assert first.get_clim() != second.get_clim()


@pytest.mark.parametrize(
    ("images", "kwargs", "error", "message"),
    [
        (
            np.zeros((3, 8, 8)),
            {"titles": ["a", "b"]},
            ValueError,
            "titles has 2 entries but there are 3 images",
        ),
        (np.zeros((3, 8, 8)), {"titles": "abc"}, TypeError, "one title per image"),
        (
            np.zeros((2, 8, 8, 4)),
            {},
            ValueError,
            r"\(H, W\), \(H, W, 1\) or \(H, W, 3\); got shape \(8, 8, 4\)",
        ),
        ([np.zeros((8, 8, 4))], {}, ValueError, "drop the alpha channel"),
        (np.zeros((2, 3, 8, 8, 1)), {}, ValueError, "got an array of shape"),
        ([np.full((8, 8, 3), 255.0)], {}, ValueError, "divide by 255"),
        ([np.full((8, 8, 3), 300)], {}, ValueError, "should hold 0..255"),
        ([], {}, ValueError, "empty"),
        (np.zeros((101, 4, 4)), {}, ValueError, "too many"),
        (np.zeros((2, 4, 4)), {"ncols": 0}, ValueError, "ncols should be a positive integer"),
        ([np.zeros((4, 4)), np.zeros((4, 5, 6))], {}, ValueError, "image 1 should have shape"),
    ],
)
def test_show_images_rejects_bad_input_clearly(images, kwargs, error, message):
    with pytest.raises(error, match=message):
        plotting.show_images(images, **kwargs)


def test_compare_images_two_panels():
    fig = plotting.compare_images(RNG.random((10, 10)), RNG.random((8, 8)), titles=("image", "map"))
    assert [ax.get_title() for ax in fig.axes] == ["image", "map"]
    assert len(visible_image_axes(fig)) == 2
    with pytest.raises(ValueError, match="titles has 1 entries but there are 2 images"):
        plotting.compare_images(np.zeros((4, 4)), np.zeros((4, 4)), titles=("only one",))


# ----------------------------------------------------------------------------- kernels, feature maps


def test_show_kernels_one_kernel_annotated_with_symmetric_scale():
    kernel = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]])
    fig = plotting.show_kernels(kernel)
    (ax,) = fig.axes
    assert texts(ax) == ["-1", "0", "1", "-2", "0", "2", "-1", "0", "1"]
    assert ax.images[0].get_clim() == (-2, 2)
    assert ax.images[0].get_cmap().name == "RdBu_r"


def test_show_kernels_list_titles_and_float_format():
    fig = plotting.show_kernels([np.full((3, 3), 1 / 9), np.eye(5)], titles=["blur", "diag"])
    assert [ax.get_title() for ax in fig.axes] == ["blur", "diag"]
    assert texts(fig.axes[0])[0] == "0.11" and len(texts(fig.axes[1])) == 25
    assert fig.axes[0].images[0].get_clim() == pytest.approx((-1 / 9, 1 / 9))


def test_show_kernels_keras_weights_first_input_channel_up_to_32():
    weights = RNG.normal(size=(3, 3, 2, 40))
    fig = plotting.show_kernels(weights)
    assert len(fig.axes) == 32
    assert fig.axes[5].get_title() == "filter 5"
    np.testing.assert_allclose(fig.axes[5].images[0].get_array(), weights[:, :, 0, 5])


def test_show_kernels_no_numbers_when_large_or_asked():
    assert not plotting.show_kernels(RNG.random((9, 9))).axes[0].texts
    assert not plotting.show_kernels(RNG.random((3, 3)), annotate=False).axes[0].texts


@pytest.mark.parametrize(
    ("kernels", "kwargs", "message"),
    [
        (np.zeros((3, 3, 4)), {}, "3-D array is ambiguous"),
        ([np.zeros((3, 3)), np.zeros(3)], {}, r"kernel 1 should be a 2-D array \(kh, kw\)"),
        ([], {}, "empty"),
        ([np.zeros((3, 3))] * 2, {"titles": ["a"]}, "titles has 1 entries but there are 2 kernels"),
        (np.full((3, 3), np.nan), {}, "NaN"),
    ],
)
def test_show_kernels_rejects_bad_input(kernels, kwargs, message):
    with pytest.raises(ValueError, match=message):
        plotting.show_kernels(kernels, **kwargs)


def test_show_feature_maps_one_axes_per_channel():
    fig = plotting.show_feature_maps(RNG.random((1, 12, 12, 10)), title="conv1")
    assert len(visible_image_axes(fig)) == 10 and grid_shape(fig.axes[0]) == (2, 8)
    assert fig.get_suptitle() == "conv1"
    fig = plotting.show_feature_maps(RNG.random((6, 6, 40)), ncols=10)
    assert len(fig.axes) == 32 and grid_shape(fig.axes[0]) == (4, 10)
    assert "first 32 of 40" in fig.get_suptitle()


def test_show_feature_maps_rejects_batches_and_bad_shapes():
    with pytest.raises(ValueError, match="batch of 2; pass one example"):
        plotting.show_feature_maps(np.zeros((2, 6, 6, 3)))
    with pytest.raises(ValueError, match=r"\(H, W, C\) or \(1, H, W, C\); got shape \(6,\)"):
        plotting.show_feature_maps(np.zeros(6))
    with pytest.raises(ValueError, match="max_maps should be a positive integer"):
        plotting.show_feature_maps(np.zeros((6, 6, 3)), max_maps=0)


# ----------------------------------------------------------------------------- curves, confusion matrix


HISTORY = {
    "loss": [1.0, 0.6, 0.4, 0.3],
    "val_loss": [1.1, 0.8, 0.6, 0.6],
    "accuracy": [0.5, 0.7, 0.8, 0.9],
    "val_accuracy": [0.4, 0.6, 0.7, 0.75],
}


def test_plot_history_one_panel_per_metric_train_and_validation():
    fig = plotting.plot_history(HISTORY)
    assert [ax.get_title() for ax in fig.axes] == ["loss", "accuracy"]
    for ax in fig.axes:
        assert [line.get_label() for line in ax.lines] == ["train", "validation"]
        assert list(ax.lines[0].get_xdata()) == [1, 2, 3, 4]
        assert ax.get_xlabel() == "epoch"


def test_plot_history_accepts_keras_history_and_one_metric():
    import keras

    history = keras.callbacks.History()
    history.history = {"loss": [0.5, 0.4], "val_loss": [0.6, 0.5]}
    fig = plotting.plot_history(history, metrics="loss")
    assert len(fig.axes) == 1 and len(fig.axes[0].lines) == 2
    fig = plotting.plot_history(SimpleNamespace(history={"loss": [3, 2, 1, 0], "val_loss": [3, 1]}), ["loss"])
    assert list(fig.axes[0].lines[1].get_xdata()) == [2, 4]  # validation_freq=2


def test_plot_history_rejects_missing_metric_listing_what_exists():
    with pytest.raises(ValueError, match="history has no 'acc'.*it records: accuracy, loss, val_accuracy"):
        plotting.plot_history(HISTORY, metrics=("acc",))
    with pytest.raises(TypeError, match="a Keras History"):
        plotting.plot_history([0.5, 0.4])
    with pytest.raises(ValueError, match="is empty"):
        plotting.plot_history({"loss": []}, metrics=("loss",))


def test_plot_confusion_matrix_counts_and_annotations():
    fig = plotting.plot_confusion_matrix([0, 1, 1, 2, 2, 2], [0, 1, 2, 2, 2, 0], class_names=["a", "b", "c"])
    ax = fig.axes[0]
    assert len(fig.axes) == 2  # the matrix and its colour bar
    assert texts(ax) == ["1", "0", "0", "0", "1", "1", "1", "0", "2"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]
    assert "accuracy 0.667" in ax.get_title()


def test_plot_confusion_matrix_normalised_rows_and_probabilities():
    probabilities = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])
    fig = plotting.plot_confusion_matrix([0, 1, 1, 1], probabilities, normalize=True)
    matrix = fig.axes[0].images[0].get_array()
    np.testing.assert_allclose(matrix, [[1, 0], [1 / 3, 2 / 3]])
    assert texts(fig.axes[0]) == ["1.00", "0.00", "0.33", "0.67"]


@pytest.mark.parametrize(
    ("y_true", "y_pred", "kwargs", "message"),
    [
        ([0, 1, 2], [0, 1], {}, "y_true has 3 labels but y_pred has 2"),
        ([0, 5], [0, 1], {"class_names": ["a", "b"]}, "y_true contains class 5 but class_names has 2 names"),
        ([0, 1], [0.2, 0.7], {}, "non-integer values"),
        ([0, 1], [0, 1], {"normalize": "rows"}, "normalize should be"),
        (np.zeros((2, 2, 2)), [0, 1], {}, "should be class ids of shape"),
    ],
)
def test_plot_confusion_matrix_rejects_bad_input(y_true, y_pred, kwargs, message):
    with pytest.raises(ValueError, match=message):
        plotting.plot_confusion_matrix(y_true, y_pred, **kwargs)


# ----------------------------------------------------------------------------- boxes, masks


def rectangles(ax) -> list[Rectangle]:
    return [p for p in ax.patches if isinstance(p, Rectangle)]


def test_draw_boxes_one_rectangle_per_box_with_captions():
    image = RNG.integers(0, 256, (64, 80, 3), dtype=np.uint8)
    boxes = [[10, 20, 30, 40], [0, 0, 5, 5], [50, 30, 79, 63]]
    fig = plotting.draw_boxes(
        image,
        boxes,
        labels=[1, 0, 2],
        scores=[0.9, 0.5, 0.25],
        class_names=["cat", "dog", "fox"],
        title="pred",
    )
    (ax,) = fig.axes
    assert len(rectangles(ax)) == 3 and len(ax.images) == 1
    assert texts(ax) == ["dog 0.90", "cat 0.50", "fox 0.25"]
    first = rectangles(ax)[0]  # exclusive max edges: pixels 10..29 span 9.5 .. 29.5
    assert first.get_xy() == (9.5, 19.5) and (first.get_width(), first.get_height()) == (20, 20)
    assert ax.get_title() == "pred"
    assert ax.get_xlim() == (-0.5, 79.5) and ax.get_ylim() == (63.5, -0.5)


def test_draw_boxes_overlay_on_same_axes_in_another_colour():
    image = np.zeros((32, 32))
    fig = plotting.draw_boxes(image, [[2, 2, 10, 10], [12, 12, 20, 30]])
    again = plotting.draw_boxes(image, np.array([[3, 3, 5, 5]]), box_format="xywh", ax=fig.axes[0])
    assert again is fig
    ax = fig.axes[0]
    assert len(rectangles(ax)) == 3 and len(ax.images) == 1 and not ax.texts
    first, _, overlay = rectangles(ax)
    assert first.get_edgecolor() != overlay.get_edgecolor()
    assert (overlay.get_xy(), overlay.get_width(), overlay.get_height()) == ((2.5, 2.5), 5, 5)
    assert rectangles(plotting.draw_boxes(image, [[1, 1, 4, 4]], color="blue").axes[0])[0].get_edgecolor()[
        :3
    ] == (0, 0, 1)


def test_draw_boxes_into_a_callers_axes_and_no_boxes():
    fig, (left, right) = plt.subplots(1, 2)
    returned = plotting.draw_boxes(np.zeros((8, 8)), np.zeros((0, 4)), ax=right)
    assert returned is fig and isinstance(returned, Figure)
    assert not rectangles(right) and len(right.images) == 1 and not left.images


def test_draw_boxes_skips_padding_rows_of_digit_scenes():
    boxes = np.array([[2, 3, 9, 12], [0, 0, 0, 0], [0, 0, 0, 0]], np.float32)
    fig = plotting.draw_boxes(
        np.zeros((16, 16, 1)), boxes, labels=np.array([7, -1, -1]), class_names="0123456789"
    )
    assert len(rectangles(fig.axes[0])) == 1 and texts(fig.axes[0]) == ["7"]
    assert len(rectangles(plotting.draw_boxes(np.zeros((16, 16)), boxes).axes[0])) == 1


@pytest.mark.parametrize(
    ("boxes", "kwargs", "message"),
    [
        ([[10, 10, 5, 20]], {}, r"box 0 has a negative width.*box_format='xyxy' right\?"),
        ([[1, 2, 3]], {}, r"\(N, 4\) array of \(x_min, y_min, x_max, y_max\)"),
        ([[1, 2, 3, 4]], {"box_format": "cxcywh"}, "box_format should be 'xyxy' or 'xywh'"),
        ([[1, 2, 3, 4]], {"labels": [1, 2]}, "labels has 2 entries but there are 1 boxes"),
        ([[1, 2, 3, 4]], {"scores": []}, "scores has 0 entries but there are 1 boxes"),
        ([[1, 2, 3, 4]], {"labels": [4], "class_names": ["a", "b"]}, "label 4 of item 0 is not a class id"),
        ([[np.nan, 2, 3, 4]], {}, "NaN"),
    ],
)
def test_draw_boxes_rejects_bad_input(boxes, kwargs, message):
    with pytest.raises(ValueError, match=message):
        plotting.draw_boxes(np.zeros((16, 16)), boxes, **kwargs)


def scene_mask() -> np.ndarray:
    mask = np.zeros((24, 30), np.int64)
    mask[2:8, 3:9] = 1
    mask[10:20, 5:25] = 4
    return mask


def test_show_masks_overlay_and_legend_of_present_classes():
    fig = plotting.show_masks(RNG.random((24, 30, 3)), scene_mask(), title="truth")
    ax = fig.axes[0]
    assert len(ax.images) == 2  # the image, then the overlay
    overlay = ax.images[1].get_array()
    assert overlay.shape == (24, 30, 4)
    assert overlay[0, 0, 3] == 0 and overlay[5, 5, 3] == pytest.approx(0.5)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["class 1", "class 4"]
    assert ax.get_title() == "truth"


def test_show_masks_class_names_and_side_by_side():
    names = ["background", "zero", "one", "two", "three"]
    fig, axes = plt.subplots(1, 2)
    plotting.show_masks(np.zeros((24, 30)), scene_mask(), class_names=names, ax=axes[0])
    returned = plotting.show_masks(
        np.zeros((24, 30)), scene_mask() == 4, class_names={1: "digit"}, ax=axes[1]
    )
    assert returned is fig
    assert [t.get_text() for t in axes[0].get_legend().get_texts()] == ["zero", "three"]
    assert [t.get_text() for t in axes[1].get_legend().get_texts()] == ["digit"]


@pytest.mark.parametrize(
    ("mask", "kwargs", "message"),
    [
        (np.zeros((24, 31), int), {}, r"mask has shape \(24, 31\) but the image is \(24, 30\)"),
        (np.zeros((24, 30, 5)), {}, "argmax"),
        (np.full((24, 30), 0.5), {}, "integer class ids"),
        (-np.ones((24, 30), int), {}, "negative class ids"),
        (scene_mask(), {"class_names": ["bg", "a"]}, "mask holds class 4 but class_names has 2 names"),
        (scene_mask(), {"alpha": 1.5}, "alpha should be between 0 and 1"),
    ],
)
def test_show_masks_rejects_bad_input(mask, kwargs, message):
    with pytest.raises(ValueError, match=message):
        plotting.show_masks(np.zeros((24, 30)), mask, **kwargs)


# ----------------------------------------------------------------------------- show_heatmaps


def test_show_heatmaps_stretches_each_map_over_its_image():
    fig = plotting.show_heatmaps(
        RNG.random((3, 28, 28)), RNG.random((3, 7, 7)), titles=list("abc"), vmin=0, vmax=1
    )
    assert len(fig.axes) == 3 and [ax.get_title() for ax in fig.axes] == list("abc")
    for ax in fig.axes:
        picture, heat = ax.images
        assert picture.get_array().shape == (28, 28) and heat.get_array().shape == (7, 7)
        assert heat.get_extent() == [-0.5, 27.5, 27.5, -0.5]   # the 7x7 map covers the whole 28x28 image
        assert heat.get_alpha() == 0.5 and heat.get_clim() == (0, 1)


def test_show_heatmaps_rgb_images_a_list_of_maps_and_one_image():
    fig = plotting.show_heatmaps([RNG.random((16, 24, 3)), RNG.random((16, 24, 3))],
                                 [np.zeros((4, 6)), RNG.random((16, 24, 1))], ncols=1, alpha=0.3)
    assert grid_shape(fig.axes[0]) == (2, 1)
    assert fig.axes[0].images[0].get_array().shape == (16, 24, 3)
    assert fig.axes[1].images[1].get_array().shape == (16, 24) and fig.axes[1].images[1].get_alpha() == 0.3
    assert len(plotting.show_heatmaps(RNG.random((10, 10)), RNG.random((5, 5))).axes) == 1


@pytest.mark.parametrize(
    ("heatmaps", "kwargs", "message"),
    [
        (RNG.random((2, 7, 7)), {}, "there are 3 images but 2 heat maps"),
        (RNG.random((3, 7, 7, 2)), {}, r"one \(h, w\) map per image"),
        ([np.zeros((7, 7)), np.zeros((7, 7)), np.zeros(7)], {}, "heat map 2 should be a non-empty"),
        (RNG.random((3, 7, 7)), {"alpha": 2}, "alpha should be between 0 and 1"),
        (RNG.random((3, 7, 7)), {"titles": ["a"]}, "titles has 1 entries"),
    ],
)
def test_show_heatmaps_rejects_bad_input(heatmaps, kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        plotting.show_heatmaps(RNG.random((3, 28, 28)), heatmaps, **kwargs)


# ----------------------------------------------------------------------------- kernel_explorer


KERNELS = {"blur": np.full((3, 3), 1 / 9), "identity": np.ones((1, 1)), "sharpen": 5 * np.eye(3) - 1}


def test_kernel_explorer_redraws_when_the_dropdown_or_toggle_changes():
    explorer = widgets.kernel_explorer(RNG.integers(0, 256, (40, 48, 3), dtype=np.uint8), KERNELS)
    assert isinstance(explorer, ipywidgets.Widget)
    (dropdown, toggle), picture = explorer.children[0].children, explorer.children[1]
    assert isinstance(picture, ipywidgets.Image)
    assert list(dropdown.options) == [("blur", "blur"), ("identity", "identity"), ("sharpen", "sharpen")]
    shown = [bytes(picture.value)]
    assert shown[0].startswith(b"\x89PNG")
    dropdown.value = "sharpen"
    shown.append(bytes(picture.value))
    toggle.value = "ReLU"
    shown.append(bytes(picture.value))
    assert len(set(shown)) == 3


def test_kernel_explorer_feature_map_is_valid_correlation_of_luminance():
    image = RNG.random((10, 12, 3))
    gray = widgets._grayscale(image)
    np.testing.assert_allclose(gray, 0.299 * image[..., 0] + 0.587 * image[..., 1] + 0.114 * image[..., 2])
    np.testing.assert_allclose(widgets._grayscale(np.full((2, 2), 255, np.uint8)), 1.0)
    kernel = KERNELS["sharpen"]
    feature_map = widgets._response(gray, kernel, "raw")
    assert feature_map.shape == (8, 10)
    assert feature_map[2, 3] == pytest.approx(np.sum(gray[2:5, 3:6] * kernel))
    assert widgets._response(gray, kernel, "relu").min() >= 0


@pytest.mark.parametrize(
    ("image", "kernels", "message"),
    [
        (np.zeros((8, 8)), {}, "non-empty dict"),
        (np.zeros((8, 8)), [np.eye(3)], "non-empty dict"),
        (np.zeros((8, 8)), {"cube": np.zeros((3, 3, 3))}, "kernel 'cube' should be a 2-D array"),
        (np.zeros((8, 8)), {"big": np.zeros((9, 3))}, "larger than the image"),
        (np.zeros((8, 8, 4)), {"id": np.ones((1, 1))}, r"\(H, W\) or an RGB array \(H, W, 3\)"),
    ],
)
def test_kernel_explorer_rejects_bad_input(image, kernels, message):
    with pytest.raises(ValueError, match=message):
        widgets.kernel_explorer(image, kernels)


# ----------------------------------------------------------------------------- in a real notebook

DISPLAY_CELLS = {
    "last line": "plotting.show_images(x)",
    "semicolon": "plotting.show_images(x);",
    "assigned": "fig = plotting.show_images(x)",
    "shown again later": "fig",
    "overlay": (
        "f = plotting.draw_boxes(x[0], [[1, 1, 5, 5]])\n"
        "plotting.draw_boxes(x[0], [[2, 2, 6, 6]], ax=f.axes[0])"
    ),
    "caller's axes": "f, axes = plt.subplots(1, 2)\nplotting.show_masks(x[0], x[0] > 0.5, ax=axes[1])",
    "explicit display": "f = plotting.plot_history({'loss': [1, 0.5]}, metrics='loss')\ndisplay(f)",
}


@pytest.mark.slow
def test_each_figure_displays_once_in_a_notebook(tmp_path: Path):
    from nbclient import NotebookClient

    setup = (
        "import matplotlib.pyplot as plt\nimport numpy as np\nfrom cvcourse import plotting, widgets\n"
        "x = np.random.default_rng(0).random((4, 8, 8))"
    )
    explorer = "widgets.kernel_explorer(x[0], {'blur': np.full((3, 3), 1 / 9)})"
    sources = [setup, *DISPLAY_CELLS.values(), explorer]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    repository = Path(__file__).resolve().parents[1]
    NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(repository)}}
    ).execute()
    for name, cell in zip(DISPLAY_CELLS, nb.cells[1:-1], strict=True):
        images = [o for o in cell.outputs if "image/png" in o.get("data", {})]
        assert len(images) == 1, f"{name}: {len(images)} figures shown, expected 1"
    widget_outputs = nb.cells[-1].outputs
    assert [o.output_type for o in widget_outputs] == ["execute_result"]
    state = nb.metadata.widgets["application/vnd.jupyter.widget-state+json"]["state"]
    (picture,) = [m["state"] for m in state.values() if m["model_name"] == "ImageModel"]
    assert picture["format"] == "png"
