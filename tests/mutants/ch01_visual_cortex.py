"""Plausible mistakes (WRONG) and unusual correct answers (RIGHT) for ch01_visual_cortex.

Each entry is a full replacement of an exercise's solution cell; tests/test_mutants.py checks
that the exercise's test cell (visible and hidden parts) rejects every WRONG and accepts every RIGHT.
"""

# ----------------------------------------------------------------------------- dense_vs_conv_weights

_WEIGHTS = """
def dense_vs_conv_weights(height, width, channels, units, kernel_size, filters):
    {body}
"""


def _weights(body):
    return _WEIGHTS.format(body=body.strip().replace("\n", "\n    "))


WRONG_WEIGHTS = {
    "forgets the biases": _weights("""
return height * width * channels * units, kernel_size * kernel_size * channels * filters
"""),
    "forgets the conv biases only": _weights("""
return height * width * channels * units + units, kernel_size * kernel_size * channels * filters
"""),
    "conv kernel ignores the input channels": _weights("""
return height * width * channels * units + units, kernel_size * kernel_size * filters + filters
"""),
    "dense layer ignores the channels": _weights("""
return height * width * units + units, kernel_size * kernel_size * channels * filters + filters
"""),
    "kernel_size not squared": _weights("""
return height * width * channels * units + units, kernel_size * channels * filters + filters
"""),
    "no weight sharing: one kernel per output position": _weights("""
positions = (height - kernel_size + 1) * (width - kernel_size + 1)
return height * width * channels * units + units, positions * (kernel_size**2 * channels * filters + filters)
"""),
    "one bias per filter and input channel": _weights("""
return height * width * channels * units + units, kernel_size**2 * channels * filters + channels * filters
"""),
    "pair in the wrong order": _weights("""
return kernel_size**2 * channels * filters + filters, height * width * channels * units + units
"""),
    "returns floats": _weights("""
return float(height * width * channels * units + units), float(kernel_size**2 * channels * filters + filters)
"""),
    "dense bias counted per input instead of per unit": _weights("""
n_inputs = height * width * channels
return n_inputs * units + n_inputs, kernel_size**2 * channels * filters + filters
"""),
}

RIGHT_WEIGHTS = {
    "numpy integers from np.prod": _weights("""
dense = np.prod([height, width, channels, units]) + units
conv = np.prod([kernel_size, kernel_size, channels, filters]) + filters
return dense, conv
"""),
    "a list, computed as (inputs + 1) * outputs": _weights("""
return [(height * width * channels + 1) * units, (kernel_size**2 * channels + 1) * filters]
"""),
    "counts real Keras layers": _weights("""
dense = keras.layers.Dense(units)
dense.build((None, height * width * channels))
conv = keras.layers.Conv2D(filters, kernel_size)
conv.build((None, height, width, channels))
return dense.count_params(), conv.count_params()
"""),
}

# ----------------------------------------------------------------------------- cross_correlate2d

_XCORR = """
def cross_correlate2d(image, kernel):
    {body}
"""

_CHECKS = """
image = np.asarray(image)
kernel = np.asarray(kernel)
if image.ndim != 2 or kernel.ndim != 2:
    raise ValueError(f"image and kernel must be 2-D, got {image.shape} and {kernel.shape}")
if kernel.shape[0] > image.shape[0] or kernel.shape[1] > image.shape[1]:
    raise ValueError(f"kernel {kernel.shape} is larger than image {image.shape}")
"""


def _xcorr(body, checks=True):
    text = (_CHECKS if checks else "") + body
    return _XCORR.format(body=text.strip().replace("\n", "\n    "))


WRONG_XCORR = {
    "true convolution (kernel flipped)": _xcorr("""
image = image.astype(float)
kernel = kernel[::-1, ::-1].astype(float)
kh, kw = kernel.shape
out = np.zeros((image.shape[0] - kh + 1, image.shape[1] - kw + 1))
for i in range(out.shape[0]):
    for j in range(out.shape[1]):
        out[i, j] = np.sum(image[i:i + kh, j:j + kw] * kernel)
return out
"""),
    "kernel flipped upside down only": _xcorr("""
image = image.astype(float)
kernel = kernel[::-1].astype(float)
kh, kw = kernel.shape
out = np.zeros((image.shape[0] - kh + 1, image.shape[1] - kw + 1))
for i in range(out.shape[0]):
    for j in range(out.shape[1]):
        out[i, j] = np.sum(image[i:i + kh, j:j + kw] * kernel)
return out
"""),
    "output one smaller: H - kh by W - kw": _xcorr("""
image = image.astype(float)
kh, kw = kernel.shape
out = np.zeros((image.shape[0] - kh, image.shape[1] - kw))
for i in range(out.shape[0]):
    for j in range(out.shape[1]):
        out[i, j] = np.sum(image[i:i + kh, j:j + kw] * kernel)
return out
"""),
    "loops miss the last row and column": _xcorr("""
image = image.astype(float)
kh, kw = kernel.shape
out = np.zeros((image.shape[0] - kh + 1, image.shape[1] - kw + 1))
for i in range(image.shape[0] - kh):
    for j in range(image.shape[1] - kw):
        out[i, j] = np.sum(image[i:i + kh, j:j + kw] * kernel)
return out
"""),
    "axes swapped: kernel transposed for non-square kernels": _xcorr("""
image = image.astype(float)
kernel = kernel.astype(float)
kw, kh = kernel.shape
out = np.zeros((image.shape[0] - kh + 1, image.shape[1] - kw + 1))
for i in range(out.shape[0]):
    for j in range(out.shape[1]):
        out[i, j] = np.sum(image[i:i + kh, j:j + kw] * kernel.T)
return out
"""),
    "assumes a square kernel": _xcorr("""
image = image.astype(float)
k = kernel.shape[0]
out = np.zeros((image.shape[0] - k + 1, image.shape[1] - k + 1))
for i in range(out.shape[0]):
    for j in range(out.shape[1]):
        out[i, j] = np.sum(image[i:i + k, j:j + k] * kernel[:k, :k])
return out
"""),
    "output array of the image's dtype (uint8 truncates and wraps)": _xcorr("""
kh, kw = kernel.shape
out = np.zeros((image.shape[0] - kh + 1, image.shape[1] - kw + 1), dtype=image.dtype)
for i in range(out.shape[0]):
    for j in range(out.shape[1]):
        out[i, j] = np.sum(image[i:i + kh, j:j + kw] * kernel)
return out
"""),
    "products in the input dtype (uint8 * uint8 wraps around)": _xcorr("""
kh, kw = kernel.shape
out = np.zeros((image.shape[0] - kh + 1, image.shape[1] - kw + 1))
for i in range(out.shape[0]):
    for j in range(out.shape[1]):
        out[i, j] = (image[i:i + kh, j:j + kw] * kernel).sum(dtype=np.result_type(image, kernel))
return out
"""),
    "'same' size output (zero padding)": _xcorr("""
image = image.astype(float)
kh, kw = kernel.shape
padded = np.pad(image, [(kh // 2, kh - 1 - kh // 2), (kw // 2, kw - 1 - kw // 2)])
out = np.zeros(image.shape)
for i in range(out.shape[0]):
    for j in range(out.shape[1]):
        out[i, j] = np.sum(padded[i:i + kh, j:j + kw] * kernel)
return out
"""),
    "mean instead of sum": _xcorr("""
image = image.astype(float)
kh, kw = kernel.shape
out = np.zeros((image.shape[0] - kh + 1, image.shape[1] - kw + 1))
for i in range(out.shape[0]):
    for j in range(out.shape[1]):
        out[i, j] = np.mean(image[i:i + kh, j:j + kw] * kernel)
return out
"""),
    "matrix product instead of element-wise product": _xcorr("""
image = image.astype(float)
kh, kw = kernel.shape
out = np.zeros((image.shape[0] - kh + 1, image.shape[1] - kw + 1))
for i in range(out.shape[0]):
    for j in range(out.shape[1]):
        window = image[i:i + kh, j:j + kw]
        out[i, j] = np.sum(window @ kernel.T)
return out
"""),
    "writes the result into a view of the input": _xcorr("""
kh, kw = kernel.shape
out = image[: image.shape[0] - kh + 1, : image.shape[1] - kw + 1]
for i in range(out.shape[0]):
    for j in range(out.shape[1]):
        out[i, j] = np.sum(image[i:i + kh, j:j + kw] * kernel)
return out.astype(float)
"""),
    "normalises the image in place": _xcorr("""
if image.dtype.kind == "f":
    image /= 1.0 if image.max() <= 1 else 255.0
image = image.astype(float)
kh, kw = kernel.shape
out = np.zeros((image.shape[0] - kh + 1, image.shape[1] - kw + 1))
for i in range(out.shape[0]):
    for j in range(out.shape[1]):
        out[i, j] = np.sum(image[i:i + kh, j:j + kw] * kernel)
return out
"""),
    "calls scipy.signal.correlate2d": _xcorr("""
from scipy.signal import correlate2d
return correlate2d(image.astype(float), kernel.astype(float), mode="valid")
"""),
    "calls tf.nn.conv2d": _xcorr("""
x = tf.constant(image[None, :, :, None], tf.float32)
k = tf.constant(kernel[:, :, None, None], tf.float32)
return tf.nn.conv2d(x, k, strides=1, padding="VALID")[0, :, :, 0].numpy()
"""),
    "no ValueError for bad shapes (crashes or returns garbage)": _xcorr(
        """
image = np.asarray(image, dtype=float)
kernel = np.asarray(kernel, dtype=float)
kh, kw = kernel.shape[:2]
out = np.zeros((max(image.shape[0] - kh + 1, 0), max(image.shape[1] - kw + 1, 0)))
for i in range(out.shape[0]):
    for j in range(out.shape[1]):
        out[i, j] = np.sum(image[i:i + kh, j:j + kw] * kernel)
return out
""",
        checks=False,
    ),
    "checks only that the kernel fits, not that the inputs are 2-D": _xcorr(
        """
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
""",
        checks=False,
    ),
    "ValueError only when the kernel is larger along both axes": _xcorr(
        """
image = np.asarray(image, dtype=float)
kernel = np.asarray(kernel, dtype=float)
if image.ndim != 2 or kernel.ndim != 2:
    raise ValueError("image and kernel must be 2-D")
if kernel.shape[0] > image.shape[0] and kernel.shape[1] > image.shape[1]:
    raise ValueError("the kernel is larger than the image")
kh, kw = kernel.shape
out = np.zeros((image.shape[0] - kh + 1, image.shape[1] - kw + 1))
for i in range(out.shape[0]):
    for j in range(out.shape[1]):
        out[i, j] = np.sum(image[i:i + kh, j:j + kw] * kernel)
return out
""",
        checks=False,
    ),
}

RIGHT_XCORR = {
    "vectorised: sliding windows and einsum": _xcorr("""
windows = np.lib.stride_tricks.sliding_window_view(image.astype(np.float64), kernel.shape)
return np.einsum("ijuv,uv->ij", windows, kernel.astype(np.float64))
"""),
    "loops over output positions, float32 throughout": _xcorr("""
image = image.astype(np.float32)
kernel = kernel.astype(np.float32)
kh, kw = kernel.shape
out = np.empty((image.shape[0] - kh + 1, image.shape[1] - kw + 1), dtype=np.float32)
for i in range(out.shape[0]):
    for j in range(out.shape[1]):
        out[i, j] = np.sum(image[i:i + kh, j:j + kw] * kernel)
return out
"""),
    "true convolution with the kernel flipped back, by NumPy's FFT": _xcorr("""
(h, w), (kh, kw) = image.shape, kernel.shape
size = (h + kh - 1, w + kw - 1)
spectrum = np.fft.rfft2(image.astype(float), size) * np.fft.rfft2(kernel[::-1, ::-1].astype(float), size)
return np.fft.irfft2(spectrum, size)[kh - 1:h, kw - 1:w]
"""),
    "pure Python lists, no NumPy arithmetic": _xcorr("""
rows, kern = image.tolist(), kernel.tolist()
kh, kw = len(kern), len(kern[0])
out = [[float(sum(rows[i + u][j + v] * kern[u][v] for u in range(kh) for v in range(kw)))
        for j in range(len(rows[0]) - kw + 1)]
       for i in range(len(rows) - kh + 1)]
return np.array(out, dtype=float)
"""),
}

# ----------------------------------------------------------------------------- edge_kernels

_EDGES = """
def edge_kernels():
    {body}
"""


def _edges(body):
    return _EDGES.format(body=body.strip().replace("\n", "\n    "))


_H = "[[1.0, 1.0, 1.0], [0.0, 0.0, 0.0], [-1.0, -1.0, -1.0]]"
_V = "[[-1.0, 0.0, 1.0], [-1.0, 0.0, 1.0], [-1.0, 0.0, 1.0]]"

WRONG_EDGES = {
    "order swapped (vertical, horizontal)": _edges(f"return np.array({_V}), np.array({_H})"),
    "horizontal kernel upside down (row below minus row above)": _edges(
        f"return -np.array({_H}), np.array({_V})"
    ),
    "vertical kernel mirrored (left minus right)": _edges(f"return np.array({_H}), -np.array({_V})"),
    "both flipped as for a true convolution": _edges(
        f"return np.array({_H})[::-1, ::-1].copy(), np.array({_V})[::-1, ::-1].copy()"
    ),
    "Sobel weights 1, 2, 1": _edges(
        "return (np.array([[1.0, 2.0, 1.0], [0.0, 0.0, 0.0], [-1.0, -2.0, -1.0]]),\n"
        "        np.array([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]]))"
    ),
    "normalised by 1/6": _edges(f"return np.array({_H}) / 6, np.array({_V}) / 6"),
    "integer arrays": _edges(f"return np.array({_H}, dtype=int), np.array({_V}, dtype=int)"),
    "nested Python lists": _edges(f"return {_H}, {_V}"),
    "vertical given as the transpose of horizontal": _edges(
        f"horizontal = np.array({_H})\nreturn horizontal, horizontal.T.copy()"
    ),
    "one stacked (2, 3, 3) array": _edges(f"return np.stack([np.array({_H}), np.array({_V})])"),
    "middle row and column not zero (a 'centre' weight)": _edges(
        "return (np.array([[1.0, 1.0, 1.0], [0.0, 1.0, 0.0], [-1.0, -1.0, -1.0]]),\n"
        "        np.array([[-1.0, 0.0, 1.0], [-1.0, 1.0, 1.0], [-1.0, 0.0, 1.0]]))"
    ),
}

RIGHT_EDGES = {
    "outer products, float32": _edges("""
horizontal = np.outer([1, 0, -1], [1, 1, 1]).astype(np.float32)
vertical = np.outer([1, 1, 1], [-1, 0, 1]).astype(np.float32)
return horizontal, vertical
"""),
    "a list of two arrays, vertical from a rotated horizontal": _edges(f"""
horizontal = np.array({_H})
return [horizontal, np.rot90(horizontal, -1).copy()]  # a quarter turn clockwise
"""),
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
