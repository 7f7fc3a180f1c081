"""Tests of cvcourse.pretrained: the shipped backbone, cached ImageNet models (no network), MTCNN."""

from __future__ import annotations

import hashlib
import json
import socket
from pathlib import Path

import keras
import numpy as np
import pytest

import cvcourse  # noqa: F401  (quiet TensorFlow first)
from cvcourse import data, pretrained

REPOSITORY = Path(__file__).resolve().parents[1]


@pytest.fixture
def no_socket(monkeypatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("a network connection was attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def tiny_model() -> keras.Model:
    inputs = keras.Input((28, 28, 1))
    x = keras.layers.Conv2D(2, 3, name="conv")(inputs)
    features = keras.layers.GlobalAveragePooling2D(name="features")(x)
    outputs = keras.layers.Dense(10, activation="softmax", name="predictions")(features)
    return keras.Model(inputs, outputs)


def write_manifest(path: Path, file_name: str, sha256: str) -> Path:
    manifest = {"items": [{"name": "course_backbone", "files": [{"name": file_name, "sha256": sha256}]}]}
    path.write_text(json.dumps(manifest))
    return path


# ----------------------------------------------------------------------------- the course backbone


def test_missing_backbone_names_make_backbone(tmp_path):
    with pytest.raises(pretrained.BackboneError, match="make backbone"):
        pretrained.load_backbone(path=tmp_path / "fashion_backbone.keras")


def test_changed_backbone_is_refused(tmp_path):
    model_file = tmp_path / "fashion_backbone.keras"
    tiny_model().save(model_file)
    manifest = write_manifest(tmp_path / "manifest.json", model_file.name, "0" * 64)
    with pytest.raises(pretrained.BackboneError, match="changed.*make backbone"):
        pretrained.load_backbone(path=model_file, manifest_path=manifest)
    unrecorded = write_manifest(tmp_path / "other.json", "another.keras", "0" * 64)
    with pytest.raises(pretrained.BackboneError, match="records no sha256.*make backbone"):
        pretrained.load_backbone(path=model_file, manifest_path=unrecorded)
    digest = hashlib.sha256(model_file.read_bytes()).hexdigest()
    good = write_manifest(tmp_path / "good.json", model_file.name, digest)
    base = pretrained.load_backbone(include_top=False, path=model_file, manifest_path=good)
    assert base.layers[-1].name == "features"


def test_include_top_must_be_a_bool():
    with pytest.raises(TypeError, match="include_top"):
        pretrained.load_backbone(include_top="no")


def test_shipped_backbone_matches_manifest_and_record():
    manifest = json.loads((REPOSITORY / "data" / "manifest.json").read_text())
    item = next(item for item in manifest["items"] if item["name"] == "course_backbone")
    (file,) = item["files"]
    path = pretrained.BACKBONE_PATH
    assert path.is_file(), "run `make backbone`"
    assert path.stat().st_size == file["size"] < 3_000_000
    assert hashlib.sha256(path.read_bytes()).hexdigest() == file["sha256"]
    record = json.loads(path.with_suffix(".json").read_text())
    assert record["sha256"] == file["sha256"] and record["test_accuracy"] >= 0.91


def test_backbone_with_and_without_top():
    model = pretrained.load_backbone()
    assert model.input_shape == (None, 28, 28, 1) and model.output_shape == (None, 10)
    assert model.layers[-1].name == "predictions"
    base = pretrained.load_backbone(include_top=False)
    assert base.layers[-1].name == "features"
    assert isinstance(base.layers[-1], keras.layers.GlobalAveragePooling2D)
    assert base.output_shape == (None, model.get_layer("features").output.shape[-1])
    assert "predictions" not in [layer.name for layer in base.layers]
    # fresh weights every call: changing one model leaves the next untouched
    first = base.layers[1]
    first.set_weights([np.zeros_like(w) for w in first.get_weights()])
    again = pretrained.load_backbone(include_top=False)
    assert np.abs(again.layers[1].get_weights()[0]).sum() > 0


def test_backbone_classifies_fashion_mnist():
    splits = data.load_fashion_mnist()
    model = pretrained.load_backbone()
    probabilities = model.predict(splits.x_test[:500], verbose=0)
    assert np.allclose(probabilities.sum(axis=1), 1, atol=1e-4)
    assert (probabilities.argmax(axis=1) == splits.y_test[:500]).mean() > 0.85
    assert pretrained.BACKBONE_CLASS_NAMES == data.FASHION_MNIST_CLASS_NAMES


# ----------------------------------------------------------------------------- ImageNet, offline


def test_no_imagenet_weights_means_none_and_no_network(tmp_path, monkeypatch, no_socket):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    assert pretrained.keras_cache_dir() == tmp_path / "models"
    assert pretrained.load_imagenet_model() is None
    assert pretrained.load_imagenet_model("ResNet50") is None
    assert pretrained.imagenet_status().startswith("No ImageNet weights of ResNet50")
    assert "course backbone" in pretrained.imagenet_status()
    # the weights without the class index are not enough (decode_predictions would download it)
    (tmp_path / "models").mkdir()
    pretrained.imagenet_weights_path().write_bytes(b"")
    assert pretrained.load_imagenet_model() is None
    with pytest.raises(FileNotFoundError, match="cvcourse-fetch imagenet_weights"):
        pretrained.imagenet_class_names()
    assert not list((tmp_path / "models").glob("*.json"))


def test_imagenet_status_when_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    (tmp_path / "models").mkdir()
    pretrained.imagenet_weights_path().write_bytes(b"")
    (tmp_path / "models" / "imagenet_class_index.json").write_text(
        json.dumps({str(i): [f"n{i:08d}", f"class_{i}"] for i in range(1000)}))
    assert pretrained.imagenet_status().startswith("ImageNet weights of ResNet50 found")
    names = pretrained.imagenet_class_names()
    assert len(names) == 1000 and names[281] == "class_281"


def test_weights_file_name_is_the_one_keras_downloads():
    import inspect

    from keras.src.applications import resnet

    assert "_weights_tf_dim_ordering_tf_kernels.h5" in inspect.getsource(resnet)
    assert pretrained.IMAGENET_MODELS["ResNet50"] == "resnet50_weights_tf_dim_ordering_tf_kernels.h5"
    with pytest.raises(ValueError, match="unknown model 'VGG99'"):
        pretrained.load_imagenet_model("VGG99")


# ----------------------------------------------------------------------------- MTCNN faces


@pytest.mark.parametrize("name", ["astronaut", "grace_hopper"])
def test_one_face_on_each_portrait(name, capfd, no_socket):
    image = data.load_sample_image(name)
    boxes, confidences = pretrained.detect_faces(image)
    assert boxes.shape == (1, 4) and np.issubdtype(boxes.dtype, np.integer)
    assert confidences.shape == (1,) and 0.95 <= confidences[0] <= 1
    x0, y0, x1, y1 = boxes[0]
    assert 0 <= x0 < x1 <= image.shape[1] and 0 <= y0 < y1 <= image.shape[0]
    assert 40 < x1 - x0 < image.shape[1] // 2  # a face, not the whole picture
    assert capfd.readouterr().err == ""


def test_faces_on_floats_and_none_on_a_cat():
    image = data.load_sample_image("grace_hopper")
    boxes_uint8, _ = pretrained.detect_faces(image)
    boxes_float, _ = pretrained.detect_faces(image.astype(np.float32) / 255)
    assert np.abs(boxes_uint8 - boxes_float).max() <= 2
    boxes, confidences = pretrained.detect_faces(data.load_sample_image("chelsea"))
    assert boxes.shape == (0, 4) and confidences.shape == (0,)


@pytest.mark.parametrize(
    "image, error, message",
    [
        (np.zeros((64, 64), np.uint8), ValueError, r"shape \(H, W, 3\), got shape \(64, 64\)"),
        (np.zeros((64, 64, 4), np.uint8), ValueError, "got shape"),
        (np.zeros((8, 8, 3), np.uint8), ValueError, "at least 12x12"),
        (np.zeros((64, 64, 3), np.int32), TypeError, "uint8"),
        (np.full((64, 64, 3), 300.0), ValueError, r"\[0, 255\]"),
    ],
)
def test_bad_images_are_explained(image, error, message):
    with pytest.raises(error, match=message):
        pretrained.detect_faces(image)
