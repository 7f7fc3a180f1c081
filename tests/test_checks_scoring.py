"""Unit tests for cvcourse.checks.accuracy_points (the graded scale of accuracy targets)."""

import pytest

from cvcourse import checks


def test_full_points_at_and_above_target(capsys):
    assert checks.accuracy_points(0.91, target=0.91, floor=0.85, points=5) == 5.0
    assert checks.accuracy_points(0.99, target=0.91, floor=0.85, points=5) == 5.0
    assert "0.9900" in capsys.readouterr().out


def test_zero_at_and_below_floor():
    assert checks.accuracy_points(0.85, target=0.91, floor=0.85, points=5) == 0.0
    assert checks.accuracy_points(0.10, target=0.91, floor=0.85, points=5) == 0.0


def test_linear_in_between(capsys):
    assert checks.accuracy_points(0.88, target=0.91, floor=0.85, points=5) == pytest.approx(2.5)
    assert checks.accuracy_points(0.9, target=0.91, floor=0.85, points=6) == pytest.approx(5.0)
    assert "below the target" in capsys.readouterr().out


def test_nan_scores_zero():
    assert checks.accuracy_points(float("nan"), target=0.91, floor=0.85, points=5) == 0.0


def test_floor_must_be_below_target():
    with pytest.raises(ValueError):
        checks.accuracy_points(0.9, target=0.85, floor=0.91, points=5)
