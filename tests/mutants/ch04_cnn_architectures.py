"""Plausible mistakes (WRONG) and unusual correct answers (RIGHT) for ch04_cnn_architectures.

Each entry is a full replacement of an exercise's solution cell; tests/test_mutants.py checks
that the exercise's test cell (visible and hidden parts) rejects every WRONG and accepts every RIGHT.
Most cases are the solution cell as solutions/ has it (`solution_source`) with an edit made by
`change` (tests/mutants/__init__.py), which fails when the text it replaces is no longer there; the
others are programs of their own, or keep the solution's def line and docstring and write the body
their own way (`with_body`).

``build_my_cnn`` (the accuracy target) is deliberately in neither dict: its test cell trains a
network for a minute or more and awards partial credit (the cell's last expression is the points),
so "no exception" does not mean "full marks" and every case would cost a full training run.
Its grading scale is unit-tested in tests/test_checks_scoring.py (``checks.accuracy_points``).
"""

from tests.mutants import change, solution_source, with_body

CHAPTER = "ch04_cnn_architectures"

# ----------------------------------------------------------------------------- build_lenet5

_LENET = solution_source(CHAPTER, "build_lenet5")
_CONV1 = 'layers.Conv2D(6, 5, padding="same", activation="relu"),\n'
_CONV3 = 'layers.Conv2D(120, 5, padding="valid", activation="relu"),\n'

WRONG_LENET = {
    "first convolution 'valid' (the model does not even build)": change(
        _LENET, (_CONV1, _CONV1.replace('"same"', '"valid"'))),
    "third convolution 'same'": change(_LENET, (_CONV3, _CONV3.replace('"valid"', '"same"'))),
    "average pooling as in the 1998 paper": change(
        _LENET, ("layers.MaxPooling2D", "layers.AveragePooling2D")),
    "tanh activations as in the 1998 paper": change(_LENET, ('activation="relu"', 'activation="tanh"')),
    "Dense(64) instead of Dense(84)": change(_LENET, ("layers.Dense(84,", "layers.Dense(64,")),
    "linear output (no softmax)": change(_LENET, ('activation="softmax"', 'activation="linear"')),
    "pooling with stride 1": change(
        _LENET, (_CONV1 + "        layers.MaxPooling2D(2),",
                 _CONV1 + "        layers.MaxPooling2D(2, strides=1),")),
    "3x3 kernels": change(_LENET, ("Conv2D(6, 5,", "Conv2D(6, 3,"), ("Conv2D(16, 5,", "Conv2D(16, 3,"),
                          ("Conv2D(120, 5,", "Conv2D(120, 3,")),
    "no third convolution (Flatten then Dense(120))": change(
        _LENET, (_CONV3 + "        layers.Flatten(),\n",
                 'layers.Flatten(),\n        layers.Dense(120, activation="relu"),\n')),
}

RIGHT_LENET = {
    "functional API with tuples and activation functions": """
def build_lenet5():
    inputs = keras.Input(shape=(28, 28, 1))
    relu = keras.activations.relu
    x = keras.layers.Conv2D(filters=6, kernel_size=(5, 5), padding="same", activation=relu)(inputs)
    x = keras.layers.MaxPool2D(pool_size=(2, 2), strides=(2, 2))(x)
    x = keras.layers.Conv2D(16, (5, 5), activation=keras.activations.relu)(x)
    x = keras.layers.MaxPool2D((2, 2))(x)
    x = keras.layers.Conv2D(120, (5, 5), padding="VALID", activation="relu")(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(84, activation="relu")(x)
    outputs = keras.layers.Dense(10, activation="softmax")(x)
    return keras.Model(inputs, outputs)
""",
    "Sequential built with add()": """
def build_lenet5():
    model = keras.Sequential()
    model.add(keras.Input(shape=(28, 28, 1)))
    model.add(layers.Conv2D(6, 5, padding="same", activation="relu"))
    model.add(layers.MaxPooling2D())
    model.add(layers.Conv2D(16, 5, activation="relu"))
    model.add(layers.MaxPooling2D())
    model.add(layers.Conv2D(120, 5, activation="relu"))
    model.add(layers.Flatten())
    model.add(layers.Dense(84, activation="relu"))
    model.add(layers.Dense(10, activation="softmax"))
    return model
""",
}

# ----------------------------------------------------------------------------- inception_module

_INCEPTION = solution_source(CHAPTER, "inception_module")
_BRANCH_1 = "branch_1 = conv(filters_1x1, 1, inputs)"
_BRANCH_3 = "branch_3 = conv(filters_3x3, 3, conv(filters_3x3_reduce, 1, inputs))"
_POOL = 'layers.MaxPooling2D(pool_size=3, strides=1, padding="same")'
_POOL_BRANCH = f"pooled = {_POOL}(inputs)\n    branch_pool = conv(filters_pool_proj, 1, pooled)"
_BRANCHES = "[branch_1, branch_3, branch_5, branch_pool]"
_CONCATENATE = f"return layers.Concatenate(axis=-1)({_BRANCHES})"

WRONG_INCEPTION = {
    "no 1x1 reduction before the 3x3": change(
        _INCEPTION, (_BRANCH_3, "branch_3 = conv(filters_3x3, 3, inputs)")),
    "no 1x1 reduction before the 5x5": change(
        _INCEPTION, ("branch_5 = conv(filters_5x5, 5, conv(filters_5x5_reduce, 1, inputs))",
                     "branch_5 = conv(filters_5x5, 5, inputs)")),
    "concatenation on the height axis": change(_INCEPTION, ("Concatenate(axis=-1)", "Concatenate(axis=1)")),
    "pooling branch without its 1x1 projection": change(
        _INCEPTION, ("branch_pool = conv(filters_pool_proj, 1, pooled)", "branch_pool = pooled")),
    "max pooling with the default stride (2)": change(
        _INCEPTION, (_POOL, 'layers.MaxPooling2D(pool_size=3, padding="same")')),
    "3x3 convolution with stride 2": change(
        _INCEPTION, (_BRANCH_3, 'branch_3 = layers.Conv2D(filters_3x3, 3, strides=2, padding="same", '
                                'activation="relu")(conv(filters_3x3_reduce, 1, inputs))')),
    "adds the branches instead of concatenating": change(_INCEPTION, (_CONCATENATE, """\
width = max(filters_1x1, filters_3x3, filters_5x5, filters_pool_proj)
    pad = [layers.ZeroPadding3D(((0, 0), (0, 0), (0, width - b.shape[-1])))(
               layers.Reshape(b.shape[1:] + (1,))(b))
           for b in (branch_1, branch_3, branch_5, branch_pool)]
    return layers.Reshape(branch_1.shape[1:3] + (width,))(layers.Add()(pad))""")),
    "average pooling in the pooling branch": change(
        _INCEPTION, ("layers.MaxPooling2D(", "layers.AveragePooling2D(")),
    "branches concatenated in the wrong order": change(
        _INCEPTION, (_BRANCHES, "[branch_pool, branch_5, branch_3, branch_1]")),
    "projection convolution before the pooling": change(
        _INCEPTION, (_POOL_BRANCH, f"branch_pool = {_POOL}(conv(filters_pool_proj, 1, inputs))")),
    "no ReLU on the 1x1 branch": change(
        _INCEPTION, (_BRANCH_1, 'branch_1 = layers.Conv2D(filters_1x1, 1, padding="same")(inputs)')),
}

RIGHT_INCEPTION = {
    "keras.ops.concatenate and tuples": """
def inception_module(inputs, filters_1x1, filters_3x3_reduce, filters_3x3,
                     filters_5x5_reduce, filters_5x5, filters_pool_proj):
    Conv = keras.layers.Conv2D
    branches = [
        Conv(filters_1x1, (1, 1), padding="same", activation="relu")(inputs),
        Conv(filters_3x3, (3, 3), padding="same", activation="relu")(
            Conv(filters_3x3_reduce, (1, 1), padding="same", activation="relu")(inputs)),
        Conv(filters_5x5, (5, 5), padding="same", activation="relu")(
            Conv(filters_5x5_reduce, (1, 1), padding="same", activation="relu")(inputs)),
        Conv(filters_pool_proj, (1, 1), padding="same", activation="relu")(
            keras.layers.MaxPool2D((3, 3), strides=(1, 1), padding="same")(inputs)),
    ]
    return keras.ops.concatenate(branches, axis=3)
""",
    "pooling branch built first, layers.concatenate": """
def inception_module(inputs, filters_1x1, filters_3x3_reduce, filters_3x3,
                     filters_5x5_reduce, filters_5x5, filters_pool_proj):
    pooled = layers.MaxPooling2D(pool_size=3, strides=1, padding="same")(inputs)
    pool_proj = layers.Conv2D(filters_pool_proj, 1, padding="same", activation="relu")(pooled)
    reduce5 = layers.Conv2D(filters_5x5_reduce, 1, padding="same", activation="relu")(inputs)
    reduce3 = layers.Conv2D(filters_3x3_reduce, 1, padding="same", activation="relu")(inputs)
    one = layers.Conv2D(filters_1x1, 1, padding="same", activation="relu")(inputs)
    three = layers.Conv2D(filters_3x3, 3, padding="same", activation="relu")(reduce3)
    five = layers.Conv2D(filters_5x5, 5, padding="same", activation="relu")(reduce5)
    return layers.concatenate([one, three, five, pool_proj], axis=-1)
""",
}

# ----------------------------------------------------------------------------- se_block

_SE = solution_source(CHAPTER, "se_block")
_RESHAPE = "    s = layers.Reshape((1, 1, channels))(s)\n"
_SCALE = "return layers.Multiply()([inputs, s])"

WRONG_SE = {
    "softmax instead of sigmoid": change(_SE, ('activation="sigmoid"', 'activation="softmax"')),
    "returns the gate without multiplying": change(_SE, (_SCALE, "return s")),
    "adds the gate instead of multiplying": change(_SE, ("layers.Multiply()", "layers.Add()")),
    "squeezes over the channel axis": change(
        _SE, ("s = layers.GlobalAveragePooling2D()(inputs)",
              "s = keras.ops.mean(inputs, axis=-1, keepdims=True)"),
        (_RESHAPE, "")),
    "global max pooling instead of average": change(
        _SE, ("layers.GlobalAveragePooling2D()(inputs)", "layers.GlobalMaxPooling2D()(inputs)")),
    "bottleneck of C * ratio units": change(_SE, ("channels // ratio", "channels * ratio")),
    "no ReLU in the bottleneck": change(
        _SE, ('Dense(channels // ratio, activation="relu")', "Dense(channels // ratio)")),
    "no biases in the Dense layers": change(
        _SE, ('activation="relu")', 'activation="relu", use_bias=False)'),
        ('activation="sigmoid")', 'activation="sigmoid", use_bias=False)')),
    "ratio ignored (always 16)": change(_SE, ("channels // ratio", "max(1, channels // 16)")),
}

RIGHT_SE = {
    "keepdims pooling and the * operator": change(
        _SE, ("GlobalAveragePooling2D()", "GlobalAveragePooling2D(keepdims=True)"), (_RESHAPE, ""),
        (_SCALE, "return inputs * s")),
    "keras.ops.mean over the spatial axes and keras.ops.multiply": with_body(_SE, """
    channels = inputs.shape[-1]
    z = keras.ops.mean(inputs, axis=(1, 2))
    hidden = keras.layers.Dense(units=channels // ratio, activation=keras.activations.relu)(z)
    gate = keras.layers.Dense(units=channels, activation=keras.activations.sigmoid)(hidden)
    return keras.ops.multiply(inputs, gate[:, None, None, :])
"""),
}

# ----------------------------------------------------------------------------- separable_savings

_SEP = solution_source(CHAPTER, "separable_savings")
_REGULAR = "regular = k2 * in_channels * out_channels + out_channels"
_SEPARABLE = "separable = k2 * in_channels + in_channels * out_channels + out_channels"
_PAIR = "return regular, separable"

WRONG_SEP = {
    "no biases at all": change(
        _SEP, (_REGULAR, "regular = k2 * in_channels * out_channels"),
        (_SEPARABLE, "separable = k2 * in_channels + in_channels * out_channels")),
    "a bias on the depthwise step too": change(
        _SEP, ("separable = k2 * in_channels +", "separable = k2 * in_channels + in_channels +")),
    "kernel size not squared": change(_SEP, ("k2 = kernel_size * kernel_size", "k2 = kernel_size")),
    "depthwise counted as k*k*cin*cout": change(
        _SEP, ("separable = k2 * in_channels +", "separable = k2 * in_channels * out_channels +")),
    "pair in the wrong order": change(_SEP, (_PAIR, "return separable, regular")),
    "depthwise uses cout instead of cin": change(
        _SEP, ("separable = k2 * in_channels +", "separable = k2 * out_channels +")),
    "returns the ratio": change(_SEP, (_PAIR, "return separable / regular")),
    "float results": change(_SEP, (_PAIR, "return float(regular), float(separable)")),
}

RIGHT_SEP = {
    "factorised formulas, list": with_body(_SEP, """
    k, cin, cout = kernel_size, in_channels, out_channels
    return [cout * (k ** 2 * cin + 1), cin * (k ** 2 + cout) + cout]
"""),
    "counted with Keras layers": """
def separable_savings(kernel_size, in_channels, out_channels):
    regular = keras.layers.Conv2D(out_channels, kernel_size)
    separable = keras.layers.SeparableConv2D(out_channels, kernel_size)
    regular.build((None, kernel_size + 1, kernel_size + 1, in_channels))
    separable.build((None, kernel_size + 1, kernel_size + 1, in_channels))
    return regular.count_params(), separable.count_params()
""",
    "numpy integers": change(_SEP, (_PAIR, "return np.int64(regular), np.int32(separable)")),
}

WRONG = {
    "build_lenet5": WRONG_LENET,
    "inception_module": WRONG_INCEPTION,
    "se_block": WRONG_SE,
    "separable_savings": WRONG_SEP,
}
RIGHT = {
    "build_lenet5": RIGHT_LENET,
    "inception_module": RIGHT_INCEPTION,
    "se_block": RIGHT_SE,
    "separable_savings": RIGHT_SEP,
}

SCORED = {
    "build_my_cnn": "accuracy target with partial credit: the test cell trains the network (a minute or so) "
    "and its last expression is the points; checked by the round trip's scores and by "
    "tests/test_checks_scoring.py (checks.accuracy_points)",
}
