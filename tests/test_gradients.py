"""cvcourse.gradients: the numerical gradient check of chapters 2 and 3."""

import numpy as np
import pytest

from cvcourse.gradients import numerical_gradient, relative_error


def test_centred_differences_match_an_analytic_gradient_and_restore_the_input():
    rng = np.random.default_rng(0)
    x, w = rng.normal(size=(3, 4)), rng.normal(size=(4, 2))
    before = x.copy()
    estimate = numerical_gradient(lambda: float(np.sum(np.tanh(x @ w))), x)
    exact = (1 - np.tanh(x @ w) ** 2) @ w.T
    assert relative_error(estimate, exact) < 1e-7
    assert np.array_equal(x, before)
    assert relative_error(estimate, 1.01 * exact) > 1e-3


def test_bad_input_says_what_was_expected():
    with pytest.raises(TypeError, match="float NumPy array"):
        numerical_gradient(lambda: 0.0, np.arange(3))
    with pytest.raises(ValueError, match="one shape"):
        relative_error(np.zeros(2), np.zeros(3))
