"""Architecture diagrams drawn from the real models, so a picture can never disagree with the code.

:func:`show_model` draws a Keras model's layer graph with ``keras.utils.plot_model`` (pydot and
Graphviz's ``dot``; ``make setup`` installs both on Debian) and returns it as a PNG that Jupyter,
``make html`` and the slides show. Without Graphviz it prints the model's layers as text and says
how to install it, so a chapter still runs to its end.

:func:`show_unit` opens a residual unit (a custom layer, one box for ``plot_model``) into its own
sublayers; :func:`show_stages` draws a ResNet's stages from its layers.

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
import numpy as np
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


def layer_label(layer) -> str:
    """What a layer does, in a few words read from its configuration.

    >>> import keras
    >>> layer_label(keras.layers.Conv2D(128, 3, strides=2))
    'conv 3x3, 128 filters, stride 2'
    >>> layer_label(keras.layers.BatchNormalization())
    'batch norm'
    """
    config, kind = layer.get_config(), type(layer).__name__
    stride = int(np.ravel(config.get("strides", 1))[0])
    step = f", stride {stride}" if stride > 1 else ""
    if "kernel_size" in config and "filters" in config:
        return "conv {}x{}, {} filters".format(*config["kernel_size"], config["filters"]) + step
    if "pool_size" in config:
        return "{} pool {}x{}".format(kind[:3].lower(), *config["pool_size"]) + step
    if "units" in config:
        return f"dense {config['units']}, {config['activation']}"
    if kind == "Activation":
        return str(config["activation"])
    names = {"BatchNormalization": "batch norm", "GlobalAveragePooling2D": "global average pool"}
    return names.get(kind, layer.name)


def _layer_list(unit, attribute: str) -> list:
    layers = getattr(unit, attribute, None)
    if not isinstance(layers, (list, tuple)) or not all(isinstance(x, keras.layers.Layer) for x in layers):
        raise TypeError(
            f"show_unit draws a unit whose `{attribute}` is a list of Keras layers (as chapter 5's "
            f"ResidualUnit has); {type(unit).__name__}.{attribute} is {type(layers).__name__}"
        )
    return list(layers)


def show_unit(unit: keras.layers.Layer, input_shape: tuple[int, ...], **options):
    """Draw a residual unit from its own sublayers: ``keras.utils.plot_model`` shows a custom layer as
    one box, so this builds `unit` on a ``keras.Input`` of `input_shape`, calls its ``main_layers``
    one after the other and its ``skip_layers`` beside them, adds the two paths and applies the unit's
    ``activation``. Each sublayer is renamed after its configuration (:func:`layer_label`), so pass a
    unit made for the picture. `options` go to :func:`show_model`.

    >>> # picture = show_unit(ResidualUnit(128, strides=2), (56, 56, 64))   # chapter 5
    """
    if not isinstance(unit, keras.layers.Layer):
        raise TypeError(f"show_unit expected a Keras layer (a residual unit), got {type(unit).__name__}")
    inputs = keras.Input(tuple(input_shape), name="input")
    unit(inputs)  # builds the unit: a `build` may add a projection when the shapes differ
    main, skip = inputs, inputs
    for path, attribute in (("main", "main_layers"), ("skip", "skip_layers")):
        for k, layer in enumerate(_layer_list(unit, attribute), start=1):
            layer.name = f"{path} {k}: {layer_label(layer)}"
            if path == "main":
                main = layer(main)
            else:
                skip = layer(skip)
    activation = keras.layers.Activation(getattr(unit, "activation", "linear"))
    activation.name = f"{layer_label(activation)} after the addition"
    outputs = activation(keras.layers.Add(name="main + skip")([main, skip]))
    return show_model(keras.Model(inputs, outputs), **options)


def _has_projection(unit) -> bool:
    """True when the unit's weights include a 1x1 kernel: a projection on its skip path."""
    return any(len(w.shape) == 4 and tuple(w.shape[:2]) == (1, 1) for w in unit.weights)


def show_stages(model: keras.Model, unit_class: type) -> Figure:
    """The stages of a ResNet, read from its layers: the stem, each run of `unit_class` layers with one
    number of filters, and the head. Every unit is a box as high as its output is wide, hatched when
    it has a projection on its skip path; the texts come from the layers' configurations and shapes.

    >>> # fig = show_stages(build_resnet34(), ResidualUnit)   # chapter 5
    """
    if not isinstance(model, keras.Model):
        raise TypeError(f"show_stages expected a keras.Model, got {type(model).__name__}")
    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    units = [layer for layer in layers if isinstance(layer, unit_class)]
    if not units:
        raise ValueError(f"{model.name} has no {unit_class.__name__} among its layers")
    groups = [("stem", layers[: layers.index(units[0])])]
    for unit in units:
        if groups[-1][0] != unit.get_config()["filters"]:
            groups.append((unit.get_config()["filters"], []))
        groups[-1][1].append(unit)
    groups.append(("head", layers[layers.index(units[-1]) + 1 :]))
    tallest = max(unit.output.shape[1] for unit in units)
    unnamed = (keras.layers.BatchNormalization, keras.layers.Activation)  # not listed in the stem

    fig, ax = plotting._subplots(1, 1, figsize=(10, 3.4))
    ax = ax[0, 0]
    x = 0.0
    for index, (filters, members) in enumerate(groups):
        output = members[-1].output.shape if members else units[0].input.shape
        if filters in ("stem", "head"):
            names = [layer_label(layer) for layer in members if not isinstance(layer, unnamed)]
            label = "\n".join([filters, *names])
            boxes = [(2.4, output[1] if len(output) == 4 else 1, False)]
        else:
            stride = int(np.ravel(members[0].get_config().get("strides", 1))[0])
            label = f"stage {index}\n{len(members)} units, {filters} filters\nfirst: stride {stride}"
            boxes = [(0.62, unit.output.shape[1], _has_projection(unit)) for unit in members]
        width = sum(w for w, _, _ in boxes) + 0.2 * (len(boxes) - 1)
        room = max(4.4, width, 0.24 * max(len(line) for line in label.split("\n")))  # 10-point text
        left = x + (room - width) / 2
        for w, size, projection in boxes:
            height = max(4 * size / tallest, 0.12)
            colour = plotting._MASK_COLORS[index % 10]
            ax.add_patch(Rectangle((left, -height / 2), w, height, facecolor=colour, alpha=0.8,
                                   edgecolor="black", hatch="///" if projection else None))
            left += w + 0.2
        ax.text(x + room / 2, 2.3, label, ha="center", va="bottom", fontsize=10)
        ax.text(x + room / 2, -2.3, "×".join(map(str, output[1:])), ha="center", va="top", fontsize=11,
                weight="bold")
        x += room + 0.3
    ax.add_patch(Rectangle((0, 0), 0, 0, facecolor="white", edgecolor="black", hatch="///",
                           label="projection on the skip path"))
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, -0.2), frameon=False, fontsize=10)
    ax.set(xlim=(-0.2, x), ylim=(-3, 4.6))
    ax.axis("off")
    image = "×".join(map(str, model.input.shape[1:]))
    ax.set_title(f"{model.name} on {image} images: {len(units)} {unit_class.__name__}s, "
                 "each as high as its output is wide", fontsize=11)
    fig.set_size_inches(0.36 * x, 3.4)  # 0.36 inch per unit of x: the room the texts were given
    return fig


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

    fig = plotting._subplots(1, 2, figsize=(max(9.5, 4.5 + 0.22 * depth), 3.6))[0]  # room for the titles
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


__all__ = ["GRAPHVIZ_HINT", "graphviz_available", "layer_label", "show_model", "show_stages", "show_unit",
           "show_yolo_output"]
