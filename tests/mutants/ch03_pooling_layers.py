"""Plausible mistakes (WRONG) and unusual correct answers (RIGHT) for ch03_pooling_layers.

Each entry is a full replacement of an exercise's solution cell; tests/test_mutants.py checks that the
exercise's test cell (visible and hidden parts) rejects every WRONG answer and accepts every RIGHT one.
Most cases are the solution cell as solutions/ has it (`solution_source`) with an edit made by
`change` (tests/mutants/__init__.py), which fails when the text it replaces is no longer there; the
others are programs of their own. The notebook's helper ``as_pair`` (a cell before exercise 1) is
available to every case.
"""

from tests.mutants import change, solution_source

CHAPTER = "ch03_pooling_layers"

# ----------------------------------------------------------------------------- max_pool2d / avg_pool2d

_MAX = solution_source(CHAPTER, "max_pool2d")
_AVG = solution_source(CHAPTER, "avg_pool2d")
_MAX_REDUCE = "window.max(axis=(1, 2))"
_AVG_REDUCE = "window.mean(axis=(1, 2))"
_STRIDE = "sh, sw = as_pair(pool_size if stride is None else stride)"
_OUT_H = "out_h = (h - ph) // sh + 1"
_OUT_W = "out_w = (w - pw) // sw + 1"
_ROWS = "i * sh:i * sh + ph"
_COLS = "j * sw:j * sw + pw"


def _pool_mistakes(source):
    """The mistakes that max_pool2d and avg_pool2d share, made in the solution cell `source`."""
    return {
        "output size without the + 1": change(
            source, (_OUT_H, "out_h = (h - ph) // sh"), (_OUT_W, "out_w = (w - pw) // sw")),
        "output size H // stride (ignores the window)": change(
            source, (_OUT_H, "out_h = h // sh"), (_OUT_W, "out_w = w // sw")),
        "output size rounded up (a partial last window, like 'same')": change(
            source, (_OUT_H, "out_h = -(-(h - ph) // sh) + 1"), (_OUT_W, "out_w = -(-(w - pw) // sw) + 1")),
        "stride ignored (always the pool size)": change(source, (_STRIDE, "sh, sw = as_pair(pool_size)")),
        "stride defaults to 1 instead of the pool size": change(
            source, (_STRIDE, "sh, sw = as_pair(1 if stride is None else stride)")),
        "pool (ph, pw) read as (pw, ph)": change(
            source, ("ph, pw = as_pair(pool_size)", "ph, pw = as_pair(pool_size)[::-1]")),
        "stride (sh, sw) read as (sw, sh)": change(source, (_STRIDE, _STRIDE + "[::-1]")),
        "window steps by the pool size, not the stride": change(
            source, (_ROWS, "i * ph:i * ph + ph"), (_COLS, "j * pw:j * pw + pw")),
        "window start forgets the stride (i instead of i * sh)": change(
            source, (_ROWS, "i:i + ph"), (_COLS, "j:j + pw")),
        "window one pixel too large": change(source, (_ROWS, _ROWS + " + 1"), (_COLS, _COLS + " + 1")),
        "integer output array (values truncated)": change(
            source, ("out = np.empty((n, out_h, out_w, c), dtype=x.dtype)",
                     "out = np.zeros((n, out_h, out_w, c), dtype=int)")),
    }


# the running maximum in scalar loops, after the solution's own set-up (its lines up to the output size)
_MAX_START_AT_ZERO = change(_MAX, (_MAX[_MAX.index(f"    {_OUT_H}\n"):], """\
    out = np.zeros((n, (h - ph) // sh + 1, (w - pw) // sw + 1, c))
    for b in range(n):
        for i in range(out.shape[1]):
            for j in range(out.shape[2]):
                for k in range(c):
                    best = 0.0  # wrong: a window of negative numbers has a negative maximum
                    for a in range(ph):
                        for d in range(pw):
                            best = max(best, x[b, i * sh + a, j * sw + d, k])
                    out[b, i, j, k] = best
    return out
"""))

_RIGHT_MAX_OFFSETS = '''
def max_pool2d(x, pool_size=2, stride=None):
    """Vectorised: one strided slice per offset inside the window, combined with np.maximum."""
    x = np.asarray(x, dtype=np.float32)
    ph, pw = (pool_size, pool_size) if np.isscalar(pool_size) else tuple(pool_size)
    if stride is None:
        sh, sw = ph, pw
    else:
        sh, sw = (stride, stride) if np.isscalar(stride) else tuple(stride)
    n, h, w, c = x.shape
    oh, ow = (h - ph) // sh + 1, (w - pw) // sw + 1
    out = np.full((n, oh, ow, c), -np.inf, dtype=np.float32)
    for a in range(ph):
        for b in range(pw):
            out = np.maximum(out, x[:, a:a + (oh - 1) * sh + 1:sh, b:b + (ow - 1) * sw + 1:sw, :])
    return out
'''

_RIGHT_MAX_WINDOWS = '''
from numpy.lib.stride_tricks import sliding_window_view


def max_pool2d(x, pool_size=2, stride=None):
    """Every window at once with sliding_window_view, then every stride-th one."""
    ph, pw = as_pair(pool_size)
    sh, sw = (ph, pw) if stride is None else as_pair(stride)
    windows = sliding_window_view(np.asarray(x, dtype=float), (ph, pw), axis=(1, 2))
    return windows[:, ::sh, ::sw].max(axis=(-2, -1))
'''

_RIGHT_MAX_SCALAR_LOOPS = '''
def max_pool2d(x, pool_size=2, stride=None):
    """Plain Python loops over every output value, starting each maximum at minus infinity."""
    ph, pw = (pool_size, pool_size) if isinstance(pool_size, int) else pool_size
    stride = (ph, pw) if stride is None else stride
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    n, h, w, c = np.shape(x)
    out = np.zeros((n, (h - ph) // sh + 1, (w - pw) // sw + 1, c))
    for b in range(n):
        for i in range(out.shape[1]):
            for j in range(out.shape[2]):
                for k in range(c):
                    best = -np.inf
                    for a in range(ph):
                        for d in range(pw):
                            best = max(best, x[b, i * sh + a, j * sw + d, k])
                    out[b, i, j, k] = best
    return out
'''

_RIGHT_AVG_INTEGRAL = '''
def avg_pool2d(x, pool_size=2, stride=None):
    """Summed-area table: every window sum from four corner look-ups."""
    ph, pw = as_pair(pool_size)
    sh, sw = as_pair(pool_size if stride is None else stride)
    x = np.asarray(x, dtype=np.float64)
    n, h, w, c = x.shape
    table = np.zeros((n, h + 1, w + 1, c))
    table[:, 1:, 1:, :] = x.cumsum(axis=1).cumsum(axis=2)
    top = np.arange((h - ph) // sh + 1) * sh
    left = np.arange((w - pw) // sw + 1) * sw
    bottom, right = top + ph, left + pw
    sums = (table[:, bottom][:, :, right] - table[:, top][:, :, right]
            - table[:, bottom][:, :, left] + table[:, top][:, :, left])
    return sums / (ph * pw)
'''

_RIGHT_AVG_OFFSETS = '''
def avg_pool2d(x, pool_size=2, stride=None):
    """Vectorised: add one strided slice per offset inside the window, divide once."""
    ph, pw = as_pair(pool_size)
    sh, sw = as_pair(pool_size if stride is None else stride)
    x = np.asarray(x, dtype=np.float32)
    n, h, w, c = x.shape
    oh, ow = (h - ph) // sh + 1, (w - pw) // sw + 1
    total = np.zeros((n, oh, ow, c), dtype=np.float32)
    for a in range(ph):
        for b in range(pw):
            total += x[:, a:a + (oh - 1) * sh + 1:sh, b:b + (ow - 1) * sw + 1:sw, :]
    return total / np.float32(ph * pw)
'''

# ----------------------------------------------------------------------------- max_pool2d_backward

_BACK = solution_source(CHAPTER, "max_pool2d_backward")
_MASK = "            is_max = window == window.max(axis=(1, 2), keepdims=True)\n"
_ROUTE = "            dx[:, rows, cols, :] += is_max * dout[:, i:i + 1, j:j + 1, :]\n"

WRONG_POOL_BACKWARD = {
    "overlapping windows overwrite instead of adding up": change(
        _BACK, (_ROUTE, "            dx[:, rows, cols, :] = is_max * dout[:, i:i + 1, j:j + 1, :]\n")),
    "the gradient spread over the window (the average pool's backward)": change(
        _BACK, (_ROUTE, "            dx[:, rows, cols, :] += dout[:, i:i + 1, j:j + 1, :] / (ph * pw)\n")),
    "the maximum over the whole window and every channel": change(
        _BACK, (_MASK, "            is_max = window == window.max(axis=(1, 2, 3), keepdims=True)\n")),
    "the stride ignored (windows at i, j)": change(
        _BACK, ("rows, cols = slice(i * sh, i * sh + ph), slice(j * sw, j * sw + pw)",
                "rows, cols = slice(i, i + ph), slice(j, j + pw)")),
    "the gradient at the window's minimum": change(
        _BACK, (_MASK, _MASK.replace("window.max(", "window.min("))),
    "the stride always equal to the pool size": change(
        _BACK, ("sh, sw = as_pair(pool_size if stride is None else stride)", "sh, sw = as_pair(pool_size)")),
    "the gradient of tf.nn.max_pool2d by tf.GradientTape (refused)": """
def max_pool2d_backward(dout, x, pool_size=2, stride=None):
    x = tf.constant(x, tf.float64)
    with tf.GradientTape() as tape:
        tape.watch(x)
        z = tf.nn.max_pool2d(x, pool_size, pool_size if stride is None else stride, "VALID")
        loss = tf.reduce_sum(z * dout)
    return tape.gradient(loss, x).numpy()
""",
}

RIGHT_POOL_BACKWARD = {
    "argmax of each flattened window, one image and channel at a time": """
def max_pool2d_backward(dout, x, pool_size=2, stride=None):
    x, dout = np.asarray(x, dtype=float), np.asarray(dout, dtype=float)
    ph, pw = as_pair(pool_size)
    sh, sw = as_pair(pool_size if stride is None else stride)
    dx = np.zeros(x.shape)
    n, out_h, out_w, c = dout.shape
    for b in range(n):
        for k in range(c):
            for i in range(out_h):
                for j in range(out_w):
                    window = x[b, i * sh:i * sh + ph, j * sw:j * sw + pw, k]
                    u, v = np.unravel_index(np.argmax(window), window.shape)
                    dx[b, i * sh + u, j * sw + v, k] += dout[b, i, j, k]
    return dx
""",
}

# ----------------------------------------------------------------------------- invariance_fraction

_INV = solution_source(CHAPTER, "invariance_fraction")
_ORIGINAL = "    original = images[:, :, shift:, :]"  # the code's line, not the docstring's
_SHIFTED = "shifted = images[:, :, :width - shift, :]"
_COMPARED = "pooled_original == pooled_shifted"
_POOLING = 'ksize=window, strides=window, padding="VALID"'

_INV_ROLL_NO_CROP = '''
def invariance_fraction(images, pool_size=2, shift=1):
    images = np.asarray(images, dtype=np.float32)
    pool = keras.layers.MaxPooling2D(pool_size)
    shifted = np.roll(images, shift, axis=2)  # wrong: the last columns wrap around to the left edge
    return float(np.mean(pool(images).numpy() == pool(shifted).numpy()))
'''

_INV_ROLL_CROP_POOLED = '''
def invariance_fraction(images, pool_size=2, shift=1):
    images = np.asarray(images, dtype=np.float32)
    pool = keras.layers.MaxPooling2D(pool_size)
    a = pool(images).numpy()
    b = pool(np.roll(images, shift, axis=2)).numpy()
    first = -(-shift // pool_size)  # drops the pooled columns that saw wrapped pixels: another grid
    return float(np.mean(a[:, :, first:] == b[:, :, first:]))
'''

_RIGHT_INV_ROLL_THEN_CROP = '''
def invariance_fraction(images, pool_size=2, shift=1):
    """Shift with np.roll, then drop the first `shift` columns of both images (where the roll wrapped)."""
    images = np.asarray(images, dtype=np.float32)
    shifted = np.roll(images, shift, axis=2)
    pool = keras.layers.MaxPooling2D(pool_size)
    a = pool(images[:, :, shift:, :]).numpy()
    b = pool(shifted[:, :, shift:, :]).numpy()
    return float(np.count_nonzero(a == b) / a.size)
'''

_RIGHT_INV_NUMPY = '''
def invariance_fraction(images, pool_size=2, shift=1):
    """NumPy only: non-overlapping max pooling by reshaping into (rows, p, cols, p) blocks."""
    images = np.asarray(images, dtype=np.float64)
    n, h, w, c = images.shape
    p = pool_size
    rows, cols = h // p, (w - shift) // p

    def pooled(crop):
        crop = crop[:, :rows * p, :cols * p, :]
        return crop.reshape(n, rows, p, cols, p, c).max(axis=(2, 4))

    return np.mean(pooled(images[:, :, shift:, :]) == pooled(images[:, :, :w - shift, :]))
'''

_RIGHT_INV_EXERCISE_1 = '''
def invariance_fraction(images, pool_size=2, shift=1):
    """With max_pool2d from exercise 1, and the crops the other way round (the comparison is symmetric)."""
    w = np.shape(images)[2]
    left = max_pool2d(np.asarray(images)[:, :, :w - shift, :], pool_size)
    right = max_pool2d(np.asarray(images)[:, :, shift:, :], pool_size)
    return (left == right).mean()
'''

# ----------------------------------------------------------------------------- DepthMaxPool

_DEPTH = solution_source(CHAPTER, "DepthMaxPool")
_CALL = (
    "        k = self.pool_size\n"
    '        return tf.nn.max_pool(inputs, ksize=(1, 1, 1, k), strides=(1, 1, 1, k), padding="VALID")'
)
_BUILD = "    def build(self, input_shape):\n"
_CHECK = _DEPTH[_DEPTH.index(_BUILD) + len(_BUILD):_DEPTH.index("\n\n    def call(")]  # build()'s body
_CONFIG = 'return {**super().get_config(), "pool_size": self.pool_size}'
_GET_CONFIG = "    def get_config(self):"

_DEPTH_LAMBDA = '''
def DepthMaxPool(pool_size, **kwargs):
    """The notes' Lambda layer: runs, but its config has no pool_size and it does not reload safely."""
    return keras.layers.Lambda(
        lambda X: tf.nn.max_pool(
            X, ksize=(1, 1, 1, pool_size), strides=(1, 1, 1, pool_size), padding="VALID"
        ),
        **kwargs,
    )
'''

_RIGHT_DEPTH_KERAS_OPS = '''
@keras.saving.register_keras_serializable(package="cvcourse_course")
class DepthMaxPool(keras.layers.Layer):
    """Backend-agnostic (keras.ops), runs on GPUs too; checks the channels in compute_output_shape()."""

    def __init__(self, pool_size, **kwargs):
        super().__init__(**kwargs)
        self.pool_size = pool_size

    def build(self, input_shape):
        self.compute_output_shape(input_shape)

    def call(self, inputs):
        channels = inputs.shape[-1]
        shape = keras.ops.shape(inputs)
        grouped = keras.ops.reshape(
            inputs, (shape[0], shape[1], shape[2], channels // self.pool_size, self.pool_size))
        return keras.ops.max(grouped, axis=-1)

    def compute_output_shape(self, input_shape):
        channels = input_shape[-1]
        if channels is None or channels % self.pool_size != 0:
            raise ValueError(f"channels ({channels}) must be a multiple of pool_size ({self.pool_size})")
        return (*input_shape[:-1], channels // self.pool_size)

    def get_config(self):
        config = super().get_config()
        config.update(pool_size=self.pool_size)
        return config
'''

_RIGHT_DEPTH_UNREGISTERED = '''
class DepthMaxPool(keras.layers.Layer):
    """Not registered: load_model needs custom_objects={"DepthMaxPool": DepthMaxPool} (the tests pass it)."""

    def __init__(self, pool_size, **kwargs):
        super().__init__(**kwargs)
        self.pool_size = pool_size

    def build(self, input_shape):
        if input_shape[-1] % self.pool_size:
            raise ValueError("the number of channels must be a multiple of pool_size")

    def call(self, inputs):
        shape, channels = tf.shape(inputs), inputs.shape[-1]
        groups = tf.reshape(inputs, tf.concat([shape[:-1], [channels // self.pool_size, self.pool_size]], 0))
        return tf.reduce_max(groups, axis=-1)

    def get_config(self):
        return dict(super().get_config(), pool_size=self.pool_size)
'''

# ----------------------------------------------------------------------------- the cases

WRONG = {
    "max_pool2d_backward": WRONG_POOL_BACKWARD,
    "max_pool2d": {
        "running maximum starts at 0": _MAX_START_AT_ZERO,
        "average instead of maximum": change(_MAX, (_MAX_REDUCE, _AVG_REDUCE)),
        "maximum over the channels too": change(_MAX, (_MAX_REDUCE, "window.max(axis=(1, 2, 3))[:, None]")),
        **_pool_mistakes(_MAX),
        "calls keras.layers.MaxPooling2D": """
def max_pool2d(x, pool_size=2, stride=None):
    stride = pool_size if stride is None else stride
    layer = keras.layers.MaxPooling2D(pool_size=pool_size, strides=stride)
    return np.asarray(layer(np.asarray(x, dtype=np.float32)), dtype=np.float64)
""",
        "calls tf.nn.max_pool2d": """
def max_pool2d(x, pool_size=2, stride=None):
    stride = pool_size if stride is None else stride
    return tf.nn.max_pool2d(np.asarray(x, dtype=np.float64), pool_size, stride, "VALID").numpy()
""",
    },
    "avg_pool2d": {
        "divides by ph * ph instead of ph * pw": change(
            _AVG, (_AVG_REDUCE,
                   "window.sum(axis=(1, 2)) / (ph * ph)  # wrong: the window has ph * pw values")),
        "sum instead of mean": change(_AVG, (_AVG_REDUCE, "window.sum(axis=(1, 2))")),
        "mean over the channels too": change(_AVG, (_AVG_REDUCE, "window.mean(axis=(1, 2, 3))[:, None]")),
        "maximum instead of mean": change(_AVG, (_AVG_REDUCE, _MAX_REDUCE)),
        **_pool_mistakes(_AVG),
        "calls tf.nn.avg_pool2d": """
def avg_pool2d(x, pool_size=2, stride=None):
    stride = pool_size if stride is None else stride
    return tf.nn.avg_pool2d(np.asarray(x, dtype=np.float64), pool_size, stride, "VALID").numpy()
""",
    },
    "invariance_fraction": {
        "shifts along the height (axis 1)": change(
            _INV, (_ORIGINAL, "    original = images[:, shift:, :, :]"),
            (_SHIFTED, "shifted = images[:, :images.shape[1] - shift, :, :]")),
        "compares raw pixels (no pooling)": change(
            _INV, (f"tf.nn.max_pool2d(original, {_POOLING})", "tf.constant(original)"),
            (f"tf.nn.max_pool2d(shifted, {_POOLING})", "tf.constant(shifted)")),
        "average pooling instead of max pooling": change(_INV, ("tf.nn.max_pool2d(", "tf.nn.avg_pool2d(")),
        "pooling windows overlap (stride 1)": change(_INV, ("strides=window", "strides=1")),
        "crop off by one (shift + 1 columns)": change(
            _INV, (_ORIGINAL, "    original = images[:, :, shift + 1:, :]"),
            (_SHIFTED, "shifted = images[:, :, :width - shift - 1, :]")),
        "shifted = images[:, :, :-shift] (empty when shift is 0)": change(
            _INV, (_SHIFTED, "shifted = images[:, :, :-shift, :]")),
        "a position counts only if every channel is unchanged": change(
            _INV, (f"np.mean({_COMPARED})", f"np.mean(np.all({_COMPARED}, axis=-1))")),
        "np.roll without cropping (wrap-around)": _INV_ROLL_NO_CROP,
        "np.roll, then drops pooled columns (another pooling grid)": _INV_ROLL_CROP_POOLED,
        "counts the changed outputs": change(_INV, (_COMPARED, "pooled_original != pooled_shifted")),
    },
    "DepthMaxPool": {
        "pools over the width, not the channels": change(
            _DEPTH, ("ksize=(1, 1, 1, k), strides=(1, 1, 1, k)", "ksize=(1, 1, k, 1), strides=(1, 1, k, 1)")),
        "groups every (C/k)-th channel instead of consecutive channels": change(_DEPTH, (
            _CALL,
            "        shape = tf.shape(inputs)\n"
            "        grouped = tf.reshape(inputs, tf.concat([shape[:-1], [self.pool_size, -1]], axis=0))\n"
            "        return tf.reduce_max(grouped, axis=-2)")),
        "average instead of maximum over channels": change(_DEPTH, (
            _CALL,
            "        shape = tf.shape(inputs)\n"
            "        grouped = tf.reshape(inputs, tf.concat([shape[:-1], [-1, self.pool_size]], axis=0))\n"
            "        return tf.reduce_mean(grouped, axis=-1)")),
        "pool size 3 hard-coded in call": change(
            _DEPTH, ("ksize=(1, 1, 1, k), strides=(1, 1, 1, k)", "ksize=(1, 1, 1, 3), strides=(1, 1, 1, 3)")),
        "no check of the channel count (TensorFlow's own error is not a ValueError)": change(
            _DEPTH, (_CHECK, "        pass")),
        "get_config without pool_size": change(_DEPTH, (_CONFIG, "return super().get_config()")),
        "get_config with pool_size only (loses name and dtype)": change(
            _DEPTH, (_CONFIG, 'return {"pool_size": self.pool_size}')),
        "compute_output_shape keeps the channel count": change(_DEPTH, (
            _GET_CONFIG,
            "    def compute_output_shape(self, input_shape):\n"
            "        return input_shape\n\n" + _GET_CONFIG)),
        "the notes' Lambda layer": _DEPTH_LAMBDA,
    },
}

RIGHT = {
    "max_pool2d_backward": RIGHT_POOL_BACKWARD,
    "max_pool2d": {
        "vectorised over window offsets, float32": _RIGHT_MAX_OFFSETS,
        "sliding_window_view": _RIGHT_MAX_WINDOWS,
        "scalar loops from minus infinity": _RIGHT_MAX_SCALAR_LOOPS,
    },
    "avg_pool2d": {
        "summed-area table": _RIGHT_AVG_INTEGRAL,
        "vectorised over window offsets, float32": _RIGHT_AVG_OFFSETS,
        "loops with sum / (ph * pw)": change(_AVG, (_AVG_REDUCE, "window.sum(axis=(1, 2)) / (ph * pw)")),
    },
    "invariance_fraction": {
        "np.roll, then crop the wrapped columns": _RIGHT_INV_ROLL_THEN_CROP,
        "NumPy reshape pooling": _RIGHT_INV_NUMPY,
        "max_pool2d from exercise 1, crops swapped": _RIGHT_INV_EXERCISE_1,
        "fraction of unchanged = 1 - fraction changed": change(
            _INV, (f"return float(np.mean({_COMPARED}))",
                   "return 1.0 - float(np.mean(pooled_original != pooled_shifted))")),
    },
    "DepthMaxPool": {
        "keras.ops reshape and max, check in compute_output_shape": _RIGHT_DEPTH_KERAS_OPS,
        "tf.reshape and reduce_max, not registered": _RIGHT_DEPTH_UNREGISTERED,
        "tf.nn.max_pool with compute_output_shape": change(_DEPTH, (
            _GET_CONFIG,
            "    def compute_output_shape(self, input_shape):\n"
            "        return (*input_shape[:-1], input_shape[-1] // self.pool_size)\n\n" + _GET_CONFIG)),
    },
}
