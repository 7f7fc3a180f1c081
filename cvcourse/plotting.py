"""Plots every notebook uses: image grids, kernels, feature maps, heat maps, curves, confusion matrices,
boxes, masks.

Each function returns the :class:`matplotlib.figure.Figure` it drew and never calls ``plt.show()``.
In Jupyter a figure shows exactly once, below its cell, however the call is written: as the cell's
last line (``plotting.show_images(x)``), with a semicolon, assigned (``fig = ...``) or in the middle
of a cell. (The figures are made with pyplot, so the inline backend shows them when the cell ends;
the returned figure knows that and does not display itself a second time as the cell's result.)
Outside Jupyter (scripts, tests) call ``fig.savefig(...)`` and ``plt.close(fig)`` when done.

Images may be (H, W), (H, W, 1) or (H, W, 3) arrays (or tensors): uint8 in 0..255, or floats, which
for RGB must lie in [0, 1]; single-channel images are colour-scaled per image unless vmin/vmax say
otherwise.

>>> import numpy as np
>>> fig = show_images(np.random.rand(6, 28, 28), titles=[f"digit {i}" for i in range(6)])
>>> len(fig.axes)
6
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import MaxNLocator
from numpy.typing import ArrayLike

__all__ = [
    "compare_images",
    "draw_boxes",
    "plot_confusion_matrix",
    "plot_history",
    "show_feature_maps",
    "show_heatmaps",
    "show_images",
    "show_kernels",
    "show_masks",
]

MAX_IMAGES = 100  # more than this in one grid is almost always a forgotten slice (images[:16])
MAX_WIDTH = 12.0  # inches: wider figures get scaled down in a notebook anyway
BOX_COLORS = ("lime", "red", "deepskyblue", "yellow", "magenta", "orange")
# Mask class i > 0 gets colour i - 1: tab10, then the light half of tab20, so that a class keeps its
# colour whatever other classes a mask holds (true and predicted masks side by side match).
_MASK_COLORS = [matplotlib.colormaps["tab10"](i)[:3] for i in range(10)] + [
    matplotlib.colormaps["tab20"](2 * i + 1)[:3] for i in range(10)
]


# ----------------------------------------------------------------------------- display once


def _inline_backend() -> bool:
    """True inside Jupyter with the inline backend, which shows every open figure as a cell ends."""
    return "matplotlib_inline" in sys.modules and "inline" in matplotlib.get_backend()


class _CourseFigure(Figure):
    """A Figure that, once IPython displays it, leaves pyplot, so the inline backend does not repeat it."""

    @property
    def _ipython_display_(self):  # IPython calls this, when callable, in place of its own formatters
        if getattr(self, "_cvcourse_displaying", False) or not _inline_backend():
            return None  # the ordinary display (IPython's PNG formatter for figures)
        return self._display_and_release

    def _display_and_release(self) -> None:
        from IPython.display import display

        plt.close(self)  # the figure stays usable; pyplot just stops tracking it
        self._cvcourse_displaying = True
        try:
            display(self)
        finally:
            self._cvcourse_displaying = False


def _display_once(fig: Figure) -> Figure:
    """Give a plain pyplot figure (one a caller made for ``ax=``) the display-once behaviour."""
    if type(fig) is Figure:
        fig.__class__ = _CourseFigure  # only adds display methods, so this is safe
    return fig


def _subplots(nrows: int, ncols: int, figsize: tuple[float, float]) -> tuple[Figure, np.ndarray]:
    fig, axes = plt.subplots(
        nrows, ncols, figsize=figsize, squeeze=False, layout="constrained", FigureClass=_CourseFigure
    )
    return fig, axes


def _grid(n: int, ncols: int, cell: float, aspect: float, figsize, extra_height: float = 0.0):
    """A figure with ``n`` axes in rows of ``ncols``; the unused cells of the last row are removed."""
    nrows = math.ceil(n / ncols)
    if figsize is None:
        width = min(MAX_WIDTH, ncols * cell)
        figsize = (width, nrows * (width / ncols * aspect + extra_height) + 0.2)
    fig, axes = _subplots(nrows, ncols, figsize)
    flat = list(axes.flat)
    for ax in flat[n:]:
        ax.remove()
    return fig, flat[:n]


def _root_figure(ax: Axes) -> Figure:
    return _display_once(ax.get_figure(root=True))


# ----------------------------------------------------------------------------- validation


def _array(x: Any, what: str) -> np.ndarray:
    try:
        array = np.asarray(x)
    except Exception as exc:  # noqa: BLE001 - e.g. a ragged list
        raise TypeError(f"{what} should be an array of numbers; could not convert it: {exc}") from exc
    if array.dtype == object:
        raise TypeError(
            f"{what} should be an array of numbers, got a {type(x).__name__} that NumPy could only "
            "store as objects (items of different shapes?)."
        )
    return array


def _shape_hint(shape: tuple[int, ...]) -> str:
    if len(shape) == 4 and shape[0] == 1:
        return " This is a batch of one image: pass image[0]."
    if len(shape) == 3 and shape[-1] == 4:
        return " RGBA is not supported: drop the alpha channel with image[..., :3]."
    if len(shape) == 3 and shape[0] in (1, 3):
        return " Channels first? Use np.moveaxis(image, 0, -1)."
    return ""


def _prepare_image(image: ArrayLike, what: str = "image") -> np.ndarray:
    """Check an image and return it ready for ``imshow``: (H, W) as float, or (H, W, 3)."""
    array = _array(image, what)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{what} should hold numbers, got dtype {array.dtype}.")
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[-1] != 3):
        raise ValueError(
            f"{what} should have shape (H, W), (H, W, 1) or (H, W, 3); got shape {array.shape}."
            + _shape_hint(array.shape)
        )
    if array.size == 0:
        raise ValueError(f"{what} is empty (shape {array.shape}).")
    if array.ndim == 2:
        return array.astype(np.float32) if array.dtype.kind in "bf" else array
    if array.dtype.kind in "iu":
        low, high = array.min(), array.max()
        if low < 0 or high > 255:
            raise ValueError(
                f"{what}: an integer RGB image should hold 0..255, got values in [{low}, {high}]."
            )
        return array.astype(np.uint8)
    array = array.astype(np.float32)
    low, high = float(np.nanmin(array)), float(np.nanmax(array))
    if low < -0.1 or high > 1.1:
        raise ValueError(
            f"{what}: a float RGB image should hold values in [0, 1], got values in [{low:.3g}, {high:.3g}]. "
            "For pixels in 0..255 divide by 255 or use image.astype('uint8'); "
            "for standardised inputs undo the standardisation first."
        )
    return np.clip(array, 0.0, 1.0)  # small overshoots (augmentation) are clipped, silently


def _image_list(images: Any) -> list[np.ndarray]:
    if isinstance(images, (list, tuple)):
        items = list(images)
    else:
        array = _array(images, "images")
        if array.ndim == 2 or (array.ndim == 3 and array.shape[-1] in (1, 3)):
            items = [array]  # one image
        elif array.ndim in (3, 4):
            items = list(array)
        else:
            raise ValueError(
                "images should be a list of images, or an array of shape (N, H, W), (N, H, W, 1) or "
                f"(N, H, W, 3); got an array of shape {array.shape}."
            )
    if not items:
        raise ValueError("images is empty: there is nothing to show.")
    if len(items) > MAX_IMAGES:
        raise ValueError(
            f"{len(items)} images is too many for one figure (at most {MAX_IMAGES}); "
            "show a slice, e.g. images[:16]."
        )
    return [_prepare_image(item, f"image {i}") for i, item in enumerate(items)]


def _titles(titles: Any, n: int, what: str) -> list[str] | None:
    if titles is None:
        return None
    if isinstance(titles, str):
        if n == 1:
            return [titles]
        raise TypeError(f"titles should be a list with one title per {what[:-1]} ({n}), got one string.")
    titles = list(titles)
    if len(titles) != n:
        raise ValueError(f"titles has {len(titles)} entries but there are {n} {what}: give one title each.")
    return [str(t) for t in titles]


def _positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} should be a positive integer, got {value!r}.")
    return int(value)


def _plain_axes(ax: Axes) -> None:
    ax.set_xticks([])
    ax.set_yticks([])


def _imshow(ax: Axes, image: np.ndarray, cmap: str | None, vmin=None, vmax=None) -> None:
    if image.ndim == 2:
        ax.imshow(image, cmap=cmap, vmin=vmin, vmax=vmax)
    else:
        ax.imshow(image)
    _plain_axes(ax)


def _text_color(rgb) -> str:
    r, g, b = to_rgb(rgb)
    return "black" if 0.299 * r + 0.587 * g + 0.114 * b > 0.5 else "white"


# ----------------------------------------------------------------------------- images


def show_images(
    images: Sequence[ArrayLike] | ArrayLike,
    titles: Sequence[Any] | None = None,
    ncols: int | None = None,
    cmap: str = "gray",
    figsize: tuple[float, float] | None = None,
    suptitle: str | None = None,
    vmin: float | None = None,
    vmax: float | None = None,
) -> Figure:
    """Show images in a grid, square-ish unless ``ncols`` is given; one title per image if given.

    ``images`` is a list of images (they may differ in size) or an array (N, H, W), (N, H, W, 1) or
    (N, H, W, 3); one image, (H, W) or (H, W, 3), is shown alone. ``cmap``, ``vmin`` and ``vmax``
    apply to single-channel images (by default each one is scaled to its own range).

    >>> fig = show_images(np.zeros((4, 8, 8, 3), np.uint8), titles=list("abcd"), suptitle="black")
    >>> [ax.get_title() for ax in fig.axes]
    ['a', 'b', 'c', 'd']
    """
    items = _image_list(images)
    n = len(items)
    names = _titles(titles, n, "images")
    ncols = math.ceil(math.sqrt(n)) if ncols is None else _positive_int(ncols, "ncols")
    ncols = min(ncols, n)
    aspect = items[0].shape[0] / items[0].shape[1]
    cell = 2.2 if n > 1 else 3.5
    fig, axes = _grid(n, ncols, cell, aspect, figsize, extra_height=0.3 if names else 0.0)
    for i, (ax, image) in enumerate(zip(axes, items, strict=True)):
        _imshow(ax, image, cmap, vmin, vmax)
        if names:
            ax.set_title(names[i], fontsize=10)
    if suptitle:
        fig.suptitle(suptitle)
    return fig


def compare_images(
    before: ArrayLike,
    after: ArrayLike,
    titles: Sequence[str] = ("before", "after"),
    cmap: str = "gray",
) -> Figure:
    """Two images side by side, e.g. an image and its feature map (sizes may differ).

    >>> fig = compare_images(np.eye(8), np.eye(6), titles=("image", "feature map"))
    >>> len(fig.axes)
    2
    """
    return show_images([before, after], titles=titles, ncols=2, cmap=cmap, figsize=(7.0, 3.6))


# ----------------------------------------------------------------------------- kernels, feature maps


def _kernel_list(kernels: Any) -> tuple[list[np.ndarray], list[str] | None]:
    """Kernels as a list of 2-D float arrays, and default titles."""
    if isinstance(kernels, (list, tuple)):
        if not kernels:
            raise ValueError("kernels is empty: there is nothing to show.")
        result = []
        for i, kernel in enumerate(kernels):
            array = _array(kernel, f"kernel {i}")
            if array.ndim != 2:
                raise ValueError(f"kernel {i} should be a 2-D array (kh, kw), got shape {array.shape}.")
            result.append(array)
        return [k.astype(np.float64) for k in result], None
    array = _array(kernels, "kernels")
    if array.ndim == 2:
        return [array.astype(np.float64)], None
    if array.ndim == 4:
        count = min(array.shape[3], 32)
        names = [f"filter {i}" for i in range(count)]
        return [array[:, :, 0, i].astype(np.float64) for i in range(count)], names
    raise ValueError(
        "kernels should be one 2-D kernel (kh, kw), a list of them, or a Keras Conv2D weight array "
        f"(kh, kw, in_channels, filters); got shape {array.shape}."
        + (" A 3-D array is ambiguous: pass a list of 2-D kernels." if array.ndim == 3 else "")
    )


def _draw_kernel(
    ax: Axes,
    kernel: np.ndarray,
    cmap: str = "RdBu_r",
    annotate: bool = True,
    title: str | None = None,
    fontsize: float = 10.0,
) -> None:
    """One kernel as a heat map, colours symmetric around 0, with its numbers in the cells if small."""
    if not np.all(np.isfinite(kernel)):
        raise ValueError("the kernel contains NaN or infinite values.")
    limit = float(np.max(np.abs(kernel))) or 1.0
    ax.imshow(kernel, cmap=cmap, vmin=-limit, vmax=limit, interpolation="nearest")
    _plain_axes(ax)
    if title:
        ax.set_title(title, fontsize=10)
    kh, kw = kernel.shape
    if not annotate or max(kh, kw) > 7 or fontsize < 5:
        return
    integers = np.all(kernel == np.round(kernel)) and limit < 1000
    colormap = matplotlib.colormaps[cmap] if isinstance(cmap, str) else cmap
    for (row, col), value in np.ndenumerate(kernel):
        text = f"{int(value)}" if integers else f"{value:.2f}"
        background = colormap(0.5 + 0.5 * value / limit)
        ax.text(col, row, text, ha="center", va="center", fontsize=fontsize, color=_text_color(background))


def show_kernels(
    kernels: ArrayLike | Sequence[ArrayLike],
    titles: Sequence[Any] | None = None,
    cmap: str = "RdBu_r",
    annotate: bool = True,
) -> Figure:
    """Show small 2-D kernels as heat maps (red positive, blue negative, white 0), numbers in cells.

    ``kernels`` is one (kh, kw) array, a list of them, or a Keras Conv2D weight array
    (kh, kw, in_channels, filters) such as ``model.layers[0].get_weights()[0]``, of which the first
    input channel of each filter is shown (at most 32 filters). Numbers are written when kernels are
    at most 7×7 and ``annotate`` is true.

    >>> fig = show_kernels([np.full((3, 3), 1 / 9), np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]])],
    ...                    titles=["blur", "sharpen"])
    >>> len(fig.axes)
    2
    """
    arrays, default_titles = _kernel_list(kernels)
    n = len(arrays)
    names = _titles(titles, n, "kernels") if titles is not None else default_titles
    ncols = min(n, 8)
    size = max(max(k.shape) for k in arrays)
    cell = 2.6 if n == 1 else min(max(0.45 * size, 1.5), 3.0)
    fig, axes = _grid(n, ncols, cell, 1.0, None, extra_height=0.3 if names else 0.0)
    cell_inches = fig.get_figwidth() / ncols / size
    fontsize = min(11.0, 72 * cell_inches * 0.28)
    for i, (ax, kernel) in enumerate(zip(axes, arrays, strict=True)):
        _draw_kernel(ax, kernel, cmap, annotate, names[i] if names else None, fontsize)
    return fig


def show_feature_maps(
    feature_maps: ArrayLike,
    ncols: int = 8,
    max_maps: int = 32,
    cmap: str = "viridis",
    title: str | None = None,
) -> Figure:
    """Show each channel of a (H, W, C) or (1, H, W, C) activation as its own image (the first ``max_maps``).

    >>> fig = show_feature_maps(np.random.rand(1, 12, 12, 6), title="conv1")
    >>> len(fig.axes)
    6
    """
    array = _array(feature_maps, "feature_maps")
    if array.ndim == 4:
        if array.shape[0] != 1:
            raise ValueError(
                f"feature_maps is a batch of {array.shape[0]}; pass one example, e.g. feature_maps[0] "
                f"or feature_maps[:1] (shape {array.shape})."
            )
        array = array[0]
    if array.ndim == 2:
        array = array[..., None]
    if array.ndim != 3:
        raise ValueError(
            f"feature_maps should have shape (H, W, C) or (1, H, W, C); got shape {array.shape}."
        )
    if array.dtype.kind not in "biuf" or array.size == 0:
        raise ValueError(
            f"feature_maps should be a non-empty array of numbers, got {array.dtype} {array.shape}."
        )
    ncols = _positive_int(ncols, "ncols")
    max_maps = _positive_int(max_maps, "max_maps")
    channels = array.shape[-1]
    n = min(channels, max_maps)
    fig, axes = _grid(n, min(ncols, n), 1.5 if n > 1 else 3.5, array.shape[0] / array.shape[1], None, 0.25)
    for i, ax in enumerate(axes):
        ax.imshow(array[..., i].astype(np.float32), cmap=cmap)
        _plain_axes(ax)
        ax.set_title(f"#{i}", fontsize=8)
    heading = title or ""
    if n < channels:
        heading = f"{heading} (first {n} of {channels} maps)".strip()
    if heading:
        fig.suptitle(heading)
    return fig


def show_heatmaps(
    images: Sequence[ArrayLike] | ArrayLike,
    heatmaps: Sequence[ArrayLike] | ArrayLike,
    titles: Sequence[Any] | None = None,
    ncols: int | None = None,
    alpha: float = 0.5,
    cmap: str = "jet",
    vmin: float | None = None,
    vmax: float | None = None,
    figsize: tuple[float, float] | None = None,
    suptitle: str | None = None,
) -> Figure:
    """Each image with its heat map laid over it (saliency, Grad-CAM, occlusion), in a grid.

    ``images`` as for :func:`show_images` (shown in gray or RGB); ``heatmaps`` one (h, w) map per image
    (a list, or an array (N, h, w)). A map may be coarser than its image (Grad-CAM at a layer's 7x7):
    it is stretched over the whole image, bilinearly, so that each of its cells covers the part of the
    image it stands for. Each map is colour-scaled to its own range unless ``vmin``/``vmax`` say
    otherwise (pass ``vmin=0, vmax=1`` for maps normalised to [0, 1]); ``alpha`` is the map's opacity.

    >>> fig = show_heatmaps(np.random.rand(3, 28, 28), np.random.rand(3, 7, 7), titles=["a", "b", "c"])
    >>> [len(ax.images) for ax in fig.axes]
    [2, 2, 2]
    """
    items = _image_list(images)
    n = len(items)
    if isinstance(heatmaps, (list, tuple)):
        maps = [_array(m, f"heat map {i}") for i, m in enumerate(heatmaps)]
    else:
        array = _array(heatmaps, "heatmaps")
        maps = [array] if array.ndim == 2 else list(array) if array.ndim == 3 else None
        if maps is None:
            raise ValueError(
                "heatmaps should be one (h, w) map per image, as a list or an array (N, h, w); "
                f"got shape {array.shape}."
            )
    if len(maps) != n:
        raise ValueError(f"there are {n} images but {len(maps)} heat maps: give one heat map per image.")
    for i, heat in enumerate(maps):
        if heat.ndim == 3 and heat.shape[-1] == 1:
            maps[i] = heat = heat[..., 0]
        if heat.ndim != 2 or heat.size == 0 or heat.dtype.kind not in "biuf":
            raise ValueError(
                f"heat map {i} should be a non-empty (h, w) array of numbers, got {heat.dtype} {heat.shape}."
            )
    if not 0.0 <= float(alpha) <= 1.0:
        raise ValueError(f"alpha should be between 0 and 1, got {alpha!r}.")
    names = _titles(titles, n, "images")
    ncols = math.ceil(math.sqrt(n)) if ncols is None else _positive_int(ncols, "ncols")
    ncols = min(ncols, n)
    aspect = items[0].shape[0] / items[0].shape[1]
    fig, axes = _grid(n, ncols, 2.2 if n > 1 else 3.5, aspect, figsize, extra_height=0.3 if names else 0.0)
    for i, (ax, image, heat) in enumerate(zip(axes, items, maps, strict=True)):
        _imshow(ax, image, "gray")
        height, width = image.shape[:2]
        ax.imshow(heat.astype(np.float32), cmap=cmap, alpha=float(alpha), vmin=vmin, vmax=vmax,
                  interpolation="bilinear", extent=(-0.5, width - 0.5, height - 0.5, -0.5))
        if names:
            ax.set_title(names[i], fontsize=10)
    if suptitle:
        fig.suptitle(suptitle)
    return fig


# ----------------------------------------------------------------------------- training, evaluation


def _history_dict(history: Any) -> dict[str, np.ndarray]:
    data = getattr(history, "history", history)
    if not isinstance(data, Mapping):
        raise TypeError(
            "history should be what model.fit returns (a Keras History) or a dict of lists such as "
            f"{{'loss': [...], 'val_loss': [...]}}; got {type(history).__name__}."
        )
    return {str(key): np.asarray(values, dtype=np.float64).ravel() for key, values in data.items()}


def plot_history(history: Any, metrics: Sequence[str] | str = ("loss", "accuracy")) -> Figure:
    """Training curves: one panel per metric, train and validation ("val_" + metric) against epoch.

    >>> fig = plot_history({"loss": [0.9, 0.5], "val_loss": [1.0, 0.7],
    ...                     "accuracy": [0.6, 0.8], "val_accuracy": [0.5, 0.7]})
    >>> [ax.get_title() for ax in fig.axes]
    ['loss', 'accuracy']
    """
    data = _history_dict(history)
    names = [metrics] if isinstance(metrics, str) else list(metrics)
    if not names:
        raise ValueError("metrics is empty: name at least one, e.g. metrics=('loss',).")
    for name in names:
        if name not in data and f"val_{name}" not in data:
            recorded = ", ".join(sorted(data)) or "nothing"
            raise ValueError(
                f"history has no {name!r} (nor 'val_{name}'); it records: {recorded}. "
                "Pass metrics=(...) with names from that list."
            )
    fig, axes = _subplots(1, len(names), (min(MAX_WIDTH, 4.4 * len(names)), 3.3))
    for ax, name in zip(axes[0], names, strict=True):
        train = data.get(name)
        val = data.get(f"val_{name}")
        if (train is None or train.size == 0) and (val is None or val.size == 0):
            raise ValueError(f"history[{name!r}] is empty: did model.fit run for at least one epoch?")
        epochs = train.size if train is not None else val.size
        if train is not None and train.size:
            ax.plot(np.arange(1, train.size + 1), train, "o-", markersize=3, label="train")
        if val is not None and val.size:
            step = max(1, epochs // val.size)  # validation_freq=k records every k-th epoch
            ax.plot(step * np.arange(1, val.size + 1), val, "s--", markersize=3, label="validation")
        ax.set_title(name)
        ax.set_xlabel("epoch")
        ax.set_ylabel(name)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=9)
    return fig


def _class_ids(y: Any, what: str) -> np.ndarray:
    array = _array(y, what)
    if array.ndim == 2 and array.shape[1] > 1:
        return array.argmax(axis=1)  # one-hot labels or predicted probabilities
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise ValueError(
            f"{what} should be class ids of shape (N,) or probabilities of shape (N, n_classes); "
            f"got shape {array.shape}."
        )
    if array.dtype.kind == "f":
        if not np.all(array == np.round(array)):
            raise ValueError(
                f"{what} holds non-integer values such as {array[array != np.round(array)][0]:.3g}: "
                "pass class ids (for a sigmoid output use (p > 0.5).astype(int))."
            )
        return array.astype(np.int64)
    if array.dtype.kind == "b":
        return array.astype(np.int64)
    return array


def plot_confusion_matrix(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    class_names: Sequence[str] | None = None,
    normalize: bool | str = False,
) -> Figure:
    """Confusion matrix (rows: true class, columns: predicted class) with every cell annotated.

    ``y_pred`` may be class ids or the (N, n_classes) probabilities ``model.predict`` returns.
    ``class_names[i]`` names class id i. ``normalize=True`` divides each row by its total (the
    fraction of each true class predicted as each class); "pred" and "all" are also accepted.

    >>> fig = plot_confusion_matrix([0, 1, 1, 2], [0, 1, 2, 2], class_names=["a", "b", "c"])
    >>> fig.axes[0].get_xlabel()
    'predicted'
    """
    from sklearn.metrics import confusion_matrix

    true = _class_ids(y_true, "y_true")
    pred = _class_ids(y_pred, "y_pred")
    if true.size != pred.size:
        raise ValueError(f"y_true has {true.size} labels but y_pred has {pred.size}: they should match.")
    if true.size == 0:
        raise ValueError("y_true is empty: there is nothing to count.")
    if class_names is not None:
        names = [str(name) for name in class_names]
        labels = np.arange(len(names))
        for what, values in (("y_true", true), ("y_pred", pred)):
            outside = values[(values < 0) | (values >= len(names))]
            if outside.size:
                raise ValueError(
                    f"{what} contains class {outside[0]} but class_names has {len(names)} names "
                    f"(ids 0..{len(names) - 1})."
                )
    else:
        labels = np.unique(np.concatenate([true, pred]))
        names = [str(label) for label in labels]
    if isinstance(normalize, np.bool_):
        normalize = bool(normalize)
    modes = {False: None, None: None, True: "true", "true": "true", "pred": "pred", "all": "all"}
    if not isinstance(normalize, (bool, str, type(None))) or normalize not in modes:
        raise ValueError(f"normalize should be True, False, 'true', 'pred' or 'all'; got {normalize!r}.")
    mode = modes[normalize]
    matrix = confusion_matrix(true, pred, labels=labels, normalize=mode)
    n = len(names)
    side = min(MAX_WIDTH, max(4.0, 0.45 * n + 2.5))
    fig, axes = _subplots(1, 1, (side + 0.8, side))
    ax = axes[0, 0]
    image = ax.imshow(matrix, cmap="Blues", vmin=0)
    fig.colorbar(image, ax=ax, shrink=0.8)
    long_names = max(map(len, names)) > 2
    ax.set_xticks(
        range(n),
        names,
        rotation=45 if long_names else 0,
        ha="right" if long_names else "center",
        rotation_mode="anchor",
    )
    ax.set_yticks(range(n), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    accuracy = float(np.mean(true == pred))
    ax.set_title(f"confusion matrix{', normalised' if mode else ''} (accuracy {accuracy:.3f})", fontsize=10)
    if n <= 20:
        threshold = matrix.max() / 2 if matrix.max() > 0 else 1
        for (row, col), value in np.ndenumerate(matrix):
            text = f"{value:.2f}" if mode else f"{int(value)}"
            ax.text(
                col,
                row,
                text,
                ha="center",
                va="center",
                fontsize=9 if n <= 10 else 7,
                color="white" if value > threshold else "black",
            )
    return fig


# ----------------------------------------------------------------------------- boxes, masks


def _target_axes(ax: Axes | None, image: np.ndarray, width: float = 4.5, legend: float = 0.0) -> Axes:
    """The axes to draw on, with the image in it (drawn unless the axes already holds one).

    A new figure is ``width`` inches wide, ``legend`` of them to the right of the image.
    """
    if ax is None:
        height, breadth = image.shape[:2]
        figsize = (width, min(MAX_WIDTH, 0.4 + (width - legend) * height / breadth))
        _, axes = _subplots(1, 1, figsize)
        ax = axes[0, 0]
    elif not isinstance(ax, Axes):
        raise TypeError(f"ax should be a matplotlib Axes (e.g. fig.axes[0]), got {type(ax).__name__}.")
    if not ax.images:
        _imshow(ax, image, "gray")
    height, breadth = image.shape[:2]
    ax.set_xlim(-0.5, breadth - 0.5)
    ax.set_ylim(height - 0.5, -0.5)
    return ax


def _box_corners(boxes: Any, box_format: str) -> np.ndarray:
    """Boxes as (N, 4) floats (x_min, y_min, width, height), checked."""
    if box_format not in ("xyxy", "xywh"):
        raise ValueError(f"box_format should be 'xyxy' or 'xywh', got {box_format!r}.")
    layout = "(x_min, y_min, x_max, y_max)" if box_format == "xyxy" else "(x_min, y_min, width, height)"
    array = _array(boxes, "boxes")
    if array.size == 0:
        return np.zeros((0, 4))
    if array.ndim == 1 and array.shape[0] == 4:
        array = array[None, :]
    if array.ndim != 2 or array.shape[1] != 4 or array.dtype.kind not in "iuf":
        raise ValueError(f"boxes should be an (N, 4) array of {layout} in pixels; got shape {array.shape}.")
    array = array.astype(np.float64)
    if not np.all(np.isfinite(array)):
        raise ValueError("boxes contains NaN or infinite values.")
    if box_format == "xyxy":
        array = np.column_stack([array[:, :2], array[:, 2:] - array[:, :2]])
    bad = np.flatnonzero((array[:, 2] < 0) | (array[:, 3] < 0))
    if bad.size:
        raise ValueError(
            f"box {bad[0]} has a negative width or height ({_boxes_row(boxes, bad[0])} read as {layout}): "
            f"is box_format={box_format!r} right?"
        )
    return array


def _boxes_row(boxes: Any, index: int) -> str:
    """One box of ``boxes`` as text (for error messages)."""
    row = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)[index]
    return "(" + ", ".join(f"{v:g}" for v in row) + ")"


def _is_negative_number(label: Any) -> bool:
    try:
        return not isinstance(label, str) and float(label) < 0
    except (TypeError, ValueError):
        return False


def _label_name(label: Any, class_names: Any, index: int) -> str:
    if class_names is None or isinstance(label, str):
        return str(label)
    if isinstance(class_names, Mapping):
        if label not in class_names:
            raise ValueError(f"label {label!r} of item {index} has no entry in class_names.")
        return str(class_names[label])
    if not float(label).is_integer() or not 0 <= int(label) < len(class_names):
        raise ValueError(
            f"label {label!r} of item {index} is not a class id of class_names ({len(class_names)} names, "
            f"ids 0..{len(class_names) - 1})."
        )
    return str(class_names[int(label)])


def draw_boxes(
    image: ArrayLike,
    boxes: ArrayLike,
    labels: Sequence[Any] | None = None,
    scores: Sequence[float] | None = None,
    class_names: Sequence[str] | Mapping[int, str] | None = None,
    box_format: str = "xyxy",
    color: Any = None,
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    """Draw boxes over an image, each with a "label score" caption when labels or scores are given.

    Boxes are in pixels: "xyxy" is (x_min, y_min, x_max, y_max) with the max edges exclusive (the box
    covers pixel columns x_min .. x_max - 1), "xywh" is (x_min, y_min, width, height). Call again with
    ``ax=fig.axes[0]`` to overlay a second set (e.g. predictions over ground truth): without ``color``
    each set on the axes gets the next colour (lime, red, ...) and later sets are dashed. Padding
    rows, as in :mod:`cvcourse.scenes` (label -1, or a box of zeros), are skipped.

    >>> image = np.zeros((64, 64), np.uint8)
    >>> fig = draw_boxes(image, [[4, 4, 20, 30]], labels=[3], title="ground truth")
    >>> fig = draw_boxes(image, [[6, 5, 22, 28]], labels=[3], scores=[0.87], ax=fig.axes[0])
    >>> len(fig.axes[0].patches)
    2
    """
    picture = _prepare_image(image, "image")
    corners = _box_corners(boxes, box_format)
    n = len(corners)
    if labels is not None:
        labels = list(np.asarray(labels).ravel()) if not isinstance(labels, (list, tuple)) else list(labels)
        if len(labels) != n:
            raise ValueError(
                f"labels has {len(labels)} entries but there are {n} boxes: give one label each."
            )
    if scores is not None:
        scores = np.asarray(scores, dtype=np.float64).ravel()
        if scores.size != n:
            raise ValueError(
                f"scores has {scores.size} entries but there are {n} boxes: give one score each."
            )
    padding = np.all(corners == 0, axis=1)
    if labels is not None:
        padding |= np.array([_is_negative_number(label) for label in labels], dtype=bool)
    ax = _target_axes(ax, picture)
    group = len({p.get_gid() for p in ax.patches if str(p.get_gid()).startswith("cvcourse-boxes")})
    edge = color if color is not None else BOX_COLORS[group % len(BOX_COLORS)]
    height = picture.shape[0]
    for i, (x, y, w, h) in enumerate(corners):
        if padding[i]:
            continue
        ax.add_patch(
            Rectangle(
                (x - 0.5, y - 0.5),
                w,
                h,
                fill=False,
                edgecolor=edge,
                linewidth=2,
                linestyle="-" if group == 0 else "--",
                gid=f"cvcourse-boxes-{group}",
            )
        )
        parts = []
        if labels is not None:
            parts.append(_label_name(labels[i], class_names, i))
        if scores is not None:
            parts.append(f"{scores[i]:.2f}")
        if parts:
            inside = y - 0.5 < 0.08 * height  # no room above the box: write inside it
            ax.text(
                x - 0.5,
                y - 0.5,
                " ".join(parts),
                fontsize=8,
                color=_text_color(edge),
                va="top" if inside else "bottom",
                ha="left",
                clip_on=True,
                bbox={"facecolor": edge, "alpha": 0.8, "pad": 1, "edgecolor": "none"},
            )
    if title:
        ax.set_title(title, fontsize=10)
    return _root_figure(ax)


def _class_mask(mask: Any, shape: tuple[int, ...]) -> np.ndarray:
    array = _array(mask, "mask")
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim != 2:
        hint = ""
        if array.ndim == 3 and array.shape[-1] > 1:
            hint = " Per-class scores? Take mask.argmax(axis=-1)."
        elif array.ndim == 3 and array.shape[0] == 1:
            hint = " A batch of one: pass mask[0]."
        raise ValueError(f"mask should have shape (H, W) of class ids; got shape {array.shape}.{hint}")
    if array.shape != tuple(shape[:2]):
        raise ValueError(
            f"mask has shape {array.shape} but the image is {tuple(shape[:2])}: they should match."
        )
    if array.dtype.kind == "f":
        if not np.all(array == np.round(array)):
            raise ValueError(
                "mask should hold integer class ids, got fractional values: for per-pixel "
                "probabilities take argmax over the class axis."
            )
    elif array.dtype.kind not in "biu":
        raise ValueError(f"mask should hold integer class ids, got dtype {array.dtype}.")
    array = array.astype(np.int64)
    if array.min() < 0:
        raise ValueError(
            f"mask holds negative class ids ({array.min()}); 0 is background, classes are 1, 2, ..."
        )
    return array


def show_masks(
    image: ArrayLike,
    mask: ArrayLike,
    class_names: Sequence[str] | Mapping[int, str] | None = None,
    alpha: float = 0.5,
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    """Overlay a segmentation mask (H, W) of class ids on an image; 0 is background and stays clear.

    Each class id keeps one colour (tab10, then lighter shades), and a legend lists the classes
    present. ``class_names[i]`` names mask value i (so ``class_names[0]`` is the background); a dict
    {id: name} works too. Pass ``ax`` to draw into an existing axes (true and predicted side by side).

    >>> mask = np.zeros((32, 32), np.int64); mask[4:12, 4:12] = 1; mask[20:30, 10:25] = 3
    >>> fig = show_masks(np.zeros((32, 32)), mask, title="true mask")
    >>> [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    ['class 1', 'class 3']
    """
    picture = _prepare_image(image, "image")
    ids = _class_mask(mask, picture.shape)
    if not 0.0 <= float(alpha) <= 1.0:
        raise ValueError(f"alpha should be between 0 and 1, got {alpha!r}.")
    present = [int(c) for c in np.unique(ids) if c != 0]
    if class_names is not None and not isinstance(class_names, Mapping):
        if present and present[-1] >= len(class_names):
            raise ValueError(
                f"mask holds class {present[-1]} but class_names has {len(class_names)} names "
                "(class_names[i] names mask value i, so class_names[0] is the background)."
            )
    ax = _target_axes(ax, picture, width=5.5, legend=1.0)
    overlay = np.zeros(ids.shape + (4,), np.float32)
    handles = []
    for class_id in present:
        rgb = _MASK_COLORS[(class_id - 1) % len(_MASK_COLORS)]
        overlay[ids == class_id] = (*rgb, alpha)
        if class_names is None:
            name = f"class {class_id}"
        elif isinstance(class_names, Mapping):
            if class_id not in class_names:
                raise ValueError(f"mask holds class {class_id} but class_names has no entry for it.")
            name = str(class_names[class_id])
        else:
            name = str(class_names[class_id])
        handles.append(Patch(facecolor=rgb, label=name))
    ax.imshow(overlay, interpolation="nearest")
    if handles:
        ax.legend(
            handles=handles,
            loc="upper left",
            bbox_to_anchor=(1.02, 1.0),
            fontsize=8,
            frameon=False,
            borderaxespad=0.0,
        )
    if title:
        ax.set_title(title, fontsize=10)
    return _root_figure(ax)
