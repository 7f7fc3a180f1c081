"""The student's side of trusted grading: answers the grader's requests in the student's kernel.

When a notebook is graded, its test cells run in a process of the grader's own; this kernel
runs only the student's cells. Between them, the grader asks this module (through the kernel,
one request per execution) to look up a name, call a function or class, or read an attribute,
and gets back plain data (:mod:`cvcourse.wire`): values, or handles to objects that stay here.
Nothing here is trusted by the grader: it only carries what the student's code returns.

>>> reply = wire.decode(answer(wire.encode({"op": "lookup", "name": "x"}), {"x": 3}))
>>> reply["ok"]
3
"""

from __future__ import annotations

import base64
import itertools
import sys
import traceback

import numpy as np

from cvcourse import wire

_objects: dict[int, object] = {}  # handle number -> object that stays here
_numbers = itertools.count(1)


def _keras():
    return sys.modules.get("keras")


def foreign_classes(model) -> list[str]:
    """What of a Keras model the grader will not rebuild from its configuration (``module.name``):
    a model class other than Functional or Sequential, a layer class of the student's own, Lambda
    (code). Empty for a model of Keras' own layers.

    >>> foreign_classes(keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)]))  # doctest: +SKIP
    []
    """
    classes = [type(model)] + [type(layer) for layer in model._flatten_layers(include_self=False)]
    foreign = [
        cls
        for cls in classes
        if not cls.__module__.startswith("keras.")
        or cls.__name__ == "Lambda"
        or (cls is type(model) and cls.__name__ not in ("Functional", "Sequential"))
    ]
    names = (
        cls.__qualname__ if cls.__module__.startswith("keras.") else f"{cls.__module__}.{cls.__qualname__}"
        for cls in foreign
    )  # Keras' Lambda by its name, a student's class with its module
    return list(dict.fromkeys(names))


def _is_keras_builtin_model(value) -> bool:
    """A Functional or Sequential model of Keras' own layers (Lambda included: the grader says why it
    refuses one)."""
    keras = _keras()
    if keras is None or not isinstance(value, keras.Model):
        return False
    return all(name == "Lambda" for name in foreign_classes(value))


def as_data(keras_object) -> wire.ModelData:
    """A Keras model or layer as its serialised config and its weights."""
    import json

    import keras

    config = json.dumps(keras.saving.serialize_keras_object(keras_object))
    return wire.ModelData(config, tuple(np.asarray(w) for w in keras_object.get_weights()))


def from_data(data: wire.ModelData, safe_mode: bool = True):
    """The Keras model or layer ``data`` describes, with its weights (built from its build config)."""
    import json

    import keras

    rebuilt = keras.saving.deserialize_keras_object(json.loads(data.config), safe_mode=safe_mode)
    if data.weights:  # none: the weights it drew when it was built here
        rebuilt.set_weights(list(data.weights))
    return rebuilt


def _describe(value):
    """What a value that is not plain data becomes: a symbolic tensor, model data, an array, a handle."""
    keras = _keras()
    if keras is not None and isinstance(value, keras.KerasTensor):
        return wire.SymbolicTensor(tuple(value.shape), str(value.dtype))
    if _is_keras_builtin_model(value) or _is_keras_builtin_layer(value):
        return as_data(value)
    is_layer = keras is not None and isinstance(value, (keras.layers.Layer, keras.Model))
    if hasattr(value, "__array__") and not is_layer and not isinstance(value, type):
        return value  # a tensor: the wire converts it to its array
    number = next(_numbers)
    _objects[number] = value
    cls = value if isinstance(value, type) else type(value)
    bases = tuple(f"{c.__module__}.{c.__qualname__}" for c in getattr(cls, "__mro__", (cls,)))
    return wire.Handle(number, f"{type(value).__module__}.{type(value).__qualname__}", bases, callable(value))


def _from_handle(handle: wire.Handle):
    try:
        return _objects[handle.number]
    except KeyError:
        raise wire.WireError(f"no object number {handle.number} here") from None


def _symbolic_inputs(made: list):
    """A decoder of symbolic tensors into ``keras.Input``s, which it records in ``made``."""

    def make(tensor: wire.SymbolicTensor):
        import keras

        made.append(keras.Input(batch_shape=tensor.shape, dtype=tensor.dtype))
        return made[-1]

    return make


def _traced(inputs: list, result):
    """The graph from a call's symbolic ``inputs`` to its symbolic ``result``, as model data, if it
    is made of Keras' own layers; else ``result`` itself (it crosses as shapes)."""
    keras = _keras()
    outputs = result if isinstance(result, (list, tuple)) else [result]
    if not inputs or keras is None or not all(isinstance(o, keras.KerasTensor) for o in outputs):
        return result
    try:
        model = keras.Model(inputs, result)
    except Exception:  # noqa: BLE001 - not a graph of its inputs: the shapes only
        return result
    if not _is_keras_builtin_model(model):
        return result
    data = as_data(model)
    return wire.ModelData(data.config, data.weights, traced=True)


def _is_keras_builtin_layer(value) -> bool:
    """A layer (not a model) of one of Keras' own classes."""
    keras = _keras()
    return (
        keras is not None
        and isinstance(value, keras.layers.Layer)
        and not isinstance(value, keras.Model)
        and type(value).__module__.startswith("keras.")
    )


def _from_model(data: wire.ModelData):
    return from_data(data, safe_mode=False)  # this is the student's kernel: its own code runs anyway


def _arrays(value, path=()):
    """(path, array) of every NumPy array in ``value`` (in lists, tuples and dicts too)."""
    if isinstance(value, np.ndarray):
        yield path, value
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from _arrays(item, (*path, index))
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, (str, int)):
                yield from _arrays(item, (*path, key))


def _error(error: BaseException) -> dict:
    """The error as plain data: its type, builtin bases, message, and where it was raised (the line
    and function of the deepest frame outside this module, as a visible test reports it)."""
    bases = [c.__name__ for c in type(error).__mro__ if c.__module__ == "builtins"]
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename != __file__]
    where = f"line {frames[-1].lineno} of {frames[-1].name}" if frames else ""
    return {
        "error": {"type": type(error).__name__, "bases": bases, "message": str(error)[:4000], "where": where}
    }


def _run(request: dict, namespace: dict):
    op = request.get("op")
    if op == "lookup":
        name = request["name"]
        if name not in namespace:
            raise NameError(f"name {name!r} is not defined")
        return namespace[name]
    target = request.get("target")
    if op == "call":
        return target(*request.get("args", ()), **request.get("kwargs", {}))
    if op == "getattr":
        return getattr(target, request["name"])
    if op == "getitem":
        return target[request["key"]]
    if op == "len":
        return len(target)
    if op == "list":
        return list(target)
    if op == "str":
        return str(target)
    if op == "repr":
        return repr(target)
    raise ValueError(f"unknown request {op!r}")


def answer(message: bytes, namespace: dict) -> bytes:
    """The reply to one request (both in the wire format), run against ``namespace``."""
    try:
        made: list = []  # the keras.Inputs standing for the request's symbolic tensors
        request = wire.decode(message, _from_handle, _symbolic_inputs(made), _from_model)
        arguments = {"args": request.get("args", ()), "kwargs": request.get("kwargs", {})}
        before = [(path, array.copy()) for path, array in _arrays(arguments)]
        result = _run(request, namespace)
        if request.get("op") == "call":
            result = _traced(made, result)
        changed = [
            [list(path), array]
            for (path, old), (_, array) in zip(before, _arrays(arguments), strict=False)
            if old.shape != array.shape or old.tobytes() != array.tobytes()
        ]
        return wire.encode({"ok": result, "changed": changed}, _describe)
    except Exception as error:  # noqa: BLE001 - every failure goes back as its type and message
        return wire.encode(_error(error))


def serve(request: str, mime: str) -> None:
    """Entry point the grader executes in the kernel: answer ``request`` (base64) as display data ``mime``."""
    from IPython import get_ipython
    from IPython.display import publish_display_data

    shell = get_ipython()
    reply = answer(base64.b64decode(request), shell.user_ns if shell is not None else {})
    publish_display_data({mime: base64.b64encode(reply).decode()})
