"""Plausible mistakes (WRONG) and unusual correct answers (RIGHT) for ch02_convolutional_layers.

Each entry is a full replacement of an exercise's solution cell; tests/test_mutants.py checks
that the exercise's test cell (visible and hidden parts) rejects every WRONG and accepts every RIGHT.
Most cases are the solution cell as solutions/ has it (`solution_source`) with an edit made by
`change` (tests/mutants/__init__.py), which fails when the text it replaces is no longer there; the
others are programs of their own, or keep the solution's def line and docstring and write the body
their own way (`with_body`).
"""

from tests.mutants import change, solution_source, with_body

CHAPTER = "ch02_convolutional_layers"

# ----------------------------------------------------------------------------- conv_output_size

_SIZE = solution_source(CHAPTER, "conv_output_size")
_SAME = "return -(-n // stride)"
_P = 'p = 0 if padding == "valid" else int(padding)'
_VALID = "return (n + 2 * p - kernel_size) // stride + 1"
_IMPORT_MATH = ('    if padding == "same":\n', '    import math\n    if padding == "same":\n')

WRONG_SIZE = {
    "forgets the +1": change(_SIZE, (_VALID, "return (n + 2 * p - kernel_size) // stride")),
    "ceil instead of floor for valid/int padding": change(
        _SIZE, _IMPORT_MATH, (_SAME, "return math.ceil(n / stride)"),
        (_VALID, "return math.ceil((n + 2 * p - kernel_size) / stride) + 1")),
    "'same' returns n whatever the stride": change(_SIZE, (_SAME, "return n")),
    "'same' as floor(n / s)": change(_SIZE, (_SAME, "return n // stride")),
    "'same' as p = k // 2 (wrong for even kernels)": change(
        _SIZE, (f'    if padding == "same":\n        {_SAME}\n', ""),
        (_P, 'p = {"valid": 0, "same": kernel_size // 2}.get(padding, padding)')),
    "integer padding added on one side only": change(
        _SIZE, ("n + 2 * p - kernel_size", "n + p - kernel_size")),
    "true division: returns a float": change(
        _SIZE, (_VALID, "return (n + 2 * p - kernel_size) / stride + 1")),
    "ignores the stride": change(_SIZE, (_SAME, "return n"), (_VALID, "return n + 2 * p - kernel_size + 1")),
    "rounds instead of flooring": change(
        _SIZE, (_VALID, "return round((n + 2 * p - kernel_size) / stride) + 1")),
    "integer padding ignored (treated as valid)": change(
        _SIZE, (f"    {_P}\n", ""), (_VALID, "return (n - kernel_size) // stride + 1")),
}

RIGHT_SIZE = {
    "math.floor / math.ceil": change(
        _SIZE, _IMPORT_MATH, (_SAME, "return math.ceil(n / stride)"),
        (_VALID, "return math.floor((n + 2 * p - kernel_size) / stride) + 1")),
    "counts the window positions with range()": with_body(_SIZE, """
    if padding == "same":
        return len(range(0, n, stride))
    p = {"valid": 0}.get(padding, padding)
    return len(range(0, n + 2 * p - kernel_size + 1, stride))
"""),
    "NumPy integers, 'same' via TensorFlow's total padding": with_body(_SIZE, """
    import numpy
    if isinstance(padding, str) and padding.lower() == "same":
        out = numpy.int64((n + stride - 1) // stride)
        return out
    pad = numpy.int64(0 if padding == "valid" else padding)
    return numpy.int64((n + 2 * pad - kernel_size) // stride + 1)
"""),
}

# ----------------------------------------------------------------------------- conv2d_forward

_FORWARD = solution_source(CHAPTER, "conv2d_forward")
# the solution's padding and output size: from its first line to the output array's allocation
_PADDING = _FORWARD[_FORWARD.index('    if padding == "same":\n'):_FORWARD.index("    out = np.empty(")]
_WINDOW = "window = x[:, i * stride:i * stride + kh, j * stride:j * stride + kw, :]"
_PRODUCT = "np.tensordot(window, weights, axes=([1, 2, 3], [0, 1, 2]))"
_BIAS = "return out + np.asarray(bias, dtype=np.float64)"
_VALID_SIZE = "(h - kh) // stride + 1, (w - kw) // stride + 1"

WRONG_FORWARD = {
    "forgets the bias": change(_FORWARD, (_BIAS, "return out")),
    "flips the kernel (true convolution)": change(
        _FORWARD, ("np.tensordot(window, weights,", "np.tensordot(window, weights[::-1, ::-1],")),
    "puts the extra zero of odd padding at the top/left": change(
        _FORWARD, ("(pad_h // 2, pad_h - pad_h // 2), (pad_w // 2, pad_w - pad_w // 2)",
                   "(pad_h - pad_h // 2, pad_h // 2), (pad_w - pad_w // 2, pad_w // 2)")),
    "pads k // 2 on every side for 'same' (wrong for even kernels)": change(_FORWARD, (_PADDING, """\
    if padding == "same":
        x = np.pad(x, ((0, 0), (kh // 2, kh // 2), (kw // 2, kw // 2), (0, 0)))
    h_out = (x.shape[1] - kh) // stride + 1
    w_out = (x.shape[2] - kw) // stride + 1
""")),
    "ignores the stride": change(
        _FORWARD, (_VALID_SIZE, "h - kh + 1, w - kw + 1"), ("-(-h // stride), -(-w // stride)", "h, w"),
        ("(h_out - 1) * stride", "(h_out - 1)"), ("(w_out - 1) * stride", "(w_out - 1)"),
        ("i * stride", "i"), ("j * stride", "j")),
    "'same' with a stride: pads as for stride 1, then subsamples": change(_FORWARD, (_PADDING, """\
    if padding == "same":
        x = np.pad(x, ((0, 0), ((kh - 1) // 2, kh // 2), ((kw - 1) // 2, kw // 2), (0, 0)))
    h_out = (x.shape[1] - kh) // stride + 1
    w_out = (x.shape[2] - kw) // stride + 1
""")),
    "strides the rows only": change(
        _FORWARD, ("(w - kw) // stride + 1", "w - kw + 1"), ("-(-w // stride)", "w"),
        ("(w_out - 1) * stride", "(w_out - 1)"), ("j * stride:j * stride + kw", "j:j + kw")),
    "swaps the kernel's row and column axes": change(
        _FORWARD, ("axes=([1, 2, 3], [0, 1, 2])", "axes=([2, 1, 3], [0, 1, 2])"),
        (_WINDOW, "window = x[:, i * stride:i * stride + kw, j * stride:j * stride + kh, :]")),
    "im2col with the window flattened in the wrong axis order": change(
        _FORWARD, ("    for i in range(h_out):\n",
                   "    w_matrix = weights.reshape(-1, c_out)\n    for i in range(h_out):\n"),
        (_PRODUCT, "window.transpose(0, 3, 1, 2).reshape(n, -1) @ w_matrix")),
    "does not sum over the input channels (uses channel 0 only)": change(
        _FORWARD, (_PRODUCT, "np.tensordot(window[..., 0], weights[:, :, 0, :], axes=([1, 2], [0, 1]))")),
    "calls SciPy's correlate instead of writing the sum": """
def conv2d_forward(x, weights, bias, stride=1, padding="valid"):
    from scipy.signal import correlate
    n, h, w, c_in = x.shape
    kh, kw, _, c_out = weights.shape
    if padding == "same":
        oh, ow = -(-h // stride), -(-w // stride)
        ph, pw = max((oh - 1) * stride + kh - h, 0), max((ow - 1) * stride + kw - w, 0)
        x = np.pad(x, ((0, 0), (ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2), (0, 0)))
    result = []
    for image in x:
        maps = []
        for k in range(c_out):
            full = sum(correlate(image[:, :, c], weights[:, :, c, k], mode="valid") for c in range(c_in))
            maps.append(full[::stride, ::stride] + bias[k])
        result.append(np.stack(maps, axis=-1))
    return np.stack(result)
""",
    "calls tf.nn.conv2d": """
def conv2d_forward(x, weights, bias, stride=1, padding="valid"):
    return tf.nn.conv2d(x, weights, strides=stride, padding=padding.upper()).numpy() + bias
""",
    "valid output one row and column too small": change(
        _FORWARD, (_VALID_SIZE, "(h - kh) // stride, (w - kw) // stride")),
}

RIGHT_FORWARD = {
    "the reference loop over output positions": change(_FORWARD, (_BIAS, "return out + bias")),
    "vectorised: sliding_window_view + einsum": """
def conv2d_forward(x, weights, bias, stride=1, padding="valid"):
    x = np.asarray(x, dtype=np.float32)
    kh, kw = weights.shape[:2]
    h, w = x.shape[1:3]
    if padding == "same":
        out_h, out_w = -(-h // stride), -(-w // stride)
        ph = max((out_h - 1) * stride + kh - h, 0)
        pw = max((out_w - 1) * stride + kw - w, 0)
        x = np.pad(x, [(0, 0), (ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2), (0, 0)])
    windows = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(1, 2))[:, ::stride, ::stride]
    return np.einsum("nijcuv,uvck->nijk", windows, weights) + bias
""",
    "im2col and one matrix product": """
def conv2d_forward(x, weights, bias, stride=1, padding="valid"):
    kh, kw, c_in, c_out = weights.shape
    n, h, w, _ = x.shape
    if padding == "same":
        oh, ow = (h + stride - 1) // stride, (w + stride - 1) // stride
        th, tw = max((oh - 1) * stride + kh - h, 0), max((ow - 1) * stride + kw - w, 0)
        x = np.pad(x, ((0, 0), (th // 2, th - th // 2), (tw // 2, tw - tw // 2), (0, 0)))
    else:
        oh, ow = (h - kh) // stride + 1, (w - kw) // stride + 1
    columns = np.stack([x[:, u:u + stride * (oh - 1) + 1:stride, v:v + stride * (ow - 1) + 1:stride, :]
                        for u in range(kh) for v in range(kw)], axis=3)      # (n, oh, ow, kh*kw, c_in)
    return columns.reshape(n, oh, ow, -1) @ weights.reshape(-1, c_out) + bias
""",
    "naive loops over every index, explicit padding with a zero array": """
def conv2d_forward(x, weights, bias, stride=1, padding="valid"):
    N, H, W, C = x.shape
    KH, KW, _, K = weights.shape
    top = left = 0
    HP, WP = H, W
    if padding == "same":
        OH, OW = -(-H // stride), -(-W // stride)
        PH = max((OH - 1) * stride + KH - H, 0)
        PW = max((OW - 1) * stride + KW - W, 0)
        top, left = PH // 2, PW // 2
        HP, WP = H + PH, W + PW
    else:
        OH, OW = (H - KH) // stride + 1, (W - KW) // stride + 1
    xp = np.zeros((N, HP, WP, C))
    xp[:, top:top + H, left:left + W, :] = x
    Z = np.zeros((N, OH, OW, K))
    for n in range(N):
        for i in range(OH):
            for j in range(OW):
                for k in range(K):
                    total = bias[k]
                    for u in range(KH):
                        for v in range(KW):
                            for c in range(C):
                                total += xp[n, i * stride + u, j * stride + v, c] * weights[u, v, c, k]
                    Z[n, i, j, k] = total
    return Z
""",
}

# ----------------------------------------------------------------------------- conv2d_backward

_BACKWARD = solution_source(CHAPTER, "conv2d_backward")
_DW = "            dw += np.tensordot(x_pad[:, rows, cols, :], dout[:, i, j, :], axes=([0], [0]))\n"
_DX = "            dx_pad[:, rows, cols, :] += np.tensordot(dout[:, i, j, :], weights, axes=([1], [3]))\n"
_WINDOW = "rows, cols = slice(i * stride, i * stride + kh), slice(j * stride, j * stride + kw)"
_DB = "db = dout.sum(axis=(0, 1, 2))"

WRONG_BACKWARD = {
    "dx not cropped (the gradient of the padded input)": change(
        _BACKWARD, ("return dx_pad[:, top:top + h, left:left + w, :], dw, db", "return dx_pad, dw, db")),
    "dx cropped from the wrong side (the odd extra row taken off the top)": change(
        _BACKWARD, ("top, left = pad_h // 2, pad_w // 2",
                    "top, left = pad_h - pad_h // 2, pad_w - pad_w // 2")),
    "overlapping windows overwrite instead of adding up": change(
        _BACKWARD, ("dx_pad[:, rows, cols, :] += ", "dx_pad[:, rows, cols, :] = ")),
    "windows without the stride (i, j instead of i * s, j * s)": change(
        _BACKWARD, (_WINDOW, "rows, cols = slice(i, i + kh), slice(j, j + kw)")),
    "db averaged instead of summed": change(_BACKWARD, (_DB, "db = dout.mean(axis=(0, 1, 2))")),
    "db of the first image only": change(_BACKWARD, (_DB, "db = dout[0].sum(axis=(0, 1))")),
    "dw from the unpadded input": change(
        _BACKWARD, (_DW, _DW.replace("x_pad[:, rows, cols, :]", "x[:, rows, cols, :]"))),
    "dx through the flipped kernel (true convolution)": change(
        _BACKWARD, (_DX, _DX.replace("weights, axes", "weights[::-1, ::-1], axes"))),
    "dw of the first image only": change(
        _BACKWARD, (_DW, _DW.replace("x_pad[:, rows, cols, :], dout[:, i, j, :]",
                                     "x_pad[:1, rows, cols, :], dout[:1, i, j, :]"))),
    "the gradients by tf.GradientTape (refused)": """
def conv2d_backward(dout, x, weights, stride=1, padding="valid"):
    x, weights = tf.constant(x, tf.float64), tf.constant(weights, tf.float64)
    with tf.GradientTape() as tape:
        tape.watch([x, weights])
        z = tf.nn.conv2d(x, weights, strides=stride, padding=padding.upper())
        loss = tf.reduce_sum(z * dout)
    dx, dw = tape.gradient(loss, [x, weights])
    return dx.numpy(), dw.numpy(), np.sum(dout, axis=(0, 1, 2))
""",
}

RIGHT_BACKWARD = {
    "dx as a full correlation of the dilated dout with the flipped kernel (its own conv2d_forward)": """
def conv2d_backward(dout, x, weights, stride=1, padding="valid"):
    dout, x, weights = (np.asarray(a, dtype=np.float64) for a in (dout, x, weights))
    n, h, w, c_in = x.shape
    kh, kw, _, c_out = weights.shape
    h_out, w_out = dout.shape[1:3]
    pad_h = max((h_out - 1) * stride + kh - h, 0) if padding == "same" else 0
    pad_w = max((w_out - 1) * stride + kw - w, 0) if padding == "same" else 0
    top, left = pad_h // 2, pad_w // 2
    x_pad = np.pad(x, ((0, 0), (top, pad_h - top), (left, pad_w - left), (0, 0)))
    dilated = np.zeros((n, (h_out - 1) * stride + 1, (w_out - 1) * stride + 1, c_out))
    dilated[:, ::stride, ::stride, :] = dout
    dw = np.zeros((kh, kw, c_in, c_out))
    for u in range(kh):  # the padded input shifted by (u, v), against the dilated dout
        for v in range(kw):
            window = x_pad[:, u:u + dilated.shape[1], v:v + dilated.shape[2], :]
            dw[u, v] = np.einsum("nhwc,nhwk->ck", window, dilated)
    full = np.pad(dilated, ((0, 0), (kh - 1, x_pad.shape[1] - dilated.shape[1]),
                            (kw - 1, x_pad.shape[2] - dilated.shape[2]), (0, 0)))
    dx_pad = conv2d_forward(full, weights[::-1, ::-1].transpose(0, 1, 3, 2), np.zeros(c_in), 1, "valid")
    return dx_pad[:, top:top + h, left:left + w, :], dw, dout.sum(axis=(0, 1, 2))
""",
    "one output value at a time, in plain loops": """
def conv2d_backward(dout, x, weights, stride=1, padding="valid"):
    x = np.asarray(x, dtype=float)
    dout = np.asarray(dout, dtype=float)
    weights = np.asarray(weights, dtype=float)
    n, h, w, c_in = x.shape
    kh, kw, _, c_out = weights.shape
    h_out, w_out = dout.shape[1], dout.shape[2]
    total_h = max((h_out - 1) * stride + kh - h, 0) if padding == "same" else 0
    total_w = max((w_out - 1) * stride + kw - w, 0) if padding == "same" else 0
    x_pad = np.zeros((n, h + total_h, w + total_w, c_in))
    x_pad[:, total_h // 2:total_h // 2 + h, total_w // 2:total_w // 2 + w] = x
    dx_pad, dw, db = np.zeros_like(x_pad), np.zeros_like(weights), np.zeros(c_out)
    for b in range(n):
        for i in range(h_out):
            for j in range(w_out):
                for k in range(c_out):
                    g = dout[b, i, j, k]
                    db[k] += g
                    rows, cols = slice(i * stride, i * stride + kh), slice(j * stride, j * stride + kw)
                    dw[:, :, :, k] += g * x_pad[b, rows, cols, :]
                    dx_pad[b, rows, cols, :] += g * weights[:, :, :, k]
    return dx_pad[:, total_h // 2:total_h // 2 + h, total_w // 2:total_w // 2 + w], dw, db
""",
}

# ----------------------------------------------------------------------------- conv_params

_PARAMS = solution_source(CHAPTER, "conv_params")
_KERNEL = """\
    if isinstance(kernel_size, (int, np.integer)):
        kh = kw = int(kernel_size)
    else:
        kh, kw = (int(v) for v in kernel_size)
"""
_COUNT = "return (kh * kw * int(in_channels) + (1 if use_bias else 0)) * int(filters)"

WRONG_PARAMS = {
    "forgets the input channels": change(
        _PARAMS, (_COUNT, "return (kh * kw + (1 if use_bias else 0)) * int(filters)")),
    "one bias per input channel and filter": change(
        _PARAMS, (_COUNT, "return (kh * kw + (1 if use_bias else 0)) * int(in_channels) * int(filters)")),
    "ignores use_bias": change(_PARAMS, ("(1 if use_bias else 0)", "1")),
    "one bias for the whole layer": change(
        _PARAMS, (_COUNT, "return kh * kw * int(in_channels) * int(filters) + (1 if use_bias else 0)")),
    "a pair (kh, kw) read as kh × kh": change(
        _PARAMS, ("kh, kw = (int(v) for v in kernel_size)", "kh = kw = int(kernel_size[0])")),
    "square kernels only (a pair raises)": change(_PARAMS, (_KERNEL, ""), ("kh * kw", "kernel_size**2")),
    "returns a float": change(
        _PARAMS, (_COUNT, "return float(" + _COUNT.removeprefix("return ") + ")")),
    "counts the filters' channels as the output channels": change(
        _PARAMS, (_COUNT, "return (kh * kw * int(filters) + (1 if use_bias else 0)) * int(in_channels)")),
}

RIGHT_PARAMS = {
    "math.prod over the kernel shape": with_body(_PARAMS, """
    import math
    shape = (kernel_size, kernel_size) if not hasattr(kernel_size, "__len__") else tuple(kernel_size)
    weights = math.prod(shape) * in_channels * filters
    return weights + (filters if use_bias else 0)
"""),
    "ask Keras": with_body(_PARAMS, """
    layer = keras.layers.Conv2D(int(filters), tuple(np.broadcast_to(kernel_size, 2).tolist()),
                                use_bias=use_bias)
    layer.build((None, None, None, int(in_channels)))
    return layer.count_params()
"""),
    "NumPy integer result": with_body(_PARAMS, """
    k = np.broadcast_to(np.asarray(kernel_size), (2,))
    return np.prod(k) * in_channels * filters + use_bias * filters
"""),
}

# ----------------------------------------------------------------------------- build_exercise_cnn

_EXERCISE = solution_source(CHAPTER, "build_exercise_cnn")
_INPUT = "keras.Input(shape=(200, 300, 3))"
_RETURN_MODEL = "    return keras.Model("

WRONG_EXERCISE = {
    "valid padding": change(_EXERCISE, ('padding="same"', 'padding="valid"')),
    "stride 1": change(_EXERCISE, ("strides=2", "strides=1")),
    "5×5 kernels": change(_EXERCISE, ("Conv2D(filters, 3,", "Conv2D(filters, 5,")),
    "no biases": change(_EXERCISE, ('activation="relu")', 'activation="relu", use_bias=False)')),
    "filters in reverse order": change(_EXERCISE, ("(100, 200, 400)", "(400, 200, 100)")),
    "height and width swapped": change(_EXERCISE, (_INPUT, "keras.Input(shape=(300, 200, 3))")),
    "grayscale input": change(_EXERCISE, (_INPUT, "keras.Input(shape=(200, 300, 1))")),
    "a pooling layer added": change(
        _EXERCISE, (_RETURN_MODEL, "    x = keras.layers.MaxPooling2D(2)(x)\n" + _RETURN_MODEL)),
    "a fourth conv layer": change(
        _EXERCISE, (_RETURN_MODEL, "    x = keras.layers.Conv2D(400, 1)(x)\n" + _RETURN_MODEL)),
}

RIGHT_EXERCISE = {
    "Sequential, no activation, tuple arguments": """
def build_exercise_cnn():
    return keras.Sequential([
        keras.Input((200, 300, 3)),
        keras.layers.Conv2D(100, (3, 3), strides=(2, 2), padding="same"),
        keras.layers.Conv2D(200, (3, 3), strides=(2, 2), padding="same"),
        keras.layers.Conv2D(400, (3, 3), strides=(2, 2), padding="same"),
    ])
""",
    "functional, written out, elu": """
def build_exercise_cnn():
    image = keras.Input(shape=(200, 300, 3), name="image")
    z = keras.layers.Conv2D(filters=100, kernel_size=3, strides=2, padding="same", activation="elu")(image)
    z = keras.layers.Conv2D(filters=200, kernel_size=3, strides=2, padding="same", activation="elu")(z)
    z = keras.layers.Conv2D(filters=400, kernel_size=3, strides=2, padding="same", activation="elu")(z)
    return keras.Model(inputs=image, outputs=z, name="exercise_2")
""",
}

# ----------------------------------------------------------------------------- feature_map_memory

_MEMORY = solution_source(CHAPTER, "feature_map_memory")
# the solution's sum of the output sizes, from its first line to the return
_VALUES = _MEMORY[_MEMORY.index("    values = 0\n"):_MEMORY.index("    return values")]
_BYTES = "return values * int(batch_size) * int(bytes_per_value)"

WRONG_MEMORY = {
    "counts the input layer too": change(
        _MEMORY, ("        if isinstance(layer, keras.layers.InputLayer):\n            continue\n", "")),
    "forgets the batch size": change(_MEMORY, (_BYTES, "return values * int(bytes_per_value)")),
    "always 4 bytes per value": change(_MEMORY, (_BYTES, "return values * int(batch_size) * 4")),
    "bits instead of bytes": change(_MEMORY, (_BYTES, _BYTES + " * 8")),
    "returns MB instead of bytes": change(_MEMORY, (_BYTES, _BYTES + " / 1e6")),
    "only the last layer's output": change(
        _MEMORY, (_VALUES, "    values = int(np.prod(model.outputs[0].shape[1:]))\n")),
    "counts the parameters instead of the outputs": change(
        _MEMORY, (_VALUES, "    values = model.count_params()\n")),
    "uses the layers' input shapes": change(_MEMORY, ("layer.output.shape", "layer.input.shape")),
    "largest layer only (the inference peak)": change(
        _MEMORY, ("values += int(np.prod(layer.output.shape[1:]))",
                  "values = max(values, int(np.prod(layer.output.shape[1:])))")),
}

RIGHT_MEMORY = {
    "model.layers[1:] and math.prod": with_body(_MEMORY, """
    import math
    return sum(math.prod(layer.output.shape[1:]) for layer in model.layers[1:]) * batch_size * bytes_per_value
"""),
    "runs the model and measures the real outputs": with_body(_MEMORY, """
    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    probe = keras.Model(model.inputs, [layer.output for layer in layers])
    outputs = probe(np.zeros((1, *model.inputs[0].shape[1:]), np.float32))
    outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    return sum(np.asarray(out).size for out in outputs) * batch_size * bytes_per_value
"""),
    "compute_output_shape, NumPy int": with_body(_MEMORY, """
    total = np.int64(0)
    for layer in model.layers:
        if type(layer).__name__ != "InputLayer":
            total += np.prod(layer.compute_output_shape(layer.input.shape)[1:])
    return total * batch_size * bytes_per_value
"""),
}

# ----------------------------------------------------------------------------- build_functional_cnn

_FUNCTIONAL = solution_source(CHAPTER, "build_functional_cnn")

WRONG_FUNCTIONAL = {
    "a Sequential model": """
def build_functional_cnn():
    return keras.Sequential([
        keras.Input((28, 28, 1)),
        keras.layers.Conv2D(32, 3, padding="same", activation="relu"),
        keras.layers.Conv2D(64, 3, activation="relu"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Flatten(),
        keras.layers.Dense(100, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])
""",
    "first conv without 'same' padding": change(
        _FUNCTIONAL, ('Conv2D(32, 3, padding="same", activation', "Conv2D(32, 3, activation")),
    "second conv with 'same' padding": change(
        _FUNCTIONAL, ("64, 3, activation", '64, 3, padding="same", activation')),
    "no max pooling": change(_FUNCTIONAL, ("    x = keras.layers.MaxPooling2D(2)(x)\n", "")),
    "128 hidden units": change(_FUNCTIONAL, ("Dense(100, activation", "Dense(128, activation")),
    "sigmoid output": change(_FUNCTIONAL, ('activation="softmax"', 'activation="sigmoid"')),
    "no ReLU on the first convolution": change(
        _FUNCTIONAL, ('padding="same", activation="relu"', 'padding="same"')),
    "dropout added": change(
        _FUNCTIONAL, ("x = keras.layers.Flatten()(x)",
                      "x = keras.layers.Dropout(0.25)(x)\n    x = keras.layers.Flatten()(x)")),
    "5×5 kernels": change(
        _FUNCTIONAL, ('Conv2D(32, 3, padding="same", activation', 'Conv2D(32, 5, padding="same", activation'),
        ("Conv2D(64, 3, activation", "Conv2D(64, 5, activation")),
    "average pooling": change(_FUNCTIONAL, ("keras.layers.MaxPooling2D(", "keras.layers.AveragePooling2D(")),
}

RIGHT_FUNCTIONAL = {
    "keyword arguments, tuples, callable activations": with_body(_FUNCTIONAL, """
    inputs = keras.Input(shape=(28, 28, 1))
    x = keras.layers.Conv2D(filters=32, kernel_size=(3, 3), strides=(1, 1), padding="same",
                            activation=keras.activations.relu)(inputs)
    x = keras.layers.Conv2D(filters=64, kernel_size=(3, 3), padding="valid", activation=tf.nn.relu)(x)
    x = keras.layers.MaxPooling2D(pool_size=(2, 2))(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(units=100, activation="relu")(x)
    outputs = keras.layers.Dense(units=10, activation=keras.activations.softmax)(x)
    return keras.Model(inputs, outputs, name='mnist_cnn')
"""),
    "layers created first, then called in a loop": """
def build_functional_cnn():
    stack = [
        keras.layers.Conv2D(32, 3, padding="same", activation="relu"),
        keras.layers.Conv2D(64, 3, activation="relu"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Flatten(),
        keras.layers.Dense(100, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ]
    inputs = keras.Input((28, 28, 1))
    x = inputs
    for layer in stack:
        x = layer(x)
    return keras.Model(inputs, x)
""",
}

WRONG = {
    "conv_output_size": WRONG_SIZE,
    "conv2d_forward": WRONG_FORWARD,
    "conv2d_backward": WRONG_BACKWARD,
    "conv_params": WRONG_PARAMS,
    "build_exercise_cnn": WRONG_EXERCISE,
    "feature_map_memory": WRONG_MEMORY,
    "build_functional_cnn": WRONG_FUNCTIONAL,
}

RIGHT = {
    "conv_output_size": RIGHT_SIZE,
    "conv2d_forward": RIGHT_FORWARD,
    "conv2d_backward": RIGHT_BACKWARD,
    "conv_params": RIGHT_PARAMS,
    "build_exercise_cnn": RIGHT_EXERCISE,
    "feature_map_memory": RIGHT_MEMORY,
    "build_functional_cnn": RIGHT_FUNCTIONAL,
}
