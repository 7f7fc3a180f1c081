"""Architecture diagrams drawn from the real models, so a picture can never disagree with the code.

:func:`show_model` draws a Keras model's layer graph with ``keras.utils.plot_model`` (pydot and
Graphviz's ``dot``; ``make setup`` installs both on Debian) and returns it as a PNG that Jupyter,
``make html`` and the slides show. Without Graphviz it prints the model's layers as text and says
how to install it, so a chapter still runs to its end.

:func:`show_yolo_output` draws what one forward pass of a YOLO detector returns: an S x S grid over
the image, and the B * 5 + C numbers of one cell, read from the model's output shape.

>>> import keras
>>> inputs = keras.Input((28, 28, 1))
>>> model = keras.Model(inputs, keras.layers.Conv2D(4, 3, name="conv")(inputs))
>>> picture = show_model(model)
>>> picture is None or picture.data[:4] == b"\\x89PNG"
True
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import keras
from matplotlib.figure import Figure
from matplotlib.patches import ConnectionPatch, Rectangle

from cvcourse import plotting

GRAPHVIZ_HINT = (
    "Graphviz's `dot` draws the architecture diagrams: `make setup` installs it on Debian "
    "(apt-get install graphviz); elsewhere `brew install graphviz` or `conda install graphviz`."
)


def graphviz_available() -> bool:
    """True when keras.utils.plot_model can draw: pydot imports and Graphviz's `dot` is on PATH."""
    try:
        import pydot  # noqa: F401
    except ImportError:
        return False
    return shutil.which("dot") is not None


def show_model(
    model: keras.Model,
    *,
    rankdir: str = "TB",
    expand_nested: bool = False,
    show_shapes: bool = True,
    show_layer_activations: bool = False,
    dpi: int = 64,
):
    """Draw `model`'s layers and connections, with each layer's output shape, as a PNG image.

    `rankdir` is "TB" (top to bottom) or "LR" (left to right: better for long chains);
    `expand_nested` opens the nested models (not custom layers, which stay one box each).
    Returns an ``IPython.display.Image`` (its ``data`` is the PNG), or None, after printing the
    layers as text, when Graphviz is not installed.

    >>> import keras
    >>> inputs = keras.Input((8, 8, 3))
    >>> picture = show_model(keras.Model(inputs, keras.layers.Flatten()(inputs)), rankdir="LR")
    """
    if not isinstance(model, keras.Model):
        raise TypeError(
            f"show_model expected a keras.Model, got {type(model).__name__}: wrap layers in "
            "keras.Model(inputs, outputs) first"
        )
    if rankdir not in ("TB", "LR"):
        raise ValueError(f"rankdir must be 'TB' (top to bottom) or 'LR' (left to right), got {rankdir!r}")
    if not graphviz_available():
        print(GRAPHVIZ_HINT, "The layers, as text:")
        model.summary(expand_nested=expand_nested)
        return None
    from IPython.display import Image

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.png"
        keras.utils.plot_model(
            model,
            to_file=str(path),
            show_shapes=show_shapes,
            show_layer_names=True,
            show_layer_activations=show_layer_activations,
            rankdir=rankdir,
            expand_nested=expand_nested,
            dpi=dpi,
        )
        return Image(data=path.read_bytes(), format="png")


def _grid_size(output_shape, boxes_per_cell: int, num_classes: int) -> int:
    shape = tuple(output_shape)
    if len(shape) != 4 or shape[1] != shape[2]:
        raise ValueError(
            f"expected a YOLO output shape (batch, S, S, B * 5 + C), got {shape}: the model's "
            "`output_shape`, or a prediction's `.shape`"
        )
    depth = boxes_per_cell * 5 + num_classes
    if shape[3] != depth:
        raise ValueError(
            f"the output has {shape[3]} numbers per cell, but B={boxes_per_cell} boxes and "
            f"C={num_classes} classes make B * 5 + C = {depth}"
        )
    return int(shape[1])


def show_yolo_output(
    image,
    output_shape,
    boxes_per_cell: int,
    num_classes: int,
    cell: tuple[int, int] | None = None,
    box_fields: tuple[str, ...] = ("x", "y", "w", "h", "conf"),
) -> Figure:
    """Draw a YOLO output tensor: the S x S grid over `image`, and one cell's B * 5 + C numbers.

    `output_shape` is the detector's output shape (batch, S, S, B * 5 + C), e.g.
    ``model.output_shape``; `cell` (row, column) is the cell drawn out (the middle one by default);
    `box_fields` names a box's five numbers in the order the model stores them.

    >>> import numpy as np
    >>> fig = show_yolo_output(np.zeros((64, 64)), (None, 4, 4, 2 * 5 + 10), 2, 10)
    >>> len(fig.axes)
    2
    """
    if len(box_fields) != 5:
        raise ValueError(f"a box has five numbers (x, y, w, h, confidence); got names {box_fields}")
    grid = _grid_size(output_shape, boxes_per_cell, num_classes)
    row, col = cell if cell is not None else (grid // 2, grid // 2)
    if not (0 <= row < grid and 0 <= col < grid):
        raise ValueError(f"cell {(row, col)} is outside the {grid} x {grid} grid")
    picture = plotting._prepare_image(image)
    height, width = picture.shape[:2]
    depth = boxes_per_cell * 5 + num_classes

    fig = plotting._subplots(1, 2, figsize=(4.5 + 0.22 * depth, 3.6))[0]
    ax_image, ax_cell = fig.axes
    plotting._imshow(ax_image, picture, cmap="gray" if picture.ndim == 2 else None)
    for k in range(1, grid):
        ax_image.axhline(k * height / grid - 0.5, color="white", lw=1)
        ax_image.axvline(k * width / grid - 0.5, color="white", lw=1)
    ax_image.add_patch(Rectangle((col * width / grid - 0.5, row * height / grid - 0.5), width / grid,
                                 height / grid, fill=False, edgecolor="tab:orange", lw=3))
    ax_image.set_title(f"S x S = {grid} x {grid} cells")

    box_colours = [plotting._MASK_COLORS[i % 10] for i in range(boxes_per_cell)]
    for b in range(boxes_per_cell):
        for f, name in enumerate(box_fields):
            slot = b * 5 + f
            ax_cell.add_patch(
                Rectangle((slot, 0), 1, 1, facecolor=box_colours[b], edgecolor="white", alpha=0.8)
            )
            ax_cell.text(slot + 0.5, 0.5, name, ha="center", va="center", fontsize=8, rotation=90)
        ax_cell.text(b * 5 + 2.5, 1.15, f"box {b + 1}", ha="center", fontsize=9)
    for c in range(num_classes):
        slot = boxes_per_cell * 5 + c
        ax_cell.add_patch(Rectangle((slot, 0), 1, 1, facecolor="0.85", edgecolor="white"))
        ax_cell.text(slot + 0.5, 0.5, f"p{c}", ha="center", va="center", fontsize=8, rotation=90)
    ax_cell.text(boxes_per_cell * 5 + num_classes / 2, 1.15, f"{num_classes} class probabilities",
                 ha="center", fontsize=9)
    ax_cell.set_xlim(-0.2, depth + 0.2)
    ax_cell.set_ylim(-1.5, 2.5)
    ax_cell.axis("off")
    cell_edge = ((col + 1) * width / grid - 0.5, (row + 0.5) * height / grid - 0.5)
    arrow = ConnectionPatch(xyA=cell_edge, coordsA="data", axesA=ax_image, xyB=(0, 0.5), coordsB="data",
                            axesB=ax_cell, color="tab:orange", lw=1.5, arrowstyle="->")
    fig.add_artist(arrow)
    ax_cell.set_title(
        f"cell {(row, col)}: B * 5 + C = {boxes_per_cell} * 5 + {num_classes} = {depth} numbers"
    )
    fig.suptitle(f"output tensor {grid} x {grid} x {depth}")
    return fig


__all__ = ["GRAPHVIZ_HINT", "graphviz_available", "show_model", "show_yolo_output"]
