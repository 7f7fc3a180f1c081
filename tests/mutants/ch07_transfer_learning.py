"""Plausible mistakes (WRONG) and unusual correct answers (RIGHT) for ch07_transfer_learning.

Each entry is a full replacement of an exercise's solution cell; tests/test_mutants.py checks
that the exercise's test cell (visible and hidden parts) rejects every WRONG and accepts every RIGHT.
Most cases are the solution cell as solutions/ has it (`solution_source`) with an edit made by
`change` (tests/mutants/__init__.py), which fails when the text it replaces is no longer there; the
others are programs of their own. The accuracy target (transfer_gain) is scored on a scale: see SCORED.
"""

from tests.mutants import change, solution_source

CHAPTER = "ch07_transfer_learning"

# ----------------------------------------------------------------------------- make_pipeline

_P = solution_source(CHAPTER, "make_pipeline")
_RESIZE = (
    "    dataset = dataset.map(lambda image, label: "
    "(tf.image.resize(image, (image_size, image_size)), label))\n"
)
_SHUFFLE = "    if shuffle:\n        dataset = dataset.shuffle(len(images), seed=seed)\n"

WRONG_PIPELINE = {
    "shuffles after batching (only the order of the batches changes)": change(
        _P, (_SHUFFLE, ""), ("    dataset = dataset.batch(batch_size)\n",
                             "    dataset = dataset.batch(batch_size)\n" + _SHUFFLE)),
    "drop_remainder=True (the last, partial batch is lost)": change(
        _P, ("dataset.batch(batch_size)", "dataset.batch(batch_size, drop_remainder=True)")),
    "resize skipped": change(_P, (_RESIZE, "")),
    "resize to (image_size, image_size) forgotten on one axis": change(
        _P, ("(image_size, image_size)", "(image_size, tf.shape(image)[1])")),
    "labels shuffled separately from the images": change(
        _P, ("    dataset = tf.data.Dataset.from_tensor_slices((images, labels))\n",
             "    dataset = tf.data.Dataset.from_tensor_slices((images, labels))\n"
             "    if shuffle:\n"
             "        order = tf.data.Dataset.from_tensor_slices(labels).shuffle(len(labels), seed=seed)\n"
             "        dataset = tf.data.Dataset.zip(tf.data.Dataset.from_tensor_slices(images).shuffle("
             "len(images), seed=seed + 1 if seed is not None else None), order)\n"),
            (_SHUFFLE, "")),
    "preprocess applied twice": change(
        _P, ("(preprocess(batch), label)", "(preprocess(preprocess(batch)), label)")),
    "preprocess applied to the labels too": change(
        _P, ("(preprocess(batch), label)", "(preprocess(batch), preprocess(label))")),
    "preprocess ignored": change(_P, ("(preprocess(batch), label)", "(batch, label)")),
    "shuffles even when shuffle=False": change(_P, ("    if shuffle:\n", "    if True:\n")),
    "shuffle without the seed": change(
        _P, ("shuffle(len(images), seed=seed)", "shuffle(len(images))")),
    "a shuffle buffer of one batch (barely shuffles)": change(
        _P, ("shuffle(len(images), seed=seed)", "shuffle(2, seed=seed)")),
    "no prefetch": change(_P, ("return dataset.prefetch(tf.data.AUTOTUNE)", "return dataset")),
}

RIGHT_PIPELINE = {
    "resize after batching, prefetch(1), cache": change(
        _P, (_RESIZE, ""),
        ("    dataset = dataset.batch(batch_size)\n",
         "    dataset = dataset.batch(batch_size)"
         ".map(lambda x, y: (tf.image.resize(x, [image_size] * 2), y))\n"),
        ("return dataset.prefetch(tf.data.AUTOTUNE)", "return dataset.cache().prefetch(1)")),
    "shuffle a tensor of indices and gather": '''
def make_pipeline(images, labels, image_size, batch_size, shuffle, seed=None, preprocess=None):
    images = tf.image.resize(tf.convert_to_tensor(images), (image_size, image_size))
    labels = tf.convert_to_tensor(labels)
    order = tf.data.Dataset.range(len(labels))
    if shuffle:
        order = order.shuffle(len(labels), seed=seed)
    dataset = order.map(lambda i: (tf.gather(images, i), tf.gather(labels, i))).batch(batch_size)
    if preprocess:
        dataset = dataset.map(lambda x, y: (preprocess(x), y), num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.prefetch(buffer_size=2)
''',
}

# ----------------------------------------------------------------------------- build_transfer_model

_B = solution_source(CHAPTER, "build_transfer_model")

WRONG_BUILD = {
    "base not frozen": change(_B, ("    base.trainable = False\n", "")),
    "head without softmax (logits)": change(
        _B, ('Dense(n_classes, activation="softmax")', "Dense(n_classes)")),
    "a copy of the base (weights not shared)": change(
        _B, ("    base.trainable = False\n",
             "    copy = keras.models.clone_model(base)\n    copy.set_weights(base.get_weights())\n"
             "    base = copy\n    base.trainable = False\n")),
    "base called with training=True": change(
        _B, ("base(inputs, training=False)", "base(inputs, training=True)")),
    "pooling never added (a 4-D base gives a 4-D output)": change(
        _B, ("    if len(x.shape) == 4:\n        x = keras.layers.GlobalAveragePooling2D()(x)\n", "")),
    "Flatten instead of global average pooling": change(_B, ("GlobalAveragePooling2D()", "Flatten()")),
    "the base's own head kept, a second head on top": change(
        _B, ('    outputs = keras.layers.Dense(n_classes, activation="softmax")(x)\n',
             '    x = keras.layers.Dense(16, activation="relu")(x)\n'
             '    outputs = keras.layers.Dense(n_classes, activation="softmax")(x)\n')),
}

RIGHT_BUILD = {
    "the base's layers frozen one by one, Softmax as its own layer, GAP decided from output_shape": (
        '''
def build_transfer_model(base, n_classes):
    for layer in base.layers:
        layer.trainable = False
    base.trainable = False
    inputs = keras.Input(shape=tuple(base.input_shape[1:]))
    features = base(inputs, training=False)
    if len(base.output_shape) > 2:
        features = keras.layers.GlobalAveragePooling2D(name="pool")(features)
    logits = keras.layers.Dense(n_classes, name="head")(features)
    return keras.Model(inputs, keras.layers.Softmax()(logits), name="transfer")
'''
    ),
}

# ----------------------------------------------------------------------------- unfreeze_and_recompile

_U = solution_source(CHAPTER, "unfreeze_and_recompile")
_COMPILE = (
    "    config = model.get_compile_config()\n"
    '    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=config["loss"],\n'
    '                  metrics=config["metrics"])\n'
)

WRONG_UNFREEZE = {
    "forgets to recompile (the trainable change never takes effect)": change(
        _U, (_COMPILE, "    model.optimizer.learning_rate.assign(learning_rate)\n")),
    "keeps the old learning rate": change(
        _U, ("keras.optimizers.Adam(learning_rate)",
             "keras.optimizers.Adam(float(model.optimizer.learning_rate))")),
    "unfreezes the bottom layers instead of the top ones": change(
        _U, ("index >= first_trainable", "(n_trainable_layers is None or index < n_trainable_layers)")),
    "unfreezes the BatchNormalization layers too": change(_U, (" and not is_norm", "")),
    "one layer too few (off by one)": change(
        _U, ("len(base.layers) - n_trainable_layers", "len(base.layers) - n_trainable_layers + 1")),
    "recompiles with SGD": change(
        _U, ("keras.optimizers.Adam(learning_rate)", "keras.optimizers.SGD(learning_rate)")),
    "recompiles without the metrics": change(_U, (',\n                  metrics=config["metrics"])', ")")),
    "base.trainable never set (the base stays frozen)": change(
        _U, ("    base.trainable = True\n", ""),
        ("layer.trainable = index >= first_trainable and not is_norm",
         "layer.trainable = layer.trainable and index >= first_trainable and not is_norm")),
}

RIGHT_UNFREEZE = {
    "slices of base.layers, loss and metrics written out": '''
def unfreeze_and_recompile(model, base, learning_rate, n_trainable_layers=None):
    base.trainable = True
    layers = base.layers
    if n_trainable_layers is not None:
        for layer in layers[:len(layers) - n_trainable_layers]:
            layer.trainable = False
    for layer in layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.trainable = False
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
''',
}

WRONG = {
    "make_pipeline": WRONG_PIPELINE,
    "build_transfer_model": WRONG_BUILD,
    "unfreeze_and_recompile": WRONG_UNFREEZE,
}
RIGHT = {
    "make_pipeline": RIGHT_PIPELINE,
    "build_transfer_model": RIGHT_BUILD,
    "unfreeze_and_recompile": RIGHT_UNFREEZE,
}
SCORED = {
    "transfer_gain": "an accuracy target with partial credit (the test cell's last expression is the "
    "points): checked by the grading round trip's scores",
}
