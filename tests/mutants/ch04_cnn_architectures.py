"""Plausible mistakes (WRONG) and unusual correct answers (RIGHT) for ch04_cnn_architectures.

Each entry is a full replacement of an exercise's solution cell; tests/test_mutants.py checks
that the exercise's test cell (visible and hidden parts) rejects every WRONG and accepts every RIGHT.

``build_my_cnn`` (the accuracy target) is deliberately in neither dict: its test cell trains a
network for a minute or more and awards partial credit (the cell's last expression is the points),
so "no exception" does not mean "full marks" and every case would cost a full training run.
Its grading scale is unit-tested in tests/test_checks_scoring.py (``checks.accuracy_points``).
"""

# ----------------------------------------------------------------------------- build_lenet5

_LENET = """
def build_lenet5():
    return keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        layers.Conv2D(6, 5, padding={pad1!r}, activation={act!r}),
        {pool}(2),
        layers.Conv2D(16, 5, padding="valid", activation={act!r}),
        {pool}(2),
        layers.Conv2D(120, 5, padding={pad3!r}, activation={act!r}),
        layers.Flatten(),
        layers.Dense({units}, activation={act!r}),
        layers.Dense(10, activation={out!r}),
    ])
"""


def _lenet(pad1="same", act="relu", pool="layers.MaxPooling2D", pad3="valid", units=84, out="softmax"):
    return _LENET.format(pad1=pad1, act=act, pool=pool, pad3=pad3, units=units, out=out)


WRONG_LENET = {
    "first convolution 'valid' (the model does not even build)": _lenet(pad1="valid"),
    "third convolution 'same'": _lenet(pad3="same"),
    "average pooling as in the 1998 paper": _lenet(pool="layers.AveragePooling2D"),
    "tanh activations as in the 1998 paper": _lenet(act="tanh"),
    "Dense(64) instead of Dense(84)": _lenet(units=64),
    "linear output (no softmax)": _lenet(out="linear"),
    "pooling with stride 1": """
def build_lenet5():
    return keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        layers.Conv2D(6, 5, padding="same", activation="relu"),
        layers.MaxPooling2D(2, strides=1),
        layers.Conv2D(16, 5, padding="valid", activation="relu"),
        layers.MaxPooling2D(2),
        layers.Conv2D(120, 5, padding="valid", activation="relu"),
        layers.Flatten(),
        layers.Dense(84, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ])
""",
    "3x3 kernels": """
def build_lenet5():
    return keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        layers.Conv2D(6, 3, padding="same", activation="relu"),
        layers.MaxPooling2D(2),
        layers.Conv2D(16, 3, padding="valid", activation="relu"),
        layers.MaxPooling2D(2),
        layers.Conv2D(120, 3, padding="valid", activation="relu"),
        layers.Flatten(),
        layers.Dense(84, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ])
""",
    "no third convolution (Flatten then Dense(120))": """
def build_lenet5():
    return keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        layers.Conv2D(6, 5, padding="same", activation="relu"),
        layers.MaxPooling2D(2),
        layers.Conv2D(16, 5, padding="valid", activation="relu"),
        layers.MaxPooling2D(2),
        layers.Flatten(),
        layers.Dense(120, activation="relu"),
        layers.Dense(84, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ])
""",
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

_INCEPTION = """
def inception_module(inputs, filters_1x1, filters_3x3_reduce, filters_3x3,
                     filters_5x5_reduce, filters_5x5, filters_pool_proj):
    def conv(filters, size, x, strides=1):
        return layers.Conv2D(filters, size, strides=strides, padding="same", activation="relu")(x)
    {body}
"""


def _inception(body):
    return _INCEPTION.format(body=body.strip().replace("\n", "\n    "))


_BRANCHES = """
b1 = conv(filters_1x1, 1, inputs)
b3 = conv(filters_3x3, 3, conv(filters_3x3_reduce, 1, inputs))
b5 = conv(filters_5x5, 5, conv(filters_5x5_reduce, 1, inputs))
"""

WRONG_INCEPTION = {
    "no 1x1 reduction before the 3x3": _inception("""
b1 = conv(filters_1x1, 1, inputs)
b3 = conv(filters_3x3, 3, inputs)
b5 = conv(filters_5x5, 5, conv(filters_5x5_reduce, 1, inputs))
bp = conv(filters_pool_proj, 1, layers.MaxPooling2D(3, strides=1, padding="same")(inputs))
return layers.Concatenate()([b1, b3, b5, bp])
"""),
    "no 1x1 reduction before the 5x5": _inception("""
b1 = conv(filters_1x1, 1, inputs)
b3 = conv(filters_3x3, 3, conv(filters_3x3_reduce, 1, inputs))
b5 = conv(filters_5x5, 5, inputs)
bp = conv(filters_pool_proj, 1, layers.MaxPooling2D(3, strides=1, padding="same")(inputs))
return layers.Concatenate()([b1, b3, b5, bp])
"""),
    "concatenation on the height axis": _inception(_BRANCHES + """
bp = conv(filters_pool_proj, 1, layers.MaxPooling2D(3, strides=1, padding="same")(inputs))
return layers.Concatenate(axis=1)([b1, b3, b5, bp])
"""),
    "pooling branch without its 1x1 projection": _inception(_BRANCHES + """
bp = layers.MaxPooling2D(3, strides=1, padding="same")(inputs)
return layers.Concatenate()([b1, b3, b5, bp])
"""),
    "max pooling with the default stride (2)": _inception(_BRANCHES + """
bp = conv(filters_pool_proj, 1, layers.MaxPooling2D(3, padding="same")(inputs))
return layers.Concatenate()([b1, b3, b5, bp])
"""),
    "3x3 convolution with stride 2": _inception("""
b1 = conv(filters_1x1, 1, inputs)
b3 = conv(filters_3x3, 3, conv(filters_3x3_reduce, 1, inputs), strides=2)
b5 = conv(filters_5x5, 5, conv(filters_5x5_reduce, 1, inputs))
bp = conv(filters_pool_proj, 1, layers.MaxPooling2D(3, strides=1, padding="same")(inputs))
return layers.Concatenate()([b1, b3, b5, bp])
"""),
    "adds the branches instead of concatenating": _inception(_BRANCHES + """
bp = conv(filters_pool_proj, 1, layers.MaxPooling2D(3, strides=1, padding="same")(inputs))
width = max(filters_1x1, filters_3x3, filters_5x5, filters_pool_proj)
pad = [layers.ZeroPadding3D(((0, 0), (0, 0), (0, width - b.shape[-1])))(layers.Reshape(b.shape[1:] + (1,))(b))
       for b in (b1, b3, b5, bp)]
return layers.Reshape(b1.shape[1:3] + (width,))(layers.Add()(pad))
"""),
    "average pooling in the pooling branch": _inception(_BRANCHES + """
bp = conv(filters_pool_proj, 1, layers.AveragePooling2D(3, strides=1, padding="same")(inputs))
return layers.Concatenate()([b1, b3, b5, bp])
"""),
    "branches concatenated in the wrong order": _inception(_BRANCHES + """
bp = conv(filters_pool_proj, 1, layers.MaxPooling2D(3, strides=1, padding="same")(inputs))
return layers.Concatenate()([bp, b5, b3, b1])
"""),
    "projection convolution before the pooling": _inception(_BRANCHES + """
bp = layers.MaxPooling2D(3, strides=1, padding="same")(conv(filters_pool_proj, 1, inputs))
return layers.Concatenate()([b1, b3, b5, bp])
"""),
    "no ReLU on the 1x1 branch": _inception("""
b1 = layers.Conv2D(filters_1x1, 1, padding="same")(inputs)
b3 = conv(filters_3x3, 3, conv(filters_3x3_reduce, 1, inputs))
b5 = conv(filters_5x5, 5, conv(filters_5x5_reduce, 1, inputs))
bp = conv(filters_pool_proj, 1, layers.MaxPooling2D(3, strides=1, padding="same")(inputs))
return layers.Concatenate()([b1, b3, b5, bp])
"""),
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

_SE = """
def se_block(inputs, ratio=16):
    channels = inputs.shape[-1]
    {body}
"""


def _se(body):
    return _SE.format(body=body.strip().replace("\n", "\n    "))


WRONG_SE = {
    "softmax instead of sigmoid": _se("""
s = layers.GlobalAveragePooling2D()(inputs)
s = layers.Dense(channels // ratio, activation="relu")(s)
s = layers.Dense(channels, activation="softmax")(s)
return layers.Multiply()([inputs, layers.Reshape((1, 1, channels))(s)])
"""),
    "returns the gate without multiplying": _se("""
s = layers.GlobalAveragePooling2D()(inputs)
s = layers.Dense(channels // ratio, activation="relu")(s)
s = layers.Dense(channels, activation="sigmoid")(s)
return layers.Reshape((1, 1, channels))(s)
"""),
    "adds the gate instead of multiplying": _se("""
s = layers.GlobalAveragePooling2D()(inputs)
s = layers.Dense(channels // ratio, activation="relu")(s)
s = layers.Dense(channels, activation="sigmoid")(s)
return layers.Add()([inputs, layers.Reshape((1, 1, channels))(s)])
"""),
    "squeezes over the channel axis": _se("""
s = keras.ops.mean(inputs, axis=-1, keepdims=True)
s = layers.Dense(channels // ratio, activation="relu")(s)
s = layers.Dense(channels, activation="sigmoid")(s)
return layers.Multiply()([inputs, s])
"""),
    "global max pooling instead of average": _se("""
s = layers.GlobalMaxPooling2D()(inputs)
s = layers.Dense(channels // ratio, activation="relu")(s)
s = layers.Dense(channels, activation="sigmoid")(s)
return layers.Multiply()([inputs, layers.Reshape((1, 1, channels))(s)])
"""),
    "bottleneck of C * ratio units": _se("""
s = layers.GlobalAveragePooling2D()(inputs)
s = layers.Dense(channels * ratio, activation="relu")(s)
s = layers.Dense(channels, activation="sigmoid")(s)
return layers.Multiply()([inputs, layers.Reshape((1, 1, channels))(s)])
"""),
    "no ReLU in the bottleneck": _se("""
s = layers.GlobalAveragePooling2D()(inputs)
s = layers.Dense(channels // ratio)(s)
s = layers.Dense(channels, activation="sigmoid")(s)
return layers.Multiply()([inputs, layers.Reshape((1, 1, channels))(s)])
"""),
    "no biases in the Dense layers": _se("""
s = layers.GlobalAveragePooling2D()(inputs)
s = layers.Dense(channels // ratio, activation="relu", use_bias=False)(s)
s = layers.Dense(channels, activation="sigmoid", use_bias=False)(s)
return layers.Multiply()([inputs, layers.Reshape((1, 1, channels))(s)])
"""),
    "ratio ignored (always 16)": _se("""
s = layers.GlobalAveragePooling2D()(inputs)
s = layers.Dense(max(1, channels // 16), activation="relu")(s)
s = layers.Dense(channels, activation="sigmoid")(s)
return layers.Multiply()([inputs, layers.Reshape((1, 1, channels))(s)])
"""),
}

RIGHT_SE = {
    "keepdims pooling and the * operator": _se("""
s = layers.GlobalAveragePooling2D(keepdims=True)(inputs)
s = layers.Dense(channels // ratio, activation="relu")(s)
s = layers.Dense(channels, activation="sigmoid")(s)
return inputs * s
"""),
    "keras.ops.mean over the spatial axes and keras.ops.multiply": _se("""
z = keras.ops.mean(inputs, axis=(1, 2))
hidden = keras.layers.Dense(units=channels // ratio, activation=keras.activations.relu)(z)
gate = keras.layers.Dense(units=channels, activation=keras.activations.sigmoid)(hidden)
return keras.ops.multiply(inputs, gate[:, None, None, :])
"""),
}

# ----------------------------------------------------------------------------- separable_savings

_SEP = """
def separable_savings(kernel_size, in_channels, out_channels):
    k, cin, cout = kernel_size, in_channels, out_channels
    {body}
"""


def _sep(body):
    return _SEP.format(body=body.strip().replace("\n", "\n    "))


WRONG_SEP = {
    "no biases at all": _sep("return k * k * cin * cout, k * k * cin + cin * cout"),
    "a bias on the depthwise step too": _sep(
        "return k * k * cin * cout + cout, k * k * cin + cin + cin * cout + cout"
    ),
    "kernel size not squared": _sep("return k * cin * cout + cout, k * cin + cin * cout + cout"),
    "depthwise counted as k*k*cin*cout": _sep(
        "return k * k * cin * cout + cout, k * k * cin * cout + cin * cout + cout"
    ),
    "pair in the wrong order": _sep("return k * k * cin + cin * cout + cout, k * k * cin * cout + cout"),
    "depthwise uses cout instead of cin": _sep(
        "return k * k * cin * cout + cout, k * k * cout + cin * cout + cout"
    ),
    "returns the ratio": _sep("return (k * k * cin + cin * cout + cout) / (k * k * cin * cout + cout)"),
    "float results": _sep("return float(k * k * cin * cout + cout), float(k * k * cin + cin * cout + cout)"),
}

RIGHT_SEP = {
    "factorised formulas, list": _sep("return [cout * (k ** 2 * cin + 1), cin * (k ** 2 + cout) + cout]"),
    "counted with Keras layers": """
def separable_savings(kernel_size, in_channels, out_channels):
    regular = keras.layers.Conv2D(out_channels, kernel_size)
    separable = keras.layers.SeparableConv2D(out_channels, kernel_size)
    regular.build((None, kernel_size + 1, kernel_size + 1, in_channels))
    separable.build((None, kernel_size + 1, kernel_size + 1, in_channels))
    return regular.count_params(), separable.count_params()
""",
    "numpy integers": _sep(
        "return np.int64(k * k * cin * cout + cout), np.int32(k * k * cin + cin * cout + cout)"
    ),
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
