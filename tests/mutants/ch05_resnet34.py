"""Plausible mistakes (WRONG) and unusual correct answers (RIGHT) for ch05_resnet34.

Each entry is a full replacement of an exercise's solution cell; tests/test_mutants.py checks
that the exercise's test cell (visible and hidden parts) rejects every WRONG and accepts every RIGHT.
Most cases are the solution cell as solutions/ has it (`solution_source`) with an edit made by
`change` (tests/mutants/__init__.py), which fails when the text it replaces is no longer there; the
others are programs of their own. The accuracy target (build_small_resnet) is scored on a scale: see
SCORED.
"""

from tests.mutants import change, solution_source

CHAPTER = "ch05_resnet34"

# ----------------------------------------------------------------------------- ResidualUnit

_R = solution_source(CHAPTER, "ResidualUnit")
_R_PROJECT_IF = "if self.strides > 1 or input_shape[-1] != self.filters:"
_R_PROJECTION = (
    "                keras.layers.Conv2D(self.filters, 1, strides=self.strides, "
    'padding="same", use_bias=False),\n'
)
_R_SECOND_CONV = '            keras.layers.Conv2D(filters, 3, strides=1, padding="same", use_bias=False),\n'
_MAIN_END = "            keras.layers.BatchNormalization(),\n        ]"
_CONFIG = (
    '        return {**super().get_config(), "filters": self.filters, "strides": self.strides,\n'
    '                "activation": keras.activations.serialize(self.activation)}'
)

WRONG_RESIDUAL = {
    "no skip connection": change(_R, ("return self.activation(z + skip)", "return self.activation(z)")),
    "projection only when the stride is > 1 (the channel count changes with stride 1)": change(
        _R, (_R_PROJECT_IF, "if self.strides > 1:")),
    "never a projection (identity skip even with stride 2)": change(_R, (_R_PROJECT_IF, "if False:")),
    "a projection in every unit": change(_R, (_R_PROJECT_IF, "if True:")),
    "activation before the addition": change(
        _R, ("return self.activation(z + skip)", "return self.activation(z) + skip")),
    "activation on both paths, then added": change(
        _R, ("return self.activation(z + skip)", "return self.activation(z) + self.activation(skip)")),
    "convolutions with a bias": change(_R, ("use_bias=False", "use_bias=True")),
    "projection without batch normalisation": change(
        _R, (_R_PROJECTION + "                keras.layers.BatchNormalization(),",
             _R_PROJECTION.rstrip("\n"))),
    "3x3 projection": change(
        _R, ("keras.layers.Conv2D(self.filters, 1,", "keras.layers.Conv2D(self.filters, 3,")),
    "no activation between the two convolutions": change(
        _R, ("            keras.layers.Activation(self.activation),\n", "")),
    "stride on the second 3x3 convolution": change(
        _R, ("keras.layers.Conv2D(filters, 3, strides=strides,",
             "keras.layers.Conv2D(filters, 3, strides=1,"),
        (_R_SECOND_CONV + _MAIN_END, _R_SECOND_CONV.replace("strides=1", "strides=strides") + _MAIN_END)),
    "no batch normalisation on the main path": change(
        _R, ("            keras.layers.BatchNormalization(),\n"
             "            keras.layers.Activation(self.activation),",
             "            keras.layers.Activation(self.activation),"),
        (_R_SECOND_CONV + _MAIN_END, _R_SECOND_CONV + "        ]")),
    "get_config forgets the activation": change(
        _R, (',\n                "activation": keras.activations.serialize(self.activation)}', "}")),
    "no get_config": change(_R, (_CONFIG, "        return super().get_config()")),
    "not registered as serialisable": change(
        _R, ('@keras.saving.register_keras_serializable(package="cvcourse_course")\n', "")),
}
RIGHT_RESIDUAL = {
    "keras.Sequential paths, sub-layers built in build()": """
@keras.saving.register_keras_serializable(package="cvcourse_course")
class ResidualUnit(keras.layers.Layer):
    def __init__(self, filters, strides=1, activation="relu", **kwargs):
        super().__init__(**kwargs)
        self.filters, self.strides = filters, strides
        self.activation = keras.activations.get(activation)

    def build(self, input_shape):
        L = keras.layers
        self.main = keras.Sequential([
            L.Conv2D(self.filters, (3, 3), strides=(self.strides, self.strides), padding="same",
                     use_bias=False),
            L.BatchNormalization(), L.Activation(self.activation),
            L.Conv2D(self.filters, (3, 3), padding="same", use_bias=False), L.BatchNormalization()])
        self.main.build(input_shape)
        self.project = self.strides != 1 or input_shape[-1] != self.filters
        if self.project:
            self.skip = keras.Sequential([L.Conv2D(self.filters, 1, strides=self.strides, use_bias=False),
                                          L.BatchNormalization()])
            self.skip.build(input_shape)

    def call(self, inputs, training=None):
        skip = self.skip(inputs, training=training) if self.project else inputs
        return self.activation(keras.layers.add([self.main(inputs, training=training), skip]))

    def get_config(self):
        config = super().get_config()
        config.update(filters=self.filters, strides=self.strides,
                      activation=keras.activations.serialize(self.activation))
        return config
""",
    "the notes' layout with the activation stored as a string": change(
        _R, ("self.activation = keras.activations.get(activation)",
             "self.activation = keras.activations.get(activation)\n"
             "        self.activation_name = activation"),
        ('"activation": keras.activations.serialize(self.activation)}',
         '"activation": self.activation_name}')),
}

# ----------------------------------------------------------------------------- BottleneckUnit

_B = solution_source(CHAPTER, "BottleneckUnit")
_B_PROJECT_IF = "if self.strides > 1 or input_shape[-1] != 4 * self.filters:"
_B_EXPAND = "            keras.layers.Conv2D(4 * filters, 1, use_bias=False),\n"

WRONG_BOTTLENECK = {
    "expands to filters instead of 4 * filters": change(
        _B, ("4 * filters", "filters"), ("4 * self.filters", "self.filters")),
    "projection only when the stride is > 1": change(_B, (_B_PROJECT_IF, "if self.strides > 1:")),
    "projection compares the input with filters, not 4 * filters": change(
        _B, ("input_shape[-1] != 4 * self.filters", "input_shape[-1] != self.filters")),
    "a projection in every unit": change(_B, (_B_PROJECT_IF, "if True:")),
    "no skip connection": change(_B, ("return self.activation(z + skip)", "return self.activation(z)")),
    "activation before the addition": change(
        _B, ("return self.activation(z + skip)", "return self.activation(z) + skip")),
    "convolutions with a bias": change(_B, ("use_bias=False", "use_bias=True")),
    "three 3x3 convolutions": change(
        _B, ("keras.layers.Conv2D(filters, 1, use_bias=False)",
             'keras.layers.Conv2D(filters, 3, padding="same", use_bias=False)'),
        ("keras.layers.Conv2D(4 * filters, 1, use_bias=False)",
         'keras.layers.Conv2D(4 * filters, 3, padding="same", use_bias=False)')),
    "no activation after the 3x3 convolution": change(
        _B, ("            keras.layers.BatchNormalization(),\n"
             "            keras.layers.Activation(self.activation),\n"
             "            keras.layers.Conv2D(4 * filters",
             "            keras.layers.BatchNormalization(),\n"
             "            keras.layers.Conv2D(4 * filters")),
    "activation after the last batch normalisation too": change(
        _B, (_B_EXPAND + _MAIN_END,
             _B_EXPAND + "            keras.layers.BatchNormalization(),\n"
             "            keras.layers.Activation(self.activation),\n        ]")),
    "no batch normalisation after the expanding 1x1": change(
        _B, (_B_EXPAND + _MAIN_END, _B_EXPAND + "        ]")),
    "no get_config": change(_B, (_CONFIG, "        return super().get_config()")),
}
RIGHT_BOTTLENECK = {
    "stride on the first 1x1 convolution (the original paper)": change(
        _B, ("keras.layers.Conv2D(filters, 1, use_bias=False)",
             "keras.layers.Conv2D(filters, 1, strides=strides, use_bias=False)"),
        ('keras.layers.Conv2D(filters, 3, strides=strides, padding="same"',
         'keras.layers.Conv2D(filters, 3, padding="same"')),
    "sub-layers as attributes and keras.layers.Add": """
@keras.saving.register_keras_serializable(package="cvcourse_course")
class BottleneckUnit(keras.layers.Layer):
    def __init__(self, filters, strides=1, activation="relu", **kwargs):
        super().__init__(**kwargs)
        self.filters, self.strides = filters, strides
        self.activation = keras.activations.get(activation)
        L = keras.layers
        self.reduce, self.bn1 = L.Conv2D(filters, 1, use_bias=False), L.BatchNormalization()
        self.conv, self.bn2 = (L.Conv2D(filters, 3, strides=strides, padding="same", use_bias=False),
                               L.BatchNormalization())
        self.expand, self.bn3 = L.Conv2D(4 * filters, 1, use_bias=False), L.BatchNormalization()
        self.add = L.Add()
        self.projection = None

    def build(self, input_shape):
        if self.strides != 1 or input_shape[-1] != 4 * self.filters:
            self.projection = [keras.layers.Conv2D(4 * self.filters, 1, strides=self.strides, use_bias=False),
                               keras.layers.BatchNormalization()]

    def call(self, x):
        z = self.activation(self.bn1(self.reduce(x)))
        z = self.activation(self.bn2(self.conv(z)))
        z = self.bn3(self.expand(z))
        skip = x if self.projection is None else self.projection[1](self.projection[0](x))
        return self.activation(self.add([z, skip]))

    def get_config(self):
        return dict(super().get_config(), filters=self.filters, strides=self.strides,
                    activation=keras.activations.serialize(self.activation))
""",
}

# ----------------------------------------------------------------------------- build_resnet34

_N = solution_source(CHAPTER, "build_resnet34")
_POOL = 'MaxPool2D(pool_size=3, strides=2, padding="same")'

WRONG_RESNET34 = {
    "stride 2 in the first unit of stage 1 too": change(_N, ("prev_filters = 64\n", "prev_filters = 0\n")),
    "ResNet-18 stages (2, 2, 2, 2)": change(
        _N, ("[64] * 3 + [128] * 4 + [256] * 6 + [512] * 3", "[64] * 2 + [128] * 2 + [256] * 2 + [512] * 2")),
    "stages 3, 4, 6, 3 with 64, 128, 256, 256 filters": change(_N, ("[512] * 3", "[256] * 3")),
    "max pooling with 'valid' padding": change(_N, (_POOL, "MaxPool2D(pool_size=3, strides=2)")),
    "no max pooling": change(_N, (f"    x = keras.layers.{_POOL}(x)\n", "")),
    "stem convolution with a bias": change(
        _N, ('Conv2D(64, 7, strides=2, padding="same", use_bias=False)',
             'Conv2D(64, 7, strides=2, padding="same")')),
    "no batch normalisation in the stem": change(_N, ("    x = keras.layers.BatchNormalization()(x)\n", "")),
    "3x3 stem": change(_N, ("Conv2D(64, 7,", "Conv2D(64, 3,")),
    "stem without stride": change(_N, ("Conv2D(64, 7, strides=2,", "Conv2D(64, 7, strides=1,")),
    "no softmax": change(_N, ('Dense(n_classes, activation="softmax")', "Dense(n_classes)")),
    "Flatten instead of global average pooling": change(_N, ("GlobalAveragePooling2D()", "Flatten()")),
    "input shape ignored (always 224x224x3)": change(
        _N, ("keras.Input(shape=input_shape)", "keras.Input(shape=(224, 224, 3))")),
    "always 1000 classes": change(_N, ("Dense(n_classes,", "Dense(1000,")),
    "stride 1 everywhere": change(_N, ("strides = 1 if filters == prev_filters else 2", "strides = 1")),
}
RIGHT_RESNET34 = {
    "stages as (filters, units) pairs, separate softmax layer": """
def build_resnet34(input_shape=(224, 224, 3), n_classes=1000):
    L = keras.layers
    inputs = keras.Input(input_shape)
    x = L.ReLU()(L.BatchNormalization()(
        L.Conv2D(64, (7, 7), strides=(2, 2), padding="same", use_bias=False)(inputs)))
    x = L.MaxPooling2D((3, 3), strides=(2, 2), padding="same")(x)
    for stage, (filters, units) in enumerate([(64, 3), (128, 4), (256, 6), (512, 3)]):
        for unit in range(units):
            x = ResidualUnit(filters, strides=2 if stage > 0 and unit == 0 else 1)(x)
    x = L.Dense(n_classes)(L.GlobalAvgPool2D()(x))
    return keras.Model(inputs, L.Activation("softmax")(x))
""",
}

WRONG = {"ResidualUnit": WRONG_RESIDUAL, "build_resnet34": WRONG_RESNET34, "BottleneckUnit": WRONG_BOTTLENECK}
RIGHT = {"ResidualUnit": RIGHT_RESIDUAL, "build_resnet34": RIGHT_RESNET34, "BottleneckUnit": RIGHT_BOTTLENECK}
SCORED = {"build_small_resnet": "accuracy target with partial credit; checked by the round trip"}
