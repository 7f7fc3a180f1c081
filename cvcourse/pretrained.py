"""Pretrained networks that work offline: the course backbone, cached ImageNet models, MTCNN faces.

- :func:`load_backbone` loads the course's own pretrained CNN (Fashion-MNIST, shipped in
  ``data/backbone/``, trained by ``make backbone``) after checking its sha256 against
  ``data/manifest.json`` (:mod:`cvcourse.manifest`, the record of every file name and checksum
  used here); ``include_top=False`` gives the base without its classifier, ending in
  the GlobalAveragePooling2D layer ``features`` (what ``include_top=False`` means in
  ``keras.applications``).
- :func:`load_imagenet_model` returns a ``keras.applications`` model with its ImageNet weights
  only when the weights are already in Keras' cache (``cvcourse-fetch imagenet_weights`` puts them
  there); otherwise it returns ``None``. It never opens a network connection.
  :func:`imagenet_status` says, in one sentence, which of the two will run.
- :func:`detect_faces` finds faces with MTCNN (Zhang et al., 2016), whose weights ship inside the
  ``mtcnn`` wheel (MIT licence).

>>> backbone = load_backbone()                      # (28, 28, 1) -> 10 Fashion-MNIST classes
>>> base = load_backbone(include_top=False)         # (28, 28, 1) -> 128 features
>>> model = load_imagenet_model()                   # None unless the weights are cached
>>> print(imagenet_status())                        # doctest: +SKIP
>>> boxes, confidences = detect_faces(data.load_sample_image("astronaut"))   # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import os
from pathlib import Path

import numpy as np

from cvcourse import manifest

__all__ = [
    "BACKBONE_CLASS_NAMES",
    "BACKBONE_PATH",
    "IMAGENET_MODELS",
    "BackboneError",
    "detect_faces",
    "imagenet_class_names",
    "imagenet_status",
    "imagenet_weights_path",
    "keras_cache_dir",
    "load_backbone",
    "load_imagenet_model",
]

#: The shipped backbone, where the manifest's ``course_backbone`` item says it is.
BACKBONE_PATH = manifest.REPOSITORY_DATA / manifest.item("course_backbone").files[0].path
BACKBONE_CLASS_NAMES: tuple[str, ...] = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)
_IMAGENET_FILES = manifest.item("imagenet_weights").files
#: keras.applications name -> the weights file keras.applications downloads (include_top=True).
IMAGENET_MODELS: dict[str, str] = {file.model: file.name for file in _IMAGENET_FILES if file.model}
IMAGENET_CLASS_INDEX = next(file.name for file in _IMAGENET_FILES if not file.model)  # the item's other file


class BackboneError(RuntimeError):
    """The shipped backbone is missing or is not the file recorded in data/manifest.json."""


# ----------------------------------------------------------------------------- the course backbone


def _recorded_backbone_sha256(manifest_path: Path, file_name: str) -> str | None:
    try:
        files = manifest.item("course_backbone", manifest_path).files
    except (OSError, ValueError, KeyError):
        return None
    return next((file.sha256 for file in files if file.name == file_name and file.sha256), None)


@functools.lru_cache(maxsize=4)
def _load_full_backbone(path: str, stamp: tuple[int, int]):
    import keras

    return keras.saving.load_model(path, compile=False)


def load_backbone(include_top: bool = True, path: str | os.PathLike | None = None,
                  manifest_path: str | os.PathLike | None = None):
    """The course's pretrained CNN: input (28, 28, 1) float32 in [0, 1], 10 Fashion-MNIST classes.

    The file's sha256 is checked against ``data/manifest.json`` first; a missing or changed file
    raises :class:`BackboneError` naming ``make backbone``. With ``include_top=False`` the model
    ends at the layer ``features`` (GlobalAveragePooling2D, 128 numbers per image): the base for
    transfer learning. Each call returns a fresh model (its own weights), so freezing or
    fine-tuning one does not change the next.

    >>> base = load_backbone(include_top=False)
    >>> base.output_shape
    (None, 128)
    """
    import keras

    if not isinstance(include_top, (bool, np.bool_)):
        raise TypeError(f"include_top should be True or False, got {include_top!r}.")
    path = Path(path) if path is not None else BACKBONE_PATH
    manifest_path = Path(manifest_path) if manifest_path is not None else manifest.MANIFEST_PATH
    if not path.is_file():
        raise BackboneError(f"the course backbone {path} is missing: run `make backbone` "
                            "(scripts/train_backbone.py) to train it, a few minutes on a CPU.")
    expected = _recorded_backbone_sha256(manifest_path, path.name)
    if expected is None:
        raise BackboneError(f"{manifest_path} records no sha256 for {path.name}: run `make backbone`, "
                            "which trains the backbone and records it.")
    got = manifest.file_digest(path)
    if got != expected:
        raise BackboneError(f"{path} has sha256 {got[:12]}..., not the {expected[:12]}... recorded in "
                            f"{manifest_path.name}: the file was changed; restore it or run `make backbone`.")
    stat = path.stat()
    shared = _load_full_backbone(str(path), (stat.st_mtime_ns, stat.st_size))
    model = keras.models.clone_model(shared)
    model.set_weights(shared.get_weights())
    if include_top:
        return model
    return keras.Model(model.input, model.get_layer("features").output, name="fashion_backbone_base")


# ----------------------------------------------------------------------------- ImageNet models


def keras_cache_dir() -> Path:
    """Where Keras keeps downloaded weights, and cvcourse-fetch puts them: ``$KERAS_HOME/models``,
    else ``~/.keras/models``.

    >>> keras_cache_dir().name
    'models'
    """
    return manifest.destination("imagenet_weights")


def _check_name(name: object) -> str:
    if name not in IMAGENET_MODELS:
        raise ValueError(f"unknown model {name!r}; available offline when cached: "
                         f"{', '.join(IMAGENET_MODELS)}.")
    return str(name)


def imagenet_weights_path(name: str = "ResNet50") -> Path:
    """The file where Keras caches ``name``'s ImageNet weights (it may not exist).

    >>> imagenet_weights_path().name
    'resnet50_weights_tf_dim_ordering_tf_kernels.h5'
    """
    return keras_cache_dir() / IMAGENET_MODELS[_check_name(name)]


def _cached(name: str) -> bool:
    return imagenet_weights_path(name).is_file() and (keras_cache_dir() / IMAGENET_CLASS_INDEX).is_file()


def load_imagenet_model(name: str = "ResNet50"):
    """``keras.applications.<name>`` with its ImageNet weights if they are cached, else ``None``.

    Looks for the weights file and ``imagenet_class_index.json`` in :func:`keras_cache_dir`; when
    both are there, builds the model from the weights file's path (so Keras never tries to
    download); when either is missing, returns ``None`` without touching the network. Fill the
    cache with ``cvcourse-fetch imagenet_weights`` on a connected machine.

    >>> model = load_imagenet_model("ResNet50")
    >>> model is None or model.output_shape == (None, 1000)
    True
    """
    name = _check_name(name)
    if not _cached(name):
        return None
    import keras

    return getattr(keras.applications, name)(weights=str(imagenet_weights_path(name)))


def imagenet_class_names() -> list[str]:
    """The 1,000 ImageNet class names (e.g. 'tabby') from the cached ``imagenet_class_index.json``.

    Raises FileNotFoundError (naming the fetch command) when the file is not cached.

    >>> names = imagenet_class_names()   # doctest: +SKIP
    >>> len(names), names[281]            # doctest: +SKIP
    (1000, 'tabby')
    """
    path = keras_cache_dir() / IMAGENET_CLASS_INDEX
    if not path.is_file():
        raise FileNotFoundError(f"{path} is not cached: run `cvcourse-fetch imagenet_weights` "
                                "on a connected machine.")
    index = json.loads(path.read_text())
    return [index[str(i)][1] for i in range(len(index))]


def imagenet_status(name: str = "ResNet50") -> str:
    """One sentence: will the notebooks run ``name`` with ImageNet weights, or the course backbone?

    >>> imagenet_status().startswith(("ImageNet weights", "No ImageNet weights"))
    True
    """
    name = _check_name(name)
    if _cached(name):
        return (f"ImageNet weights of {name} found in {keras_cache_dir()}: the cells below run "
                f"keras.applications.{name} (1,000 ImageNet classes).")
    return (f"No ImageNet weights of {name} in {keras_cache_dir()} (no network is used): the cells "
            "below run the course backbone, pretrained on Fashion-MNIST (10 clothing classes). "
            "`cvcourse-fetch imagenet_weights` caches the ImageNet weights on a connected machine.")


# ----------------------------------------------------------------------------- MTCNN faces


@functools.lru_cache(maxsize=1)
def _mtcnn():
    from mtcnn import MTCNN

    with contextlib.redirect_stderr(io.StringIO()):
        return MTCNN(stages="face_detection_only", device="CPU:0")


def _check_image(image) -> np.ndarray:
    array = np.asarray(image)
    if array.ndim != 3 or array.shape[-1] != 3:
        raise ValueError(f"detect_faces expects one RGB image of shape (H, W, 3), got shape {array.shape}; "
                         "a grayscale (H, W) image can be repeated: np.repeat(image[..., None], 3, axis=-1).")
    if min(array.shape[:2]) < 12:
        raise ValueError(f"the image is {array.shape[0]}x{array.shape[1]}: "
                         "MTCNN needs at least 12x12 pixels.")
    if array.dtype == np.uint8:
        return array
    if np.issubdtype(array.dtype, np.floating):
        if not np.all(np.isfinite(array)) or array.min() < 0 or array.max() > 255:
            raise ValueError("a float image should hold finite pixel values in [0, 255] (or [0, 1]).")
        scale = 255.0 if array.max() <= 1.0 else 1.0
        return np.clip(np.round(array * scale), 0, 255).astype(np.uint8)
    raise TypeError(f"detect_faces expects uint8 pixels in 0-255 (or floats), got dtype {array.dtype}.")


def detect_faces(image, min_confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Faces in one RGB photo with MTCNN: ``(boxes, confidences)``, most confident first.

    ``image`` is (H, W, 3) RGB, uint8 in 0-255 (floats in [0, 1] or [0, 255] are converted).
    ``boxes`` is an int array (n, 4) of ``(x_min, y_min, x_max, y_max)`` pixels inside the image,
    ``confidences`` a float array (n,) of the detector's scores, at least ``min_confidence``.
    The three networks (P-, R- and O-Net, Zhang et al. 2016) load once, from the mtcnn wheel.

    >>> boxes, confidences = detect_faces(data.load_sample_image("astronaut"))   # doctest: +SKIP
    >>> boxes.shape, boxes.dtype                                                 # doctest: +SKIP
    ((1, 4), dtype('int64'))
    """
    pixels = _check_image(image)
    if not 0 <= float(min_confidence) <= 1:
        raise ValueError(f"min_confidence should be between 0 and 1, got {min_confidence}.")
    with contextlib.redirect_stderr(io.StringIO()):
        faces = _mtcnn().detect_faces(pixels, box_format="xyxy")
    faces = [face for face in faces if face["confidence"] >= min_confidence]
    faces.sort(key=lambda face: -face["confidence"])
    height, width = pixels.shape[:2]
    boxes = np.array([[int(round(v)) for v in face["box"]] for face in faces], dtype=np.int64).reshape(-1, 4)
    boxes[:, [0, 2]] = np.clip(boxes[:, [0, 2]], 0, width)
    boxes[:, [1, 3]] = np.clip(boxes[:, [1, 3]], 0, height)
    confidences = np.array([float(face["confidence"]) for face in faces], dtype=np.float64)
    return boxes, confidences
