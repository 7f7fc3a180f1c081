"""The plain-data format between the grader and the student's kernel: no pickle, no code from the student.

A value crosses as JSON with the bytes of its arrays after it. What can cross: ``None``,
booleans, ints, floats, complex numbers, strings, NumPy arrays and scalars of numbers,
booleans or fixed-width strings (never ``object``), lists, tuples, dicts, sets, and the
descriptions the grader needs: a *handle* (a reference to an object that stays in the
student's kernel: a function, a class, a layer of its own), a *symbolic Keras tensor* (shape
and dtype), a *Keras model or layer of Keras' own classes* (its config as JSON text and its
weights), a *layer of another argument* (:class:`LayerOf`) and, towards the student's kernel
only, a test's function as *source* (:class:`Source`).

:func:`encode` turns what the student's code returned into plain data, converting once:
an ``int`` subclass becomes the ``int`` it converts to, an object with ``__array__`` (a
TensorFlow tensor) the array. :func:`decode` is strict: it refuses anything else.

>>> decode(encode({"shape": (2, 3), "kernel": np.eye(2)}))["shape"]
(2, 3)
"""

from __future__ import annotations

import json
import math
import struct
from dataclasses import dataclass

import numpy as np

MAX_BYTES = 2**31  # the most one message may carry
MAX_DEPTH = 64
ARRAY_KINDS = frozenset("biufcUS")  # bool, int, uint, float, complex, str, bytes: never object or void


class WireError(ValueError):
    """A value that cannot cross, or a message that is not in the format."""


@dataclass(frozen=True)
class Handle:
    """An object that stays on the other side, by number, with what it says about itself.

    ``kind`` is the object's class name, ``bases`` the names of the classes it derives from
    (``module.qualname``), ``callable`` whether it can be called, ``config`` the serialised config
    (JSON text) of a Keras layer or model that uses classes of the student's own. These are
    descriptions from the student's side, never trusted for a score.
    """

    number: int
    kind: str = ""
    bases: tuple[str, ...] = ()
    callable: bool = False
    config: str = ""


@dataclass(frozen=True)
class SymbolicTensor:
    """A symbolic Keras tensor (``keras.Input(...)`` or a layer's output on one): shape and dtype."""

    shape: tuple
    dtype: str


@dataclass(frozen=True)
class ModelData:
    """A Keras model of Keras' own layers, or one such layer: its serialised config (JSON text)
    and its weights, as data.

    ``traced``: the graph a function built on the symbolic inputs of a call, from those inputs to
    what it returned (the receiver connects it to its own inputs). ``shares``: the call's arguments
    that the returned model holds itself, as (argument position or keyword, path of layer names):
    the receiver puts its own objects there, as a call in one process would share them.
    """

    config: str
    weights: tuple
    traced: bool = False
    shares: tuple = ()


@dataclass(frozen=True)
class Source:
    """A function written as Python source by the grader's test (``"lambda x: 2 * x"``), which the
    student's kernel evaluates (with ``np``, ``tf`` and ``keras``) to pass it to the student's code.
    It goes to the student's kernel only: the grader's side refuses code from there.

    >>> Source("lambda x: x + 1")(1)
    2
    """

    code: str

    def __call__(self, *args, **kwargs):
        return evaluate(self)(*args, **kwargs)


def evaluate(source: Source):
    """The function ``source`` defines, in a namespace of NumPy, TensorFlow and Keras (those
    imported in this process; no import happens here)."""
    import sys

    names = {"np": np, "tf": sys.modules.get("tensorflow"), "keras": sys.modules.get("keras")}
    return eval(source.code, {"__builtins__": __builtins__, **names})  # noqa: S307 - the grader's code


@dataclass(frozen=True)
class LayerOf:
    """A layer inside another argument of the same call (a base inside its transfer model): the
    argument's position (or keyword) and the names leading from it to the layer. The student's kernel
    passes that very layer of its copy of the argument, as the caller's side shares it."""

    argument: int | str
    path: tuple[str, ...]


def _plain_scalar(value):
    """``value`` as an exact bool/int/float/complex/str, or None if it is not one of those."""
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value) if type(value) is not int else value
    if isinstance(value, float):
        return float(value) if type(value) is not float else value
    if isinstance(value, complex):
        return complex(value)
    if isinstance(value, str):
        return str.__str__(value) if type(value) is not str else value
    return None


class _Writer:
    def __init__(self, to_handle=None):
        self.blobs: list[bytes] = []
        self.to_handle = to_handle  # object -> Handle, for what is not plain data (None: refuse)

    def array(self, array: np.ndarray, tag: str = "array") -> dict:
        array = np.asarray(array)  # not ascontiguousarray: it makes a 0-d array 1-d
        array = array if array.flags.c_contiguous else array.copy(order="C")
        if array.dtype.kind not in ARRAY_KINDS or array.dtype.hasobject:
            raise WireError(
                f"an array of dtype {array.dtype} cannot be sent (numbers, booleans or strings only)"
            )
        self.blobs.append(array.tobytes())
        return {"t": tag, "dtype": array.dtype.str, "shape": list(array.shape), "blob": len(self.blobs) - 1}

    def value(self, value, depth: int = 0):
        if depth > MAX_DEPTH:
            raise WireError(f"a value nested more than {MAX_DEPTH} deep cannot be sent")
        if value is None:
            return None
        if isinstance(value, np.generic):  # before float: np.float64 is a float
            return self.array(np.asarray(value), "scalar")
        scalar = _plain_scalar(value)
        if scalar is not None:
            if isinstance(scalar, float) and not math.isfinite(scalar):
                return {"t": "float", "v": repr(scalar)}
            if isinstance(scalar, complex):
                return {"t": "complex", "v": [scalar.real, scalar.imag]}
            return scalar
        if isinstance(value, np.ndarray):
            return self.array(value)
        if isinstance(value, (list, tuple)):
            tag = "tuple" if isinstance(value, tuple) else "list"
            return {"t": tag, "v": [self.value(v, depth + 1) for v in list(value)]}
        if isinstance(value, (set, frozenset)):
            tag = "frozenset" if isinstance(value, frozenset) else "set"
            return {"t": tag, "v": [self.value(v, depth + 1) for v in list(value)]}
        if isinstance(value, dict):
            items = list(dict.items(value))
            return {
                "t": "dict",
                "k": [self.value(k, depth + 1) for k, _ in items],
                "v": [self.value(v, depth + 1) for _, v in items],
            }
        if isinstance(value, Handle):
            return {
                "t": "handle",
                "n": value.number,
                "kind": value.kind,
                "bases": list(value.bases),
                "callable": value.callable,
                "config": str(value.config),
            }
        if isinstance(value, SymbolicTensor):
            return {
                "t": "symbolic",
                "shape": [None if d is None else int(d) for d in value.shape],
                "dtype": str(value.dtype),
            }
        if isinstance(value, ModelData):
            return {
                "t": "model",
                "config": str(value.config),
                "weights": [self.array(w) for w in value.weights],
                "traced": value.traced is True,
                "shares": [[where, [str(name) for name in path]] for where, path in value.shares],
            }
        if isinstance(value, Source):
            return {"t": "source", "code": str(value.code)}
        if isinstance(value, LayerOf):
            return {"t": "layer_of", "argument": value.argument, "path": [str(p) for p in value.path]}
        if self.to_handle is not None:
            converted = self.to_handle(value)
            if converted is not value:
                return self.value(converted, depth)
        if hasattr(value, "__array__"):
            return self.array(np.asarray(value))
        raise WireError(f"a {type(value).__name__} cannot be sent as plain data")


def encode(value, to_handle=None) -> bytes:
    """``value`` as one message: a length, the JSON, then the arrays' bytes.

    ``to_handle(obj)`` may describe what is not plain data (return a :class:`Handle`,
    :class:`SymbolicTensor` or :class:`ModelData`, or ``obj`` itself to refuse it).

    >>> len(encode([1, 2.5, "three"])) > 0
    True
    """
    writer = _Writer(to_handle)
    document = json.dumps({"value": writer.value(value), "sizes": [len(b) for b in writer.blobs]}).encode()
    message = struct.pack("<Q", len(document)) + document + b"".join(writer.blobs)
    if len(message) > MAX_BYTES:
        raise WireError(f"a message of {len(message)} bytes is over the limit of {MAX_BYTES}")
    return message


def decode(message: bytes, from_handle=None, from_symbolic=None, from_model=None, accept_source=False):
    """The value in ``message``; raise :class:`WireError` for anything but plain data.

    ``from_handle(Handle)``, ``from_symbolic(SymbolicTensor)`` and ``from_model(ModelData)`` turn
    the descriptions into the receiver's objects (default: the descriptions themselves). A
    :class:`Source` is refused unless ``accept_source`` (the student's kernel only).
    """
    if not isinstance(message, (bytes, bytearray)) or len(message) < 8 or len(message) > MAX_BYTES:
        raise WireError("not a message in the grader's format")
    (length,) = struct.unpack_from("<Q", message)
    try:
        document = json.loads(bytes(message[8 : 8 + length]))
        sizes = document["sizes"]
        if not isinstance(sizes, list) or not all(isinstance(s, int) and s >= 0 for s in sizes):
            raise WireError("bad array sizes")
    except (ValueError, KeyError, TypeError) as error:
        raise WireError(f"not a message in the grader's format: {error}") from None
    offsets, position = [], 8 + length
    for size in sizes:
        offsets.append((position, position + size))
        position += size
    if position != len(message):
        raise WireError("the message's length does not match its arrays")
    reader = _Reader(message, offsets, from_handle, from_symbolic, from_model, accept_source)
    return reader.value(document.get("value"))


class _Reader:
    def __init__(self, message, offsets, from_handle, from_symbolic, from_model, accept_source):
        self.message, self.offsets, self.accept_source = message, offsets, accept_source
        self.from_handle = from_handle or (lambda h: h)
        self.from_symbolic = from_symbolic or (lambda s: s)
        self.from_model = from_model or (lambda m: m)

    def array(self, node: dict) -> np.ndarray:
        try:
            dtype = np.dtype(node["dtype"])
            shape = tuple(int(d) for d in node["shape"])
            start, end = self.offsets[int(node["blob"])]
        except (TypeError, ValueError, KeyError, IndexError) as error:
            raise WireError(f"a malformed array: {error}") from None
        if dtype.kind not in ARRAY_KINDS or dtype.hasobject or dtype.fields is not None:
            raise WireError(f"an array of dtype {dtype} is refused")
        if any(d < 0 for d in shape) or math.prod(shape) * dtype.itemsize != end - start:
            raise WireError("an array's shape does not match its bytes")
        return (
            np.frombuffer(self.message, dtype=dtype, count=math.prod(shape), offset=start)
            .reshape(shape)
            .copy()
        )

    def value(self, node, depth: int = 0):
        if depth > MAX_DEPTH:
            raise WireError("nested too deep")
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if not isinstance(node, dict) or not isinstance(node.get("t"), str):
            raise WireError(f"not plain data: {type(node).__name__}")
        tag = node["t"]
        if tag == "array":
            return self.array(node)
        if tag == "scalar":
            return self.array(node)[()]
        if tag == "float":
            if node.get("v") not in ("nan", "inf", "-inf"):
                raise WireError("a malformed float")
            return float(node["v"])
        if tag == "complex":
            real, imag = node.get("v", (None, None))
            if not all(isinstance(x, (int, float)) for x in (real, imag)):
                raise WireError("a malformed complex number")
            return complex(real, imag)
        items = node.get("v", [])
        if tag in ("list", "tuple", "set", "frozenset"):
            if not isinstance(items, list):
                raise WireError(f"a malformed {tag}")
            values = [self.value(v, depth + 1) for v in items]
            try:
                return {"list": list, "tuple": tuple, "set": set, "frozenset": frozenset}[tag](values)
            except TypeError as error:  # an unhashable member of a set
                raise WireError(f"a malformed {tag}: {error}") from None
        if tag == "dict":
            keys = node.get("k", [])
            if not isinstance(keys, list) or not isinstance(items, list) or len(keys) != len(items):
                raise WireError("a malformed dict")
            try:
                return {
                    self.value(k, depth + 1): self.value(v, depth + 1)
                    for k, v in zip(keys, items, strict=True)
                }
            except TypeError as error:
                raise WireError(f"a malformed dict: {error}") from None
        if tag == "handle":
            bases = node.get("bases", [])
            if not isinstance(node.get("n"), int) or not isinstance(bases, list):
                raise WireError("a malformed handle")
            return self.from_handle(
                Handle(
                    node["n"],
                    str(node.get("kind", "")),
                    tuple(str(b) for b in bases),
                    node.get("callable") is True,
                    str(node.get("config") or ""),
                )
            )
        if tag == "symbolic":
            shape = node.get("shape")
            if not isinstance(shape, list) or not all(d is None or isinstance(d, int) for d in shape):
                raise WireError("a malformed symbolic tensor")
            return self.from_symbolic(SymbolicTensor(tuple(shape), str(node.get("dtype", "float32"))))
        if tag == "model":
            weights = node.get("weights", [])
            if not isinstance(node.get("config"), str) or not isinstance(weights, list):
                raise WireError("a malformed model")
            traced = node.get("traced", False) is True
            shares = node.get("shares", [])
            try:
                shares = tuple((where, tuple(str(n) for n in path)) for where, path in shares)
            except (TypeError, ValueError):
                raise WireError("a malformed list of shared arguments") from None
            if not all(isinstance(where, (int, str)) and not isinstance(where, bool) for where, _ in shares):
                raise WireError("a malformed list of shared arguments")
            arrays = tuple(self.array(w) for w in weights)
            return self.from_model(ModelData(node["config"], arrays, traced, shares))
        if tag == "source":
            if not self.accept_source or not isinstance(node.get("code"), str):
                raise WireError("code is not accepted here")
            return Source(node["code"])
        if tag == "layer_of":
            path = node.get("path")
            argument = node.get("argument")
            if not isinstance(argument, (int, str)) or not isinstance(path, list):
                raise WireError("a malformed layer reference")
            return LayerOf(argument, tuple(str(p) for p in path))
        raise WireError(f"unknown kind of value {tag!r}")
