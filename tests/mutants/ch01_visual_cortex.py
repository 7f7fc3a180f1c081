"""Plausible mistakes (WRONG) and unusual correct answers (RIGHT) for ch01_visual_cortex.

Each entry is a full replacement of an exercise's solution cell; tests/test_mutants.py checks
that the exercise's test cell (visible and hidden parts) rejects every WRONG and accepts every RIGHT.
Every case is the solution cell as solutions/ has it (`solution_source`) with an edit made by
`change` (tests/mutants/__init__.py), which fails when the text it replaces is no longer there: a
line or two, the computation after the argument checks (`_computed_as`: another algorithm, such as
a loop over the output positions, written with a mistake of its own), or the whole body under the
solution's def line and docstring (`with_body`).
"""

import textwrap

from tests.mutants import change, solution_source, with_body

CHAPTER = "ch01_visual_cortex"

# ----------------------------------------------------------------------------- dense_vs_conv_weights

_WEIGHTS = solution_source(CHAPTER, "dense_vs_conv_weights")
_DENSE = "dense_params = height * width * channels * units + units"
_CONV = "conv_params = kernel_size * kernel_size * channels * filters + filters"
_PAIR = "return int(dense_params), int(conv_params)"

WRONG_WEIGHTS = {
    "forgets the biases": change(
        _WEIGHTS, (_DENSE, "dense_params = height * width * channels * units"),
        (_CONV, "conv_params = kernel_size * kernel_size * channels * filters")),
    "forgets the conv biases only": change(
        _WEIGHTS, (_CONV, "conv_params = kernel_size * kernel_size * channels * filters")),
    "conv kernel ignores the input channels": change(
        _WEIGHTS, (_CONV, "conv_params = kernel_size * kernel_size * filters + filters")),
    "dense layer ignores the channels": change(
        _WEIGHTS, (_DENSE, "dense_params = height * width * units + units")),
    "kernel_size not squared": change(
        _WEIGHTS, (_CONV, "conv_params = kernel_size * channels * filters + filters")),
    "no weight sharing: one kernel per output position": change(
        _WEIGHTS, (_CONV, "positions = (height - kernel_size + 1) * (width - kernel_size + 1)\n"
                          "    conv_params = positions * (kernel_size**2 * channels * filters + filters)")),
    "one bias per filter and input channel": change(
        _WEIGHTS, (_CONV, "conv_params = kernel_size**2 * channels * filters + channels * filters")),
    "pair in the wrong order": change(_WEIGHTS, (_PAIR, "return int(conv_params), int(dense_params)")),
    "returns floats": change(_WEIGHTS, (_PAIR, "return float(dense_params), float(conv_params)")),
    "dense bias counted per input instead of per unit": change(
        _WEIGHTS, (_DENSE, "n_inputs = height * width * channels\n"
                           "    dense_params = n_inputs * units + n_inputs")),
}

RIGHT_WEIGHTS = {
    "numpy integers from np.prod": with_body(_WEIGHTS, """
    dense = np.prod([height, width, channels, units]) + units
    conv = np.prod([kernel_size, kernel_size, channels, filters]) + filters
    return dense, conv
"""),
    "a list, computed as (inputs + 1) * outputs": with_body(_WEIGHTS, """
    return [(height * width * channels + 1) * units, (kernel_size**2 * channels + 1) * filters]
"""),
    "counts real Keras layers": with_body(_WEIGHTS, """
    dense = keras.layers.Dense(units)
    dense.build((None, height * width * channels))
    conv = keras.layers.Conv2D(filters, kernel_size)
    conv.build((None, height, width, channels))
    return dense.count_params(), conv.count_params()
"""),
}

# ----------------------------------------------------------------------------- cross_correlate2d

_XCORR = solution_source(CHAPTER, "cross_correlate2d")
# The solution checks its arguments, then computes: everything from this line on.
_OUTPUT_SIZE = "    out_h, out_w = h - kh + 1, w - kw + 1\n"
_COMPUTATION = _XCORR[_XCORR.index(_OUTPUT_SIZE):]
_SUM = "out += kernel[u, v] * image[u:u + out_h, v:v + out_w]"
# the arguments kept in their own dtypes (for the mistakes that need integer arrays)
_NO_CAST = (("image = np.asarray(image, dtype=np.float64)", "image = np.asarray(image)"),
            ("kernel = np.asarray(kernel, dtype=np.float64)", "kernel = np.asarray(kernel)"))


def _computed_as(body, *edits):
    """The solution cell with `edits` made and its computation (after the checks) replaced by `body`."""
    body = textwrap.indent(textwrap.dedent(body).lstrip("\n"), "    ")
    return change(_XCORR, *edits, (_COMPUTATION, body))


WRONG_XCORR = {
    "true convolution (kernel flipped)": change(
        _XCORR, ("kernel = np.asarray(kernel, dtype=np.float64)",
                 "kernel = np.asarray(kernel, dtype=np.float64)[::-1, ::-1]")),
    "kernel flipped upside down only": change(
        _XCORR, ("kernel = np.asarray(kernel, dtype=np.float64)",
                 "kernel = np.asarray(kernel, dtype=np.float64)[::-1]")),
    "output one smaller: H - kh by W - kw": change(
        _XCORR, (_OUTPUT_SIZE, "    out_h, out_w = h - kh, w - kw\n")),
    "loops miss the last row and column": change(
        _XCORR, (_SUM, "out[:-1, :-1] += kernel[u, v] * image[u:u + out_h - 1, v:v + out_w - 1]")),
    "axes swapped: kernel transposed for non-square kernels": change(
        _XCORR, (_OUTPUT_SIZE, "    kernel = kernel.T\n    kh, kw = kernel.shape\n" + _OUTPUT_SIZE)),
    "assumes a square kernel": change(_XCORR, (_OUTPUT_SIZE, "    kw = kh\n" + _OUTPUT_SIZE)),
    "output array of the image's dtype (uint8 truncates and wraps)": _computed_as("""
        kh, kw = kernel.shape
        out = np.zeros((image.shape[0] - kh + 1, image.shape[1] - kw + 1), dtype=image.dtype)
        for i in range(out.shape[0]):
            for j in range(out.shape[1]):
                out[i, j] = np.sum(image[i:i + kh, j:j + kw] * kernel)
        return out
        """, *_NO_CAST),
    "products in the input dtype (uint8 * uint8 wraps around)": _computed_as("""
        kh, kw = kernel.shape
        out = np.zeros((image.shape[0] - kh + 1, image.shape[1] - kw + 1))
        for i in range(out.shape[0]):
            for j in range(out.shape[1]):
                out[i, j] = (image[i:i + kh, j:j + kw] * kernel).sum(dtype=np.result_type(image, kernel))
        return out
        """, *_NO_CAST),
    "'same' size output (zero padding)": change(
        _XCORR, (_OUTPUT_SIZE, "    image = np.pad(image, [(kh // 2, kh - 1 - kh // 2), "
                               "(kw // 2, kw - 1 - kw // 2)])\n"
                               "    out_h, out_w = h, w\n")),
    "mean instead of sum": change(_XCORR, ("    return out\n", "    return out / (kh * kw)\n")),
    "matrix product instead of element-wise product": _computed_as("""
        image = image.astype(float)
        kh, kw = kernel.shape
        out = np.zeros((image.shape[0] - kh + 1, image.shape[1] - kw + 1))
        for i in range(out.shape[0]):
            for j in range(out.shape[1]):
                window = image[i:i + kh, j:j + kw]
                out[i, j] = np.sum(window @ kernel.T)
        return out
        """),
    "writes the result into a view of the input": _computed_as("""
        kh, kw = kernel.shape
        out = image[: image.shape[0] - kh + 1, : image.shape[1] - kw + 1]
        for i in range(out.shape[0]):
            for j in range(out.shape[1]):
                out[i, j] = np.sum(image[i:i + kh, j:j + kw] * kernel)
        return out.astype(float)
        """, *_NO_CAST),
    "normalises the image in place": change(
        _XCORR, _NO_CAST[0],
        (_OUTPUT_SIZE, '    if image.dtype.kind == "f":\n'
                       "        image /= 1.0 if image.max() <= 1 else 255.0\n"
                       "    image = image.astype(float)\n" + _OUTPUT_SIZE)),
    "calls scipy.signal.correlate2d": _computed_as("""
        from scipy.signal import correlate2d
        return correlate2d(image.astype(float), kernel.astype(float), mode="valid")
        """),
    "calls tf.nn.conv2d": _computed_as("""
        x = tf.constant(image[None, :, :, None], tf.float32)
        k = tf.constant(kernel[:, :, None, None], tf.float32)
        return tf.nn.conv2d(x, k, strides=1, padding="VALID")[0, :, :, 0].numpy()
        """),
    "no ValueError for bad shapes (crashes or returns garbage)": with_body(_XCORR, """
    image = np.asarray(image, dtype=float)
    kernel = np.asarray(kernel, dtype=float)
    kh, kw = kernel.shape[:2]
    out = np.zeros((max(image.shape[0] - kh + 1, 0), max(image.shape[1] - kw + 1, 0)))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(image[i:i + kh, j:j + kw] * kernel)
    return out
"""),
    "checks only that the kernel fits, not that the inputs are 2-D": with_body(_XCORR, """
    image = np.asarray(image, dtype=float)
    kernel = np.asarray(kernel, dtype=float)
    if kernel.shape[0] > image.shape[0] or kernel.shape[1] > image.shape[1]:
        raise ValueError("the kernel is larger than the image")
    kh, kw = kernel.shape[:2]
    out = np.zeros((image.shape[0] - kh + 1, image.shape[1] - kw + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(image[i:i + kh, j:j + kw] * kernel)
    return out
"""),
    "ValueError only when the kernel is larger along both axes": change(
        _XCORR, ("if kh > h or kw > w or", "if (kh > h and kw > w) or")),
}

RIGHT_XCORR = {
    "vectorised: sliding windows and einsum": _computed_as("""
        windows = np.lib.stride_tricks.sliding_window_view(image.astype(np.float64), kernel.shape)
        return np.einsum("ijuv,uv->ij", windows, kernel.astype(np.float64))
        """),
    "loops over output positions, float32 throughout": _computed_as("""
        image = image.astype(np.float32)
        kernel = kernel.astype(np.float32)
        kh, kw = kernel.shape
        out = np.empty((image.shape[0] - kh + 1, image.shape[1] - kw + 1), dtype=np.float32)
        for i in range(out.shape[0]):
            for j in range(out.shape[1]):
                out[i, j] = np.sum(image[i:i + kh, j:j + kw] * kernel)
        return out
        """),
    "true convolution with the kernel flipped back, by NumPy's FFT": _computed_as("""
        (h, w), (kh, kw) = image.shape, kernel.shape
        size = (h + kh - 1, w + kw - 1)
        spectrum = (np.fft.rfft2(image.astype(float), size)
                    * np.fft.rfft2(kernel[::-1, ::-1].astype(float), size))
        return np.fft.irfft2(spectrum, size)[kh - 1:h, kw - 1:w]
        """),
    "pure Python lists, no NumPy arithmetic": _computed_as("""
        rows, kern = image.tolist(), kernel.tolist()
        kh, kw = len(kern), len(kern[0])
        out = [[float(sum(rows[i + u][j + v] * kern[u][v] for u in range(kh) for v in range(kw)))
                for j in range(len(rows[0]) - kw + 1)]
               for i in range(len(rows) - kh + 1)]
        return np.array(out, dtype=float)
        """),
}

# ----------------------------------------------------------------------------- edge_kernels

_EDGES = solution_source(CHAPTER, "edge_kernels")
_HORIZONTAL = "horizontal = np.array([[1.0, 1.0, 1.0], [0.0, 0.0, 0.0], [-1.0, -1.0, -1.0]])"
_VERTICAL = "vertical = np.array([[-1.0, 0.0, 1.0], [-1.0, 0.0, 1.0], [-1.0, 0.0, 1.0]])"
_RETURN = "return horizontal, vertical"

WRONG_EDGES = {
    "order swapped (vertical, horizontal)": change(_EDGES, (_RETURN, "return vertical, horizontal")),
    "horizontal kernel upside down (row below minus row above)": change(
        _EDGES, (_RETURN, "return -horizontal, vertical")),
    "vertical kernel mirrored (left minus right)": change(_EDGES, (_RETURN, "return horizontal, -vertical")),
    "both flipped as for a true convolution": change(
        _EDGES, (_RETURN, "return horizontal[::-1, ::-1].copy(), vertical[::-1, ::-1].copy()")),
    "Sobel weights 1, 2, 1": change(
        _EDGES,
        (_HORIZONTAL, "horizontal = np.array([[1.0, 2.0, 1.0], [0.0, 0.0, 0.0], [-1.0, -2.0, -1.0]])"),
        (_VERTICAL, "vertical = np.array([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])")),
    "normalised by 1/6": change(_EDGES, (_RETURN, "return horizontal / 6, vertical / 6")),
    "integer arrays": change(_EDGES, (_RETURN, "return horizontal.astype(int), vertical.astype(int)")),
    "nested Python lists": change(_EDGES, (_RETURN, "return horizontal.tolist(), vertical.tolist()")),
    "vertical given as the transpose of horizontal": change(
        _EDGES, (_RETURN, "return horizontal, horizontal.T.copy()")),
    "one stacked (2, 3, 3) array": change(_EDGES, (_RETURN, "return np.stack([horizontal, vertical])")),
    "middle row and column not zero (a 'centre' weight)": change(
        _EDGES,
        (_HORIZONTAL, "horizontal = np.array([[1.0, 1.0, 1.0], [0.0, 1.0, 0.0], [-1.0, -1.0, -1.0]])"),
        (_VERTICAL, "vertical = np.array([[-1.0, 0.0, 1.0], [-1.0, 1.0, 1.0], [-1.0, 0.0, 1.0]])")),
}

RIGHT_EDGES = {
    "outer products, float32": with_body(_EDGES, """
    horizontal = np.outer([1, 0, -1], [1, 1, 1]).astype(np.float32)
    vertical = np.outer([1, 1, 1], [-1, 0, 1]).astype(np.float32)
    return horizontal, vertical
"""),
    "a list of two arrays, vertical from a rotated horizontal": change(
        _EDGES, ("    " + _VERTICAL + "\n", ""),
        (_RETURN, "return [horizontal, np.rot90(horizontal, -1).copy()]  # a quarter turn clockwise")),
}

WRONG = {
    "dense_vs_conv_weights": WRONG_WEIGHTS,
    "cross_correlate2d": WRONG_XCORR,
    "edge_kernels": WRONG_EDGES,
}

RIGHT = {
    "dense_vs_conv_weights": RIGHT_WEIGHTS,
    "cross_correlate2d": RIGHT_XCORR,
    "edge_kernels": RIGHT_EDGES,
}
