"""Numerical gradient checks for backward passes written by hand (chapters 2 and 3).

A backward pass is checked without any library: nudge one input by ±h and see how the loss
moves, ``(L(x + h) - L(x - h)) / 2h`` (centred differences: the error shrinks like h²), then
compare with the analytic gradient through the relative error.

>>> x = np.array([1.0, 2.0])
>>> relative_error(numerical_gradient(lambda: float(np.sum(x ** 2)), x), 2 * x) < 1e-8
True
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def numerical_gradient(loss: Callable[[], float], array: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """Centred differences of the scalar ``loss()`` with respect to every entry of ``array``, which
    ``loss`` reads: each entry is moved by ±h in place, then restored."""
    if not isinstance(array, np.ndarray) or array.dtype.kind != "f":
        raise TypeError(
            f"numerical_gradient needs a float NumPy array to nudge, got {type(array).__name__}"
            + (f" of dtype {array.dtype}" if isinstance(array, np.ndarray) else "")
        )
    gradient = np.zeros_like(array, dtype=np.float64)
    for index in np.ndindex(array.shape):
        saved = array[index]
        array[index] = saved + h
        plus = loss()
        array[index] = saved - h
        minus = loss()
        array[index] = saved
        gradient[index] = (plus - minus) / (2 * h)
    return gradient


def relative_error(a, b) -> float:
    """``max |a - b| / max(|a| + |b|, 1e-8)`` over the entries: about 1e-9 or less for a correct
    float64 gradient, 1e-2 or more for a wrong one."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"relative_error compares arrays of one shape, got {a.shape} and {b.shape}")
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-8), initial=0.0))
