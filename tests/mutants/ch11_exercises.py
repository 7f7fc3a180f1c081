"""Plausible mistakes (WRONG) and unusual correct answers (RIGHT) for ch11_exercises.

Each entry is a full replacement of an exercise's solution cell; tests/test_mutants.py checks
that the exercise's test cell (visible and hidden parts) rejects every WRONG and accepts every RIGHT.
Most cases are the solution cell as solutions/ has it (`solution_source`) with an edit made by
`change` (tests/mutants/__init__.py), which fails when the text it replaces is no longer there; the
others are programs of their own. Multiple-choice answers are all or nothing: a missing or an extra
letter fails, any container and any case of the right letters passes (the cases rewrite the answer
line of the solution cell, whose letters are the right ones). The MNIST challenge
(build_my_mnist_cnn) is scored on a scale: see SCORED.
"""

import ast

from tests.mutants import change, solution_source

CHAPTER = "ch11_exercises"

# ----------------------------------------------------------------------------- multiple choice

_EXTRA = {  # exercise -> a wrong letter to add to the right ones
    "ANSWER_WHY_CNN": "d",
    "ANSWER_OOM": "g",
    "ANSWER_POOLING": "f",
    "ANSWER_LRN": "d",
    "ANSWER_FCN": "d",
    "ANSWER_SEGMENTATION": "b",
    "ANSWER_SPEED": "c",
}


def _answer(name):
    """The solution cell of `name`, its answer line (`name = {...}`) and the letters it sets, sorted."""
    source = solution_source(CHAPTER, name)
    (line,) = [line for line in source.splitlines() if line.startswith(f"{name} = ")]
    letters = "".join(sorted(ast.literal_eval(line.split(" = ", 1)[1])))
    assert _EXTRA[name] not in letters, f"{name}: the wrong letter {_EXTRA[name]!r} is a right one"
    return source, line, letters


_ANSWERS = {name: _answer(name) for name in _EXTRA}


def _answered(name, value):
    """The solution cell of `name` with its answer line setting `value` (Python source) instead."""
    source, line, _ = _ANSWERS[name]
    return change(source, (line, f"{name} = {value}"))


def _set(chosen):
    return f"{{{', '.join(repr(c) for c in chosen)}}}"


def _wrong_choices(name):
    right, extra = _ANSWERS[name][2], _EXTRA[name]
    cases = {f"an extra letter ({extra})": _answered(name, _set(right + extra))}
    for letter in right:
        if len(right) > 1:
            cases[f"{letter} missing"] = _answered(name, _set(right.replace(letter, "")))
        else:
            cases[f"{letter} replaced by {extra}"] = _answered(name, _set(extra))
    cases["every letter"] = _answered(name, _set("abcd" if name == "ANSWER_SEGMENTATION" else "abcdef"))
    return cases


def _right_choices(name):
    right = _ANSWERS[name][2]
    return {
        "upper case, in a list": _answered(name, repr([c.upper() for c in reversed(right)])),
        "a string with commas": _answered(name, repr(", ".join(right))),
        "a tuple": _answered(name, repr(tuple(right))),
    }


WRONG = {name: _wrong_choices(name) for name in _EXTRA}
RIGHT = {name: _right_choices(name) for name in _EXTRA}

# ----------------------------------------------------------------------------- conv_stack_costs

_COSTS = solution_source(CHAPTER, "conv_stack_costs")
_FIRST_LINE = "    height, width, channels = (int(v) for v in input_shape)\n"  # after the docstring
_CEIL = "-(-height // stride), -(-width // stride)"
_PEAK = "peak = max(a + b for a, b in zip(values, values[1:], strict=False))"
_TRAIN = "bytes_per_value * (params + batch_size * sum(values))"

WRONG["conv_stack_costs"] = {
    "no bias": change(
        _COSTS, ("(kernel_size * kernel_size * channels + 1)", "(kernel_size * kernel_size * channels)")),
    "'valid' output sizes": change(
        _COSTS, (_CEIL, "(height - kernel_size) // stride + 1, (width - kernel_size) // stride + 1")),
    "the stride forgotten (sizes unchanged)": change(_COSTS, (_CEIL, "height, width")),
    "rounding down: floor(n / s) instead of ceil(n / s)": change(
        _COSTS, (_CEIL, "height // stride, width // stride")),
    "every layer receives the input's channels": change(
        _COSTS, (f"height, width, channels = {_CEIL}, int(n_maps)", f"height, width = {_CEIL}"),
        ("values.append(height * width * channels)", "values.append(height * width * int(n_maps))")),
    "parameters counted once per image of the batch": change(
        _COSTS, (_TRAIN, "bytes_per_value * batch_size * (params + sum(values))")),
    "float64: 8 bytes whatever bytes_per_value says": change(
        _COSTS, (_FIRST_LINE, "    bytes_per_value = 8\n" + _FIRST_LINE)),
    "always 4 bytes (bytes_per_value ignored)": change(
        _COSTS, (_FIRST_LINE, "    bytes_per_value = 4\n" + _FIRST_LINE)),
    "prediction keeps every feature map (the notes' 10.5 MB reading)": change(
        _COSTS, ("bytes_per_value * (params + peak)", "bytes_per_value * (params + sum(values[1:]))")),
    "prediction without the parameters": change(
        _COSTS, ("bytes_per_value * (params + peak)", "bytes_per_value * peak")),
    "prediction: the largest single output, not two consecutive ones": change(
        _COSTS, (_PEAK, "peak = max(values)")),
    "prediction: pairs of layer outputs only, the input image left out": change(
        _COSTS, (_PEAK, "pairs = [a + b for a, b in zip(values[1:], values[2:], strict=False)]\n"
                        "    peak = max(pairs) if pairs else values[1]")),
    "training without the input batch": change(
        _COSTS, ("batch_size * sum(values)", "batch_size * sum(values[1:])")),
    "training without the parameters": change(
        _COSTS, (_TRAIN, "bytes_per_value * batch_size * sum(values)")),
    "answers in MB (10**6 bytes) instead of bytes": change(
        _COSTS, ('"predict_bytes": bytes_per_value * (params + peak),',
                 '"predict_bytes": bytes_per_value * (params + peak) / 1e6,'),
        (f'"train_bytes": {_TRAIN},', f'"train_bytes": {_TRAIN} / 1e6,')),
    "Keras builds the model (not arithmetic)": '''
def conv_stack_costs(input_shape, filters, kernel_size=3, stride=2, batch_size=50, bytes_per_value=4):
    inputs = keras.Input(shape=tuple(input_shape))
    x, values = inputs, [int(np.prod(input_shape))]
    for f in filters:
        x = keras.layers.Conv2D(f, kernel_size, strides=stride, padding="same")(x)
        values.append(int(np.prod(x.shape[1:])))
    params = keras.Model(inputs, x).count_params()
    peak = max(a + b for a, b in zip(values, values[1:]))
    return {"params": params, "predict_bytes": bytes_per_value * (params + peak),
            "train_bytes": bytes_per_value * (params + batch_size * sum(values))}
''',
}

RIGHT["conv_stack_costs"] = {
    "math.ceil, NumPy arrays, numpy ints and float bytes": '''
import math

def conv_stack_costs(input_shape, filters, kernel_size=3, stride=2, batch_size=50, bytes_per_value=4):
    h, w, c = input_shape
    channels = np.array([c, *filters])
    heights, widths = [h], [w]
    for _ in filters:
        heights.append(math.ceil(heights[-1] / stride))
        widths.append(math.ceil(widths[-1] / stride))
    values = np.array(heights) * np.array(widths) * channels
    params = np.sum((kernel_size ** 2 * channels[:-1] + 1) * channels[1:])
    return {"params": params,
            "predict_bytes": float(bytes_per_value * (params + np.max(values[:-1] + values[1:]))),
            "train_bytes": float(bytes_per_value) * (params + batch_size * values.sum())}
''',
    "one layer at a time, bytes accumulated as the layers go": '''
def conv_stack_costs(input_shape, filters, kernel_size=3, stride=2, batch_size=50, bytes_per_value=4):
    h, w, c = input_shape
    previous = h * w * c
    total_params, stored, peak = 0, previous, 0
    for f in list(filters):
        total_params += kernel_size * kernel_size * c * f + f
        h, w, c = (h + stride - 1) // stride, (w + stride - 1) // stride, f
        current = h * w * c
        peak = max(peak, previous + current)
        stored += current
        previous = current
    return dict(params=total_params, predict_bytes=(total_params + peak) * bytes_per_value,
                train_bytes=(total_params + stored * batch_size) * bytes_per_value)
''',
}

# ----------------------------------------------------------------------------- local_response_normalization

_LRN = solution_source(CHAPTER, "local_response_normalization")
_WINDOW = "max(0, d - depth_radius), min(channels, d + depth_radius + 1)"
_SUM = "sqr_sum[..., d] = squares[..., low:high].sum(axis=-1)"
_LOOP = f"""    for d in range(channels):
        low, high = {_WINDOW}
        {_SUM}
"""
_RESULT = "(bias + alpha * sqr_sum) ** beta"

WRONG["local_response_normalization"] = {
    "window one channel too wide on each side": change(
        _LRN, (_WINDOW, "max(0, d - depth_radius - 1), min(channels, d + depth_radius + 2)")),
    "window ends one channel early (Python's exclusive end forgotten)": change(
        _LRN, ("min(channels, d + depth_radius + 1)", "min(channels, d + depth_radius)")),
    "window of depth_radius channels in all, centred": change(
        _LRN, (_WINDOW, "max(0, d - depth_radius // 2), min(channels, d + depth_radius // 2 + 1)")),
    "sum of the values, not of their squares": change(_LRN, ("squares = x ** 2", "squares = x")),
    "sum of absolute values": change(_LRN, ("squares = x ** 2", "squares = np.abs(x)")),
    "alpha divided by the window size (Caffe's and PyTorch's convention)": change(
        _LRN, (_RESULT, "(bias + alpha / (2 * depth_radius + 1) * sqr_sum) ** beta")),
    "the window wraps around the channels": change(
        _LRN, (f"        low, high = {_WINDOW}\n        {_SUM}",
               "        index = [e % channels for e in range(d - depth_radius, d + depth_radius + 1)]\n"
               "        sqr_sum[..., d] = squares[..., index].sum(axis=-1)")),
    "the channel itself left out of its window": change(
        _LRN, (_SUM, _SUM + " - squares[..., d]")),
    "power beta forgotten": change(_LRN, (_RESULT, "(bias + alpha * sqr_sum)")),
    "bias added after the power": change(_LRN, (_RESULT, "(bias + (alpha * sqr_sum) ** beta)")),
    "window over neighbouring positions (width) instead of channels": change(
        _LRN, ("    channels = x.shape[-1]\n", "    width = x.shape[2]\n"),
        (_LOOP, """    for j in range(width):
        low, high = max(0, j - depth_radius), min(width, j + depth_radius + 1)
        sqr_sum[:, :, j, :] = squares[:, :, low:high, :].sum(axis=2)
""")),
    "calls tf.nn.local_response_normalization": '''
def local_response_normalization(x, depth_radius=5, bias=1.0, alpha=1.0, beta=0.5):
    return tf.nn.local_response_normalization(np.asarray(x, np.float32), depth_radius=depth_radius, bias=bias,
                                              alpha=alpha, beta=beta).numpy()
''',
    "squares the input in place": change(
        _LRN, ("    x = np.asarray(x, dtype=np.float64)\n",
               "    x = np.asarray(x)\n    original = x.copy()\n"),
        ("squares = x ** 2", "np.square(x, out=x)\n    squares = x"),
        (f"return x / {_RESULT}", f"return original / {_RESULT}")),
}

RIGHT["local_response_normalization"] = {
    "a cumulative sum over padded channels, float32": '''
def local_response_normalization(x, depth_radius=5, bias=1.0, alpha=1.0, beta=0.5):
    x = np.asarray(x, dtype=np.float32)
    r = depth_radius
    padded = np.pad(x.astype(np.float64) ** 2, [(0, 0)] * (x.ndim - 1) + [(r + 1, r)])
    cumulative = np.cumsum(padded, axis=-1)
    sqr_sum = cumulative[..., 2 * r + 1:] - cumulative[..., :-(2 * r + 1)]
    return (x / (bias + alpha * sqr_sum) ** beta).astype(np.float32)
''',
    "a convolution of the squares with a box of ones along the channels": '''
def local_response_normalization(x, depth_radius=5, bias=1.0, alpha=1.0, beta=0.5):
    x = np.asarray(x, dtype=np.float64)
    box = np.ones(2 * depth_radius + 1)
    c = x.shape[-1]
    full = np.apply_along_axis(lambda v: np.convolve(v, box, mode="full"), -1, x ** 2)
    sqr_sum = full[..., depth_radius:depth_radius + c]
    return x * np.power(bias + alpha * sqr_sum, -beta)
''',
    "a double loop over channel pairs": '''
def local_response_normalization(x, depth_radius=5, bias=1.0, alpha=1.0, beta=0.5):
    x = np.array(x, dtype=float)
    out = np.zeros_like(x)
    c = x.shape[3]
    for d in range(c):
        total = np.zeros(x.shape[:3])
        for e in range(c):
            if abs(e - d) <= depth_radius:
                total += x[..., e] * x[..., e]
        out[..., d] = x[..., d] / (bias + alpha * total) ** beta
    return out
''',
}

SCORED = {
    "build_my_mnist_cnn": "trained by the test cell's fixed routine (cvcourse.training.train_classifier) "
    "and scored on a scale (test accuracy on the 1,000 test digits of the MNIST sample, partial credit "
    "above the floor); the round-trip test checks its scores",
}
