"""Digit scenes: real MNIST digits at random places and sizes, with exact boxes and masks.

The data of the localisation, detection and segmentation chapters. Each scene is a black
canvas with one or more digits from :func:`cvcourse.data.load_mnist_sample` (train digits for
``split="train"``, test digits for ``split="test"``, so held-out scenes show unseen digits),
each resized by a random scale and placed so that no two boxes overlap. A pixel is *ink* when
its value is above 0.5 (values in [0, 1]); boxes and masks are computed from the ink of each
placed digit, so they are exact.

>>> scenes = make_digit_scenes(8, canvas_size=64, digits_per_scene=(1, 3), seed=1)
>>> scenes.images.shape, scenes.boxes.shape, scenes.masks.shape
((8, 64, 64, 1), (8, 3, 4), (8, 64, 64))
"""

from __future__ import annotations

import functools
import math
import numbers
from dataclasses import dataclass

import numpy as np

from cvcourse.data import load_mnist_sample

__all__ = ["INK_THRESHOLD", "DigitScenes", "make_digit_scenes"]

#: A pixel belongs to a digit's box and mask when its value (in [0, 1]) is above this.
INK_THRESHOLD = 0.5

_DIGIT_SIZE = 28
_MAX_INK_SIZE = 20  # MNIST centres each digit in a 20x20 box inside the 28x28 image
_CANDIDATES = 64  # positions tried at once for one digit
_SCENE_TRIES = 100  # fresh placements of a whole scene before giving up


@dataclass(frozen=True, eq=False, repr=False)
class DigitScenes:
    """Scenes of digits with their boxes, labels and per-pixel masks.

    - ``images``: float32 (n, H, W, 1) in [0, 1], black background.
    - ``boxes``: float32 (n, max_digits, 4) in pixels, corners ``(x_min, y_min, x_max, y_max)``;
      ``x_max`` and ``y_max`` are exclusive edges (ink in columns 3..7 gives x_min=3, x_max=8);
      rows past a scene's count are zeros.
    - ``labels``: int32 (n, max_digits), the digit of each box; -1 past the count.
    - ``counts``: int32 (n,), the number of digits in each scene.
    - ``masks``: uint8 (n, H, W), 0 for background and ``digit + 1`` on the ink pixels (value above
      0.5) of that digit.

    >>> make_digit_scenes(2).describe()  # doctest: +ELLIPSIS
    '2 scenes: images (2, 64, 64, 1) float32 ...'
    """

    images: np.ndarray
    boxes: np.ndarray
    labels: np.ndarray
    counts: np.ndarray
    masks: np.ndarray
    source: str

    def describe(self) -> str:
        """One line: shapes, dtypes, digit counts and source."""
        counts = self.counts
        low, high = (int(counts.min()), int(counts.max())) if counts.size else (0, 0)
        return (
            f"{len(self.images)} scenes: images {tuple(self.images.shape)} {self.images.dtype} in [0, 1], "
            f"boxes {tuple(self.boxes.shape)} {self.boxes.dtype} (x_min, y_min, x_max, y_max; "
            f"max exclusive), labels {tuple(self.labels.shape)} {self.labels.dtype} (-1 = none), "
            f"masks {tuple(self.masks.shape)} {self.masks.dtype} (0 = background, digit + 1), "
            f"{low}-{high} digits per scene. Source: {self.source}"
        )

    def __repr__(self) -> str:
        return f"DigitScenes({self.describe()})"


# ----------------------------------------------------------------------------- validation


def _is_int(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _check_int(value: object, name: str, minimum: int, hint: str = "") -> int:
    if not _is_int(value) or int(value) < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}{hint}, got {value!r}.")
    return int(value)


def _check_pair(value: object, name: str) -> tuple:
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or len(value) != 2:
        raise ValueError(f"{name} must be a pair (low, high), got {value!r}.")
    return tuple(value)


def _validate(
    n_scenes, canvas_size, digits_per_scene, scale_range, split, seed, min_gap
) -> tuple[int, int, tuple[int, int], tuple[float, float], str, int, int]:
    n_scenes = _check_int(n_scenes, "n_scenes", 1)
    canvas_size = _check_int(canvas_size, "canvas_size", _DIGIT_SIZE, " (the size of an MNIST digit)")
    low, high = _check_pair(digits_per_scene, "digits_per_scene")
    if not (_is_int(low) and _is_int(high)) or int(low) < 1 or int(low) > int(high):
        raise ValueError(
            "digits_per_scene must be a pair of integers (min, max) with 1 <= min <= max, "
            f"got {digits_per_scene!r}."
        )
    scale_low, scale_high = _check_pair(scale_range, "scale_range")
    numeric = all(
        isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_)) and math.isfinite(v)
        for v in (scale_low, scale_high)
    )
    if not numeric or not 0 < scale_low <= scale_high:
        raise ValueError(
            "scale_range must be a pair of positive numbers (low, high) with low <= high, "
            f"got {scale_range!r}."
        )
    if _MAX_INK_SIZE * scale_high > canvas_size:
        raise ValueError(
            f"scale_range up to {scale_high} makes digits up to about {_MAX_INK_SIZE * scale_high:.0f} "
            f"pixels tall, more than canvas_size={canvas_size}: use a smaller scale or a larger canvas."
        )
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}.")
    seed = _check_int(seed, "seed", 0)
    min_gap = _check_int(min_gap, "min_gap", 0)
    return (
        n_scenes,
        canvas_size,
        (int(low), int(high)),
        (float(scale_low), float(scale_high)),
        split,
        seed,
        min_gap,
    )


# ----------------------------------------------------------------------------- resizing


@functools.lru_cache(maxsize=128)
def _resize_matrix(size_in: int, size_out: int) -> np.ndarray:
    """(size_out, size_in) weights of a linear resize; the filter widens when shrinking (antialias).

    The triangle filter of bilinear interpolation, stretched by the shrink factor, as PIL does:
    ``A @ image @ A.T`` resizes a square image. Each row sums to 1, so values stay in [0, 1].
    """
    scale = size_in / size_out
    support = max(1.0, scale)
    centres = (np.arange(size_out) + 0.5) * scale
    taps = np.arange(size_in) + 0.5
    weights = np.clip(1.0 - np.abs(taps[None, :] - centres[:, None]) / support, 0.0, None)
    weights /= weights.sum(axis=1, keepdims=True)
    weights = weights.astype(np.float32)
    weights.flags.writeable = False
    return weights


def _resize_batch(digits: np.ndarray, size: int) -> np.ndarray:
    """Resize (m, 28, 28) float32 digits to (m, size, size) at once."""
    matrix = _resize_matrix(digits.shape[1], size)
    return np.matmul(np.matmul(matrix, digits), matrix.T)


def _ink_boxes(patches: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Tight ink boxes (row0, row1, col0, col1; ends exclusive) of (m, s, s) patches, and has-ink flags."""
    ink = patches > INK_THRESHOLD
    rows, cols = ink.any(axis=2), ink.any(axis=1)
    size = patches.shape[1]
    boxes = np.stack(
        [
            rows.argmax(axis=1),
            size - rows[:, ::-1].argmax(axis=1),
            cols.argmax(axis=1),
            size - cols[:, ::-1].argmax(axis=1),
        ],
        axis=1,
    )
    return boxes, rows.any(axis=1)


# ----------------------------------------------------------------------------- placement


def _place_scene(
    rng: np.random.Generator, heights: np.ndarray, widths: np.ndarray, canvas: int, gap: int
) -> np.ndarray | None:
    """Top-left corners (k, 2) as (y, x) of k ink boxes that do not overlap, or None."""
    k = len(heights)
    placed = np.zeros((k, 4), dtype=np.int64)  # x0, y0, x1, y1
    for j in range(k):
        h, w = int(heights[j]), int(widths[j])
        n = 1 if j == 0 else _CANDIDATES
        ys = rng.integers(0, canvas - h + 1, size=n)
        xs = rng.integers(0, canvas - w + 1, size=n)
        if j:
            before = placed[:j]
            clash = (
                (xs[:, None] < before[None, :, 2] + gap)
                & (before[None, :, 0] < xs[:, None] + w + gap)
                & (ys[:, None] < before[None, :, 3] + gap)
                & (before[None, :, 1] < ys[:, None] + h + gap)
            ).any(axis=1)
            free = np.flatnonzero(~clash)
            if free.size == 0:
                return None
            choice = free[0]
        else:
            choice = 0
        placed[j] = (xs[choice], ys[choice], xs[choice] + w, ys[choice] + h)
    return placed[:, [1, 0]]


def make_digit_scenes(
    n_scenes: int,
    canvas_size: int = 64,
    digits_per_scene: tuple[int, int] = (1, 1),
    scale_range: tuple[float, float] = (0.7, 1.3),
    split: str = "train",
    seed: int = 0,
    min_gap: int = 1,
) -> DigitScenes:
    """Build ``n_scenes`` seeded scenes of real MNIST digits with exact boxes, labels and masks.

    Each scene gets between ``digits_per_scene[0]`` and ``[1]`` digits (inclusive), each
    resized by a factor drawn from ``scale_range`` (antialiased linear resize of the 28x28
    digit) and placed at random where its ink box keeps ``min_gap`` empty pixels to every other
    box; digits are combined with ``np.maximum``. Boxes are the tight box of each placed digit's
    ink (value > 0.5). The same arguments give identical arrays. Raises ``ValueError`` when the
    digits cannot fit (too many or too large for the canvas).

    >>> scenes = make_digit_scenes(100, digits_per_scene=(2, 4), split="test", seed=7)
    >>> int(scenes.counts.min()), int(scenes.counts.max())
    (2, 4)
    """
    n_scenes, canvas, (low, high), (scale_low, scale_high), split, seed, gap = _validate(
        n_scenes, canvas_size, digits_per_scene, scale_range, split, seed, min_gap
    )
    mnist = load_mnist_sample(normalize=False)
    pool_x = mnist.x_train if split == "train" else mnist.x_test
    pool_y = mnist.y_train if split == "train" else mnist.y_test
    rng = np.random.default_rng(seed)

    counts = rng.integers(low, high + 1, size=n_scenes)
    total = int(counts.sum())
    index = rng.integers(0, len(pool_x), size=total)
    sizes = np.maximum(1, np.rint(_DIGIT_SIZE * rng.uniform(scale_low, scale_high, size=total))).astype(int)

    # Resize every digit, batched by target size; redraw the rare digit with no ink left.
    patches: list[np.ndarray | None] = [None] * total
    ink_boxes = np.zeros((total, 4), dtype=np.int64)
    todo = np.arange(total)
    for _attempt in range(20):
        for size in np.unique(sizes[todo]):
            members = todo[sizes[todo] == size]
            resized = _resize_batch(pool_x[index[members]].astype(np.float32) / 255.0, int(size))
            boxes, has_ink = _ink_boxes(resized)
            for row, member in enumerate(members):
                patches[member] = resized[row] if has_ink[row] else None
                ink_boxes[member] = boxes[row]
        todo = np.array([i for i in todo if patches[i] is None], dtype=int)
        if todo.size == 0:
            break
        index[todo] = rng.integers(0, len(pool_x), size=todo.size)
    else:
        raise ValueError(
            f"the digits shrunk by scale_range={scale_range} keep no pixel above {INK_THRESHOLD}: "
            "use larger scales."
        )
    heights = ink_boxes[:, 1] - ink_boxes[:, 0]
    widths = ink_boxes[:, 3] - ink_boxes[:, 2]
    labels_flat = pool_y[index].astype(np.int32)

    images = np.zeros((n_scenes, canvas, canvas), dtype=np.float32)
    masks = np.zeros((n_scenes, canvas, canvas), dtype=np.uint8)
    out_boxes = np.zeros((n_scenes, high, 4), dtype=np.float32)
    out_labels = np.full((n_scenes, high), -1, dtype=np.int32)
    starts = np.concatenate([[0], np.cumsum(counts)])
    for scene in range(n_scenes):
        members = np.arange(starts[scene], starts[scene + 1])
        h, w = heights[members], widths[members]
        too_big = int(h.max()) > canvas or int(w.max()) > canvas
        if too_big or int(((h + gap) * (w + gap)).sum()) > (canvas + gap) ** 2:
            corners = None
        else:
            for _attempt in range(_SCENE_TRIES):
                corners = _place_scene(rng, h, w, canvas, gap)
                if corners is not None:
                    break
        if corners is None:
            raise ValueError(
                f"could not place {len(members)} digits (ink boxes up to {int(h.max())}x{int(w.max())} px, "
                f"min_gap={gap}) on a {canvas}x{canvas} canvas without overlap after {_SCENE_TRIES} "
                "tries: use fewer digits_per_scene, a smaller scale_range or a larger canvas_size."
            )
        for slot, member in enumerate(members):
            patch = patches[member]
            row0, row1, col0, col1 = ink_boxes[member]
            top, left = int(corners[slot, 0]) - row0, int(corners[slot, 1]) - col0
            size = patch.shape[0]
            y0, y1 = max(top, 0), min(top + size, canvas)
            x0, x1 = max(left, 0), min(left + size, canvas)
            piece = patch[y0 - top : y1 - top, x0 - left : x1 - left]
            np.maximum(images[scene, y0:y1, x0:x1], piece, out=images[scene, y0:y1, x0:x1])
            mask_view = masks[scene, y0:y1, x0:x1]
            mask_view[piece > INK_THRESHOLD] = labels_flat[member] + 1
            out_boxes[scene, slot] = (left + col0, top + row0, left + col1, top + row1)
            out_labels[scene, slot] = labels_flat[member]

    source = (
        f"{n_scenes:,} digit scenes of {canvas}x{canvas} px, {low}-{high} digits each, scale "
        f"{scale_low:g}-{scale_high:g}, min_gap {gap}, seed {seed}; digits from the {split} split of: "
        f"{mnist.source}"
    )
    return DigitScenes(
        images=images[..., np.newaxis],
        boxes=out_boxes,
        labels=out_labels,
        counts=counts.astype(np.int32),
        masks=masks,
        source=source,
    )
