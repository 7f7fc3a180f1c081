"""Train the course backbone: a small CNN pretrained on Fashion-MNIST, shipped for chapters 6 and 7.

    make backbone            # or: .venv/bin/python scripts/train_backbone.py [--epochs 10]

Reproducible: seeds fixed and TensorFlow's deterministic operations (the routine of
``cvcourse.training.train_classifier``: Adam with warm-up and cosine decay, batch-norm momentum
0.9, the last 5,000 training images held out for validation). Only the TRAIN split is trained
on; the test split is scored once at the end. Writes

- ``data/backbone/fashion_backbone.keras``: the model (input (28, 28, 1) floats in [0, 1]);
- ``data/backbone/fashion_backbone.json``: the training record (date, seed, epochs, data,
  accuracies, seconds, package versions, parameter count, sha256 of the .keras);
- the ``course_backbone`` row of ``data/manifest.json`` (size and sha256), which
  ``cvcourse.pretrained.load_backbone`` checks before loading.

The model is built for transfer: a feature part (conv blocks with batch normalisation) that
ends in the GlobalAveragePooling2D layer named ``features``, and a head, the Dense softmax layer
named ``predictions``; ``keras.Model(model.input, model.get_layer("features").output)`` is the
base without its top (``include_top=False`` in ``keras.applications``).
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import sys
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from cvcourse import data, manifest, pretrained, training

REPOSITORY = Path(__file__).resolve().parents[1]
MODEL_FILE = pretrained.BACKBONE_PATH
FOLDER = MODEL_FILE.parent
RECORD_FILE = MODEL_FILE.with_suffix(".json")
SEED = 42


def conv_bn_relu(x, filters: int, name: str):
    """3x3 convolution (no bias: batch norm adds one), batch normalisation, ReLU."""
    x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv")(x)
    x = keras.layers.BatchNormalization(name=f"{name}_bn")(x)
    return keras.layers.ReLU(name=f"{name}_relu")(x)


def build_backbone(n_classes: int = 10) -> keras.Model:
    """The course backbone: 28x28x1 -> 3 conv blocks -> GlobalAveragePooling ("features") -> softmax.

    >>> build_backbone().get_layer("features").output.shape
    (None, 128)
    """
    inputs = keras.Input((28, 28, 1), name="image")
    x = conv_bn_relu(inputs, 32, "block1")                   # 28x28x32
    x = keras.layers.MaxPooling2D(2, name="block1_pool")(x)  # 14x14x32
    x = conv_bn_relu(x, 64, "block2")                        # 14x14x64
    x = keras.layers.MaxPooling2D(2, name="block2_pool")(x)  # 7x7x64
    x = conv_bn_relu(x, 128, "block3")                       # 7x7x128
    features = keras.layers.GlobalAveragePooling2D(name="features")(x)  # 128 numbers per image
    outputs = keras.layers.Dense(n_classes, activation="softmax", name="predictions")(features)
    return keras.Model(inputs, outputs, name="fashion_backbone")


def update_manifest(size: int, digest: str, record: dict) -> None:
    record_of_files = json.loads(manifest.MANIFEST_PATH.read_text())
    item = next(item for item in record_of_files["items"] if item["name"] == "course_backbone")
    item["files"] = [{
        "name": MODEL_FILE.name,
        "path": str(MODEL_FILE.relative_to(manifest.REPOSITORY_DATA)),
        "what": (f"Keras 3 model, {record['parameters']:,} parameters, test accuracy "
                 f"{record['test_accuracy']:.4f} on Fashion-MNIST"),
        "size": size,
        "sha256": digest,
    }]
    item.pop("status", None)
    manifest.MANIFEST_PATH.write_text(json.dumps(record_of_files, indent=2, ensure_ascii=False) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=10, help="training epochs (default 10)")
    args = parser.parse_args(argv)

    splits = data.load_fashion_mnist()
    print(splits.describe())
    model = build_backbone(len(splits.class_names))
    print(f"{model.count_params():,} parameters; training {args.epochs} epochs ...", flush=True)
    run = training.train_classifier(model, splits, epochs=args.epochs, batch_size=128,
                                    peak_learning_rate=4e-3, n_validation=5000, seed=SEED,
                                    time_limit_seconds=3600)
    x_train, y_train = splits.x_train[:-5000], splits.y_train[:-5000]
    train_accuracy = float(model.evaluate(x_train, y_train, batch_size=1000, verbose=0)[1])
    print(run.report(target=0.91))

    FOLDER.mkdir(parents=True, exist_ok=True)
    shipped = build_backbone(len(splits.class_names))  # the same layers, uncompiled: no optimizer state
    shipped.set_weights(model.get_weights())
    shipped.save(MODEL_FILE)
    digest, size = manifest.file_digest(MODEL_FILE), MODEL_FILE.stat().st_size
    record = {
        "file": MODEL_FILE.name,
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "seed": SEED,
        "epochs": args.epochs,
        "batch_size": 128,
        "optimizer": "Adam, linear warm-up over 10% of the steps to 4e-3, cosine decay to 0",
        "batchnorm_momentum": 0.9,
        "data": splits.source,
        "trained_on": f"Fashion-MNIST train split minus its last 5,000 images ({len(x_train):,} images)",
        "validation": "the last 5,000 images of the train split",
        "train_accuracy": round(train_accuracy, 4),
        "validation_accuracy": round(run.validation_accuracy, 4),
        "test_accuracy": round(run.test_accuracy, 4),
        "test_split": f"Fashion-MNIST test split ({len(splits.x_test):,} images), scored once after training",
        "seconds": round(run.seconds, 1),
        "parameters": int(model.count_params()),
        "input": "(28, 28, 1) float32 in [0, 1]",
        "feature_layer": "features (GlobalAveragePooling2D, 128 numbers)",
        "head": "predictions (Dense 10, softmax)",
        "class_names": list(splits.class_names),
        "versions": {
            "python": platform.python_version(),
            "tensorflow": tf.__version__,
            "keras": keras.__version__,
            "numpy": np.__version__,
        },
        "size": size,
        "sha256": digest,
    }
    RECORD_FILE.write_text(json.dumps(record, indent=2) + "\n")
    update_manifest(size, digest, record)
    print(f"wrote {MODEL_FILE.relative_to(REPOSITORY)} ({size:,} bytes, sha256 {digest[:12]}...), "
          f"{RECORD_FILE.relative_to(REPOSITORY)} and the course_backbone row of data/manifest.json")
    if run.test_accuracy < 0.91:
        print(f"warning: test accuracy {run.test_accuracy:.4f} is below the 0.91 target", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
