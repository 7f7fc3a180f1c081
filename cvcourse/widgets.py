"""Interactive demos for the lectures (ipywidgets).

:func:`kernel_explorer` lets the room pick a kernel and see what it does to an image. The plot is
a PNG in an ``ipywidgets.Image`` whose value is replaced on every change. (Drawing into an
``ipywidgets.Output`` with ``display`` instead can stall headless runs under nbclient, hence
under nbconvert and nbgrader: jupyter/nbclient#312.)

>>> import numpy as np
>>> explorer = kernel_explorer(np.random.rand(32, 32), {"blur": np.full((3, 3), 1 / 9)})
>>> type(explorer).__name__
'VBox'
"""

from __future__ import annotations

import io
from collections.abc import Mapping

import ipywidgets
import numpy as np
from matplotlib.figure import Figure
from numpy.typing import ArrayLike
from scipy.signal import correlate2d

from cvcourse.plotting import _draw_kernel

__all__ = ["kernel_explorer"]

LUMINANCE = np.array([0.299, 0.587, 0.114])  # ITU-R BT.601, as in PIL and tf.image.rgb_to_grayscale
RESPONSES = {"raw": "raw", "|response|": "abs", "ReLU": "relu"}


def _grayscale(image: ArrayLike) -> np.ndarray:
    """A float grayscale copy of ``image``; integer pixels are read as 0..255 and scaled to [0, 1]."""
    array = np.asarray(image)
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if (
        array.dtype.kind not in "biuf"
        or array.ndim not in (2, 3)
        or (array.ndim == 3 and array.shape[-1] != 3)
    ):
        raise ValueError(
            f"image should be a 2-D grayscale array (H, W) or an RGB array (H, W, 3) of numbers; "
            f"got {array.dtype} of shape {array.shape}."
        )
    gray = array.astype(np.float64)
    if array.dtype.kind in "iu":
        gray = gray / 255.0
    return gray @ LUMINANCE if gray.ndim == 3 else gray


def _check_kernels(kernels: Mapping[str, ArrayLike], image_shape: tuple[int, int]) -> dict[str, np.ndarray]:
    if not isinstance(kernels, Mapping) or not kernels:
        raise ValueError(
            "kernels should be a non-empty dict {name: 2-D array}, e.g. {'blur': np.full((3, 3), 1 / 9)}; "
            f"got {kernels!r:.80}."
        )
    checked = {}
    for name, kernel in kernels.items():
        array = np.asarray(kernel)
        if array.ndim != 2 or array.dtype.kind not in "biuf" or array.size == 0:
            raise ValueError(f"kernel {name!r} should be a 2-D array of numbers, got shape {array.shape}.")
        if not np.all(np.isfinite(array)):
            raise ValueError(f"kernel {name!r} contains NaN or infinite values.")
        if array.shape[0] > image_shape[0] or array.shape[1] > image_shape[1]:
            raise ValueError(f"kernel {name!r} {array.shape} is larger than the image {image_shape}.")
        checked[name] = array.astype(np.float64)
    return checked


def _response(gray: np.ndarray, kernel: np.ndarray, mode: str) -> np.ndarray:
    feature_map = correlate2d(gray, kernel, mode="valid")
    if mode == "abs":
        return np.abs(feature_map)
    if mode == "relu":
        return np.maximum(feature_map, 0.0)
    return feature_map


def _explorer_figure(gray: np.ndarray, kernel: np.ndarray, name: str, label: str) -> Figure:
    """Image, kernel and feature map side by side (a figure pyplot does not track)."""
    feature_map = _response(gray, kernel, RESPONSES[label])
    fig = Figure(figsize=(9.5, 3.4), layout="constrained")
    ax_image, ax_kernel, ax_map = fig.subplots(1, 3, width_ratios=(1.0, 0.6, 1.0))
    ax_image.imshow(gray, cmap="gray")
    ax_image.set_title(f"image {gray.shape[0]}×{gray.shape[1]}", fontsize=10)
    _draw_kernel(ax_kernel, kernel, title=f"kernel {name!r}", fontsize=8 if max(kernel.shape) > 5 else 10)
    shown = ax_map.imshow(feature_map, cmap="gray")
    fig.colorbar(shown, ax=ax_map, shrink=0.8)
    ax_map.set_title(f"feature map ({label}) {feature_map.shape[0]}×{feature_map.shape[1]}", fontsize=10)
    for ax in (ax_image, ax_map):
        ax.set_xticks([])
        ax.set_yticks([])
    return fig


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90)
    return buffer.getvalue()


def kernel_explorer(image: ArrayLike, kernels: Mapping[str, ArrayLike]) -> ipywidgets.Widget:
    """A widget to pick a kernel by name and see the image, the kernel and its feature map.

    The feature map is the "valid" cross-correlation of the grayscale image (RGB is converted with
    the luminance weights 0.299, 0.587, 0.114; integer pixels are scaled to [0, 1]) with the kernel,
    shown raw, as its absolute value or through a ReLU. Returns a ``VBox``: its first child holds the
    kernel ``Dropdown`` and the response ``ToggleButtons``, its second the ``Image`` with the plot.

    >>> explorer = kernel_explorer(np.random.rand(32, 32, 3),
    ...                            {"blur": np.full((3, 3), 1 / 9), "identity": np.eye(1)})
    >>> dropdown, toggle = explorer.children[0].children
    >>> dropdown.value = "identity"  # redraws the plot
    """
    gray = _grayscale(image)
    checked = _check_kernels(kernels, gray.shape)
    dropdown = ipywidgets.Dropdown(options=[(str(name), name) for name in checked], description="kernel")
    toggle = ipywidgets.ToggleButtons(options=list(RESPONSES), value="raw", description="show")
    toggle.style.button_width = "90px"
    picture = ipywidgets.Image(format="png")

    def redraw(_change=None) -> None:
        name = dropdown.value
        picture.value = _png(_explorer_figure(gray, checked[name], str(name), toggle.value))

    dropdown.observe(redraw, names="value")
    toggle.observe(redraw, names="value")
    redraw()
    return ipywidgets.VBox([ipywidgets.HBox([dropdown, toggle]), picture])
